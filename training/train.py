"""Train the multi-task model.

    python -m training.train                                   # full default run (see README)
    python -m training.train --limit 400 --steps 20 --epochs 1 --out training/runs/smoke

Writes into --out: run.json (backbone, preprocessing, data, class weights), history.csv,
train.log lines, best.keras (lowest val expression loss), last.keras, and backup/ for resuming
(re-run the same command; finished phases are skipped, the current one resumes from its last
epoch).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import config, data


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default=config.DEFAULT_BACKBONE, choices=sorted(config.BACKBONES))
    p.add_argument("--data", default=str(config.FERPLUS_TRAIN), help="training folder")
    p.add_argument("--format", default="auto", choices=["auto", "ferplus", "affectnet", "folders"])
    p.add_argument("--val-data", default=None,
                   help="early-stopping folder; default: carve --val-frac out of --data")
    p.add_argument("--val-frac", type=float, default=0.1)
    p.add_argument("--store-size", type=int, default=None,
                   help="side images are kept at in memory (default: as stored for FER+, else "
                        "the backbone input)")
    p.add_argument("--limit", type=int, default=None, help="use the first N images only")
    p.add_argument("--out", default=str(config.DEFAULT_RUN))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--frozen-epochs", type=int, default=2,
                   help="epochs with the pretrained backbone frozen (0 to skip)")
    p.add_argument("--epochs", type=int, default=30, help="fine-tuning / from-scratch epochs")
    p.add_argument("--steps", type=int, default=None, help="steps per epoch (default: one pass)")
    p.add_argument("--lr", type=float, default=1e-3, help="frozen-phase / from-scratch peak LR")
    p.add_argument("--fine-tune-lr", type=float, default=None,
                   help="fine-tuning peak LR (default: --lr / 3 with a pretrained backbone)")
    p.add_argument("--patience", type=int, default=8, help="early stopping patience, epochs")
    p.add_argument("--init", default=None,
                   help="start from this Keras model's weights (continue training; no frozen phase)")
    p.add_argument("--no-pretrained", action="store_true", help="mini_xception from scratch")
    p.add_argument("--no-class-weights", action="store_true")
    p.add_argument("--time-budget-min", type=float, default=None,
                   help="stop after the epoch that passes this wall time (whole run)")
    p.add_argument("--seed", type=int, default=config.SEED)
    p.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0 = all)")
    p.add_argument("--run-eagerly", action="store_true",
                   help="no tf.function tracing: faster for a few steps of a big backbone (tests)")
    p.add_argument("--verbose", type=int, default=2)
    return p.parse_args(argv)


def describe_data(args, n_train, n_val) -> str:
    """One line for the emotion.training_data metadata, without local paths."""
    folder = Path(args.data).resolve()
    if folder == config.FERPLUS_TRAIN.resolve():
        name = "FER+ train (FER2013 images, Microsoft FER+ vote labels)"
    else:
        name = f"{args.format} data '{folder.name}'"
    held = f"{Path(args.val_data).name}" if args.val_data else "held out from the same split"
    return f"{name}: {n_train} images for training, {n_val} for early stopping ({held})"


class _Log:
    """Print to stdout and append to out/train.log."""
    def __init__(self, path):
        self.path = path

    def __call__(self, *msg):
        line = time.strftime("%H:%M:%S ") + " ".join(str(m) for m in msg)
        print(line, flush=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")


def run(args) -> Path:
    import keras
    import tensorflow as tf
    from . import model as model_lib

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = _Log(out / "train.log")
    t0 = time.time()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)

    spec = config.BACKBONES[args.backbone]
    pretrained = args.backbone == "mini_xception" and not args.no_pretrained

    # ---- data: loaded once into memory --------------------------------------------------------
    store = args.store_size
    full = data.load(args.data, args.format, size=store, color=spec.color, limit=args.limit)
    if args.val_data:
        train_ds = full
        val_ds = data.load(args.val_data, "auto", size=store or full.images.shape[1],
                           color=spec.color)
    else:
        train_ds, val_ds = data.split(full, args.val_frac, args.seed)
    weights = None if args.no_class_weights else data.class_weights(train_ds.expression)
    log(f"data: train {len(train_ds)} val {len(val_ds)} images {train_ds.images.shape[1:]}; "
        f"class weights {np.round(weights, 2).tolist() if weights is not None else None}; "
        f"loaded in {time.time() - t0:.0f}s")

    train_tf = data.make_tf_dataset(train_ds, spec, args.batch_size, training=True,
                                    weights=weights, seed=args.seed, repeat=True)
    val_tf = data.make_tf_dataset(val_ds, spec, 256)
    steps = args.steps or max(1, len(train_ds) // args.batch_size)

    run_info = {
        "backbone": args.backbone, "pretrained": pretrained, "input_color": spec.color,
        "input_size": spec.size, "mean": list(spec.mean), "std": list(spec.std),
        "training_data": describe_data(args, len(train_ds), len(val_ds)),
        "class_weights": None if weights is None else weights.tolist(),
        "args": vars(args),
    }
    (out / "run.json").write_text(json.dumps(run_info, indent=2))

    model, backbone_layers = model_lib.build_model(args.backbone, pretrained=pretrained)
    if args.init:
        model.set_weights(keras.models.load_model(args.init, compile=False).get_weights())
        run_info["init"] = str(args.init)
        (out / "run.json").write_text(json.dumps(run_info, indent=2))
    losses = {"expression": "categorical_crossentropy", "valence": "mse", "arousal": "mse"}
    metrics = {"expression": ["categorical_accuracy"], "valence": ["mae"], "arousal": ["mae"]}

    def compile_(lr, epochs):
        sched = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, epochs * steps),
                                                       alpha=0.02)
        model.compile(optimizer=keras.optimizers.Adam(sched), loss=losses,
                      loss_weights=config.LOSS_WEIGHTS, metrics=metrics,
                      run_eagerly=args.run_eagerly)

    class TimeBudget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if args.time_budget_min and time.time() - t0 > args.time_budget_min * 60:
                log(f"time budget of {args.time_budget_min} min reached; stopping")
                self.model.stop_training = True

    class EpochLog(keras.callbacks.Callback):
        def __init__(self, phase):
            super().__init__()
            self.phase, self.t = phase, time.time()

        def on_epoch_end(self, epoch, logs=None):
            keys = ("loss", "val_loss", "val_expression_loss", "val_expression_categorical_accuracy",
                    "val_valence_mae", "val_arousal_mae")
            log(f"{self.phase} epoch {epoch + 1}: " + ", ".join(
                f"{k}={logs[k]:.4f}" for k in keys if k in logs) + f" ({time.time() - self.t:.0f}s)")
            self.t = time.time()

    best = {"v": float("inf")}
    best_file = out / "best_val.json"
    if best_file.exists():
        best["v"] = json.loads(best_file.read_text())["val_expression_loss"]

    class SaveBest(keras.callbacks.Callback):
        """best.keras across both phases (ModelCheckpoint would reset between fit() calls)."""
        def on_epoch_end(self, epoch, logs=None):
            v = logs.get("val_expression_loss")
            if v is not None and v < best["v"]:
                best["v"] = v
                self.model.save(out / "best.keras")
                best_file.write_text(json.dumps({"val_expression_loss": v, "logs": {
                    k: float(x) for k, x in logs.items()}}))

    def fit(phase, epochs, lr):
        done = out / f"{phase}.done.weights.h5"
        if done.exists():
            model.load_weights(done)
            log(f"{phase}: already done, weights loaded")
            return
        compile_(lr, epochs)
        cbs = [keras.callbacks.BackupAndRestore(str(out / "backup" / phase)),
               keras.callbacks.EarlyStopping("val_expression_loss", patience=args.patience,
                                             mode="min", restore_best_weights=False),
               keras.callbacks.CSVLogger(str(out / f"history_{phase}.csv"), append=True),
               SaveBest(), EpochLog(phase), TimeBudget()]
        log(f"{phase}: {epochs} epochs x {steps} steps, batch {args.batch_size}, lr {lr}")
        model.fit(train_tf, epochs=epochs, steps_per_epoch=steps, validation_data=val_tf,
                  callbacks=cbs, verbose=0 if args.verbose == 2 else args.verbose)
        model.save_weights(done)

    if pretrained and args.frozen_epochs > 0 and not args.init:
        for name in backbone_layers:
            model.get_layer(name).trainable = False
        fit("frozen", args.frozen_epochs, args.lr)
        for name in backbone_layers:
            model.get_layer(name).trainable = True
    ft_lr = args.fine_tune_lr or (args.lr / 3 if pretrained else args.lr)
    fit("finetune", args.epochs, ft_lr)

    model.save(out / "last.keras")
    if not (out / "best.keras").exists():
        model.save(out / "best.keras")
    log(f"done in {(time.time() - t0) / 60:.1f} min; best val_expression_loss {best['v']:.4f}; "
        f"model: {out / 'best.keras'}")
    return out


def main(argv=None):
    return run(parse_args(argv))


if __name__ == "__main__":
    main()
