"""Evaluate an exported ONNX model on a FER+-layout folder, through the library as users call it.

    python -m training.evaluate emotion-core/models/emotion.onnx ../shared/data/ferplus/valid
    python -m training.evaluate MODEL FOLDER --path onnxruntime      # numpy mirror + onnxruntime

Default path: the `emotion` Python binding, `Analyzer.classify(image, [full-image box])`, so the
crop geometry of the model metadata applies exactly as for a user's face box. The onnxruntime
path reproduces that preprocessing in numpy (`library_crop`); a test checks the two agree.
Images whose unknown + not-a-face votes are the majority are left out, as in training.

Writes to --out (default training/runs/eval/<model>-<folder>/): metrics.json, confusion.png,
va_scatter.png; prints a summary. metrics.json: n, accuracy (argmax of the 8 emotion votes =
majority vote, AffectNet order), macro_f1 (mean F1 over the 8 classes), per_class_recall,
per_class_f1, support, confusion (rows = true, columns = predicted, AffectNet order), and for
valence/arousal the RMSE and Lin's CCC against the distilled targets (data.distilled_va), beside
the expression-derived baseline (probabilities x AffectNet class means) and the correlation of
head and baseline; recall_ci95 (95 % bootstrap intervals), ece_15 (expected calibration error,
15 bins), mean top probability, mean probability vs label share per class.
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


# ---------------------------------------------------------------------------------------------
# Two ways to get predictions for whole face images (the FER+ crops)
# ---------------------------------------------------------------------------------------------

def crop_geometry(meta: dict):
    """(crop_scale, crop_shift_y) from the model metadata."""
    return float(meta["emotion.crop_scale"]), float(meta["emotion.crop_shift_y"])


def crop(image: np.ndarray, box, size: int, crop_scale: float, crop_shift_y: float,
         channels: int = 1) -> np.ndarray:
    """numpy mirror of the library's face crop: a square region of crop_scale x the box's longer
    side around the box centre shifted by crop_shift_y x its height, sampled bilinearly with
    borders repeated (and 2-8 sub-samples per axis when shrinking by more than 1.5x), BT.601 luma
    for channels=1. image uint8 [H, W, C] (C = 1 or 3), box (x, y, width, height) pixels ->
    float32 [size, size, channels] in 0-255. `tests/test_evaluate.py` checks it against the
    library."""
    h, w = image.shape[:2]
    img = image.astype(np.float32)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 3 and channels == 1:
        img = (img @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    bx, by, bw, bh = box
    side = max(bw, bh) * crop_scale
    rx, ry = bx + bw / 2 - side / 2, by + bh / 2 + crop_shift_y * bh - side / 2
    step = side / size
    k = 1 if step <= 1.5 else min(int(np.ceil(step)), 8)
    pos = lambda origin, n: np.clip(
        origin + (np.arange(size)[:, None] + (np.arange(k)[None, :] + 0.5) / k) * step - 0.5,
        0, n - 1).ravel()                                        # [S * k]
    fy, fx = pos(ry, h), pos(rx, w)
    y0, x0 = np.floor(fy).astype(int), np.floor(fx).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    ay, ax = (fy - y0)[:, None, None], (fx - x0)[None, :, None]
    g = lambda yy, xx: img[yy][:, xx]                            # [S*k, S*k, C]
    top = g(y0, x0) + (g(y0, x1) - g(y0, x0)) * ax
    bot = g(y1, x0) + (g(y1, x1) - g(y1, x0)) * ax
    px = (top + (bot - top) * ay).reshape(size, k, size, k, -1).mean(axis=(1, 3))
    if px.shape[-1] == 1 and channels == 3:
        px = np.repeat(px, 3, -1)
    return px.astype(np.float32)


def library_crop(images: np.ndarray, spec: config.BackboneSpec, crop_scale: float,
                 crop_shift_y: float) -> np.ndarray:
    """The library's model input for a box covering the whole image
    (`Analyzer.classify(image, [BBox(0, 0, W, H)])`): `crop`, then (x/255 - mean)/std.
    images uint8 [N, H, W, C] -> float32 NCHW [N, C', S, S]."""
    mean = np.array(spec.mean, np.float32)
    std = np.array(spec.std, np.float32)
    px = np.stack([crop(im, (0, 0, im.shape[1], im.shape[0]), spec.size, crop_scale,
                        crop_shift_y, spec.channels) for im in images])
    return ((px / 255.0 - mean) / std).transpose(0, 3, 1, 2).astype(np.float32)


def predict_onnxruntime(onnx_path, images, flip=False, batch=256) -> dict:
    """Predictions with onnxruntime on `library_crop` inputs (-> valence [N], arousal [N] clamped
    to [-1, 1] as the library does, expression [N, 8]); flip=True averages with the horizontally
    mirrored crop."""
    import onnx
    import onnxruntime as ort
    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    spec = spec_from_metadata(meta)
    x = library_crop(images, spec, *crop_geometry(meta))
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = ("valence", "arousal", "expression")

    def run(xs):
        outs = [sess.run(list(names), {sess.get_inputs()[0].name: xs[i:i + batch]})
                for i in range(0, len(xs), batch)]
        return {k: np.concatenate([o[j] for o in outs]) for j, k in enumerate(names)}

    out = run(x)
    if flip:
        mirrored = run(np.ascontiguousarray(x[..., ::-1]))
        out = {k: (out[k] + mirrored[k]) / 2 for k in names}
    # The library clamps valence and arousal to [-1, 1]; so does this mirror.
    return {"valence": np.clip(out["valence"][:, 0], -1, 1),
            "arousal": np.clip(out["arousal"][:, 0], -1, 1), "expression": out["expression"]}


def predict_library(onnx_path, images, flip=False) -> dict:
    """Predictions through the `emotion` Python binding, as users call it: `Analyzer.classify`
    with the full-image box, one image at a time. flip=True turns on the library's test-time
    flip averaging (when the binding has it)."""
    import emotion
    kwargs = {"flip_average": True} if flip else {}
    analyzer = emotion.Analyzer(model_path=str(onnx_path), threads=1, **kwargs)
    n, h, w = images.shape[:3]
    box = emotion.BBox(0.0, 0.0, float(w), float(h))
    out = {"valence": np.empty(n, np.float32), "arousal": np.empty(n, np.float32),
           "expression": np.empty((n, config.NUM_CLASSES), np.float32)}
    for i, img in enumerate(images):
        face = analyzer.classify(np.ascontiguousarray(img[..., 0] if img.shape[-1] == 1 else img),
                                 [box])[0]
        out["valence"][i], out["arousal"][i] = face.valence, face.arousal
        out["expression"][i] = [face.probabilities[k] for k in config.LABELS]
    return out


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def expected_calibration_error(probs, label, bins=15) -> float:
    """ECE (Guo et al. 2017): top-1 confidence in `bins` equal-width bins; sum over bins of
    (share of samples) x |accuracy - mean confidence|, against the majority label."""
    conf = probs.max(1)
    correct = probs.argmax(1) == label
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def bootstrap_recall(label, pred, n_boot=1000, seed=0, k=config.NUM_CLASSES) -> dict:
    """Per-class recall with a 95 % percentile bootstrap interval (resampling images)."""
    rng = np.random.default_rng(seed)
    n = len(label)
    rec = np.full((n_boot, k), np.nan)
    correct = (label == pred).astype(np.float64)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        support = np.bincount(label[idx], minlength=k)
        hits = np.bincount(label[idx], weights=correct[idx], minlength=k)
        rec[b] = np.where(support > 0, hits / np.maximum(support, 1), np.nan)
    lo, hi = np.nanpercentile(rec, [2.5, 97.5], axis=0)
    return {c: [round(float(l), 4), round(float(h), 4)] for c, l, h in zip(config.LABELS, lo, hi)}


def apply_prior(probs, offsets) -> np.ndarray:
    """Prior correction p'_c ~ p_c exp(b_c) (offsets from training.calibrate), renormalised."""
    logp = np.log(np.clip(probs, 1e-12, 1.0)) + np.asarray(offsets)
    e = np.exp(logp - logp.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def metrics(out: dict, ds) -> dict:
    """Every figure the model card reports, for predictions `out` on Dataset `ds`."""
    probs = out["expression"]
    pred = probs.argmax(1)
    m = classification_metrics(ds.label, pred)
    m["recall_ci95"] = bootstrap_recall(ds.label, pred)
    m["ece_15"] = expected_calibration_error(probs, ds.label)
    m["mean_top_probability"] = float(probs.max(1).mean())
    m["mean_probability"] = dict(zip(config.LABELS, probs.mean(0).round(4).tolist()))
    m["label_share"] = dict(zip(config.LABELS, (np.bincount(ds.label, minlength=8) / len(ds))
                                .round(4).tolist()))
    va_means = data.load_va_stats()
    for k, means in zip(("valence", "arousal"), va_means):
        target = getattr(ds, k)
        head = np.clip(out[k], -1, 1)
        formula = probs @ means                 # expression-derived baseline
        m[k] = {"rmse": float(np.sqrt(np.mean((head - target) ** 2))), "ccc": ccc(head, target),
                "baseline_rmse": float(np.sqrt(np.mean((formula - target) ** 2))),
                "baseline_ccc": ccc(formula, target),
                "corr_head_vs_baseline": float(np.corrcoef(head, formula)[0, 1])}
    return m


def evaluate(onnx_path, folder, out_dir=None, limit=None, path="library", flip=False,
             prior=None, log=print) -> dict:
    """Metrics of an ONNX model on a FER+-layout folder. path="library" goes through the
    `emotion` binding (the figures users get), "onnxruntime" through `library_crop` +
    onnxruntime. prior: calibration.json whose `offsets` are applied post hoc (reported as a
    separate result; the library does not apply them)."""
    import onnx
    onnx_path, folder = Path(onnx_path), Path(folder)
    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    ds = data.load_ferplus(folder, size=None, color="gray", limit=limit)
    predict = predict_library if path == "library" else predict_onnxruntime
    out = predict(onnx_path, ds.images, flip=flip)
    m = {"model": str(onnx_path), "version": meta.get("emotion.version"), "data": str(folder),
         "path": path, "flip_average": flip, "n": len(ds)}
    m.update(metrics(out, ds))
    if prior:
        offsets = [json.loads(Path(prior).read_text())["offsets"][c] for c in config.LABELS]
        corrected = dict(out, expression=apply_prior(out["expression"], offsets))
        mc = metrics(corrected, ds)
        m["with_prior_correction"] = {k: mc[k] for k in (
            "accuracy", "macro_f1", "per_class_recall", "recall_ci95", "ece_15")}
    out_dir = Path(out_dir) if out_dir else \
        config.RUNS_DIR / "eval" / f"{onnx_path.stem}-{folder.name}-{path}{'-flip' if flip else ''}"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(m, indent=2))
    plot(m, {k: np.clip(out[k], -1, 1) for k in ("valence", "arousal")},
         {"valence": ds.valence, "arousal": ds.arousal}, out_dir)
    log(f"{onnx_path} ({m['version']}) on {folder} ({m['n']} images) via {path}"
        f"{', flip averaging' if flip else ''}")
    log(f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  ECE(15) {m['ece_15']:.4f}  "
        f"mean top probability {m['mean_top_probability']:.4f}")
    log("recall [95% CI]  " + "  ".join(f"{k} {v:.3f} {m['recall_ci95'][k]}"
                                        for k, v in m["per_class_recall"].items()))
    for k in ("valence", "arousal"):
        v = m[k]
        log(f"{k}: head RMSE {v['rmse']:.4f} CCC {v['ccc']:.4f}; expression-derived baseline "
            f"RMSE {v['baseline_rmse']:.4f} CCC {v['baseline_ccc']:.4f}; "
            f"corr(head, baseline) {v['corr_head_vs_baseline']:.3f}")
    if prior:
        p = m["with_prior_correction"]
        log(f"with prior correction ({prior}): accuracy {p['accuracy']:.4f} "
            f"macro-F1 {p['macro_f1']:.4f}")
    log(f"wrote {out_dir}/metrics.json, confusion.png, va_scatter.png")
    return m

def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="ONNX file")
    p.add_argument("data", help="FER+-layout folder (images + label.csv)")
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--path", choices=["library", "onnxruntime"], default="library",
                   help="library: through the emotion binding (default, the published figures); "
                        "onnxruntime: the numpy mirror of its preprocessing")
    p.add_argument("--flip", action="store_true", help="test-time horizontal-flip averaging")
    p.add_argument("--prior", default=None,
                   help="calibration.json: also report the prior-corrected result")
    a = p.parse_args(argv)
    evaluate(a.model, a.data, a.out, a.limit, a.path, a.flip, a.prior)


if __name__ == "__main__":
    main()
