"""The labelled wild faces of ../shared/data/wild/ as training crops cut the way the library cuts
them, with a held-out part chosen by source photo.

    python -m training.wild --out training/runs/wild.npz          # needs the `emotion` wheel

For every image: the library's SeetaFace detector (`emotion.Analyzer(detector="seeta").detect`,
whose square boxes define the model's crop geometry) runs on the image padded by half its side with repeated edges (tight crops such as 96x96 LFW faces fill the frame, and a
detector looks for faces inside a scene); the detection that best matches the labelled face is
kept (ExpW: the highest IoU with the labelled box; the other sets are one face per image: the
highest score whose centre lies in the middle half). Where the detector finds nothing, the box is
the labelled box (ExpW) or the image's centre square, resized to the detector's box size by the
median ratio measured on the detected faces of the same set. The crop is then the library's:
a square of `config.CROP_SCALE` x the box side around the box centre moved by
`config.CROP_SHIFT_Y` x its height, edges repeated, BT.601 luma, area-averaged to 48x48
(`evaluate.crop`, the numpy mirror of the library's crop).

Sets (../shared/README.md has sources and terms; none of these images may ship):
- expw: ExpW internet photos, 7 classes, about 615 a class; groups = source photo.
- muxspace: mostly LFW, 8 classes, nearly all neutral/happy; groups = person (file stem less
  the LFW image number).
- diffusionfer: synthetic faces with two annotators' valence/arousal, the only real ratings;
  groups = the generated identity token.
- london: studio portraits, neutral/happy; groups = person number.

Held out: every group whose SHA-1 falls in the lowest `--holdout` share (default 15 %), so one
photo's (or person's) faces are never on both sides. Output .npz: `images` uint8 [N, 48, 48, 1],
`label` int [N] (AffectNet order), `valence`/`arousal` float32 [N] (NaN where no rating),
`set` int [N] (index into `sets`), `sets` str, `holdout` bool [N], `names` str [N] (set/file),
`detected` bool [N] (False: fallback box), `box` float32 [N, 4] (the face box in the source
image's pixels: what `evaluate_wild` passes to `Analyzer.classify`).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import re
import time
from pathlib import Path

import numpy as np
from PIL import Image

from . import config

WILD = config.SHARED / "data" / "wild"
SETS = ("expw", "muxspace", "diffusionfer", "london")


def _group(set_name: str, row: dict) -> str:
    stem = Path(row["file"]).stem
    if set_name == "expw":
        return row["source_image"]
    if set_name == "muxspace":
        return re.sub(r"_\d+$", "", stem)                # AJ_Cook_0001 -> AJ_Cook
    if set_name == "diffusionfer":
        parts = stem.split("_")                         # anger_aaaaaaaa_6 -> aaaaaaaa
        return parts[1] if len(parts) >= 3 else stem
    return stem.split("_")[1] if stem.count("_") >= 2 else stem   # london: happy_001_08 -> 001


def read_labels(set_name: str, root=WILD) -> list:
    """Rows of one set: dicts with path, label (AffectNet index), valence/arousal (NaN if none),
    group, box (labelled box in image pixels, or None)."""
    folder = Path(root) / set_name
    rows = []
    with open(folder / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["expression"] not in config.LABELS:
                raise ValueError(f"{folder}: unknown expression {r['expression']!r}")
            box = None
            if "box_x" in r:
                box = tuple(float(r[k]) for k in ("box_x", "box_y", "box_width", "box_height"))
            rows.append({
                "path": folder / "faces" / r["file"], "file": r["file"],
                "label": config.LABELS.index(r["expression"]),
                "valence": float(r["valence"]) if r.get("valence") not in (None, "") else np.nan,
                "arousal": float(r["arousal"]) if r.get("arousal") not in (None, "") else np.nan,
                "group": f"{set_name}:{_group(set_name, r)}", "box": box})
    return rows


def is_holdout(group: str, share: float) -> bool:
    """Deterministic group-level split: SHA-1 of the group name below `share` of the range."""
    h = int(hashlib.sha1(group.encode()).hexdigest()[:8], 16)
    return h < share * 0x1_0000_0000


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / max(aw * ah + bw * bh - inter, 1e-9)


def detect_face(analyzer, rgb: np.ndarray, labelled=None):
    """The library's box (x, y, w, h) for the labelled face of `rgb` (uint8 [H, W, 3]), or None.
    Detection runs on the image padded by half its longer side with repeated edges."""
    h, w = rgb.shape[:2]
    p = max(h, w) // 2
    padded = np.pad(rgb, ((p, p), (p, p), (0, 0)), mode="edge")
    found = []
    for d in analyzer.detect(padded):
        b = d.bbox
        found.append(((b.x - p, b.y - p, b.width, b.height), d.detection_score))
    if labelled is not None:
        scored = [(_iou(box, labelled), box) for box, _ in found]
        scored = [s for s in scored if s[0] >= 0.3]
        return max(scored)[1] if scored else None
    central = [(score, box) for box, score in found
               if w / 4 <= box[0] + box[2] / 2 <= 3 * w / 4 and h / 4 <= box[1] + box[3] / 2 <= 3 * h / 4]
    return max(central)[1] if central else None


def build(out, holdout=0.15, limit=None, size=48, root=WILD, log=print) -> Path:
    import emotion
    from . import evaluate
    # The SeetaFace cascade's square boxes: the geometry the model's crop metadata is defined in
    # (`Analyzer.classify` reads plain boxes that way; YuNet's detections are mapped onto it).
    # Model 0.3's crops were cut with it.
    analyzer = emotion.Analyzer(detector="seeta")
    arrays = {k: [] for k in ("images", "label", "valence", "arousal", "set", "holdout",
                              "names", "detected", "box")}
    for si, set_name in enumerate(SETS):
        rows = read_labels(set_name, root)[:limit]
        t0 = time.time()
        boxes, rgbs = [], []
        for r in rows:
            rgb = np.asarray(Image.open(r["path"]).convert("RGB"))
            rgbs.append(rgb)
            boxes.append(detect_face(analyzer, rgb, r["box"]))
        # Fallback boxes: the labelled box (or the centre square) scaled by the median ratio of
        # detected box side to labelled side (or image side) in this set.
        ref = [r["box"][2] if r["box"] else max(rgb.shape[:2]) for r, rgb in zip(rows, rgbs)]
        ratios = [b[2] / s for b, s in zip(boxes, ref) if b is not None]
        ratio = float(np.median(ratios)) if ratios else 0.8
        for i, (r, rgb) in enumerate(zip(rows, rgbs)):
            detected = boxes[i] is not None
            if not detected:
                h, w = rgb.shape[:2]
                cx, cy, side = ((r["box"][0] + r["box"][2] / 2, r["box"][1] + r["box"][3] / 2,
                                 r["box"][2]) if r["box"] else (w / 2, h / 2, max(w, h)))
                side *= ratio
                boxes[i] = (cx - side / 2, cy - side / 2, side, side)
            crop = evaluate.crop(rgb, boxes[i], size, config.CROP_SCALE, config.CROP_SHIFT_Y,
                                 channels=1)
            arrays["images"].append(np.clip(crop + 0.5, 0, 255).astype(np.uint8))
            arrays["label"].append(r["label"])
            arrays["valence"].append(r["valence"])
            arrays["arousal"].append(r["arousal"])
            arrays["set"].append(si)
            arrays["holdout"].append(is_holdout(r["group"], holdout))
            arrays["names"].append(f"{set_name}/{r['file']}")
            arrays["detected"].append(detected)
            arrays["box"].append(boxes[i])
        n_det = len(ratios)
        log(f"{set_name}: {len(rows)} faces, {n_det} detected ({time.time() - t0:.0f} s), "
            f"fallback side ratio {ratio:.3f}, held out "
            f"{sum(arrays['holdout'][-len(rows):])}")
    np.savez_compressed(
        out, images=np.stack(arrays["images"]), label=np.array(arrays["label"], np.int64),
        valence=np.array(arrays["valence"], np.float32),
        arousal=np.array(arrays["arousal"], np.float32), set=np.array(arrays["set"], np.int64),
        sets=np.array(SETS), holdout=np.array(arrays["holdout"]),
        names=np.array(arrays["names"]), detected=np.array(arrays["detected"]),
        box=np.array(arrays["box"], np.float32))
    return Path(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.wild", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--holdout", type=float, default=0.15, help="share of groups held out")
    p.add_argument("--limit", type=int, default=None, help="first N faces of each set (tests)")
    a = p.parse_args(argv)
    path = build(a.out, a.holdout, a.limit)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
