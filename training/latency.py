"""Per-face latency of exported models: in the library (tract, through the `emotion` binding,
`Analyzer.classify` of one face with 1 thread: crop + resize + normalise + inference) beside
onnxruntime's `session.run` on the same preprocessed input (1 thread), measured in one process,
interleaved, medians.

    python -m training.latency emotion-core/models/emotion.onnx other.onnx ... [--runs 300]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np


def median_ms(fn, runs):
    for _ in range(10):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def measure(paths, runs=300):
    import emotion
    import onnx
    import onnxruntime as ort
    from .evaluate import crop_geometry, library_crop, spec_from_metadata
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    rows = []
    for p in paths:
        meta = {m.key: m.value for m in onnx.load(str(p)).metadata_props}
        spec = spec_from_metadata(meta)
        analyzer = emotion.Analyzer(model_path=str(p), threads=1)
        box = emotion.BBox(0.0, 0.0, 48.0, 48.0)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        x = library_crop(face[None, :, :, None], spec, *crop_geometry(meta))
        lib = median_ms(lambda: analyzer.classify(face, [box]), runs)
        onnxrt = median_ms(lambda: sess.run(None, {"input": x}), runs)
        rows.append((Path(p).name, Path(p).stat().st_size / 1e6, lib, onnxrt))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m training.latency", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--runs", type=int, default=300)
    a = ap.parse_args(argv)
    print("| model | file MB | library ms/face | onnxruntime ms/face | library / onnxruntime |")
    print("|---|---:|---:|---:|---:|")
    for name, mb, lib, onnxrt in measure(a.models, a.runs):
        print(f"| {name} | {mb:.2f} | {lib:.3f} | {onnxrt:.3f} | {lib / onnxrt:.2f} |")


if __name__ == "__main__":
    main()
