"""Datasets as in-memory numpy arrays and training targets (augmentation: training/augment.py).

Every loader returns a `Dataset` (see below) with images uint8 [N, S, S, C] (C = 1 gray, 3 RGB),
soft expression targets float32 [N, 8] in AffectNet order, valence/arousal float32 [N] and the
majority-vote label int [N]. Images stay at their stored size (48x48 for FER+) in memory; the
training loop resizes and normalises per batch.
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
    # Where each image comes from: int64 [N], an index into SOURCES (None: all FER+).
    source: np.ndarray | None = None
    # Per-image weight of the valence/arousal losses: float32 [N] (None: all 1). Images with
    # human valence/arousal ratings weigh more than those with distilled targets.
    va_weight: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.label)

    def sources(self) -> np.ndarray:
        return np.zeros(len(self), np.int64) if self.source is None else self.source

    def va_weights(self) -> np.ndarray:
        return np.ones(len(self), np.float32) if self.va_weight is None else self.va_weight

    def subset(self, idx) -> "Dataset":
        idx = np.asarray(idx, np.int64)
        return Dataset(self.images[idx], self.expression[idx], self.valence[idx],
                       self.arousal[idx], self.label[idx], [self.names[i] for i in idx],
                       self.sources()[idx], self.va_weights()[idx])


# Image sources, in the order of Dataset.source: FER+ and the wild sets (training/wild.py).
SOURCES = ("ferplus", "expw", "muxspace", "diffusionfer", "london")


def concat(parts) -> Dataset:
    """One Dataset from several (images must share their size)."""
    return Dataset(np.concatenate([p.images for p in parts]),
                   np.concatenate([p.expression for p in parts]),
                   np.concatenate([p.valence for p in parts]),
                   np.concatenate([p.arousal for p in parts]),
                   np.concatenate([p.label for p in parts]),
                   [n for p in parts for n in p.names],
                   np.concatenate([p.sources() for p in parts]),
                   np.concatenate([p.va_weights() for p in parts]))


def load_wild(path, smoothing=0.1, rating_weight=1.0):
    """The wild faces of `training.wild` (its .npz, or a pack holding `wild_*` arrays) ->
    (train, held-out) Datasets. Targets: one-hot labels smoothed by `smoothing` (the mass spread
    over the 7 other classes: ExpW's labels are noisy); valence/arousal = the human ratings where
    the set has them (DiffusionFER), with loss weight `rating_weight`, else distilled from the
    one-hot label (`distilled_va`) with weight 1."""
    z = np.load(path, allow_pickle=False)
    pre = "wild_" if "wild_label" in z.files else ""
    if pre:
        from . import pack
        images = pack.decode_images(z, "wild")
    else:
        images = z["images"]
    label = z[pre + "label"]
    onehot = np.eye(config.NUM_CLASSES, dtype=np.float32)[label]
    soft = onehot * (1 - smoothing) + (1 - onehot) * smoothing / (config.NUM_CLASSES - 1)
    dv, da = distilled_va(onehot, stats=tuple(z["va_means"]) if "va_means" in z.files else None)
    rv, ra = z[pre + "valence"], z[pre + "arousal"]
    rated = ~np.isnan(rv) & ~np.isnan(ra)
    valence = np.where(rated, rv, dv).astype(np.float32)
    arousal = np.where(rated, ra, da).astype(np.float32)
    sets = [str(s) for s in z[pre + "sets"]]
    source = np.array([SOURCES.index(sets[i]) for i in z[pre + "set"]], np.int64)
    ds = Dataset(images, soft.astype(np.float32), valence, arousal, label.astype(np.int64),
                 [str(n) for n in z[pre + "names"]], source,
                 np.where(rated, rating_weight, 1.0).astype(np.float32))
    hold = z[pre + "holdout"]
    return ds.subset(np.flatnonzero(~hold)), ds.subset(np.flatnonzero(hold))


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
# Model input
# ---------------------------------------------------------------------------------------------

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


def apply_soft_labels(ds: Dataset, path) -> Dataset:
    """Replace the targets of the images named in a teacher's soft-label file (.npz with `names`
    [M] str, `expression` float [M, 8] AffectNet order, `valence` [M], `arousal` [M]; made by
    `python -m training.distill`). Images the file does not name keep their own targets, and
    images with human valence/arousal ratings (va_weight > 1) keep those."""
    z = np.load(path, allow_pickle=False)
    where = {str(n): i for i, n in enumerate(z["names"])}
    idx = np.array([where.get(n, -1) for n in ds.names])
    hit = idx >= 0
    expression, valence, arousal = ds.expression.copy(), ds.valence.copy(), ds.arousal.copy()
    expression[hit] = z["expression"][idx[hit]]
    # Images with human ratings (va_weight > 1, see load_wild) keep them.
    va = hit & (ds.va_weights() <= 1.0)
    valence[va] = z["valence"][idx[va]]
    arousal[va] = z["arousal"][idx[va]]
    return Dataset(ds.images, expression.astype(np.float32), valence.astype(np.float32),
                   arousal.astype(np.float32), ds.label, ds.names, ds.source, ds.va_weight)
