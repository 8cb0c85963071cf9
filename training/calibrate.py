"""Post-hoc calibration of the expression head, fitted on the run's held-out split (never on
FER+ valid).

    python -m training.calibrate --run training/runs/resnet     # -> RUN/calibrated.keras

1. Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one scalar
   T > 0 dividing the expression logits, chosen to minimise the negative log-likelihood of the
   majority labels on the held-out images. Argmax (accuracy) is unchanged; confidences then
   match accuracy (expected calibration error, 15 bins, reported before and after). It is folded
   into the `expression_logits` Dense layer (kernel / T, bias / T), so the exported model needs
   no extra op and the library's probabilities are the calibrated ones.
2. Prior correction (reported separately, not applied to the model): per-class offsets b [8] with
   p'_c ~ p_c exp(b_c), chosen by coordinate ascent to maximise held-out macro-F1 while losing at
   most --max-acc-drop accuracy there. `training.evaluate --prior RUN/calibration.json` reports
   its effect.

The held-out images are preprocessed exactly as the library does for a full-image box
(`evaluate.library_crop`, crop geometry from config). Writes RUN/calibrated.keras and
RUN/calibration.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import config
from .evaluate import classification_metrics, expected_calibration_error, library_crop


def fit_temperature(logits, label, grid=np.exp(np.linspace(np.log(0.25), np.log(4.0), 401))):
    """-> T minimising the mean NLL of `label` under softmax(logits / T) (grid in log space,
    0.25-4, 0.7 % steps: plenty for one scalar)."""
    def nll(t):
        z = logits / t
        z = z - z.max(1, keepdims=True)
        return float((np.log(np.exp(z).sum(1)) - z[np.arange(len(label)), label]).mean())
    return float(min(grid, key=nll))


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def search_offsets(probs, label, max_acc_drop=0.01, grid=np.linspace(-1.0, 2.5, 15), rounds=3):
    """probs float [N, 8], label int [N] -> (offsets [8], before metrics, after metrics)."""
    logp = np.log(np.clip(probs, 1e-9, 1.0))

    def score(b):
        m = classification_metrics(label, (logp + b).argmax(1))
        return m["macro_f1"], m["accuracy"]

    b = np.zeros(probs.shape[1])
    f1_0, acc_0 = score(b)
    best = (f1_0, acc_0)
    for _ in range(rounds):
        for c in range(len(b)):
            for v in grid:
                trial = b.copy()
                trial[c] = v
                f1, acc = score(trial)
                if acc >= acc_0 - max_acc_drop and f1 > best[0] + 1e-6:
                    best, b = (f1, acc), trial
    return b, {"macro_f1": f1_0, "accuracy": acc_0}, {"macro_f1": best[0], "accuracy": best[1]}


def run_splits(run_info):
    """-> (train, held-out) Datasets of a run, rebuilt from its run.json exactly as train.py made
    them (same loader, pack or folder, same split seed)."""
    from . import train
    spec = config.BACKBONES[run_info["backbone"]]
    return train.load_datasets(argparse.Namespace(**run_info["args"]), spec)


def heldout_logits(model, run_info, held):
    """Expression logits [N, 8] and majority labels [N] of the held-out split, through the
    library's crop geometry."""
    import keras
    spec = config.BACKBONES[run_info["backbone"]]
    x = library_crop(held.images, spec, config.CROP_SCALE, config.CROP_SHIFT_Y)
    logit_model = keras.Model(model.inputs, model.get_layer("expression_logits").output)
    logits = np.asarray(logit_model.predict(x.transpose(0, 2, 3, 1), batch_size=256, verbose=0))
    return logits, held.label


def calibrate(run, keras_file="last.keras", max_acc_drop=0.01, precise_bn=False, log=print) -> dict:
    import keras
    run = Path(run)
    info = json.loads((run / "run.json").read_text())
    model = keras.models.load_model(run / keras_file, compile=False)
    train_ds, held = run_splits(info)
    if precise_bn:
        from . import train
        train.precise_bn(model, train_ds, config.BACKBONES[info["backbone"]], info["args"]["seed"])
    logits, label = heldout_logits(model, info, held)
    t = fit_temperature(logits, label)
    before, after = softmax(logits), softmax(logits / t)
    layer = model.get_layer("expression_logits")
    w, bias = layer.get_weights()
    layer.set_weights([w / t, bias / t])
    model.save(run / "calibrated.keras")
    offsets, p0, p1 = search_offsets(after, label, max_acc_drop)
    out = {"source": keras_file, "held_out": int(len(label)), "temperature": round(t, 4),
           "ece_15_before": expected_calibration_error(before, label),
           "ece_15_after": expected_calibration_error(after, label),
           "mean_top_probability_before": float(before.max(1).mean()),
           "mean_top_probability_after": float(after.max(1).mean()),
           "accuracy": float((after.argmax(1) == label).mean()),
           "offsets": dict(zip(config.LABELS, np.round(offsets, 4).tolist())),
           "prior_correction": {"before": p0, "after": p1, "max_acc_drop": max_acc_drop}}
    (run / "calibration.json").write_text(json.dumps(out, indent=2))
    log(json.dumps(out, indent=2))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=str(config.DEFAULT_RUN))
    p.add_argument("--keras", default="last.keras", help="model file inside RUN")
    p.add_argument("--max-acc-drop", type=float, default=0.01)
    p.add_argument("--precise-bn", action="store_true",
                   help="recompute BatchNormalization statistics first (train.precise_bn), for "
                        "models saved before train.py did it")
    a = p.parse_args(argv)
    calibrate(a.run, a.keras, a.max_acc_drop, a.precise_bn)


if __name__ == "__main__":
    main()
