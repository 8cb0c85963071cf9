"""The exported model loads in the library through its Python binding (`emotion` wheel).

These tests FAIL (not skip) when the binding is missing: build and install the wheel first
(see training/README.md).
"""
import numpy as np
from PIL import Image

from training import config

ASTRONAUT = config.REPO_ROOT / "examples" / "data" / "astronaut.png"   # in the repository


def _analyze(model_path):
    import emotion   # no importorskip: a missing binding is a failure
    analyzer = emotion.Analyzer(model_path=str(model_path))
    img = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    return analyzer.analyze(img)


def _check_face(face):
    assert face.expression in config.LABELS
    probs = face.probabilities
    probs = probs if isinstance(probs, dict) else dict(zip(config.LABELS, probs))
    assert set(probs) == set(config.LABELS)
    assert abs(sum(probs.values()) - 1.0) < 1e-3
    assert -1.0 <= face.valence <= 1.0 and -1.0 <= face.arousal <= 1.0


def test_library_loads_smoke_export(resnet_model):
    _, onnx_path = resnet_model
    faces = _analyze(onnx_path)
    assert len(faces) == 1
    _check_face(faces[0])


def test_library_bundled_model_astronaut_is_happy():
    faces = _analyze(config.BUNDLED_MODEL)
    assert len(faces) == 1
    _check_face(faces[0])
    assert faces[0].expression == "happy" and faces[0].valence > 0.2


def test_library_and_onnxruntime_paths_agree(resnet_model, shared):
    """training.evaluate's two paths: the library (classify with the full-image box) and the
    numpy mirror of its preprocessing + onnxruntime give the same predictions."""
    from training import data, evaluate
    _, onnx_path = resnet_model
    ds = data.load_ferplus(config.FERPLUS_VALID, color="gray", limit=200)
    lib = evaluate.predict_library(onnx_path, ds.images)
    ort = evaluate.predict_onnxruntime(onnx_path, ds.images)
    np.testing.assert_allclose(lib["expression"], ort["expression"], atol=2e-3)
    np.testing.assert_allclose(lib["valence"], ort["valence"], atol=2e-3)
    np.testing.assert_allclose(lib["arousal"], ort["arousal"], atol=2e-3)
