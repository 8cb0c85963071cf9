"""Export a trained Keras model to ONNX meeting the library's model contract
(README.md, "The model contract").

    python -m training.export                                   # training/runs/default -> bundled
    python -m training.export --run training/runs/smoke --out /tmp/m.onnx --crop-scale 1.3

The ONNX graph: one input `input` float32 NCHW [N, C, H, W] (N symbolic), a Transpose to NHWC,
the Keras graph in inference mode, outputs `valence` [N,1], `arousal` [N,1], `expression` [N,8].
metadata_props carry the preprocessing (emotion.input_color, input_size, mean, std, crop_scale,
crop_shift_y, labels, version, training_data, description). After writing, the file is checked
against the contract and against the Keras outputs with onnxruntime (max abs diff <= 1e-4);
any failure raises (exit status 1). If the `emotion` Python binding is importable, the library
loads the file too (--require-library makes its absence an error).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import config

OUTPUTS = ("valence", "arousal", "expression")
OUTPUT_DIMS = {"valence": 1, "arousal": 1, "expression": config.NUM_CLASSES}
META_KEYS = ("emotion.input_color", "emotion.input_size", "emotion.mean", "emotion.std",
             "emotion.crop_scale", "emotion.crop_shift_y", "emotion.labels", "emotion.version",
             "emotion.training_data", "emotion.description")
PARITY_TOL = 1e-4


class ContractError(RuntimeError):
    pass


def _fmt(xs):
    return ",".join(f"{float(x):g}" for x in xs)


def metadata(spec: config.BackboneSpec, crop_scale, crop_shift_y, training_data,
             description, version=config.MODEL_VERSION) -> dict:
    """The metadata_props the library reads, all strings."""
    return {
        "emotion.input_color": spec.color,
        "emotion.input_size": f"{spec.size}x{spec.size}",
        "emotion.mean": _fmt(spec.mean),
        "emotion.std": _fmt(spec.std),
        "emotion.crop_scale": f"{float(crop_scale):g}",
        "emotion.crop_shift_y": f"{float(crop_shift_y):g}",
        "emotion.labels": ",".join(config.LABELS),
        "emotion.version": version,
        "emotion.training_data": training_data,
        "emotion.description": description,
    }


def keras_to_onnx(model, spec: config.BackboneSpec, meta: dict, out_path):
    """Convert with tf2onnx (NCHW input, transposed inside), rename the outputs, attach metadata,
    drop intermediate value_info (tract would otherwise pin the symbolic batch), save."""
    import onnx
    import tensorflow as tf
    import tf2onnx

    sig = [tf.TensorSpec([None, spec.channels, spec.size, spec.size], tf.float32, name="input")]

    @tf.function(input_signature=sig)
    def forward(x):
        y = model(tf.transpose(x, [0, 2, 3, 1]), training=False)
        return tuple(tf.identity(y[k], name=k) for k in OUTPUTS)

    proto, _ = tf2onnx.convert.from_function(forward, input_signature=sig,
                                             opset=config.ONNX_OPSET)
    g = proto.graph
    if len(g.output) != 3:
        raise ContractError(f"converter produced {len(g.output)} outputs")
    rename = {o.name: new for o, new in zip(g.output, OUTPUTS)}
    rename.update({i.name: "input" for i in g.input})
    for node in g.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
    for vi in list(g.input) + list(g.output):
        vi.name = rename.get(vi.name, vi.name)
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    del g.value_info[:]
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    proto.producer_name = "emotion-training"
    onnx.checker.check_model(proto)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(out_path))
    return out_path


def check_contract(path) -> dict:
    """Check an ONNX file against the contract; return its metadata dict. Raises ContractError."""
    import onnx
    m = onnx.load(str(path))
    g = m.graph
    inits = {i.name for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    problems = []
    if len(inputs) != 1:
        problems.append(f"expected 1 input, found {[i.name for i in inputs]}")
    else:
        t = inputs[0].type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        if t.elem_type != onnx.TensorProto.FLOAT or len(dims) != 4:
            problems.append(f"input must be float32 rank 4, got type {t.elem_type} dims {dims}")
        elif dims[1] not in (1, 3) or not isinstance(dims[2], int) or dims[2] != dims[3]:
            problems.append(f"input must be NCHW with C in (1, 3), square HxW; got {dims}")
    outs = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
            for o in g.output}
    for name, n in OUTPUT_DIMS.items():
        if name not in outs:
            problems.append(f"missing output {name!r} (have {sorted(outs)})")
        elif len(outs[name]) != 2 or outs[name][1] != n:
            problems.append(f"output {name!r} must be [N,{n}], got {outs[name]}")
    meta = {p.key: p.value for p in m.metadata_props}
    for k in META_KEYS:
        if not meta.get(k):
            problems.append(f"metadata {k!r} missing or empty")
    if meta.get("emotion.labels") and tuple(meta["emotion.labels"].split(",")) != config.LABELS:
        problems.append(f"emotion.labels {meta['emotion.labels']!r} != {config.LABELS}")
    if not problems and inputs:
        dims = [d.dim_param or d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
        color = "gray" if dims[1] == 1 else "rgb"
        if meta["emotion.input_color"] != color:
            problems.append(f"emotion.input_color {meta['emotion.input_color']} but C={dims[1]}")
        if meta["emotion.input_size"] != f"{dims[2]}x{dims[3]}":
            problems.append(f"emotion.input_size {meta['emotion.input_size']} but HxW={dims[2:]}")
        for k in ("emotion.mean", "emotion.std"):
            if len(meta[k].split(",")) != dims[1]:
                problems.append(f"{k} needs {dims[1]} values, got {meta[k]!r}")
        for k in ("emotion.crop_scale", "emotion.crop_shift_y"):
            float(meta[k])
    if problems:
        raise ContractError(f"{path}: " + "; ".join(problems))
    return meta


def parity_inputs(spec: config.BackboneSpec, n=32, seed=0):
    """NCHW float32 [n, C, S, S]: real FER+ valid faces when available, plus noise rows."""
    from . import data
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, spec.channels, spec.size, spec.size)).astype(np.float32)
    if (config.FERPLUS_VALID / "label.csv").exists():
        ds = data.load_ferplus(config.FERPLUS_VALID, color=spec.color, limit=n - 4)
        x[: len(ds)] = data.preprocess_numpy(ds.images, spec)
    return x


def check_parity(model, onnx_path, x_nchw, tol=PARITY_TOL) -> float:
    """Max abs difference between Keras (NHWC, inference) and onnxruntime outputs; raises above
    tol. Runs onnxruntime with batch sizes n and 1 to exercise the dynamic batch dimension."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    # A direct call, not predict(): tracing a predict function for NASNet costs minutes.
    ref = {k: np.asarray(v) for k, v in model(x_nchw.transpose(0, 2, 3, 1), training=False).items()}
    got = dict(zip(OUTPUTS, sess.run(list(OUTPUTS), {"input": x_nchw})))
    one = dict(zip(OUTPUTS, sess.run(list(OUTPUTS), {"input": x_nchw[:1]})))
    worst = 0.0
    for k in OUTPUTS:
        if got[k].shape != (len(x_nchw), OUTPUT_DIMS[k]):
            raise ContractError(f"onnxruntime output {k} has shape {got[k].shape}")
        worst = max(worst, float(np.abs(got[k] - np.asarray(ref[k])).max()),
                    float(np.abs(one[k] - np.asarray(ref[k])[:1]).max()))
    s = got["expression"].sum(1)
    if not np.allclose(s, 1.0, atol=1e-4):
        raise ContractError(f"expression rows do not sum to 1: {s[:4]}")
    if worst > tol:
        raise ContractError(f"ONNX vs Keras max abs diff {worst:.3g} > {tol:g}")
    return worst


def check_library(onnx_path, require=False):
    """Load the file with the library's Python binding and analyse the astronaut photo.
    Returns a short description, or None when the binding is not installed (and not required)."""
    try:
        import emotion
    except ImportError:
        if require:
            raise
        return None
    from PIL import Image
    analyzer = emotion.Analyzer(model_path=str(onnx_path))
    img = np.asarray(Image.open(config.SHARED / "photos" / "misc" / "astronaut.png").convert("RGB"))
    faces = analyzer.analyze(img)
    return f"library loaded the model; astronaut.png: {len(faces)} face(s) " + ", ".join(
        f"{f.expression} v={f.valence:.2f} a={f.arousal:.2f}" for f in faces)


def export(keras_path, out, crop_scale=config.CROP_SCALE, crop_shift_y=config.CROP_SHIFT_Y,
           version=config.MODEL_VERSION, description=None, require_library=False, log=print):
    """Export keras_path (its run.json next to it gives backbone and data) to out; check it."""
    import keras
    keras_path = Path(keras_path)
    run_json = keras_path.parent / "run.json"
    info = json.loads(run_json.read_text()) if run_json.exists() else {}
    backbone = info.get("backbone", config.DEFAULT_BACKBONE)
    spec = config.BACKBONES[backbone]
    model = keras.models.load_model(keras_path, compile=False)
    training_data = info.get("training_data", "unknown")
    wild = bool(info.get("args", {}).get("wild"))
    description = description or (
        f"{backbone} + multi-task head (valence, arousal, 8 expressions). Expression learnt from "
        f"FER+ vote distributions" + (" and labelled wild faces (ExpW, LFW, DiffusionFER, London "
        f"set)" if wild else "") + "; valence/arousal distilled from AffectNet per-class means"
        + (", and from human ratings on DiffusionFER." if wild else
           " (not learnt from human valence/arousal ratings)."))
    meta = metadata(spec, crop_scale, crop_shift_y, training_data, description, version)
    keras_to_onnx(model, spec, meta, out)
    check_contract(out)
    diff = check_parity(model, out, parity_inputs(spec))
    size = Path(out).stat().st_size
    log(f"wrote {out} ({size / 1e6:.2f} MB); contract ok; ONNX vs Keras max abs diff {diff:.2e}")
    lib = check_library(out, require=require_library)
    log(lib or "note: the `emotion` Python binding is not installed; library load not checked")
    return Path(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default=str(config.DEFAULT_RUN), help="training run folder")
    p.add_argument("--keras", default=None, help="Keras model file (default: RUN/best.keras)")
    p.add_argument("--out", default=str(config.BUNDLED_MODEL))
    p.add_argument("--crop-scale", type=float, default=config.CROP_SCALE)
    p.add_argument("--crop-shift-y", type=float, default=config.CROP_SHIFT_Y)
    p.add_argument("--version", default=config.MODEL_VERSION)
    p.add_argument("--description", default=None)
    p.add_argument("--require-library", action="store_true",
                   help="fail if the `emotion` binding cannot be imported")
    a = p.parse_args(argv)
    try:
        export(a.keras or Path(a.run) / "best.keras", a.out, a.crop_scale, a.crop_shift_y,
               a.version, a.description, a.require_library)
    except ContractError as e:
        print(f"EXPORT FAILED: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
