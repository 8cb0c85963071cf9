"""Train the multi-task model, resumably, on any Keras 3 backend.

    python -m training.train --out training/runs/resnet              # the bundled model's recipe
    python -m training.train --out training/runs/resnet --resume     # continue after a kill/restart
    python -m training.train --limit 400 --steps 5 --epochs 1 --out training/runs/smoke

One loop of `train_on_batch` steps: AdamW with linear warm-up then cosine decay to a fixed end
(`--epochs` x `--steps`), numpy augmentation (training/augment.py) whose every batch is a pure
function of (seed, epoch, step), made in this process or `--workers` processes ahead. Every
`--checkpoint-min` minutes, on a stop and at the end the whole state is written to
OUT/checkpoint/ (model with optimizer state and step counter, dropout RNG states, the position in
the run, best held-out score, history); `--resume` continues from there to the same end and gives the same weights as an uninterrupted run. `--stop-after-min` checkpoints
and exits cleanly (a run can span several sessions). Held-out evaluation after each epoch on
`--val-frac` of the training folder (never on FER+ valid), plus the wild faces' held-out part
with `--wild`: OUT/best.keras keeps the best held-out score (see evaluate_heldout), OUT/last.keras the final weights after precise BN (see `precise_bn`; the bundled model
is made from it); OUT/train.log and OUT/history.csv record it all.

Backend: whatever KERAS_BACKEND says (tensorflow on this CPU; torch or jax on a GPU machine);
only numpy and keras are imported here.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from . import augment, config, data


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default=config.DEFAULT_BACKBONE, choices=sorted(config.BACKBONES))
    p.add_argument("--data", default=str(config.FERPLUS_TRAIN),
                   help="training folder, or a pack file made by `python -m training.pack`")
    p.add_argument("--format", default="auto", choices=["auto", "ferplus", "affectnet", "folders"])
    p.add_argument("--val-data", default=None,
                   help="held-out folder; default: carve --val-frac out of --data")
    p.add_argument("--val-frac", type=float, default=0.1)
    p.add_argument("--store-size", type=int, default=None,
                   help="side images are kept at in memory (default: as stored for FER+, else "
                        "the backbone input)")
    p.add_argument("--limit", type=int, default=None, help="use the first N images only")
    p.add_argument("--soft-labels", default=None,
                   help="teacher soft labels (.npz from training.distill: names, expression, "
                        "valence, arousal) replacing the targets of the images they name")
    p.add_argument("--wild", default=None,
                   help="the wild faces (.npz of `python -m training.wild`, or a pack holding "
                        "them): their held-out part joins the held-out split, the rest training")
    p.add_argument("--wild-smoothing", type=float, default=0.1,
                   help="label smoothing of the wild faces' one-hot labels")
    p.add_argument("--va-rating-weight", type=float, default=3.0,
                   help="valence/arousal loss weight of images with human ratings (DiffusionFER)")
    p.add_argument("--source-weights", default="",
                   help="per-source sample weight multipliers, e.g. 'muxspace=0.3,expw=1.5' "
                        f"(sources: {', '.join(data.SOURCES)}; default 1)")
    p.add_argument("--robust", type=float, default=0.0,
                   help="scale of the degradation probabilities (augment.ROBUST_P; 0 = off)")
    p.add_argument("--out", default=str(config.DEFAULT_RUN))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps", type=int, default=None, help="steps per epoch (default: one pass)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--warmup-epochs", type=float, default=1.0)
    p.add_argument("--weight-decay", type=float, default=5e-4, help="AdamW decoupled decay")
    p.add_argument("--no-class-weights", action="store_true")
    p.add_argument("--init", default=None, help="start from this Keras model's weights")
    p.add_argument("--resume", action="store_true", help="continue OUT/checkpoint")
    p.add_argument("--checkpoint-min", type=float, default=5.0,
                   help="write the checkpoint at least this often, minutes")
    p.add_argument("--stop-after-min", type=float, default=None,
                   help="checkpoint and exit after this many minutes (resume later)")
    p.add_argument("--stop-after-steps", type=int, default=None,
                   help="checkpoint and exit after this many steps of this process (tests)")
    p.add_argument("--budget-min", type=float, default=None,
                   help="fit the run to this many minutes: time a few steps first, then set "
                        "--epochs to what fits (recorded in run.json; a GPU machine's lease)")
    p.add_argument("--workers", type=int, default=0,
                   help="augment batches ahead in this many processes (0 = in this process)")
    p.add_argument("--precise-bn-batches", type=int, default=100,
                   help="augmented batches of 128 over which the BatchNormalization statistics are "
                        "re-estimated after training (precise BN; 0 skips it)")
    p.add_argument("--seed", type=int, default=config.SEED)
    p.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0 = all)")
    return p.parse_args(argv)


def describe_data(args, n_train, n_val) -> str:
    """One line for the emotion.training_data metadata, without local paths."""
    folder = Path(args.data).resolve()
    if folder in (config.FERPLUS_TRAIN.resolve(),) or folder.suffix == ".npz":
        name = "FER+ train (FER2013 images, Microsoft FER+ vote labels)"
    else:
        name = f"{args.format} data '{folder.name}'"
    held = f"{Path(args.val_data).name}" if args.val_data else "held out from the same split"
    soft = "; teacher soft labels" if args.soft_labels else ""
    wild = "; wild faces (ExpW, muxspace/LFW, DiffusionFER, London set)" \
        if getattr(args, "wild", None) else ""
    return f"{name}{wild}: {n_train} images for training, {n_val} held out ({held}){soft}"


class _Log:
    """Print to stdout and append to out/train.log."""
    def __init__(self, path):
        self.path = path

    def __call__(self, *msg):
        line = time.strftime("%H:%M:%S ") + " ".join(str(m) for m in msg)
        print(line, flush=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")


def load_datasets(args, spec):
    """-> (train, held-out) Datasets as the run's arguments define them."""
    if str(args.data).endswith(".npz"):
        from . import pack
        full = pack.load(args.data, "train", limit=args.limit)
    else:
        full = data.load(args.data, args.format, size=args.store_size, color=spec.color,
                         limit=args.limit)
    if args.val_data:
        train, held = full, data.load(args.val_data, "auto", size=args.store_size or
                                      full.images.shape[1], color=spec.color)
    else:
        train, held = data.split(full, args.val_frac, args.seed)
    if getattr(args, "wild", None):
        wild_train, wild_held = data.load_wild(args.wild, args.wild_smoothing,
                                               args.va_rating_weight)
        train, held = data.concat([train, wild_train]), data.concat([held, wild_held])
    if args.soft_labels:
        train = data.apply_soft_labels(train, args.soft_labels)
    return train, held


def source_weights(spec: str) -> np.ndarray:
    """'name=w,...' -> float32 [len(data.SOURCES)] sample weight multipliers (default 1)."""
    w = np.ones(len(data.SOURCES), np.float32)
    for item in filter(None, (t.strip() for t in spec.split(","))):
        name, _, value = item.partition("=")
        if name not in data.SOURCES:
            raise SystemExit(f"--source-weights: unknown source {name!r} ({data.SOURCES})")
        w[data.SOURCES.index(name)] = float(value)
    return w


# Per output: cross-entropy against the soft labels, squared error for valence and arousal
# (weighted by config.LOSS_WEIGHTS).
LOSSES = {"expression": "categorical_crossentropy", "valence": "mse", "arousal": "mse"}


def order_slice(n, bs, seed, epoch, step):
    """The sample indices of batch `step` of `epoch` (an epoch's shuffled order, repeated when
    --steps runs past one pass)."""
    order = augment.epoch_order(n, seed, epoch)
    order = np.concatenate([order] * (1 + (step + 1) * bs // n))
    return order[step * bs:(step + 1) * bs]


def run_plan(n, bs, steps, epochs, seed, epoch=0, step=0):
    """(indices, epoch, step) of every remaining batch of the run, in order."""
    for e in range(epoch, epochs):
        for s in range(step if e == epoch else 0, steps):
            yield order_slice(n, bs, seed, e, s), e, s


def make_batch(images, idx, seed, epoch, step, spec, robust=0.0):
    """The augmented, normalised model input of one batch: a pure function of its arguments."""
    return augment.to_model_input(
        augment.augment(images[idx], augment.batch_rng(seed, epoch, step), spec.size, robust),
        spec)


_WORKER = {}


def _worker_init(shm_name, shape, backbone, robust):
    from multiprocessing import shared_memory
    shm = shared_memory.SharedMemory(name=shm_name)
    _WORKER.update(shm=shm, images=np.ndarray(shape, np.uint8, buffer=shm.buf),
                   spec=config.BACKBONES[backbone], robust=robust)


def _worker_batch(idx, seed, epoch, step):
    return make_batch(_WORKER["images"], idx, seed, epoch, step, _WORKER["spec"],
                      _WORKER["robust"])


class BatchSource:
    """Batches in order, made in this process or `workers` spawned processes ahead of use (the
    images shared, not copied); identical either way, since a batch depends only on its
    position. `get(plan)` takes the next (idx, epoch, step) of the run's plan iterator and
    returns (model input, idx)."""

    def __init__(self, images, spec, seed, workers=0, robust=0.0):
        self.images, self.spec, self.seed, self.workers = images, spec, seed, workers
        self.robust = robust
        self.pending = []
        if workers:
            import concurrent.futures as cf
            import multiprocessing as mp
            from multiprocessing import shared_memory
            self.shm = shared_memory.SharedMemory(create=True, size=images.nbytes)
            np.ndarray(images.shape, np.uint8, buffer=self.shm.buf)[:] = images
            self.pool = cf.ProcessPoolExecutor(
                workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                initargs=(self.shm.name, images.shape, spec.name, robust))

    def get(self, plan):
        if not self.workers:
            idx, epoch, step = next(plan)
            return make_batch(self.images, idx, self.seed, epoch, step, self.spec,
                              self.robust), idx
        while len(self.pending) < 2 * self.workers:
            item = next(plan, None)
            if item is None:
                break
            self.pending.append((self.pool.submit(_worker_batch, item[0], self.seed, *item[1:]),
                                 item[0]))
        future, idx = self.pending.pop(0)
        return future.result(), idx

    def close(self):
        if self.workers:
            for f, _ in self.pending:
                f.cancel()
            self.pool.shutdown(cancel_futures=True)
            self.shm.close()
            self.shm.unlink()


def targets(ds, idx):
    return {"valence": ds.valence[idx, None], "arousal": ds.arousal[idx, None],
            "expression": ds.expression[idx]}


def evaluate_heldout(model, ds, spec) -> dict:
    """Held-out accuracy, expression cross-entropy and valence/arousal MAE (plain network); with
    several sources, each source's accuracy (`acc_<source>`) and `score`, their mean over the
    sources with at least 50 held-out images (the checkpoint choice: FER+ and each wild set
    count alike, however many images each has). One source: score = accuracy."""
    x = augment.to_model_input(augment.resize(ds.images, spec.size), spec)
    out = model.predict(x, batch_size=256, verbose=0)
    p = np.clip(np.asarray(out["expression"]), 1e-7, 1.0)
    hit = p.argmax(1) == ds.label
    m = {"accuracy": float(hit.mean()),
         "expression_loss": float(-(ds.expression * np.log(p)).sum(1).mean()),
         "valence_mae": float(np.abs(np.asarray(out["valence"])[:, 0] - ds.valence).mean()),
         "arousal_mae": float(np.abs(np.asarray(out["arousal"])[:, 0] - ds.arousal).mean())}
    src = ds.sources()
    accs = []
    for i, name in enumerate(data.SOURCES):
        if (src == i).sum() and len(np.unique(src)) > 1:
            m[f"acc_{name}"] = float(hit[src == i].mean())
            if (src == i).sum() >= 50:
                accs.append(m[f"acc_{name}"])
    m["score"] = float(np.mean(accs)) if accs else m["accuracy"]
    return m


def precise_bn(model, ds, spec, seed, batches=100, batch_size=128):
    """Replace every BatchNormalization's moving mean/variance with the average of its batch
    statistics over `batches` augmented training batches ("precise BN", Wu & Johnson 2021,
    "Rethinking 'Batch' in BatchNorm"). Needed here: with momentum 0.99 the moving statistics
    lag the fast-changing weights, and inference-mode held-out accuracy measured 32 % where
    batch statistics gave 52 % (epoch 2 of the bundled run). Deterministic (fixed batches)."""
    import keras
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    saved = [l.momentum for l in bns]
    rng = augment.batch_rng(seed, 1 << 16, 0)
    for k in range(batches):
        for layer in bns:
            layer.momentum = k / (k + 1)          # k = 0 copies, then a running mean
        idx = rng.integers(0, len(ds), batch_size)
        model(augment.to_model_input(augment.augment(ds.images[idx], rng, spec.size), spec),
              training=True)
    for layer, m in zip(bns, saved):
        layer.momentum = m


def _seed_states(model):
    """Dropout RNG state variables (not part of a saved model's weights)."""
    return [v for layer in model.layers for sg in getattr(layer, "_seed_generators", [])
            for v in [sg.state]]


def save_checkpoint(ckpt: Path, model, state: dict):
    """Atomically replace ckpt/ with the model (optimizer included), RNG states and state."""
    tmp = ckpt.with_name(ckpt.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / "model.keras")
    np.savez(tmp / "rng.npz", *[np.asarray(v.numpy() if hasattr(v, "numpy") else v)
                                for v in _seed_states(model)])
    (tmp / "state.json").write_text(json.dumps(state, indent=1))
    old = ckpt.with_name(ckpt.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if ckpt.exists():
        ckpt.rename(old)
    tmp.rename(ckpt)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(ckpt: Path, custom_objects=None):
    import keras
    model = keras.models.load_model(ckpt / "model.keras", custom_objects=custom_objects)
    rng = np.load(ckpt / "rng.npz")
    for v, k in zip(_seed_states(model), sorted(rng.files, key=lambda f: int(f.split("_")[1]))):
        v.assign(rng[k])
    return model, json.loads((ckpt / "state.json").read_text())


def run(args) -> Path:
    import keras
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = _Log(out / "train.log")
    t0 = time.time()
    if args.threads and keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    spec = config.BACKBONES[args.backbone]

    train_ds, val_ds = load_datasets(args, spec)
    weights = None if args.no_class_weights else data.class_weights(train_ds.expression)
    sw_all = np.ones(len(train_ds), np.float32) if weights is None else \
        data.sample_weights(train_ds.expression, weights)
    per_source = source_weights(getattr(args, "source_weights", ""))[train_ds.sources()]
    sw_all = sw_all * per_source
    va_all = train_ds.va_weights() * per_source
    bs = args.batch_size
    steps = args.steps or max(1, len(train_ds) // bs)
    total = args.epochs * steps
    log(f"data: train {len(train_ds)} held-out {len(val_ds)} images {train_ds.images.shape[1:]}; "
        f"class weights {None if weights is None else np.round(weights, 2).tolist()}; "
        f"{args.epochs} epochs x {steps} steps of {bs}; backend {keras.backend.backend()}; "
        f"loaded in {time.time() - t0:.0f}s")

    ckpt = out / "checkpoint"
    if args.budget_min and not (args.resume and ckpt.exists()):
        args.epochs = fit_epochs(args, spec, train_ds, val_ds, steps, sw_all, t0, log)
        total = args.epochs * steps
    if args.resume and ckpt.exists():
        model, state = load_checkpoint(ckpt)
        if state["total_steps"] != total or state["args"]["backbone"] != args.backbone:
            raise SystemExit(f"{ckpt}: made with other settings ({state['total_steps']} steps, "
                             f"{state['args']['backbone']}); resume with the same arguments")
        log(f"resumed at epoch {state['epoch']} step {state['step']} "
            f"(global step {int(model.optimizer.iterations.numpy())})")
    else:
        if args.resume:
            log(f"--resume: no checkpoint in {ckpt}, starting fresh")
        from . import model as model_lib
        model = model_lib.build_model(args.backbone)
        if args.init:
            model.set_weights(keras.models.load_model(args.init, compile=False).get_weights())
        warmup = int(args.warmup_epochs * steps)
        sched = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else args.lr, decay_steps=max(1, total - warmup), alpha=0.01,
            warmup_target=args.lr if warmup else None, warmup_steps=warmup)
        model.compile(optimizer=keras.optimizers.AdamW(sched, weight_decay=args.weight_decay),
                      loss=LOSSES,
                      loss_weights=config.LOSS_WEIGHTS)
        state = {"epoch": 0, "step": 0, "total_steps": total, "best_accuracy": -1.0,
                 "history": [], "args": {k: v for k, v in vars(args).items()}}
        info = {"backbone": args.backbone, "init": args.init or "random (from scratch)",
                "input_color": spec.color, "input_size": spec.size, "mean": list(spec.mean),
                "std": list(spec.std), "training_data": describe_data(args, len(train_ds),
                                                                      len(val_ds)),
                "class_weights": None if weights is None else weights.tolist(),
                "args": vars(args)}
        (out / "run.json").write_text(json.dumps(info, indent=2))

    last_ckpt = time.time()
    done_here = 0
    stop = False
    source = BatchSource(train_ds.images, spec, args.seed, args.workers, args.robust)
    plan = run_plan(len(train_ds), bs, steps, args.epochs, args.seed, state["epoch"], state["step"])
    while state["epoch"] < args.epochs and not stop:
        epoch, te = state["epoch"], time.time()
        losses = []
        while state["step"] < steps:
            x, idx = source.get(plan)
            sw = {"expression": sw_all[idx], "valence": va_all[idx], "arousal": va_all[idx]}
            logs = model.train_on_batch(x, targets(train_ds, idx), sample_weight=sw,
                                        return_dict=True)
            losses.append(float(logs["loss"]))
            state["step"] += 1
            done_here += 1
            if (args.stop_after_steps and done_here >= args.stop_after_steps) or \
                    (args.stop_after_min and time.time() - t0 > args.stop_after_min * 60):
                stop = True
                break
            if time.time() - last_ckpt > args.checkpoint_min * 60:
                save_checkpoint(ckpt, model, state)
                last_ckpt = time.time()
        if state["step"] >= steps:
            m = evaluate_heldout(model, val_ds, spec)
            m.update(epoch=epoch + 1, train_loss=float(np.mean(losses)) if losses else None,
                     seconds=round(time.time() - te), lr=float(model.optimizer.learning_rate))
            state["history"].append(m)
            log(f"epoch {epoch + 1}/{args.epochs}: " + ", ".join(
                f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in m.items()
                if k != "epoch"))
            if m["score"] > state["best_accuracy"]:
                state["best_accuracy"] = m["score"]
                model.save(out / "best.keras")
            state["epoch"], state["step"] = epoch + 1, 0
            _write_history(out / "history.csv", state["history"])
        if stop or time.time() - last_ckpt > args.checkpoint_min * 60 or \
                state["epoch"] >= args.epochs:
            save_checkpoint(ckpt, model, state)
            last_ckpt = time.time()
    source.close()
    if stop:
        log(f"stopped at epoch {state['epoch']} step {state['step']}; checkpoint in {ckpt}; "
            f"continue with the same command plus --resume")
        return out
    precise_bn(model, train_ds, spec, args.seed, batches=args.precise_bn_batches)
    m = evaluate_heldout(model, val_ds, spec)
    log("after precise BN: " + ", ".join(f"{k}={v:.4f}" for k, v in m.items()))
    model.save(out / "last.keras")
    log(f"done: {args.epochs} epochs; best held-out score {state['best_accuracy']:.4f}; "
        f"{(time.time() - t0) / 60:.1f} min in this process")
    return out


def fit_epochs(args, spec, train_ds, val_ds, steps, sw_all, t0, log, probe=30) -> int:
    """The number of epochs that fits --budget-min (counted from t0), timed on a throwaway
    model: its first step and first held-out pass (compilation, paid again by the real model),
    `probe` warm steps, one warm held-out pass, one checkpoint write; 5 % and 20 s kept spare."""
    import keras
    from . import model as model_lib
    m = model_lib.build_model(args.backbone)
    m.compile(optimizer=keras.optimizers.AdamW(1e-4), loss=LOSSES)
    source = BatchSource(train_ds.images, spec, args.seed, args.workers, args.robust)
    plan = run_plan(len(train_ds), args.batch_size, steps, 1 + (4 + probe) // steps, args.seed)
    ones = np.ones(args.batch_size, np.float32)

    def step():
        x, idx = source.get(plan)
        m.train_on_batch(x, targets(train_ds, idx), sample_weight={
            "expression": sw_all[idx], "valence": ones[:len(idx)], "arousal": ones[:len(idx)]})

    t = time.time()
    step()
    evaluate_heldout(m, val_ds, spec)
    compile_s = time.time() - t
    for _ in range(3):
        step()
    t = time.time()
    for _ in range(probe):
        step()
    step_s = (time.time() - t) / probe
    source.close()
    t = time.time()
    evaluate_heldout(m, val_ds, spec)
    eval_s = time.time() - t
    t = time.time()
    save_checkpoint(Path(args.out) / "probe", m, {})
    shutil.rmtree(Path(args.out) / "probe")
    save_s = time.time() - t
    # spare: 20 s, and precise BN (one augmented forward pass a batch, about a step each)
    left = args.budget_min * 60 - (time.time() - t0) - compile_s - 20 - args.precise_bn_batches * step_s
    epoch_s = steps * step_s + eval_s + save_s / 2
    epochs = max(1, int(0.95 * left / epoch_s))
    log(f"budget {args.budget_min} min: {step_s * 1e3:.1f} ms/step, {eval_s:.1f} s held-out, "
        f"{compile_s:.0f} s compiling, {save_s:.1f} s saving -> {epochs} epochs of "
        f"~{epoch_s:.1f} s")
    return epochs


def _write_history(path, history):
    keys = sorted({k for h in history for k in h})
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(history)


def main(argv=None):
    return run(parse_args(argv))


if __name__ == "__main__":
    main()
