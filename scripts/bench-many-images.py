#!/usr/bin/env python3
"""Throughput of every way to analyse many images, as ratios measured in one run, and the CLI's
peak memory over a large folder against a small one.

    cargo build --release -p emotion-cli
    pip install target/wheels/emotion-*.whl "dask[distributed]" pillow   # or: pip install "emotion[dask]" pillow
    python scripts/bench-many-images.py                     # everything (a few minutes on 2 cores)
    python scripts/bench-many-images.py --only cli memory   # some of: cli threads processes dask memory

Images: a folder of >= 100 photos made once under target/bench-photos from the test photos in
../shared/photos (originals, mirrored, cropped, scaled and gray copies). Each section prints
images/s with 1 and with 2 workers (CLI jobs, Python threads, processes, Dask worker processes)
and checks that both give the same results. Figures depend on what else the machine runs:
report them with the load they were measured under.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = REPO.parent / "shared" / "photos"
CLI = REPO / "target" / "release" / "emotion"
FOLDER = REPO / "target" / "bench-photos"
sys.path.insert(0, str(REPO / "examples" / "python"))


def make_folder() -> list[Path]:
    """>= 100 real photos: each test photo (but the 2-megapixel collage) in 7 variants."""
    from PIL import Image, ImageOps

    if FOLDER.exists() and len(list(FOLDER.iterdir())) >= 100:
        return sorted(FOLDER.iterdir())
    sources = sorted(SHARED_PHOTOS.glob("misc/*")) + sorted(SHARED_PHOTOS.glob("voc-faces/*.jpg"))
    sources = [p for p in sources if p.suffix in (".jpg", ".png") and p.name != "bald_guys.jpg"]
    if not sources:
        sys.exit(f"no photos in {SHARED_PHOTOS}")
    FOLDER.mkdir(parents=True, exist_ok=True)
    for src in sources:
        with Image.open(src) as im:
            im = im.convert("RGB")
            w, h = im.size
            variants = {
                "orig": im,
                "mirror": ImageOps.mirror(im),
                "crop90": im.crop((w // 20, h // 20, w - w // 20, h - h // 20)),
                "crop75": im.crop((0, 0, w * 3 // 4, h * 3 // 4)),
                "scale75": im.resize((w * 3 // 4, h * 3 // 4)),
                "scale125": im.resize((w * 5 // 4, h * 5 // 4)),
                "gray": ImageOps.grayscale(im).convert("RGB"),
            }
            for name, variant in variants.items():
                variant.save(FOLDER / f"{src.stem}-{name}.jpg", quality=92)
    return sorted(FOLDER.iterdir())


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def report(title: str, n: int, one: float, two: float, same: bool) -> None:
    print(f"{title:<28} 1: {n / one:6.1f} img/s   2: {n / two:6.1f} img/s   "
          f"speed-up {one / two:4.2f}x   same results: {same}")


def strip_timings(stdout: str) -> list[dict]:
    rows = [json.loads(line) for line in stdout.splitlines()]
    for row in rows:
        row.pop("timings")
    return rows


def bench_cli(files: list[Path]) -> None:
    def run(jobs: int) -> list[dict]:
        out = subprocess.run([CLI, "--jobs", str(jobs), FOLDER], check=True, capture_output=True, text=True)
        return strip_timings(out.stdout)

    one, t1 = timed(lambda: run(1))
    two, t2 = timed(lambda: run(2))
    report("CLI --jobs", len(files), t1, t2, one == two)


def analyze_file(analyzer, path):
    import emotion

    return analyzer.analyze(emotion.load_image(str(path)))


def bench_threads(files: list[Path]) -> None:
    import emotion

    analyzer = emotion.Analyzer(threads=1)

    def run(workers: int):
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda p: analyze_file(analyzer, p), files))

    one, t1 = timed(lambda: run(1))
    two, t2 = timed(lambda: run(2))
    report("Python threads", len(files), t1, t2, one == two)


_worker_analyzer = None


def _start_worker(analyzer) -> None:
    """Runs once in each worker process: unpickling the analyzer builds it (loads the model)."""
    global _worker_analyzer
    _worker_analyzer = analyzer


def _analyze_in_worker(path):
    return analyze_file(_worker_analyzer, path)


def bench_processes(files: list[Path]) -> None:
    import emotion

    analyzer = emotion.Analyzer(threads=1)
    spawn = multiprocessing.get_context("spawn")

    # The README's pattern: the analyzer goes to each worker once (initializer), not with every
    # task, which would rebuild it for every file.
    def run(workers: int):
        with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker, initargs=(analyzer,)) as pool:
            return list(pool.map(_analyze_in_worker, files, chunksize=4))

    one, t1 = timed(lambda: run(1))
    two, t2 = timed(lambda: run(2))
    report("processes (spawn)", len(files), t1, t2, one == two)


def bench_dask(files: list[Path]) -> None:
    import io

    from dask.distributed import LocalCluster

    import emotion
    import dask_folder

    analyzer = emotion.Analyzer(threads=1)
    paths = [str(p) for p in files]

    def run(address: str, paths: list[str] = paths) -> str:
        out = io.StringIO()
        assert dask_folder.run(paths, out, analyzer, scheduler=address) == 0
        return out.getvalue()

    # The clusters start before the clock does: the figure is the analysis (plus connecting a
    # client and broadcasting the analyzer), not the workers' start-up.
    timings = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster:
            # Warm-up: every worker imports emotion and unpickles (builds) the analyzer.
            run(cluster.scheduler_address, paths[: 2 * workers])
            timings[workers] = timed(lambda: run(cluster.scheduler_address))
    (one, t1), (two, t2) = timings[1], timings[2]
    report("Dask worker processes", len(files), t1, t2, one == two)


def peak_rss_mib(args: list) -> float:
    """Peak resident memory of a child process, MiB (its own rusage, from wait4)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return usage.ru_maxrss / 1024


def bench_memory(files: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp, "10"), Path(tmp, "1000")
        small.mkdir()
        large.mkdir()
        ten = files[:: max(1, len(files) // 10)][:10]
        for i, f in enumerate(ten):
            os.link(f, small / f"{i:02d}{f.suffix}")
            for copy in range(100):
                os.link(f, large / f"{copy:03d}-{i:02d}{f.suffix}")
        rss_small = peak_rss_mib([CLI, small])
        rss_large = peak_rss_mib([CLI, large])
    print(f"{'CLI peak RSS':<28} 10 images: {rss_small:.1f} MiB   1,000 images: {rss_large:.1f} MiB   "
          f"ratio {rss_large / rss_small:.3f}")


SECTIONS = {"cli": bench_cli, "threads": bench_threads, "processes": bench_processes, "dask": bench_dask,
            "memory": bench_memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args()
    files = make_folder()
    print(f"{len(files)} photos in {FOLDER}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    for name in args.only:
        SECTIONS[name](files)


if __name__ == "__main__":
    main()
