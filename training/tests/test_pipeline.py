"""Smoke training -> export -> contract, parity and evaluation, for both backbones."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from training import config, evaluate, export


def _check_exported(onnx_path, color, size):
    meta = export.check_contract(onnx_path)
    assert meta["emotion.input_color"] == color
    assert meta["emotion.input_size"] == f"{size}x{size}"
    assert meta["emotion.crop_scale"] == "1.3" and meta["emotion.crop_shift_y"] == "-0.02"
    assert meta["emotion.labels"].split(",") == list(config.LABELS)
    assert float(meta["emotion.std"].split(",")[0]) > 0
    m = onnx.load(str(onnx_path))
    assert [i.name for i in m.graph.input] == ["input"]         # no extra inputs
    assert [o.name for o in m.graph.output] == ["valence", "arousal", "expression"]
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    c = 1 if color == "gray" else 3
    for n in (1, 3):   # dynamic batch
        v, a, e = sess.run(None, {"input": np.zeros((n, c, size, size), np.float32)})
        assert v.shape == (n, 1) and a.shape == (n, 1) and e.shape == (n, 8)
        assert np.allclose(e.sum(1), 1.0, atol=1e-5)


def _check_metrics(m, n):
    assert m["n"] == n
    cm = np.array(m["confusion"])
    assert cm.shape == (8, 8) and cm.sum() == n
    assert 0.0 <= m["accuracy"] <= 1.0 and 0.0 <= m["macro_f1"] <= 1.0
    assert np.isclose(m["accuracy"], np.trace(cm) / n)
    assert set(m["per_class_recall"]) == set(config.LABELS)
    assert all(0.0 <= r <= 1.0 for r in m["per_class_recall"].values())
    for k in ("valence", "arousal"):
        assert 0.0 <= m[k]["rmse"] <= 2.0 and -1.0 <= m[k]["ccc"] <= 1.0


def test_mini_xception_export_contract(mini_model):
    run, onnx_path = mini_model
    _check_exported(onnx_path, "gray", 64)
    info = json.loads((run / "run.json").read_text())
    assert info["pretrained"] is True and (run / "best.keras").exists()
    assert onnx_path.stat().st_size <= 4 * 1024 * 1024


def test_mini_xception_parity(mini_model):
    import keras
    run, onnx_path = mini_model
    model = keras.models.load_model(run / "best.keras", compile=False)
    spec = config.BACKBONES["mini_xception"]
    assert export.check_parity(model, onnx_path, export.parity_inputs(spec, 8)) <= 1e-4


def test_mini_xception_evaluate(mini_model, tmp_path):
    _, onnx_path = mini_model
    evaluate.main([str(onnx_path), str(config.FERPLUS_VALID), "--limit", "150",
                   "--out", str(tmp_path)])
    m = json.loads((tmp_path / "metrics.json").read_text())
    _check_metrics(m, 150)
    assert (tmp_path / "confusion.png").stat().st_size > 0
    assert (tmp_path / "va_scatter.png").stat().st_size > 0


def test_pretrained_weights_load():
    import h5py
    from training import model as model_lib
    model, backbone = model_lib.build_model("mini_xception", pretrained=True)
    with h5py.File(config.MINI_XCEPTION_H5) as f:
        k = f["model_weights/conv2d_1/conv2d_1_1/kernel:0"][()]
    assert np.array_equal(model.get_layer("conv2d_1").get_weights()[0], k)
    assert "conv2d_1" in backbone and "valence" not in backbone


def test_nasnetmobile_train_export_evaluate(nasnet_model, tmp_path):
    run, onnx_path = nasnet_model
    _check_exported(onnx_path, "rgb", 224)
    m = evaluate.evaluate(onnx_path, config.FERPLUS_VALID, tmp_path, limit=12)
    _check_metrics(m, 12)


def test_export_rejects_broken_model(tmp_path, mini_model):
    _, onnx_path = mini_model
    m = onnx.load(str(onnx_path))
    m.graph.output[0].name = "val"
    del m.metadata_props[0]
    bad = tmp_path / "bad.onnx"
    onnx.save(m, str(bad))
    with pytest.raises(export.ContractError, match="valence.*|metadata"):
        export.check_contract(bad)
