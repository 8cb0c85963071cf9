"""Training-time augmentation in numpy, so the same code feeds Keras on any backend
(TensorFlow, PyTorch, JAX) and a batch depends only on (seed, epoch, step): a resumed run sees
exactly the batches an uninterrupted one would, with no generator state to save.

One bilinear resample does the resize to the model input and the random affine transform
(rotation, zoom, shift = random crop, horizontal flip), edges reflected; then brightness/contrast
jitter and random erasing (Zhong et al. 2020, "Random Erasing Data Augmentation"); optionally
(`robust`) the degradations of people's own photos: low resolution, blur, JPEG artefacts, sensor
noise and gamma.
"""
from __future__ import annotations

import numpy as np

from . import config


def batch_rng(seed: int, epoch: int, step: int) -> np.random.Generator:
    """The generator for one batch: a pure function of its position in the run."""
    return np.random.default_rng([seed, epoch, step])


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled sample order of one epoch (int [n])."""
    return np.random.default_rng([seed, epoch, 1 << 20]).permutation(n)


def _reflect(v: np.ndarray, size: int) -> np.ndarray:
    """Reflect coordinates into [0, size - 1] (edge pixel not repeated, as TF's REFLECT)."""
    if size == 1:
        return np.zeros_like(v)
    period = 2.0 * (size - 1)
    v = np.abs(np.mod(v, period))
    return np.where(v > size - 1, period - v, v)


def warp(images: np.ndarray, mats: np.ndarray, out_size: int) -> np.ndarray:
    """Bilinear affine resample. images uint8/float [B, S, S, C]; mats float [B, 2, 3] mapping an
    output pixel (x, y, 1) to the input pixel it samples -> float32 [B, out, out, C] in the input's
    value range."""
    b, s, _, c = images.shape
    g = np.arange(out_size, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)                                   # [out, out]
    pts = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size, np.float32)])  # [3, P]
    src = mats.astype(np.float32) @ pts                          # [B, 2, P]
    x, y = _reflect(src[:, 0], s), _reflect(src[:, 1], s)
    x0 = np.clip(np.floor(x).astype(np.int64), 0, s - 1)
    y0 = np.clip(np.floor(y).astype(np.int64), 0, s - 1)
    x1, y1 = np.minimum(x0 + 1, s - 1), np.minimum(y0 + 1, s - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    flat = images.reshape(b, s * s, c).astype(np.float32)
    base = np.arange(b)[:, None]
    at = lambda yy, xx: flat[base, yy * s + xx]                  # [B, P, C]
    top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx
    bot = at(y1, x0) * (1 - fx) + at(y1, x1) * fx
    return (top * (1 - fy) + bot * fy).reshape(b, out_size, out_size, c)


def resize_matrices(b: int, in_size: int, out_size: int) -> np.ndarray:
    """Plain bilinear resize as warp matrices [B, 2, 3] (pixel centres aligned)."""
    r = in_size / out_size
    m = np.array([[r, 0, 0.5 * r - 0.5], [0, r, 0.5 * r - 0.5]], np.float32)
    return np.repeat(m[None], b, axis=0)


def random_matrices(rng: np.random.Generator, b: int, in_size: int, out_size: int) -> np.ndarray:
    """Random rotation (±AUG_ROTATION_DEG), zoom (±AUG_ZOOM), shift (±AUG_SHIFT of the side) and
    horizontal flip (p = 0.5), fused with the resize: in = c_in + (r/zoom) R(theta) F (out - c_out) + t."""
    theta = rng.uniform(-1, 1, b) * np.deg2rad(config.AUG_ROTATION_DEG)
    zoom = rng.uniform(1 - config.AUG_ZOOM, 1 + config.AUG_ZOOM, b)
    flip = np.where(rng.uniform(0, 1, b) < 0.5, -1.0, 1.0)
    t = rng.uniform(-1, 1, (b, 2)) * config.AUG_SHIFT * in_size
    k = (in_size / out_size) / zoom
    cos, sin = np.cos(theta) * k, np.sin(theta) * k
    a = np.stack([np.stack([cos * flip, -sin], 1), np.stack([sin * flip, cos], 1)], 1)  # [B,2,2]
    ci, co = (in_size - 1) / 2.0, (out_size - 1) / 2.0
    offset = ci + t - a @ np.array([co, co])
    return np.concatenate([a, offset[:, :, None]], axis=2).astype(np.float32)


def augment(images: np.ndarray, rng: np.random.Generator, out_size: int,
            robust_p: float = 0.0) -> np.ndarray:
    """uint8 [B, S, S, C] -> float32 [B, out, out, C] in [0, 1], randomly transformed, then
    degraded (`robust`, with probabilities scaled by robust_p; 0 = none)."""
    b, s = images.shape[:2]
    x = warp(images, random_matrices(rng, b, s, out_size), out_size) / 255.0
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    contrast = rng.uniform(1 - config.AUG_CONTRAST, 1 + config.AUG_CONTRAST, (b, 1, 1, 1))
    bright = rng.uniform(-config.AUG_BRIGHTNESS, config.AUG_BRIGHTNESS, (b, 1, 1, 1))
    x = np.clip((x - m) * contrast + m + bright, 0.0, 1.0)
    # Random erasing: one rectangle of 2-20 % of the area, aspect 0.3-3.3, random gray fill.
    erase = rng.uniform(0, 1, b) < config.AUG_ERASE_P
    area = rng.uniform(0.02, 0.20, b) * out_size * out_size
    aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3), b))
    h = np.clip(np.sqrt(area * aspect), 1, out_size).astype(int)
    w = np.clip(np.sqrt(area / aspect), 1, out_size).astype(int)
    y0 = (rng.uniform(0, 1, b) * (out_size - h + 1)).astype(int)
    x0 = (rng.uniform(0, 1, b) * (out_size - w + 1)).astype(int)
    fill = rng.uniform(0, 1, b)
    for i in np.flatnonzero(erase):
        x[i, y0[i]:y0[i] + h[i], x0[i]:x0[i] + w[i]] = fill[i]
    if robust_p > 0:
        x = robust(x, rng, robust_p)
    return x.astype(np.float32)


def resize(images: np.ndarray, out_size: int) -> np.ndarray:
    """uint8 [B, S, S, C] -> float32 [B, out, out, C] in [0, 1], plain bilinear resize."""
    b, s = images.shape[:2]
    if s == out_size:
        return images.astype(np.float32) / 255.0
    return warp(images, resize_matrices(b, s, out_size), out_size) / 255.0


def to_model_input(x01: np.ndarray, spec: config.BackboneSpec) -> np.ndarray:
    """float [B, H, W, Cin] in [0, 1] -> the backbone's normalised NHWC input."""
    if x01.shape[-1] != spec.channels:
        x01 = np.repeat(x01, 3, -1) if spec.channels == 3 else \
            (x01 @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    mean = np.array(spec.mean, np.float32)
    std = np.array(spec.std, np.float32)
    return ((x01 - mean) / std).astype(np.float32)


# Degradations (`robust`), each applied to an image with probability p x ROBUST_P[name]:
#   lowres: down to a side of 12-28 px (area) and back up (bilinear): small faces in crowds
#   blur:   Gaussian, sigma 0.4-1.5 px (of the 48 px input): focus and motion
#   jpeg:   quality 15-60: heavy web compression
#   noise:  Gaussian, sigma 0.01-0.05 of the range: dark, high-ISO photos
#   gamma:  0.6-1.7: under/over-exposure
ROBUST_P = {"lowres": 0.25, "blur": 0.2, "jpeg": 0.25, "noise": 0.2, "gamma": 0.3}


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of float [H, W, C], edges reflected."""
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    h, w = img.shape[:2]
    p = np.pad(img, ((r, r), (0, 0), (0, 0)), mode="reflect")
    img = sum(k[i] * p[i:i + h] for i in range(2 * r + 1))
    p = np.pad(img, ((0, 0), (r, r), (0, 0)), mode="reflect")
    return sum(k[i] * p[:, i:i + w] for i in range(2 * r + 1))


def robust(x: np.ndarray, rng: np.random.Generator, p: float = 1.0) -> np.ndarray:
    """Degrade float [B, H, W, C] images in [0, 1] (see ROBUST_P); p scales every probability
    (0 = off). Deterministic given rng."""
    import io
    from PIL import Image
    if p <= 0:
        return x
    b, h, w, c = x.shape
    draws = {k: rng.uniform(0, 1, b) < p * v for k, v in ROBUST_P.items()}
    side = rng.integers(12, 29, b)
    sigma = rng.uniform(0.4, 1.5, b)
    quality = rng.integers(15, 61, b)
    noise = rng.uniform(0.01, 0.05, b)
    gamma = np.exp(rng.uniform(np.log(0.6), np.log(1.7), b))
    x = x.copy()
    for i in range(b):
        img = x[i]
        if draws["lowres"][i] and side[i] < h:
            ch = [Image.fromarray(np.ascontiguousarray(img[:, :, j], np.float32)) for j in range(c)]
            img = np.stack([np.asarray(im.resize((side[i], side[i]), Image.BOX)
                                       .resize((w, h), Image.BILINEAR)) for im in ch], -1)
        if draws["blur"][i]:
            img = _blur(img, sigma[i])
        if draws["jpeg"][i]:
            u8 = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(u8[:, :, 0] if c == 1 else u8).save(buf, "JPEG", quality=int(quality[i]))
            img = np.asarray(Image.open(io.BytesIO(buf.getvalue())), np.float32) / 255.0
            img = img[:, :, None] if img.ndim == 2 else img
        if draws["noise"][i]:
            img = img + rng.normal(0, noise[i], img.shape)
        if draws["gamma"][i]:
            img = np.clip(img, 0, 1) ** gamma[i]
        x[i] = np.clip(img, 0, 1)
    return x.astype(np.float32)
