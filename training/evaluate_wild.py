"""Metrics of an ONNX model on the held-out part of the wild faces, through the library.

    python -m training.evaluate_wild emotion-core/models/emotion.onnx --wild training/runs/wild.npz

For every held-out face of `training.wild` (one photo's or person's faces are all on one side):
the source image from ../shared/data/wild/, `emotion.Analyzer(model_path=MODEL).classify(image,
[its face box])` (the box the library's detector found there, see training/wild.py), so the
library's crop and preprocessing apply as for a user's face. Per set: n, accuracy, macro-F1 over
the classes the set has, per-class recall, ECE (15 bins); for DiffusionFER, the only set with
human valence/arousal ratings (mean of two annotators), Lin's CCC and RMSE of the valence and
arousal heads against them, beside the class-mean formula (probabilities x AffectNet class
means, ../shared/data/affectnet-va-stats.csv). Prints a table and writes --out (JSON).

End to end: `--end-to-end` runs `Analyzer(model_path=MODEL).analyze(image)` (the default
detector, YuNet) instead, keeps the face found on the labelled one (IoU >= 0.3), and gives the
metrics on the faces found; `detected` is then the share found.

Robustness: `--degrade KIND` first degrades each source image around its face (DEGRADATIONS, one
fixed strength each, deterministic), so two models compare on the same damaged pixels:

    for d in none lowres blur jpeg noise dark rotate occlude; do
        python -m training.evaluate_wild MODEL --degrade $d --out runs/robust/MODEL-$d.json; done
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from . import config, data, wild
from .evaluate import ccc, classification_metrics, expected_calibration_error


# What people's own photos do to a face, each at one fixed strength, relative to the face box
# (x, y, width, height) so that faces of every size are hit alike.
DEGRADATIONS = {
    "none": "the source image as it is",
    "lowres": "down to a 20 px face (box filter) and back up (bilinear): a small face in a crowd",
    "blur": "Gaussian blur, sigma 3 % of the face width: focus or motion",
    "jpeg": "JPEG quality 20: heavy web compression",
    "noise": "Gaussian noise, sigma 12 of 255 per channel: a dark, high-ISO photo",
    "dark": "gamma 2.2 (pixel/255 raised to 2.2): under-exposure",
    "rotate": "turned 25 degrees about the face centre (uncovered corners black): a tilted head",
    "occlude": "a mid-gray band over 20-45 % of the face height (the eyes): sunglasses, a hand",
}


def degrade(rgb: np.ndarray, box, kind: str, seed: int) -> np.ndarray:
    """`rgb` (H, W, 3 uint8) with the degradation `kind` of DEGRADATIONS around face `box`."""
    from PIL import ImageFilter
    if kind == "none":
        return rgb
    x, y, w, h = (float(v) for v in box)
    img = Image.fromarray(rgb)
    if kind == "lowres":
        s = min(1.0, 20.0 / max(w, 1.0))
        small = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BOX)
        return np.asarray(small.resize(img.size, Image.BILINEAR))
    if kind == "blur":
        return np.asarray(img.filter(ImageFilter.GaussianBlur(0.03 * w)))
    if kind == "jpeg":
        import io
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=20)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if kind == "noise":
        noise = np.random.default_rng(seed).normal(0.0, 12.0, rgb.shape)
        return np.clip(rgb + noise + 0.5, 0, 255).astype(np.uint8)
    if kind == "dark":
        return (255.0 * (rgb / 255.0) ** 2.2 + 0.5).astype(np.uint8)
    if kind == "rotate":
        return np.asarray(img.rotate(25, Image.BILINEAR, center=(x + w / 2, y + h / 2)))
    if kind == "occlude":
        out = rgb.copy()
        out[max(0, round(y + 0.2 * h)):max(0, round(y + 0.45 * h)), max(0, round(x)):max(0, round(x + w))] = 128
        return out
    raise ValueError(f"unknown degradation {kind!r}: one of {', '.join(DEGRADATIONS)}")


def iou(a, b) -> float:
    """Intersection over union of two (x, y, width, height) boxes (tuples or `emotion.BBox`)."""
    a, b = tuple(a), tuple(b)
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter > 0 else 0.0


def predict(model, z, idx, flip=False, kind="none", end_to_end=False):
    """-> (probabilities [n, 8], valence [n], arousal [n]) for the faces `idx` of wild .npz z,
    their images degraded by `kind` (DEGRADATIONS). With `end_to_end`, `Analyzer.analyze` (the
    default detector) instead of `classify` on the stored box: faces it does not find (no box
    with IoU >= 0.3) get None probabilities and NaN valence/arousal."""
    import emotion
    analyzer = emotion.Analyzer(model_path=str(model), flip_average=flip)
    probs, val, aro = [], [], []
    for i in idx:
        set_name, file = str(z["names"][i]).split("/", 1)
        rgb = np.asarray(Image.open(wild.WILD / set_name / "faces" / file).convert("RGB"))
        rgb = degrade(rgb, z["box"][i], kind, seed=int(i))
        box = emotion.BBox(*(float(v) for v in z["box"][i]))
        if end_to_end:
            # As a user: analyze the image, keep the face found on the labelled one (if any).
            faces = [f for f in analyzer.analyze(rgb) if iou(f.bbox, box) >= 0.3]
            if not faces:
                probs.append(None)
                val.append(np.nan)
                aro.append(np.nan)
                continue
            face = max(faces, key=lambda f: iou(f.bbox, box))
        else:
            face = analyzer.classify(rgb, [box])[0]
        probs.append(face.probability_vector)
        val.append(face.valence)
        aro.append(face.arousal)
    return probs, np.array(val), np.array(aro)


def evaluate(model, wild_npz, flip=False, kind="none", end_to_end=False) -> dict:
    z = np.load(wild_npz, allow_pickle=False)
    sets = [str(s) for s in z["sets"]]
    va_means = data.load_va_stats()
    out = {}
    for si, set_name in enumerate(sets):
        idx = np.flatnonzero(z["holdout"] & (z["set"] == si))
        if not len(idx):
            continue
        probs, val, aro = predict(model, z, idx, flip, kind, end_to_end)
        found = np.array([p is not None for p in probs])
        if end_to_end:  # metrics on the found faces
            idx, val, aro = idx[found], val[found], aro[found]
        probs = np.array([p for p in probs if p is not None], np.float64)
        label = z["label"][idx]
        m = classification_metrics(label, probs.argmax(1))
        present = [c for c in range(config.NUM_CLASSES) if (label == c).any()]
        f1 = [m["per_class_f1"][config.LABELS[c]] for c in present]
        res = {"n": int(len(idx)), "accuracy": m["accuracy"], "macro_f1": float(np.mean(f1)),
               "per_class_recall": {config.LABELS[c]: m["per_class_recall"][config.LABELS[c]]
                                    for c in present},
               "lowest_recall": float(min(m["per_class_recall"][config.LABELS[c]]
                                          for c in present)),
               "ece_15": expected_calibration_error(probs, label),
               "detected": float(found.mean()) if end_to_end else float(z["detected"][idx].mean())}
        rv, ra = z["valence"][idx], z["arousal"][idx]
        if not np.isnan(rv).any():
            base_v, base_a = probs @ va_means[0], probs @ va_means[1]
            res["valence"] = {"ccc": ccc(val, rv), "rmse": float(np.sqrt(((val - rv) ** 2).mean())),
                              "class_mean_formula_ccc": ccc(base_v, rv)}
            res["arousal"] = {"ccc": ccc(aro, ra), "rmse": float(np.sqrt(((aro - ra) ** 2).mean())),
                              "class_mean_formula_ccc": ccc(base_a, ra)}
        out[set_name] = res
    return out


def summary(metrics: dict) -> str:
    lines = [f"{'set':<13} {'n':>5} {'acc':>6} {'mF1':>6} {'min rec':>8} {'ECE':>6}  VA (CCC)"]
    for name, r in metrics.items():
        va = ""
        if "valence" in r:
            va = (f"valence {r['valence']['ccc']:.3f} (formula {r['valence']['class_mean_formula_ccc']:.3f})"
                  f", arousal {r['arousal']['ccc']:.3f} (formula {r['arousal']['class_mean_formula_ccc']:.3f})")
        lines.append(f"{name:<13} {r['n']:>5} {r['accuracy']:>6.3f} {r['macro_f1']:>6.3f} "
                     f"{r['lowest_recall']:>8.3f} {r['ece_15']:>6.3f}  {va}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.evaluate_wild", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--wild", default=str(config.RUNS_DIR / "wild.npz"))
    p.add_argument("--flip", action="store_true", help="Analyzer(flip_average=True)")
    p.add_argument("--degrade", default="none", choices=list(DEGRADATIONS),
                   help="degrade each image first (see DEGRADATIONS)")
    p.add_argument("--out", default=None, help="metrics JSON (default: print only)")
    p.add_argument("--end-to-end", action="store_true",
                   help="Analyzer.analyze with the default detector, metrics on the faces it finds")
    a = p.parse_args(argv)
    m = evaluate(a.model, a.wild, a.flip, a.degrade, a.end_to_end)
    print(summary(m))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(m, indent=2))


if __name__ == "__main__":
    main()
