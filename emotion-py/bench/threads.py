#!/usr/bin/env python3
"""Wall time of N `analyze` calls run one after the other vs the same calls spread over T Python
threads sharing one Analyzer. A speedup above 1 shows the GIL is released while the library works
(the ceiling is the number of free cores).

    python emotion-py/bench/threads.py [IMAGE] [--calls 32] [--threads 8]
"""

import argparse
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import emotion

DEFAULT_IMAGE = Path(__file__).resolve().parents[2] / "examples" / "data" / "astronaut.png"


def longest_pause_during_call(analyzer: emotion.Analyzer, pixels: np.ndarray) -> tuple[float, float]:
    """(longest gap between two iterations of a Python loop while another thread runs one
    analyze call, length of that call), seconds. A held GIL would make the gap the whole call."""
    go, call = threading.Event(), {}

    def work() -> None:
        go.wait()
        call["start"] = time.perf_counter()
        analyzer.analyze(pixels)
        call["end"] = time.perf_counter()

    thread = threading.Thread(target=work)
    thread.start()
    last, longest = time.perf_counter(), 0.0
    go.set()
    while thread.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    thread.join()
    return longest, call["end"] - call["start"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image", nargs="?", default=str(DEFAULT_IMAGE))
    parser.add_argument("--calls", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    pixels = emotion.load_image(args.image)
    # threads=1: each call runs the model on one core, so any speedup comes from Python threads.
    analyzer = emotion.Analyzer(threads=1)
    expected = [f.to_dict() for f in analyzer.analyze(pixels)]  # warm-up

    t0 = time.perf_counter()
    sequential = [analyzer.analyze(pixels) for _ in range(args.calls)]
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        parallel = list(pool.map(lambda _: analyzer.analyze(pixels), range(args.calls)))
    t2 = time.perf_counter()
    cpu2 = time.process_time()

    assert all([f.to_dict() for f in faces] == expected for faces in sequential + parallel)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"image {args.image} {pixels.shape[1]}x{pixels.shape[0]}, {len(expected)} face(s), {cores} cores")
    print(f"{args.calls} calls sequential:      {t1 - t0:7.3f} s ({(t1 - t0) / args.calls * 1e3:.1f} ms/call)")
    print(f"{args.calls} calls on {args.threads} threads:     {t2 - t1:7.3f} s ({(t2 - t1) / args.calls * 1e3:.1f} ms/call)")
    print(f"speedup: {(t1 - t0) / (t2 - t1):.2f}x")
    # Above 1 only if several threads ran library code at once, which a held GIL would prevent.
    print(f"threaded run: process CPU time / wall time = {(cpu2 - cpu1) / (t2 - t1):.2f}")
    pause, call = longest_pause_during_call(analyzer, pixels)
    print(f"another Python thread's longest pause during one {call * 1e3:.0f} ms call: {pause * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
