"""The exported model loads in the library through its Python binding (`emotion` wheel).

These tests FAIL (not skip) when the binding is missing: build and install the wheel first
(see training/README.md).
"""
import numpy as np
from PIL import Image

from training import config

ASTRONAUT = config.SHARED / "photos" / "misc" / "astronaut.png"


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


def test_library_loads_smoke_export(mini_model):
    _, onnx_path = mini_model
    faces = _analyze(onnx_path)
    assert len(faces) == 1
    _check_face(faces[0])


def test_library_bundled_model_astronaut_is_happy():
    faces = _analyze(config.BUNDLED_MODEL)
    assert len(faces) == 1
    _check_face(faces[0])
    assert faces[0].expression == "happy" and faces[0].valence > 0.2
