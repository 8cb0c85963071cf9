#!/usr/bin/env python3
"""Faces, expressions, valence and arousal for one image, as one JSON line: the same shape as the
Rust CLI (`emotion IMAGE`).

    pip install emotion
    python examples/python/analyze.py examples/data/astronaut.png

The image is decoded by the library (``emotion.load_image``: EXIF orientation applied, the same
pixels as the CLI), so the numbers equal the CLI's. Timings are wall-clock milliseconds of each
stage (decode, detect, classify).
"""

import argparse
import json
import sys
import time

import emotion


def main() -> int:
    parser = argparse.ArgumentParser(description="Faces, expressions, valence and arousal for one image (JSON).")
    parser.add_argument("image", help="image file (PNG, JPEG, BMP, GIF, TIFF, WebP)")
    parser.add_argument("--model", help="ONNX emotion model (default: the bundled one)")
    parser.add_argument("--min-face-size", type=int, default=40, help="smallest face side, pixels [10, 10000]")
    parser.add_argument("--max-faces", type=int, default=0, help="report the N largest faces (0 = all)")
    parser.add_argument("--whole-image", action="store_true", help="classify the whole image as one face")
    args = parser.parse_args()

    try:
        analyzer = emotion.Analyzer(args.model, min_face_size=args.min_face_size, max_faces=args.max_faces)
        t0 = time.perf_counter()
        pixels = emotion.load_image(args.image)  # HxWx3 uint8 RGB, as the CLI decodes
        t1 = time.perf_counter()
        if args.whole_image:
            detections = [(0, 0, pixels.shape[1], pixels.shape[0])]  # the full-image box
        else:
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
        "partial": False,  # load_image raises on damaged files unless allow_partial=True
        "model_version": analyzer.model_info.version,
        "faces": [face.to_dict() for face in faces],
        "timings": {"decode_ms": ms(t0, t1), "detect_ms": ms(t1, t2), "classify_ms": ms(t2, t3), "total_ms": ms(t0, t3)},
    }
    print(json.dumps(report, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
