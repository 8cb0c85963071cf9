"""Soft labels from a teacher model, for distillation into the bundled student.

    python -m training.distill --teacher training/runs/teacher/best.keras \
        --data training/runs/ferplus-train.npz --out training/soft-labels/teacher.npz
    python -m training.train --soft-labels training/soft-labels/teacher.npz ...

The teacher (any backbone of model.py, e.g. a wide one trained on a GPU machine) predicts each
training image and its horizontal mirror; the averaged expression distribution is mixed with the
FER+ vote distribution (--alpha x teacher + (1 - alpha) x votes), and valence/arousal are the
teacher's heads. Output .npz: names [N] str, expression float16 [N, 8], valence, arousal float16
[N] (about 0.6 MB for FER+ train: small enough to commit).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import augment, config, data


def distill(teacher, data_path, out, alpha=0.7, backbone=None, wild=None):
    import keras
    teacher = Path(teacher)
    info_file = teacher.parent / "run.json"
    backbone = backbone or json.loads(info_file.read_text())["backbone"]
    spec = config.BACKBONES[backbone]
    if str(data_path).endswith(".npz"):
        from . import pack
        ds = pack.load(data_path, "train")
    else:
        ds = data.load(data_path, color=spec.color)
    if wild:
        # The wild faces' training part (never their held-out part), targets as in training.
        ds = data.concat([ds, data.load_wild(wild)[0]])
    model = keras.models.load_model(teacher, compile=False)
    x = augment.to_model_input(augment.resize(ds.images, spec.size), spec)
    a = model.predict(x, batch_size=256, verbose=0)
    b = model.predict(np.ascontiguousarray(x[:, :, ::-1]), batch_size=256, verbose=0)
    avg = {k: (np.asarray(a[k]) + np.asarray(b[k])) / 2 for k in a}
    expression = alpha * avg["expression"] + (1 - alpha) * ds.expression
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, names=np.array(ds.names), expression=expression.astype(np.float16),
                        valence=avg["valence"][:, 0].astype(np.float16),
                        arousal=avg["arousal"][:, 0].astype(np.float16))
    return Path(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.distill", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="teacher .keras (run.json beside it)")
    p.add_argument("--data", default=str(config.FERPLUS_TRAIN), help="folder or pack .npz")
    p.add_argument("--out", required=True)
    p.add_argument("--alpha", type=float, default=0.7, help="teacher share of the target")
    p.add_argument("--backbone", default=None, help="teacher backbone if no run.json")
    p.add_argument("--wild", default=None, help="also the wild faces (training.wild .npz or pack)")
    a = p.parse_args(argv)
    path = distill(a.teacher, a.data, a.out, a.alpha, a.backbone, a.wild)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
