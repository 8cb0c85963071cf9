"""Analyse many images on a Dask cluster: one JSON line per face, the CLI's values.

    pip install "emotion[dask]"        # emotion + dask.distributed, on the client and every worker

    # A local cluster: one worker process per core, one thread each.
    python examples/python/dask_folder.py photos/ -o faces.jsonl
    # Paths and URIs from a list (one per line); URIs are read with fsspec (s3://, gs://, https://
    # need the matching fsspec backend on the workers).
    python examples/python/dask_folder.py --list images.txt -o faces.jsonl
    # A real cluster: the same code, given the scheduler's address.
    python examples/python/dask_folder.py photos/ -o faces.jsonl --scheduler tcp://10.0.0.5:8786

Each line describes one face: ``file``, ``width``, ``height``, ``face`` (its index in the image,
best detection score first) and the fields of ``Face.to_dict()`` (``bbox``, ``detection_score``,
``landmarks`` (five [x, y] points, or null when the detector gives none),
``expression``, ``probabilities``, ``valence``, ``arousal``). Images are decoded by the library
(EXIF orientation applied), as the command-line tool does, and numbers are written at the
library's float32 precision, so each value equals the one in the CLI's JSON. Images with no face
give no line; files that cannot be read or decoded are reported on stderr and the exit code is 1.
Lines come in input order (folders are walked sorted, like the CLI).

How it works: the Analyzer is pickled once (its settings; a custom model as bytes) and broadcast
to every worker; the paths go out in batches, each batch one task, so a million files make a few
tens of thousands of tasks; results come back to this process, which writes them in order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

import emotion

# The extensions the CLI treats as images when it walks a folder.
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def list_inputs(inputs: Iterable[str]) -> list[str]:
    """Files and URIs as given; local folders expanded to their image files, sorted, recursive."""
    found = []
    for item in inputs:
        if "://" not in item and os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                found += [os.path.join(root, f) for f in sorted(files) if Path(f).suffix.lower() in IMAGE_EXTENSIONS]
        else:
            found.append(item)
    return found


def read_image(path: str) -> np.ndarray:
    """HxWx3 uint8 RGB from a local path or an fsspec URI, decoded by the library."""
    if "://" not in path:
        return emotion.load_image(path)
    import fsspec  # a dependency of dask

    with fsspec.open(path, "rb") as remote:
        data = remote.read()
    # The library decodes files: give it the bytes as one, keeping the name's extension.
    with tempfile.NamedTemporaryFile(suffix=Path(path).suffix) as local:
        local.write(data)
        local.flush()
        return emotion.load_image(local.name)


def f32(value: float | None) -> float | None:
    """The shortest decimal that reads back as the same float32, as the CLI writes numbers."""
    return None if value is None else float(str(np.float32(value)))


def face_rows(file: str, width: int, height: int, faces: list[emotion.Face]) -> Iterator[dict]:
    for index, face in enumerate(faces):
        d = face.to_dict()
        yield {
            "file": file,
            "width": width,
            "height": height,
            "face": index,
            "bbox": {k: f32(v) for k, v in d["bbox"].items()},
            "detection_score": f32(d["detection_score"]),
            "landmarks": None if d["landmarks"] is None else [[f32(x), f32(y)] for x, y in d["landmarks"]],
            "expression": d["expression"],
            "probabilities": {k: f32(v) for k, v in d["probabilities"].items()},
            "valence": f32(d["valence"]),
            "arousal": f32(d["arousal"]),
        }


def analyze_batch(paths: list[str], analyzer: emotion.Analyzer) -> tuple[list[str], list[str]]:
    """Runs on a worker: (JSON lines, error messages) for a batch of paths."""
    lines, errors = [], []
    for path in paths:
        try:
            image = read_image(path)
            faces = analyzer.analyze(image)
        except (OSError, emotion.EmotionError) as e:
            errors.append(f"{path}: {e}")
            continue
        height, width = image.shape[:2]
        lines += [json.dumps(row) for row in face_rows(path, width, height, faces)]
    return lines, errors


def batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run(
    paths: list[str],
    out,
    analyzer: emotion.Analyzer,
    scheduler: str | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
) -> int:
    """Analyses `paths` on a Dask cluster and writes the JSON lines to `out` in input order.
    Returns the number of files that failed (each reported on stderr).

    `batch_size`: files per task; `None`: enough tasks for 8 per worker, at most 16 files each
    (small tasks keep the workers evenly busy to the end; a task costs Dask about a millisecond,
    a file about 60 ms here)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        # Processes, not threads: each worker has its own interpreter (the library releases the
        # GIL, so threads work too, but processes also parallelise the Python around it).
        cluster = LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        # One pickled copy per worker, unpickled once there; tasks refer to it.
        shared = client.scatter(analyzer, broadcast=True)
        if batch_size is None:
            n_workers = max(1, len(client.scheduler_info()["workers"]))
            batch_size = max(1, min(16, len(paths) // (8 * n_workers)))
        futures = client.map(analyze_batch, batches(paths, batch_size), analyzer=shared)
        failed = 0
        for future in futures:
            lines, errors = future.result()
            future.release()  # let the cluster forget the batch's results
            for line in lines:
                out.write(line + "\n")
            for message in errors:
                print(f"dask_folder: {message}", file=sys.stderr)
            failed += len(errors)
        return failed
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="*", help="image files, folders (walked recursively) or fsspec URIs")
    parser.add_argument("--list", type=Path, help="a text file with one path or URI per line")
    parser.add_argument("-o", "--output", type=Path, help="JSON-lines file to write (default: stdout)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, help="LocalCluster worker processes (default: one per core)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="files per task (default: 8 tasks per worker, at most 16 files each)")
    parser.add_argument("--min-face-size", type=int, help="as the CLI's --min-face-size (default: the library's)")
    parser.add_argument("--detector", choices=("yunet", "seeta"), default="yunet", help="as the CLI's --detector")
    parser.add_argument("--model", type=Path, help="a custom ONNX model (shipped to the workers as bytes)")
    args = parser.parse_args(argv)

    inputs = list(args.inputs)
    if args.list:
        inputs += [line.strip() for line in args.list.read_text().splitlines() if line.strip()]
    if not inputs:
        parser.error("give image files, folders, URIs or --list")
    paths = list_inputs(inputs)
    # One model thread per task: the cluster's workers already use every core.
    sizes = {} if args.min_face_size is None else {"min_face_size": args.min_face_size}
    analyzer = emotion.Analyzer(args.model, detector=args.detector, threads=1, **sizes)
    if args.output:
        with open(args.output, "w") as out:
            failed = run(paths, out, analyzer, args.scheduler, args.workers, args.batch_size)
    else:
        failed = run(paths, sys.stdout, analyzer, args.scheduler, args.workers, args.batch_size)
    if failed:
        print(f"dask_folder: {failed} input(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
