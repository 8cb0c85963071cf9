"""Results match the Rust CLI, and the Face / Detection / BBox objects behave as documented."""

import json
import math

import numpy as np
import pytest

import emotion
from conftest import MULTIFACE_MIN_FACE_SIZE, load_rgb, photo_path, results, run_cli

TOL = 1e-5


def assert_matches_cli(faces, cli_faces):
    assert len(faces) == len(cli_faces)
    for face, want in zip(faces, cli_faces):
        got = face.to_dict()
        assert got["expression"] == want["expression"]
        assert list(got["probabilities"]) == list(emotion.EXPRESSIONS)
        # The CLI's JSON object may list the names in another order (serde_json sorts keys).
        assert set(want["probabilities"]) == set(emotion.EXPRESSIONS)
        pairs = [(got["bbox"][k], want["bbox"][k]) for k in ("x", "y", "width", "height")]
        pairs += [(got["probabilities"][k], want["probabilities"][k]) for k in emotion.EXPRESSIONS]
        pairs += [(got[k], want[k]) for k in ("detection_score", "valence", "arousal")]
        for a, b in pairs:
            assert a == pytest.approx(b, abs=TOL)


@pytest.fixture(scope="module")
def astronaut_cli():
    report = run_cli(photo_path("astronaut.png"))
    assert len(report["faces"]) == 1
    return report


def test_pil_image_matches_cli(analyzer, astronaut_cli):
    from PIL import Image

    with Image.open(photo_path("astronaut.png")) as im:
        assert im.mode == "RGB"
        assert_matches_cli(analyzer.analyze(im), astronaut_cli["faces"])


def test_numpy_array_matches_cli(analyzer, astronaut, astronaut_cli):
    assert astronaut.shape == (astronaut_cli["height"], astronaut_cli["width"], 3)
    assert_matches_cli(analyzer.analyze(astronaut), astronaut_cli["faces"])


def test_detect_matches_analyze(analyzer, astronaut):
    faces = analyzer.analyze(astronaut)
    detections = analyzer.detect(astronaut)
    assert [d.bbox for d in detections] == [f.bbox for f in faces]
    assert [d.detection_score for d in detections] == [f.detection_score for f in faces]


def test_classify_given_boxes(analyzer, astronaut):
    # Plain boxes are read in the model's own geometry, that of the SeetaFace detector's square
    # boxes: classify of its boxes gives its faces.
    seeta = emotion.Analyzer(detector="seeta")
    (face,) = seeta.analyze(astronaut)
    x, y, w, h = face.bbox
    for boxes in ([face.bbox], [(x, y, w, h)], [[x, y, w, h]], np.array([[x, y, w, h]])):
        (got,) = seeta.classify(astronaut, boxes)
        assert got.detection_score is None
        assert got.bbox == face.bbox
        assert got.expression == face.expression
        for k, p in face.probabilities.items():
            assert got.probabilities[k] == pytest.approx(p, abs=TOL)
    # Detections keep their score and landmarks: analyze is classify(detect), for either detector.
    for a in (analyzer, seeta):
        assert results(a.classify(astronaut, a.detect(astronaut))) == results(a.analyze(astronaut))
    # YuNet's box (tighter, taller) given as a plain box: read in the model's geometry, so the
    # values differ a little from analyze's, the expression does not.
    (yunet,) = analyzer.analyze(astronaut)
    (plain,) = analyzer.classify(astronaut, [yunet.bbox])
    assert plain.expression == yunet.expression and plain.landmarks is None and plain != yunet
    assert analyzer.classify(astronaut, []) == []
    # Order is kept, boxes are clamped to the image.
    two = analyzer.classify(astronaut, [(0, 0, 100, 100), (-50, -50, 100, 100)])
    assert [tuple(f.bbox) for f in two] == [(0, 0, 100, 100), (0, 0, 50, 50)]


def test_grid_count(analyzer):
    # tests/data/astronaut-grid.png: 4 copies of one head, at 1.0, 0.7, 0.5 and 0.4 scale.
    faces = analyzer.analyze(load_rgb("astronaut-grid.png"))
    assert len(faces) == 4
    assert [f.expression for f in faces] == ["happy"] * 4
    # YuNet scaled for 80 px faces (the image at 1/4) loses one of the two 41-45 px copies; the
    # SeetaFace cascade at its 40 px window scaled to 80 px loses both.
    assert len(emotion.Analyzer(min_face_size=80).analyze(load_rgb("astronaut-grid.png"))) == 3
    assert len(emotion.Analyzer(min_face_size=80, detector="seeta").analyze(load_rgb("astronaut-grid.png"))) == 2


def test_multiface_count():
    analyzer = emotion.Analyzer(min_face_size=MULTIFACE_MIN_FACE_SIZE)
    faces = analyzer.analyze(load_rgb("multiface.jpg"))
    assert abs(len(faces) - 6) <= 1
    scores = [f.detection_score for f in faces]
    assert scores == sorted(scores, reverse=True)


def test_no_face(analyzer):
    assert analyzer.analyze(load_rgb("chelsea.png")) == []
    assert analyzer.detect(load_rgb("chelsea.png")) == []


def test_face_object(analyzer, astronaut):
    (face,) = analyzer.analyze(astronaut)
    assert isinstance(face, emotion.Face)
    assert isinstance(face.bbox, emotion.BBox)
    assert face.expression in emotion.EXPRESSIONS
    probs = face.probabilities
    assert list(probs) == list(emotion.EXPRESSIONS)
    assert math.fsum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    assert face.expression == max(probs, key=probs.get)
    assert -1.0 <= face.valence <= 1.0 and -1.0 <= face.arousal <= 1.0
    assert 0.7 <= face.detection_score <= 1.0  # YuNet's score, above its default threshold
    assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32
    # The dict is a copy.
    probs["happy"] = 5.0
    assert face.probabilities["happy"] <= 1.0
    # to_dict is JSON-serializable and has the CLI's face shape.
    d = face.to_dict()
    assert list(d) == ["bbox", "detection_score", "landmarks", "expression", "probabilities", "valence", "arousal"]
    assert d["landmarks"] == face.landmarks.tolist()
    assert json.loads(json.dumps(d)) == d
    r = repr(face)
    assert r.startswith(f"Face(expression='{face.expression}'") and "valence=" in r and "bbox=BBox(x=" in r
    # Read-only.
    with pytest.raises(AttributeError):
        face.valence = 0.0


def test_bbox_object():
    b = emotion.BBox(1.0, 2.0, 30.0, 40.0)
    x, y, w, h = b
    assert (x, y, w, h) == (1.0, 2.0, 30.0, 40.0) == tuple(b)
    assert (b.x, b.y, b.width, b.height) == (1.0, 2.0, 30.0, 40.0)
    assert b == emotion.BBox(1, 2, 30, 40) and b != emotion.BBox(1, 2, 30, 41)
    assert b.to_dict() == {"x": 1.0, "y": 2.0, "width": 30.0, "height": 40.0}
    assert repr(b) == "BBox(x=1.0, y=2.0, width=30.0, height=40.0)"


def test_detection_object(analyzer, astronaut):
    (d,) = analyzer.detect(astronaut)
    assert isinstance(d, emotion.Detection)
    assert d.to_dict() == {"bbox": d.bbox.to_dict(), "detection_score": d.detection_score,
                           "landmarks": d.landmarks.tolist()}
    assert repr(d).startswith("Detection(bbox=BBox(")
