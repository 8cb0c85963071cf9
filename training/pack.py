"""Pack FER+ train (and optionally valid) into one compressed .npz, to carry the data to a
machine without ../shared (e.g. a GPU machine that runs `training.train --data PACK.npz`).

    python -m training.pack --out training/runs/ferplus-train.npz            # train only
    python -m training.pack --out ... --with-valid                           # + valid (evaluation)
    python -m training.pack --out training/runs/gpu-pack.npz --wild training/runs/wild.npz \
        --jpeg 92                                   # + the wild faces, JPEG mosaics (GPU machine)

Arrays per split S: S_png uint8 [total bytes] and S_png_end int64 [N] (each image as a lossless
PNG, concatenated: 49.5 MB for FER+ train against 62 MB for the zlib-compressed pixel array, so
the repository and the pack together fit a GPU machine's 64 MiB transfer), S_votes int16 [N, 10]
(the FER+ vote columns, so targets are rebuilt with the same rules), S_names str [N]; va_means
float32 [2, 8] (the AffectNet per-class valence and arousal means used for the distilled
targets).

`--jpeg Q` stores each split's images instead as JPEG mosaics of 64 x 64 tiles at quality Q
(S_jpeg, S_jpeg_end per mosaic, S_count): 48x48 tiles fall on 8x8 JPEG block boundaries, so no
tile bleeds into another; at Q=92 about 1.0 kB an image against 2.4 kB as PNG, which is what lets
FER+ train and the 19,000 wild faces travel together in 64 MiB. Lossy: the training augmentation
adds heavier JPEG artefacts anyway. `--wild WILD.npz` (from `python -m training.wild`) adds the
wild faces as split `wild` with their arrays (`wild_label`, `wild_valence`, ...; see
data.load_wild). FER2013 images are for research
use only: a pack is a working file, never part of the product or the repository.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import config, data


def _votes(folder, names):
    import csv
    rows = {r[0].strip(): [int(float(v)) for v in r[2:12]]
            for r in csv.reader(open(Path(folder) / "label.csv", newline="")) if len(r) >= 12}
    return np.array([rows[n] for n in names], np.int16)


def _encode_png(images: np.ndarray):
    """uint8 [N, H, W, 1] -> (bytes uint8 [total], end offsets int64 [N])."""
    import io
    from PIL import Image
    blobs = []
    for im in images:
        buf = io.BytesIO()
        Image.fromarray(im[..., 0]).save(buf, "PNG", optimize=True)
        blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
    return np.concatenate(blobs), np.cumsum([len(b) for b in blobs]).astype(np.int64)


def _decode_png(data: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The inverse of _encode_png -> uint8 [N, H, W, 1]."""
    import io
    from PIL import Image
    starts = np.concatenate([[0], ends[:-1]])
    return np.stack([np.asarray(Image.open(io.BytesIO(data[a:b].tobytes())))
                     for a, b in zip(starts, ends)])[..., None]


TILES = 64   # mosaic side in tiles


def _encode_jpeg(images: np.ndarray, quality: int):
    """uint8 [N, S, S, 1] -> (bytes uint8 [total], end offsets int64 [M]) of ceil(N / 64^2)
    JPEG mosaics, tile i at row (i % 4096) // 64, column i % 64 of mosaic i // 4096."""
    import io
    from PIL import Image
    n, s = len(images), images.shape[1]
    per = TILES * TILES
    blobs = []
    for m in range(0, n, per):
        chunk = images[m:m + per, :, :, 0]
        full = np.zeros((per, s, s), np.uint8)
        full[:len(chunk)] = chunk
        rows = -(-len(chunk) // TILES)
        mosaic = full[:rows * TILES].reshape(rows, TILES, s, s).transpose(0, 2, 1, 3)
        buf = io.BytesIO()
        Image.fromarray(mosaic.reshape(rows * s, TILES * s)).save(buf, "JPEG", quality=quality)
        blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
    return np.concatenate(blobs), np.cumsum([len(b) for b in blobs]).astype(np.int64)


def _decode_jpeg(data: np.ndarray, ends: np.ndarray, count: int, s: int) -> np.ndarray:
    """The inverse of _encode_jpeg -> uint8 [count, s, s, 1]."""
    import io
    from PIL import Image
    starts = np.concatenate([[0], ends[:-1]])
    tiles = []
    for a, b in zip(starts, ends):
        m = np.asarray(Image.open(io.BytesIO(data[a:b].tobytes())).convert("L"))
        rows = m.shape[0] // s
        tiles.append(m.reshape(rows, s, TILES, s).transpose(0, 2, 1, 3).reshape(-1, s, s))
    return np.concatenate(tiles)[:count, :, :, None]


def _store(arrays, split, images, jpeg):
    if jpeg:
        arrays[f"{split}_jpeg"], arrays[f"{split}_jpeg_end"] = _encode_jpeg(images, jpeg)
        arrays[f"{split}_count"] = np.array([len(images), images.shape[1]], np.int64)
    else:
        arrays[f"{split}_png"], arrays[f"{split}_png_end"] = _encode_png(images)


def decode_images(z, split) -> np.ndarray:
    """A packed split's images, uint8 [N, S, S, 1], whichever way they were stored."""
    if f"{split}_jpeg" in z.files:
        count, s = (int(v) for v in z[f"{split}_count"])
        return _decode_jpeg(z[f"{split}_jpeg"], z[f"{split}_jpeg_end"], count, s)
    return _decode_png(z[f"{split}_png"], z[f"{split}_png_end"])


def pack(out, with_valid=False, limit=None, wild=None, jpeg=None) -> Path:
    arrays = {}
    splits = [("train", config.FERPLUS_TRAIN)] + ([("valid", config.FERPLUS_VALID)]
                                                  if with_valid else [])
    for split, folder in splits:
        ds = data.load_ferplus(folder, color="gray", limit=limit)
        _store(arrays, split, ds.images, jpeg)
        arrays[f"{split}_votes"] = _votes(folder, ds.names)
        arrays[f"{split}_names"] = np.array(ds.names)
    if wild:
        w = np.load(wild, allow_pickle=False)
        _store(arrays, "wild", w["images"], jpeg)
        for k in ("label", "valence", "arousal", "set", "sets", "holdout", "names", "detected"):
            arrays[f"wild_{k}"] = w[k]
    arrays["va_means"] = np.stack(data.load_va_stats())      # [2, 8]: valence, arousal means
    np.savez(out, **arrays)            # PNG and JPEG are compressed already
    return Path(out)


def load(path, split="train", limit=None) -> data.Dataset:
    """A packed split -> Dataset, targets rebuilt from the votes exactly as data.load_ferplus."""
    z = np.load(path, allow_pickle=False)
    votes, names = z[f"{split}_votes"], z[f"{split}_names"]
    images = decode_images(z, split)
    if limit is not None:
        images, votes, names = images[:limit], votes[:limit], names[:limit]
    _, soft = data.ferplus_votes_to_targets(votes)
    v, a = data.distilled_va(soft, stats=tuple(z["va_means"]))
    return data.Dataset(images, soft, v, a, soft.argmax(1), [str(n) for n in names])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--with-valid", action="store_true")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--wild", default=None, help="wild faces .npz from `python -m training.wild`")
    p.add_argument("--jpeg", type=int, default=None, help="store images as JPEG mosaics, quality")
    a = p.parse_args(argv)
    path = pack(a.out, a.with_valid, a.limit, a.wild, a.jpeg)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
