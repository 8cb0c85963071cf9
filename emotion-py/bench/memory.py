#!/usr/bin/env python3
"""Resident memory over many `analyze` calls on a small image: it should stay flat after warm-up.

    python emotion-py/bench/memory.py [IMAGE] [--calls 10000]

Reads VmRSS from /proc/self/status (Linux).
"""

import argparse
import time
from pathlib import Path


import emotion

DEFAULT_IMAGE = Path(__file__).resolve().parents[2] / "examples" / "data" / "astronaut.png"


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image", nargs="?", default=str(DEFAULT_IMAGE))
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    analyzer = emotion.Analyzer()
    pixels = emotion.load_image(args.image)
    # A 128x128 crop around the first face, so every call detects and classifies one face.
    (face,) = analyzer.analyze(pixels)[:1]
    cx, cy = int(face.bbox.x + face.bbox.width / 2), int(face.bbox.y + face.bbox.height / 2)
    x0, y0 = max(0, cx - 64), max(0, cy - 64)
    crop = pixels[y0 : y0 + 128, x0 : x0 + 128]  # a strided view: borrowed, not copied
    found = len(analyzer.analyze(crop))

    start = rss_mib()
    for _ in range(args.warmup):
        analyzer.analyze(crop)
    warm = rss_mib()
    t0 = time.perf_counter()
    samples = []
    for i in range(args.calls):
        analyzer.analyze(crop)
        if (i + 1) % (args.calls // 10 or 1) == 0:
            samples.append(round(rss_mib(), 1))
    elapsed = time.perf_counter() - t0
    end = rss_mib()

    print(f"crop {crop.shape[1]}x{crop.shape[0]} with {found} face(s); {args.calls} calls in {elapsed:.1f} s")
    print(f"RSS start (after load): {start:.1f} MiB")
    print(f"RSS after {args.warmup} warm-up calls: {warm:.1f} MiB")
    print(f"RSS every {args.calls // 10} calls: {samples}")
    print(f"RSS end: {end:.1f} MiB  (growth after warm-up: {end - warm:+.1f} MiB)")


if __name__ == "__main__":
    main()
