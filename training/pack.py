"""Pack FER+ train (and optionally valid) into one compressed .npz, to carry the data to a
machine without ../shared (e.g. a GPU machine that runs `training.train --data PACK.npz`).

    python -m training.pack --out training/runs/ferplus-train.npz            # train only
    python -m training.pack --out ... --with-valid                           # + valid (evaluation)

Arrays per split S: S_png uint8 [total bytes] and S_png_end int64 [N] (each image as a lossless
PNG, concatenated: 49.5 MB for FER+ train against 62 MB for the zlib-compressed pixel array, so
the repository and the pack together fit a GPU machine's 64 MiB transfer), S_votes int16 [N, 10]
(the FER+ vote columns, so targets are rebuilt with the same rules), S_names str [N]; va_means
float32 [2, 8] (the AffectNet per-class valence and arousal means used for the distilled
targets). FER2013 images are for research
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


def pack(out, with_valid=False, limit=None) -> Path:
    arrays = {}
    splits = [("train", config.FERPLUS_TRAIN)] + ([("valid", config.FERPLUS_VALID)]
                                                  if with_valid else [])
    for split, folder in splits:
        ds = data.load_ferplus(folder, color="gray", limit=limit)
        arrays[f"{split}_png"], arrays[f"{split}_png_end"] = _encode_png(ds.images)
        arrays[f"{split}_votes"] = _votes(folder, ds.names)
        arrays[f"{split}_names"] = np.array(ds.names)
    arrays["va_means"] = np.stack(data.load_va_stats())      # [2, 8]: valence, arousal means
    np.savez(out, **arrays)            # PNG is compressed already
    return Path(out)


def load(path, split="train", limit=None) -> data.Dataset:
    """A packed split -> Dataset, targets rebuilt from the votes exactly as data.load_ferplus."""
    z = np.load(path, allow_pickle=False)
    ends, votes, names = z[f"{split}_png_end"], z[f"{split}_votes"], z[f"{split}_names"]
    if limit is not None:
        ends, votes, names = ends[:limit], votes[:limit], names[:limit]
    images = _decode_png(z[f"{split}_png"], ends)
    _, soft = data.ferplus_votes_to_targets(votes)
    v, a = data.distilled_va(soft, stats=tuple(z["va_means"]))
    return data.Dataset(images, soft, v, a, soft.argmax(1), [str(n) for n in names])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--with-valid", action="store_true")
    p.add_argument("--limit", type=int, default=None)
    a = p.parse_args(argv)
    path = pack(a.out, a.with_valid, a.limit)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
