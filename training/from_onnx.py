"""Rebuild a trainable Keras model from an exported ONNX model of a ResNet backbone (the bundled
`emotion.onnx`), so a run can continue from a shipped model (`train.py --init OUT.keras`) when
its Keras checkpoint is gone.

    python -m training.from_onnx emotion-core/models/emotion.onnx --backbone resnet_lite \\
        --out training/runs/init/bundled.keras

tf2onnx folds each BatchNormalization into the layer before it: a convolution's kernel carries
the scale and its bias is `<bn>/batchnorm/sub`; a dense layer's BN stays as `mul`/`sub`. The
weights are copied back by layer name. A folded BN (y = x + b) is given back statistics measured
on real faces (`--data`, 512 images): moving mean m and variance s^2 of its input, gamma = s,
beta = b + m. Inference is then exactly the ONNX model's, and in training mode (batch
statistics) the layer behaves as the original did, since gamma_original ~ s when the kernel
carries gamma / sigma. The expression logits keep the ONNX model's temperature scaling.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import augment, config, data

EPS = 1e-3   # keras BatchNormalization's default epsilon


def onnx_weights(path) -> dict:
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(path))
    out = {}
    for t in m.graph.initializer:
        parts = t.name.split("/")
        if len(parts) >= 3:
            out["/".join(parts[1:])] = numpy_helper.to_array(t)
    return out


def rebuild(onnx_path, backbone, images) -> "keras.Model":
    import keras
    from . import model as model_lib
    w = onnx_weights(onnx_path)
    get = lambda layer, rest: w[f"{layer}_1/{rest}"]
    model = model_lib.build_model(backbone)
    folded = []                                       # BN layers folded into a conv
    for layer in model.layers:
        name = layer.name
        if isinstance(layer, keras.layers.Conv2D):
            kernel = get(name, "convolution/merged_input:0").transpose(2, 3, 1, 0)
            layer.set_weights([kernel])
        elif isinstance(layer, keras.layers.Dense):
            kind = "Add" if name in ("valence", "arousal") else "BiasAdd"
            layer.set_weights([get(name, "Cast/ReadVariableOp:0"),
                               get(name, f"{kind}/ReadVariableOp:0")])
        elif isinstance(layer, keras.layers.BatchNormalization):
            c = layer.get_weights()[0].shape[0]
            sub = get(name, "batchnorm/sub:0")
            mul = w.get(f"{name}_1/batchnorm/mul:0")
            if mul is None:
                folded.append(layer)
                mul = np.ones(c, np.float32)
            layer.set_weights([mul, sub, np.zeros(c, np.float32),
                               np.full(c, 1 - EPS, np.float32)])
    # Statistics for the folded BNs, from their inputs on real faces (inference = the ONNX model).
    spec = config.BACKBONES[backbone]
    x = augment.to_model_input(augment.resize(images, spec.size), spec)
    probe = keras.Model(model.inputs, [l.input for l in folded])
    acts = probe.predict(x, batch_size=128, verbose=0)
    for layer, a in zip(folded, acts):
        a = np.asarray(a, np.float64).reshape(-1, a.shape[-1])
        m, s = a.mean(0), a.std(0) + 1e-6
        sub = layer.get_weights()[1]
        layer.set_weights([s.astype(np.float32), (sub + m).astype(np.float32),
                           m.astype(np.float32), (s ** 2 - EPS).clip(1e-6).astype(np.float32)])
    return model


def check(model, onnx_path, x_nhwc) -> float:
    """Max abs difference of the expression probabilities, Keras vs onnxruntime."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    out = dict(zip([o.name for o in sess.get_outputs()],
                   sess.run(None, {name: x_nhwc.transpose(0, 3, 1, 2)})))
    k = model.predict(x_nhwc, batch_size=128, verbose=0)
    return float(np.abs(np.asarray(k["expression"]) - out["expression"]).max())


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.from_onnx", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("onnx")
    p.add_argument("--backbone", default=config.DEFAULT_BACKBONE)
    p.add_argument("--data", default=str(config.FERPLUS_TRAIN), help="folder or pack (.npz)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.data.endswith(".npz"):
        from . import pack
        ds = pack.load(a.data, "train", limit=512)
    else:
        ds = data.load(a.data, limit=512)
    model = rebuild(a.onnx, a.backbone, ds.images)
    spec = config.BACKBONES[a.backbone]
    x = augment.to_model_input(augment.resize(ds.images[:256], spec.size), spec)
    diff = check(model, a.onnx, x)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    model.save(a.out)
    print(f"wrote {a.out}; expression probabilities vs onnxruntime: max abs diff {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("the rebuilt model does not match the ONNX model")


if __name__ == "__main__":
    main()
