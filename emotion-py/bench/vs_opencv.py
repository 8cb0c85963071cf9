#!/usr/bin/env python3
"""This library beside OpenCV's Haar cascade + onnxruntime running the same emotion model, on the
same photos, in one process: end-to-end time (detect + classify every face) and detection recall
at IoU >= 0.4 on the labelled faces.

    pip install "opencv-python-headless<5" onnxruntime pillow    # beside the wheel (OpenCV 5 drops the Haar cascades)
    python emotion-py/bench/vs_opencv.py [--photos ../shared/photos] [--passes 3]

Photos: every image under --photos (recursive); labelled boxes from face-boxes.csv there
(file,x,y,width,height). Two settings are compared: default smallest face (40 px; Haar minSize
40, scaleFactor 1.1, minNeighbors 5) and small faces (24 px for both). Each pipeline runs on one
thread and on all cores (OpenCV and onnxruntime thread counts set to match). Ratios are medians of
per-photo times measured in the same run; each pipeline runs over all photos in turn, alternating
which goes first.
"""

import argparse
import csv
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

import cv2  # type: ignore[import-not-found]
import numpy as np
import onnxruntime as ort  # type: ignore[import-not-found]
from PIL import Image, ImageOps

import emotion

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "emotion-core" / "models" / "emotion.onnx"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class HaarOrt:
    """OpenCV Haar cascade for faces, then the bundled ONNX model in onnxruntime with the
    preprocessing its metadata declares (the same crop rule as the library: a square of
    crop_scale x the box's longer side, centred, shifted down by crop_shift_y box heights)."""

    def __init__(self, min_face: int, threads: int):
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        self.min_face = min_face
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(MODEL), so, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        _, self.channels, self.h, self.w = inp.shape
        self.channels = int(self.channels)
        self.h, self.w = int(self.h), int(self.w)
        floats = lambda key, default: np.array([float(v) for v in meta.get(key, default).split(",")], np.float32)
        self.mean = floats("emotion.mean", "0")
        self.std = floats("emotion.std", "1")
        self.crop_scale = float(meta.get("emotion.crop_scale", "1.0"))
        self.shift_y = float(meta.get("emotion.crop_shift_y", "0.0"))
        self.outputs = ["expression", "valence", "arousal"]

    def detect(self, gray: np.ndarray) -> list[tuple[float, float, float, float]]:
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(self.min_face, self.min_face))
        return [tuple(map(float, b)) for b in found]

    def classify(self, rgb: np.ndarray, gray: np.ndarray, boxes) -> list:
        out = []
        for x, y, w, h in boxes:
            side = max(w, h) * self.crop_scale
            cx, cy = x + w / 2, y + h / 2 + self.shift_y * h
            # Affine warp of the crop region onto the model input, edge pixels repeated.
            sx, sy = side / self.w, side / self.h
            m = np.array([[sx, 0, cx - side / 2], [0, sy, cy - side / 2]], np.float32)
            src = gray if self.channels == 1 else rgb
            interp = cv2.INTER_AREA if side > 1.5 * self.w else cv2.INTER_LINEAR
            if interp == cv2.INTER_AREA:
                # warpAffine has no area filter: cut the region first, then resize with INTER_AREA.
                x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
                s = int(round(side))
                pad = cv2.copyMakeBorder(src, s, s, s, s, cv2.BORDER_REPLICATE)
                crop = cv2.resize(pad[y0 + s : y0 + 2 * s, x0 + s : x0 + 2 * s], (self.w, self.h), interpolation=cv2.INTER_AREA)
            else:
                crop = cv2.warpAffine(src, m, (self.w, self.h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                      borderMode=cv2.BORDER_REPLICATE)
            x_in = crop.astype(np.float32) / 255.0
            x_in = x_in[None, None] if self.channels == 1 else x_in.transpose(2, 0, 1)[None]
            x_in = (x_in - self.mean.reshape(1, -1, 1, 1)) / self.std.reshape(1, -1, 1, 1)
            out.append(self.session.run(self.outputs, {self.input_name: x_in.astype(np.float32)}))
        return out

    def run(self, rgb: np.ndarray):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        boxes = self.detect(gray)
        self.classify(rgb, gray, boxes)
        return boxes


def iou(a, b) -> float:
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def recall(found: dict, truth: dict) -> tuple[int, int]:
    hits = total = 0
    for name, boxes in truth.items():
        dets = list(found.get(name, []))
        used = [False] * len(dets)
        for b in boxes:
            total += 1
            best = max((i for i in range(len(dets)) if not used[i]), key=lambda i: iou(dets[i], b), default=None)
            if best is not None and iou(dets[best], b) >= 0.4:
                used[best] = True
                hits += 1
    return hits, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "photos")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"no photos at {args.photos}")
        return 1
    files = sorted(p for p in args.photos.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    images = {str(p.relative_to(args.photos)): np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB")) for p in files}
    truth = defaultdict(list)
    with open(args.photos / "face-boxes.csv") as f:
        for row in csv.DictReader(f):
            truth[row["file"]].append(tuple(float(row[k]) for k in ("x", "y", "width", "height")))
    cores = os.cpu_count() or 1
    print(f"{len(images)} photos, {sum(len(v) for v in truth.values())} labelled faces in {len(truth)} of them; "
          f"{cores} cores; medians of per-photo time over {args.passes} passes")
    for min_face in (40, 24):
        for threads in sorted({1, cores}):
            cv2.setNumThreads(threads)
            ours = emotion.Analyzer(min_face_size=min_face, threads=threads)
            theirs = HaarOrt(min_face, threads)
            pipelines = {"emotion": lambda rgb: [tuple(f.bbox) for f in ours.analyze(rgb)], "haar+ort": theirs.run}
            times = {k: defaultdict(list) for k in pipelines}
            found = {k: {} for k in pipelines}
            for n in range(args.passes):
                # Each pipeline runs over all the photos in turn, and the order alternates between
                # passes: onnxruntime's and OpenCV's idle worker threads spin for a while after a
                # call, which would slow whichever pipeline ran right after them photo by photo.
                for k in list(pipelines)[:: 1 if n % 2 == 0 else -1]:
                    for name, rgb in images.items():
                        t0 = time.perf_counter()
                        found[k][name] = pipelines[k](rgb)
                        times[k][name].append(time.perf_counter() - t0)
            med = {k: statistics.median(statistics.median(v) for v in t.values()) * 1e3 for k, t in times.items()}
            tot = {k: sum(statistics.median(v) for v in t.values()) * 1e3 for k, t in times.items()}
            rec = {k: recall(found[k], truth) for k in found}
            print(f"min face {min_face} px, {threads} thread(s):")
            for k in ("emotion", "haar+ort"):
                h, n = rec[k]
                print(f"  {k:9s} median {med[k]:7.1f} ms/photo, all photos {tot[k]:7.0f} ms, recall {h}/{n} ({100 * h / n:.1f} %)")
            print(f"  speed-up of emotion over haar+ort: {med['haar+ort'] / med['emotion']:.2f}x (median photo), "
                  f"{tot['haar+ort'] / tot['emotion']:.2f}x (all photos)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
