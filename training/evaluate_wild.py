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
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from . import config, data, wild
from .evaluate import ccc, classification_metrics, expected_calibration_error


def predict(model, z, idx, flip=False):
    """-> (probabilities [n, 8], valence [n], arousal [n]) for the faces `idx` of wild .npz z."""
    import emotion
    analyzer = emotion.Analyzer(model_path=str(model), flip_average=flip)
    probs, val, aro = [], [], []
    for i in idx:
        set_name, file = str(z["names"][i]).split("/", 1)
        rgb = np.asarray(Image.open(wild.WILD / set_name / "faces" / file).convert("RGB"))
        face = analyzer.classify(rgb, [emotion.BBox(*(float(v) for v in z["box"][i]))])[0]
        probs.append(face.probability_vector)
        val.append(face.valence)
        aro.append(face.arousal)
    return np.array(probs, np.float64), np.array(val), np.array(aro)


def evaluate(model, wild_npz, flip=False) -> dict:
    z = np.load(wild_npz, allow_pickle=False)
    sets = [str(s) for s in z["sets"]]
    va_means = data.load_va_stats()
    out = {}
    for si, set_name in enumerate(sets):
        idx = np.flatnonzero(z["holdout"] & (z["set"] == si))
        if not len(idx):
            continue
        probs, val, aro = predict(model, z, idx, flip)
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
               "detected": float(z["detected"][idx].mean())}
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
    p.add_argument("--out", default=None, help="metrics JSON (default: print only)")
    a = p.parse_args(argv)
    m = evaluate(a.model, a.wild, a.flip)
    print(summary(m))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(m, indent=2))


if __name__ == "__main__":
    main()
