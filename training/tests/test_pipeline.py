"""Smoke training -> export -> contract, parity and evaluation; resume; calibration maths."""
import json

import keras
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from training import augment, calibrate, config, evaluate, export, model as model_lib, train


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
    assert np.isclose(m["accuracy"], np.trace(cm) / n)
    assert set(m["per_class_recall"]) == set(config.LABELS)
    for c, (lo, hi) in m["recall_ci95"].items():
        r = m["per_class_recall"][c]
        assert np.isnan(lo) or lo <= r + 1e-9 <= hi + 2e-9
    assert 0.0 <= m["ece_15"] <= 1.0
    for k in ("valence", "arousal"):
        assert 0.0 <= m[k]["rmse"] <= 2.0 and -1.0 <= m[k]["ccc"] <= 1.0
        assert -1.0 <= m[k]["baseline_ccc"] <= 1.0


@pytest.mark.parametrize("backbone,params", [("resnet", (0.7e6, 0.9e6)), ("vgg", (1.2e6, 1.45e6)),
                                             ("resnet_lite", (0.65e6, 0.75e6)),
                                             ("resnet_wide", (2.8e6, 3.1e6)),
                                             ("mini_xception", (0.14e6, 0.17e6))])
def test_backbones_build(backbone, params):
    m = model_lib.build_model(backbone)
    spec = config.BACKBONES[backbone]
    assert params[0] <= m.count_params() <= params[1]
    out = m(np.zeros((2, spec.size, spec.size, spec.channels), np.float32), training=False)
    assert out["expression"].shape == (2, 8) and out["valence"].shape == (2, 1)


def test_resnet_export_contract(resnet_model):
    run, onnx_path = resnet_model
    _check_exported(onnx_path, "gray", 48)
    info = json.loads((run / "run.json").read_text())
    assert info["init"] == "random (from scratch)" and (run / "best.keras").exists()
    assert onnx_path.stat().st_size <= 4 * 1024 * 1024


def test_resnet_parity(resnet_model):
    run, onnx_path = resnet_model
    model = keras.models.load_model(run / "best.keras", compile=False)
    spec = config.BACKBONES["resnet"]
    assert export.check_parity(model, onnx_path, export.parity_inputs(spec, 8)) <= 1e-4


def test_evaluate_onnxruntime_path(resnet_model, tmp_path):
    _, onnx_path = resnet_model
    evaluate.main([str(onnx_path), str(config.FERPLUS_VALID), "--limit", "150", "--path",
                   "onnxruntime", "--out", str(tmp_path)])
    m = json.loads((tmp_path / "metrics.json").read_text())
    _check_metrics(m, 150)
    assert (tmp_path / "confusion.png").stat().st_size > 0


def test_mini_xception_smoke(mini_model):
    _check_exported(mini_model[1], "gray", 64)


def test_resume_gives_the_same_weights(tmp_path, shared):
    """A run killed after 2 steps and resumed ends with the weights of an uninterrupted run."""
    args = ["--limit", "300", "--batch-size", "32", "--steps", "2", "--epochs", "2",
            "--checkpoint-min", "100", "--precise-bn-batches", "2"]
    train.main([*args, "--out", str(tmp_path / "a")])
    train.main([*args, "--out", str(tmp_path / "b"), "--stop-after-steps", "3"])
    state = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())
    assert (state["epoch"], state["step"]) == (1, 1) and not (tmp_path / "b" / "last.keras").exists()
    train.main([*args, "--out", str(tmp_path / "b"), "--resume"])
    wa = keras.models.load_model(tmp_path / "a" / "last.keras").get_weights()
    wb = keras.models.load_model(tmp_path / "b" / "last.keras").get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-6)


def test_augmentation_is_a_function_of_position():
    imgs = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1), dtype=np.uint8)
    a = augment.augment(imgs, augment.batch_rng(1, 2, 3), 48)
    b = augment.augment(imgs, augment.batch_rng(1, 2, 3), 48)
    c = augment.augment(imgs, augment.batch_rng(1, 2, 4), 48)
    assert a.shape == (4, 48, 48, 1) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.0 <= a.min() and a.max() <= 1.0


def test_worker_batches_equal_in_process():
    """--workers changes where batches are made, never what they are."""
    imgs = np.random.default_rng(0).integers(0, 256, (40, 48, 48, 1), dtype=np.uint8)
    spec = config.BACKBONES["resnet_lite"]
    here, there = train.BatchSource(imgs, spec, 7), train.BatchSource(imgs, spec, 7, workers=2)
    plan_a, plan_b = (train.run_plan(40, 8, 5, 2, 7, epoch=0, step=3) for _ in range(2))
    try:
        for _ in range(7):          # past an epoch boundary
            (xa, ia), (xb, ib) = here.get(plan_a), there.get(plan_b)
            assert np.array_equal(xa, xb) and np.array_equal(ia, ib)
    finally:
        there.close()


def test_warp_identity_and_flip():
    imgs = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 1), dtype=np.uint8)
    same = augment.warp(imgs, augment.resize_matrices(2, 8, 8), 8)
    assert np.allclose(same, imgs)
    flip = np.repeat(np.array([[[-1, 0, 7], [0, 1, 0]]], np.float32), 2, 0)
    assert np.allclose(augment.warp(imgs, flip, 8), imgs[:, :, ::-1])


def test_temperature_recovers_known_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, (4000, 8))
    label = np.array([rng.choice(8, p=p) for p in calibrate.softmax(true_logits)])
    t = calibrate.fit_temperature(true_logits * 2.5, label)      # overconfident by 2.5x
    assert abs(t - 2.5) < 0.25


def test_ece_known_values():
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    label = np.array([0, 1, 0, 0])
    # bin 0.9: acc 0.5, conf 0.9 -> 0.5 * 0.4; bin 0.6: acc 1.0, conf 0.6 -> 0.5 * 0.4
    assert np.isclose(evaluate.expected_calibration_error(probs, label), 0.4)
    perfect = np.eye(8)[np.arange(8)]
    assert evaluate.expected_calibration_error(perfect, np.arange(8)) == 0.0


def test_export_rejects_broken_model(tmp_path, resnet_model):
    _, onnx_path = resnet_model
    m = onnx.load(str(onnx_path))
    m.graph.output[0].name = "val"
    del m.metadata_props[0]
    bad = tmp_path / "bad.onnx"
    onnx.save(m, str(bad))
    with pytest.raises(export.ContractError, match="valence.*|metadata"):
        export.check_contract(bad)


def test_calibrate_divides_the_logits_by_the_fitted_temperature(resnet_model):
    """calibrate.py rebuilds the run's held-out split from run.json and folds 1/T into the
    expression logits layer; nothing else changes."""
    run = resnet_model[0]
    out = calibrate.calibrate(run, log=lambda *_: None)
    assert out["held_out"] > 0 and 0.25 <= out["temperature"] <= 4.0
    x = np.random.default_rng(0).normal(size=(4, 48, 48, 1)).astype(np.float32)
    logits = []
    for name in ("last.keras", "calibrated.keras"):
        m = keras.models.load_model(run / name, compile=False)
        logits.append(np.asarray(keras.Model(m.inputs, m.get_layer("expression_logits").output)(x)))
    np.testing.assert_allclose(logits[1], logits[0] / out["temperature"], rtol=2e-3, atol=1e-5)
