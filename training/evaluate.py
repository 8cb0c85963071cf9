"""Evaluate an exported ONNX model with onnxruntime on a FER+-layout folder.

    python -m training.evaluate emotion-core/models/emotion.onnx ../shared/data/ferplus/valid

Preprocessing is read from the model's metadata (colour, size, mean, std) and done as the library
does it on a face crop (BT.601 gray, bilinear resize, (pixel/255 - mean)/std). Images whose
unknown + not-a-face votes are the majority are left out, as in training.

Writes to --out (default training/runs/eval/<model>-<folder>/): metrics.json, confusion.png,
va_scatter.png; prints a summary. metrics.json: n, accuracy (argmax of the 8 emotion votes =
majority vote, AffectNet order), macro_f1 (mean F1 over the 8 classes), per_class_recall,
per_class_f1, support, confusion (rows = true, columns = predicted, AffectNet order), and for
valence/arousal the RMSE and Lin's CCC against the distilled targets (data.distilled_va).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import config, data


def spec_from_metadata(meta: dict) -> config.BackboneSpec:
    h, w = (int(v) for v in meta["emotion.input_size"].lower().split("x"))
    if h != w:
        raise ValueError(f"non-square input {h}x{w} not supported by the evaluator")
    mean = tuple(float(v) for v in meta["emotion.mean"].split(","))
    std = tuple(float(v) for v in meta["emotion.std"].split(","))
    return config.BackboneSpec("onnx", h, meta["emotion.input_color"], mean, std)


def ccc(pred, target) -> float:
    """Lin's concordance correlation coefficient: 2 cov / (var_p + var_t + (mean_p - mean_t)^2)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    mp, mt = pred.mean(), target.mean()
    cov = ((pred - mp) * (target - mt)).mean()
    return float(2 * cov / (pred.var() + target.var() + (mp - mt) ** 2 + 1e-12))


def classification_metrics(label, pred, k=config.NUM_CLASSES) -> dict:
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (label, pred), 1)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(1), cm.sum(0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=(precision + recall) > 0)
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "macro_f1": float(f1.mean()),
        "per_class_recall": dict(zip(config.LABELS, recall.round(4).tolist())),
        "per_class_f1": dict(zip(config.LABELS, f1.round(4).tolist())),
        "support": dict(zip(config.LABELS, support.tolist())),
        "confusion": cm.tolist(),
    }


def predict(onnx_path, images_nchw, batch=256):
    """-> dict of valence [N], arousal [N], expression [N, 8] from onnxruntime."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    outs = {"valence": [], "arousal": [], "expression": []}
    for i in range(0, len(images_nchw), batch):
        res = sess.run(list(outs), {sess.get_inputs()[0].name: images_nchw[i:i + batch]})
        for k, v in zip(outs, res):
            outs[k].append(v)
    return {k: np.concatenate(v) if v else np.zeros((0, 8 if k == "expression" else 1))
            for k, v in outs.items()}


def plot(metrics, va_pred, va_target, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.array(metrics["confusion"], np.float64)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, f"{int(cm[i, j])}\n{norm[i, j]:.2f}", ha="center", va="center",
                    fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(cm)), config.LABELS, rotation=45, ha="right")
    ax.set_yticks(range(len(cm)), config.LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (majority vote)")
    ax.set_title(f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(out_dir / "confusion.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for ax, k in zip(axes, ("valence", "arousal")):
        ax.scatter(va_target[k], va_pred[k], s=3, alpha=0.3)
        ax.plot([-1, 1], [-1, 1], "k--", lw=1)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_xlabel(f"target {k} (distilled)")
        ax.set_ylabel(f"predicted {k}")
        ax.set_title(f"{k}: RMSE {metrics[k]['rmse']:.3f}, CCC {metrics[k]['ccc']:.3f}")
    fig.tight_layout()
    fig.savefig(out_dir / "va_scatter.png", dpi=110)
    plt.close(fig)


def evaluate(onnx_path, folder, out_dir=None, limit=None, log=print) -> dict:
    import onnx
    onnx_path, folder = Path(onnx_path), Path(folder)
    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    spec = spec_from_metadata(meta)
    ds = data.load_ferplus(folder, size=None, color=spec.color, limit=limit)
    out = predict(onnx_path, data.preprocess_numpy(ds.images, spec))
    pred = out["expression"].argmax(1)
    m = {"model": str(onnx_path), "data": str(folder), "n": len(ds)}
    m.update(classification_metrics(ds.label, pred))
    va_pred = {"valence": np.clip(out["valence"][:, 0], -1, 1),
               "arousal": np.clip(out["arousal"][:, 0], -1, 1)}
    va_target = {"valence": ds.valence, "arousal": ds.arousal}
    for k in ("valence", "arousal"):
        m[k] = {"rmse": float(np.sqrt(np.mean((va_pred[k] - va_target[k]) ** 2))),
                "ccc": ccc(va_pred[k], va_target[k])}
    out_dir = Path(out_dir) if out_dir else \
        config.RUNS_DIR / "eval" / f"{onnx_path.stem}-{folder.name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(m, indent=2))
    plot(m, va_pred, va_target, out_dir)
    log(f"{onnx_path} on {folder} ({m['n']} images)")
    log(f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}")
    log("recall  " + "  ".join(f"{k} {v:.3f}" for k, v in m["per_class_recall"].items()))
    log(f"valence RMSE {m['valence']['rmse']:.4f} CCC {m['valence']['ccc']:.4f}; "
        f"arousal RMSE {m['arousal']['rmse']:.4f} CCC {m['arousal']['ccc']:.4f}")
    log("confusion (rows true, cols predicted; " + ",".join(config.LABELS) + ")")
    for row in m["confusion"]:
        log("  " + " ".join(f"{v:5d}" for v in row))
    log(f"wrote {out_dir}/metrics.json, confusion.png, va_scatter.png")
    return m


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="ONNX file")
    p.add_argument("data", help="FER+-layout folder (images + label.csv)")
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    a = p.parse_args(argv)
    evaluate(a.model, a.data, a.out, a.limit)


if __name__ == "__main__":
    main()
