"""Post-hoc prior correction of the expression head, tuned on the held-out (early-stopping) split.

    python -m training.calibrate --run training/runs/default      # -> RUN/calibrated.keras

Adds per-class offsets b [8] to the bias of the `expression_logits` Dense layer, i.e.
p'_c ~ p_c * exp(b_c). Offsets are found by coordinate ascent on a grid to maximise macro-F1 on the
held-out 10 % of the training folder (the same stratified split train.py used, same seed), while
keeping accuracy there within --max-acc-drop of the uncorrected model. FER+ valid is not looked at.
The valence/arousal heads are untouched. Writes RUN/calibrated.keras and RUN/calibration.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import config, data
from .evaluate import classification_metrics


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


def main(argv=None):
    import keras
    p = argparse.ArgumentParser(prog="python -m training.calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=str(config.DEFAULT_RUN))
    p.add_argument("--max-acc-drop", type=float, default=0.01)
    a = p.parse_args(argv)
    run = Path(a.run)
    info = json.loads((run / "run.json").read_text())
    args = info["args"]
    spec = config.BACKBONES[info["backbone"]]
    full = data.load(args["data"], args["format"], size=args["store_size"], color=spec.color,
                     limit=args["limit"])
    if args["val_data"]:
        raise SystemExit("calibrate expects a run with a held-out split of --data")
    _, held = data.split(full, args["val_frac"], args["seed"])
    model = keras.models.load_model(run / "best.keras", compile=False)
    x = data.preprocess_numpy(held.images, spec).transpose(0, 2, 3, 1)
    probs = np.asarray(model.predict(x, batch_size=256, verbose=0)["expression"])
    b, before, after = search_offsets(probs, held.label, a.max_acc_drop)
    layer = model.get_layer("expression_logits")
    w, bias = layer.get_weights()
    layer.set_weights([w, bias + b.astype(np.float32)])
    model.save(run / "calibrated.keras")
    out = {"offsets": dict(zip(config.LABELS, np.round(b, 4).tolist())), "held_out": len(held),
           "before": before, "after": after, "max_acc_drop": a.max_acc_drop}
    (run / "calibration.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
