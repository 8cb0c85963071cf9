"""Datasets as in-memory numpy arrays, training targets, and the tf.data pipeline.

Every loader returns a `Dataset` (see below) with images uint8 [N, S, S, C] (C = 1 gray, 3 RGB),
soft expression targets float32 [N, 8] in AffectNet order, valence/arousal float32 [N] and the
majority-vote label int [N]. The pipeline resizes to the backbone's input and normalises there, so
images stay at their stored size (48x48 for FER+) in memory.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import config

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass
class Dataset:
    images: np.ndarray       # uint8 [N, S, S, C]
    expression: np.ndarray   # float32 [N, 8] soft labels summing to 1 (AffectNet order)
    valence: np.ndarray      # float32 [N]
    arousal: np.ndarray      # float32 [N]
    label: np.ndarray        # int64 [N] majority (argmax) class, AffectNet order
    names: list              # file names, for reports

    def __len__(self) -> int:
        return len(self.label)

    def subset(self, idx) -> "Dataset":
        idx = np.asarray(idx)
        return Dataset(self.images[idx], self.expression[idx], self.valence[idx],
                       self.arousal[idx], self.label[idx], [self.names[i] for i in idx])


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

def load_va_stats(path=config.VA_STATS_CSV):
    """Per-class (valence_mean, arousal_mean), each float32 [8] in AffectNet order, from
    ../shared/data/affectnet-va-stats.csv (AffectNet-8 validation set, human ratings)."""
    rows = list(csv.DictReader(open(path)))
    rows.sort(key=lambda r: int(r["index"]))
    names = tuple(r["expression"] for r in rows)
    if names != config.LABELS:
        raise ValueError(f"{path}: class order {names} != {config.LABELS}")
    val = np.array([float(r["valence_mean"]) for r in rows], np.float32)
    aro = np.array([float(r["arousal_mean"]) for r in rows], np.float32)
    return val, aro


def ferplus_votes_to_targets(votes: np.ndarray):
    """FER+ votes int [N, 10] (FER+ column order) -> (keep bool [N], soft float32 [N, 8]).

    Unknown and not-a-face votes are dropped; an image is dropped (keep=False) when those two
    hold the majority of its votes (more than the 8 emotion columns together) or when it has no
    emotion vote at all. soft = emotion votes / their sum, reordered to AffectNet order.
    """
    votes = np.asarray(votes, np.float32)
    emo = votes[:, list(config.FERPLUS_TO_AFFECTNET)]
    emo_sum = emo.sum(1)
    other = votes[:, 8] + votes[:, 9]
    keep = (emo_sum > 0) & (other <= emo_sum)
    soft = emo / np.maximum(emo_sum, 1.0)[:, None]
    return keep, soft.astype(np.float32)


def distilled_va(soft: np.ndarray, stats=None):
    """Distilled targets: valence = sum_c soft[:, c] * valence_mean[c]; same for arousal.
    soft float32 [N, 8] (AffectNet order) -> (valence [N], arousal [N])."""
    val, aro = stats if stats is not None else load_va_stats()
    return (soft @ val).astype(np.float32), (soft @ aro).astype(np.float32)


def class_weights(soft: np.ndarray, power=config.CLASS_WEIGHT_POWER):
    """Per-class weights float32 [8]: (median count / count_c) ** power, counts from soft labels.

    power=0.5 (sqrt inverse frequency) lifts disgust/fear/contempt (a few hundred images) without
    the accuracy loss of full balancing. Sample weight = soft @ class_weights, normalised to mean 1.
    """
    counts = np.maximum(soft.sum(0), 1.0)
    return ((np.median(counts) / counts) ** power).astype(np.float32)


def sample_weights(soft: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = soft @ weights
    return (w / w.mean()).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Image loading
# ---------------------------------------------------------------------------------------------

def _load_image(path, size, color):
    """One file -> uint8 [size, size, C]. RGB->gray uses ITU-R BT.601 luma (as the library)."""
    im = Image.open(path)
    if color == "gray":
        if im.mode != "L":
            rgb = np.asarray(im.convert("RGB"), np.float32)
            im = Image.fromarray(np.clip(rgb @ np.array([0.299, 0.587, 0.114], np.float32)
                                         + 0.5, 0, 255).astype(np.uint8))
    else:
        im = im.convert("RGB")
    if size is not None and im.size != (size, size):
        im = im.resize((size, size), Image.BILINEAR)
    a = np.asarray(im, np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def _load_images(paths, size, color, cache_key=None):
    """Load many files -> uint8 [N, size, size, C]; cached as .npy under training/runs/cache."""
    cache = None
    if cache_key is not None:
        h = hashlib.sha1(f"{cache_key}|{size}|{color}|{len(paths)}".encode()).hexdigest()[:16]
        cache = config.RUNS_DIR / "cache" / f"{h}.npy"
        if cache.exists():
            return np.load(cache)
    arr = np.stack([_load_image(p, size, color) for p in paths]) if paths else \
        np.zeros((0, size or 1, size or 1, 1 if color == "gray" else 3), np.uint8)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, arr)
    return arr


def load_ferplus(folder, size=None, color="gray", limit=None, keep_all=False) -> Dataset:
    """FER+ layout: `folder/label.csv` rows `filename, "(x, y, w, h)", 10 vote counts` next to
    the images. size None keeps the stored size (48 for FER+). limit takes the first N kept rows
    (deterministic). keep_all=True keeps unknown/NF-majority images (never used for training)."""
    folder = Path(folder)
    rows = []
    with open(folder / "label.csv", newline="") as f:
        for r in csv.reader(f):
            if len(r) >= 12:
                rows.append((r[0].strip(), [int(float(v)) for v in r[2:12]]))
    votes = np.array([v for _, v in rows], np.int64).reshape(-1, 10)
    keep, soft = ferplus_votes_to_targets(votes)
    if keep_all:
        keep = soft.sum(1) > 0
    idx = np.flatnonzero(keep)
    if limit is not None:
        idx = idx[:limit]
    names = [rows[i][0] for i in idx]
    soft = soft[idx]
    images = _load_images([folder / n for n in names], size, color,
                          cache_key=f"ferplus|{folder.resolve()}|{limit}|{keep_all}")
    v, a = distilled_va(soft)
    return Dataset(images, soft, v, a, soft.argmax(1), names)


def load_affectnet(folder, size=224, color="rgb", limit=None) -> Dataset:
    """AffectNet official layout: `folder/images/N.jpg`, `folder/annotations/N_exp.npy` (class
    index, AffectNet order, one-hot target), `N_val.npy`, `N_aro.npy` (human ratings, [-1, 1]).
    Classes outside 0..7 are skipped."""
    folder = Path(folder)
    ann = folder / "annotations"
    items = []
    for img in sorted((folder / "images").iterdir(), key=lambda p: (len(p.stem), p.stem)):
        if img.suffix.lower() not in IMAGE_EXTS:
            continue
        exp = int(np.load(ann / f"{img.stem}_exp.npy", allow_pickle=True).astype(float))
        if not 0 <= exp < config.NUM_CLASSES:
            continue
        val = float(np.load(ann / f"{img.stem}_val.npy", allow_pickle=True).astype(float))
        aro = float(np.load(ann / f"{img.stem}_aro.npy", allow_pickle=True).astype(float))
        items.append((img, exp, val, aro))
        if limit is not None and len(items) >= limit:
            break
    label = np.array([e for _, e, _, _ in items], np.int64)
    soft = np.eye(config.NUM_CLASSES, dtype=np.float32)[label]
    images = _load_images([p for p, *_ in items], size, color,
                          cache_key=f"affectnet|{folder.resolve()}|{limit}")
    return Dataset(images, soft, np.array([v for *_, v, _ in items], np.float32),
                   np.array([a for *_, a in items], np.float32), label,
                   [p.name for p, *_ in items])


def load_class_folders(folder, size=64, color="gray", limit=None) -> Dataset:
    """One sub-folder per class, named by the AffectNet labels (`neutral/`, `happy/`, ...; also
    accepts FER+ spellings `happiness`, `sadness`, `anger`). One-hot targets, distilled VA."""
    folder = Path(folder)
    alias = {"happiness": "happy", "sadness": "sad", "angry": "anger", "fearful": "fear",
             "surprised": "surprise", "disgusted": "disgust"}
    paths, labels = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        name = alias.get(sub.name.lower(), sub.name.lower())
        if name not in config.LABELS:
            raise ValueError(f"{sub}: unknown class folder (expected one of {config.LABELS})")
        for p in sorted(sub.iterdir()):
            if p.suffix.lower() in IMAGE_EXTS:
                paths.append(p)
                labels.append(config.LABELS.index(name))
    if limit is not None:
        paths, labels = paths[:limit], labels[:limit]
    label = np.array(labels, np.int64)
    soft = np.eye(config.NUM_CLASSES, dtype=np.float32)[label]
    v, a = distilled_va(soft)
    images = _load_images(paths, size, color, cache_key=f"folders|{folder.resolve()}|{limit}")
    return Dataset(images, soft, v, a, label, [p.name for p in paths])


def load(folder, fmt="auto", size=None, color="gray", limit=None) -> Dataset:
    """Dispatch on layout: `label.csv` -> FER+, `annotations/` -> AffectNet, else class folders."""
    folder = Path(folder)
    if fmt == "auto":
        fmt = "ferplus" if (folder / "label.csv").exists() else \
            "affectnet" if (folder / "annotations").is_dir() else "folders"
    if fmt == "ferplus":
        return load_ferplus(folder, size, color, limit)
    if fmt == "affectnet":
        return load_affectnet(folder, size or 224, color, limit)
    if fmt == "folders":
        return load_class_folders(folder, size or 64, color, limit)
    raise ValueError(f"unknown data format {fmt!r}")


def split(ds: Dataset, frac: float, seed=config.SEED):
    """Stratified-by-majority-label split -> (train, holdout) with about frac held out."""
    rng = np.random.default_rng(seed)
    hold = []
    for c in range(config.NUM_CLASSES):
        idx = np.flatnonzero(ds.label == c)
        rng.shuffle(idx)
        hold.extend(idx[: int(round(len(idx) * frac))])
    mask = np.zeros(len(ds), bool)
    mask[hold] = True
    return ds.subset(np.flatnonzero(~mask)), ds.subset(np.flatnonzero(mask))


# ---------------------------------------------------------------------------------------------
# tf.data pipeline
# ---------------------------------------------------------------------------------------------

def _to_color(x, channels):
    """float [B, H, W, Cin] -> [B, H, W, channels]; gray->RGB by tiling, RGB->gray by BT.601."""
    import tensorflow as tf
    cin = x.shape[-1]
    if cin == channels:
        return x
    if channels == 3:
        return tf.tile(x, [1, 1, 1, 3])
    return tf.reduce_sum(x * tf.constant([0.299, 0.587, 0.114], x.dtype), -1, keepdims=True)


def _affine_transforms(batch, in_size, out_size, seed_gen):
    """Random transforms [B, 8] for ImageProjectiveTransformV3 mapping output pixel (x, y) to the
    input pixel it samples: in = c_in + M (out - c_out) + t, M = (r / zoom) R(theta) diag(flip, 1),
    r = in_size / out_size (so resizing and augmentation are one bilinear resample)."""
    import tensorflow as tf
    import math
    u = lambda lo, hi: seed_gen.uniform([batch], lo, hi)
    theta = u(-1.0, 1.0) * (config.AUG_ROTATION_DEG * math.pi / 180.0)
    zoom = u(1.0 - config.AUG_ZOOM, 1.0 + config.AUG_ZOOM)
    flip = tf.where(u(0.0, 1.0) < 0.5, -1.0, 1.0)
    tx = u(-1.0, 1.0) * config.AUG_SHIFT * in_size
    ty = u(-1.0, 1.0) * config.AUG_SHIFT * in_size
    r = in_size / out_size
    k = r / zoom
    cos, sin = tf.cos(theta) * k, tf.sin(theta) * k
    a0, a1 = cos * flip, -sin
    b0, b1 = sin * flip, cos
    ci, co = (in_size - 1) / 2.0, (out_size - 1) / 2.0
    a2 = ci + tx - a0 * co - a1 * co
    b2 = ci + ty - b0 * co - b1 * co
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def make_tf_dataset(ds: Dataset, spec: config.BackboneSpec, batch_size=64, training=False,
                    weights=None, seed=config.SEED, repeat=False):
    """tf.data over the in-memory arrays -> batches (x float32 [B, S, S, C] normalised,
    {valence [B,1], arousal [B,1], expression [B,8]}[, sample weights]).

    training=True shuffles and applies the random affine (rotation, zoom, shift, flip) fused with
    the resize to spec.size, plus brightness/contrast jitter; otherwise a plain bilinear resize.
    weights: per-class weights float32 [8] -> sample weights on the expression output only.
    """
    import tensorflow as tf
    n = len(ds)
    in_size = ds.images.shape[1]
    mean = tf.constant(spec.mean, tf.float32)
    std = tf.constant(spec.std, tf.float32)
    y = {"valence": ds.valence[:, None], "arousal": ds.arousal[:, None],
         "expression": ds.expression}
    tensors = (ds.images, y)
    if weights is not None:
        sw = sample_weights(ds.expression, weights)
        tensors = (ds.images, y, {"valence": np.ones(n, np.float32),
                                  "arousal": np.ones(n, np.float32), "expression": sw})
    d = tf.data.Dataset.from_tensor_slices(tensors)
    if training:
        d = d.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        d = d.repeat()
    d = d.batch(batch_size, drop_remainder=training)
    seed_gen = tf.random.Generator.from_seed(seed)

    def prep(img, *rest):
        x = tf.cast(img, tf.float32) / 255.0
        if training:
            b = tf.shape(x)[0]
            t = _affine_transforms(b, in_size, spec.size, seed_gen)
            x = tf.raw_ops.ImageProjectiveTransformV3(
                images=x, transforms=t, output_shape=[spec.size, spec.size],
                fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")
            m = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
            c = seed_gen.uniform([b, 1, 1, 1], 1 - config.AUG_CONTRAST, 1 + config.AUG_CONTRAST)
            br = seed_gen.uniform([b, 1, 1, 1], -config.AUG_BRIGHTNESS, config.AUG_BRIGHTNESS)
            x = tf.clip_by_value((x - m) * c + m + br, 0.0, 1.0)
        elif in_size != spec.size:
            x = tf.image.resize(x, [spec.size, spec.size], method="bilinear")
        x = _to_color(x, spec.channels)
        x = (x - mean) / std
        return (x, *rest)

    # One map call per batch; the generator is stateful, so keep it single-threaded (deterministic).
    d = d.map(prep, num_parallel_calls=1 if training else tf.data.AUTOTUNE, deterministic=True)
    return d.prefetch(2)


def preprocess_numpy(images: np.ndarray, spec: config.BackboneSpec) -> np.ndarray:
    """uint8 [N, S, S, C] -> float32 NCHW [N, spec.channels, spec.size, spec.size] as the library
    feeds the model: colour conversion (BT.601 luma / gray tiled to RGB), bilinear resize (PIL),
    (x/255 - mean)/std."""
    out = np.empty((len(images), spec.channels, spec.size, spec.size), np.float32)
    mean = np.array(spec.mean, np.float32)[:, None, None]
    std = np.array(spec.std, np.float32)[:, None, None]
    for i, img in enumerate(images):
        a = img.astype(np.float32)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.shape[-1] == 3 and spec.channels == 1:
            a = (a @ np.array([0.299, 0.587, 0.114], np.float32))[:, :, None]
        elif a.shape[-1] == 1 and spec.channels == 3:
            a = np.repeat(a, 3, axis=-1)
        a = a.transpose(2, 0, 1)                              # C, H, W
        if a.shape[1:] != (spec.size, spec.size):
            a = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(ch), mode="F")
                                     .resize((spec.size, spec.size), Image.BILINEAR))
                          for ch in a])
        out[i] = (a / 255.0 - mean) / std
    return out
