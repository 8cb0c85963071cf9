#!/usr/bin/env python3
"""Faces, expressions, valence and arousal for one image, as one JSON line: the same shape as the
Rust CLI (`emotion IMAGE`).

    pip install emotion pillow
    python examples/python/analyze.py examples/data/astronaut.png

Timings are wall-clock milliseconds of each stage (decode with Pillow, detect, classify).
"""

import argparse
import json
import sys
import time

import numpy as np
from PIL import Image, ImageOps

import emotion


def main() -> int:
    parser = argparse.ArgumentParser(description="Faces, expressions, valence and arousal for one image (JSON).")
    parser.add_argument("image", help="image file (anything Pillow opens)")
    parser.add_argument("--model", help="ONNX emotion model (default: the bundled one)")
    parser.add_argument("--min-face-size", type=int, default=40, help="smallest face side, pixels [10, 10000]")
    args = parser.parse_args()

    try:
        analyzer = emotion.Analyzer(args.model, min_face_size=args.min_face_size)
        t0 = time.perf_counter()
        with Image.open(args.image) as im:
            pixels = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))  # as the CLI decodes
        t1 = time.perf_counter()
        detections = analyzer.detect(pixels)
        t2 = time.perf_counter()
        faces = analyzer.classify(pixels, detections)  # = analyzer.analyze(pixels), timed apart
        t3 = time.perf_counter()
    except (OSError, emotion.EmotionError) as e:
        print(f"analyze.py: {args.image}: {e}", file=sys.stderr)
        return 1

    def ms(start: float, end: float) -> float:
        return (end - start) * 1e3

    report = {
        "file": args.image,
        "width": pixels.shape[1],
        "height": pixels.shape[0],
        "faces": [face.to_dict() for face in faces],
        "timings": {"decode_ms": ms(t0, t1), "detect_ms": ms(t1, t2), "classify_ms": ms(t2, t3), "total_ms": ms(t0, t3)},
    }
    print(json.dumps(report, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
