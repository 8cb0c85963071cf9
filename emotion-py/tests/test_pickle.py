"""Analyzers and results pickle, copy and compare by value, so process pools and clusters can
ship them; results computed in another process are identical."""

import copy
import multiprocessing
import pickle
import shutil
from concurrent.futures import ProcessPoolExecutor

import pytest

import emotion
from conftest import REPO_ROOT, load_rgb

BUNDLED_ONNX = REPO_ROOT / "emotion-core" / "models" / "emotion.onnx"
TINY_ONNX = REPO_ROOT / "emotion-core" / "tests" / "fixtures" / "tiny_ok.onnx"

# Every constructor option away from its default (model overrides at values the bundled model
# accepts: its own gray input size, other normalization and crop).
BUNDLED_INPUT_SIZE = emotion.Analyzer().model_info.input_size
ALL_OPTIONS = dict(
    min_face_size=24,
    max_face_size=300,
    max_faces=3,
    score_threshold=0.8,
    pyramid_scale_factor=0.7,
    window_step=3,
    threads=1,
    flip_average=True,
    input_color="gray",
    input_size=BUNDLED_INPUT_SIZE,
    mean=[0.45],
    std=[0.3],
    crop_scale=1.1,
    crop_shift_y=0.05,
    batch_size=4,
    align=True,
)
# The same for the 16x16 gray test model.
CUSTOM_OPTIONS = {**ALL_OPTIONS, "input_size": (16, 16)}


def roundtrips(obj):
    """obj through every pickle protocol, copy.copy and copy.deepcopy."""
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        yield pickle.loads(pickle.dumps(obj, protocol=protocol))
    yield copy.copy(obj)
    yield copy.deepcopy(obj)


def test_bundled_analyzer_pickles_by_reference(analyzer):
    data = pickle.dumps(analyzer)
    # Settings only: the bundled model is compiled into the library, not shipped.
    assert len(data) < 1000, len(data)
    for clone in roundtrips(analyzer):
        assert type(clone) is emotion.Analyzer
        assert clone == analyzer and hash(clone) == hash(analyzer)


def test_every_option_survives_and_changes_equality():
    base = emotion.Analyzer()
    for name, value in {**ALL_OPTIONS, "detector": "seeta"}.items():
        one = emotion.Analyzer(**{name: value})
        assert one != base, name
        clone = pickle.loads(pickle.dumps(one))
        assert clone == one and hash(clone) == hash(one), name
        assert clone != base, name
    every = emotion.Analyzer(**ALL_OPTIONS)
    for clone in roundtrips(every):
        assert clone == every and hash(clone) == hash(every)
    # Equality is by settings, not identity; "not set" is the same whether None or 0.
    assert emotion.Analyzer(**ALL_OPTIONS) == every
    assert emotion.Analyzer(threads=0, max_faces=0, max_face_size=0) == base


def test_options_take_effect_after_unpickling():
    image = load_rgb("astronaut-grid.png")  # 4 faces, 2 of them over 80 px
    # YuNet scaled for 80 px faces runs on the image at 1/4: one of the two 41-45 px faces is lost.
    large_only = emotion.Analyzer(min_face_size=80, threads=1)
    faces = large_only.analyze(image)
    assert len(faces) == 3 and len(emotion.Analyzer().analyze(image)) == 4
    assert pickle.loads(pickle.dumps(large_only)).analyze(image) == faces
    # Every option at once: the clone reports what the original does, and differs from defaults.
    every = emotion.Analyzer(**ALL_OPTIONS)
    clone = pickle.loads(pickle.dumps(every))
    assert clone.model_info.to_dict() == every.model_info.to_dict()
    assert clone.model_info.flip_average and clone.model_info.align and clone.model_info.batch_size == 4
    assert clone.model_info.crop_scale == pytest.approx(1.1) and clone.model_info.mean == pytest.approx([0.45])
    faces = every.analyze(image)
    assert len(faces) == 3  # max_faces
    assert clone.analyze(image) == faces
    assert clone.detect(image) == every.detect(image)
    assert faces != emotion.Analyzer(max_faces=3).analyze(image)  # the overrides change the values


def test_custom_model_pickles_by_bytes(tmp_path, astronaut):
    path = tmp_path / "custom.onnx"
    shutil.copyfile(TINY_ONNX, path)
    custom = emotion.Analyzer(path, min_face_size=30)
    data = pickle.dumps(custom)
    assert TINY_ONNX.read_bytes() in data
    path.unlink()  # the model travels inside the pickle, not as a path
    clone = pickle.loads(data)
    assert clone == custom
    assert clone.model_info.version == "fixture"
    assert clone.analyze(astronaut) == custom.analyze(astronaut)
    # Same model from bytes or from its file: equal; another model or the bundled one: not.
    assert emotion.Analyzer(model_bytes=TINY_ONNX.read_bytes(), min_face_size=30) == custom
    assert emotion.Analyzer(TINY_ONNX) != emotion.Analyzer()
    assert emotion.Analyzer(BUNDLED_ONNX) != emotion.Analyzer(TINY_ONNX)
    # The bundled network given as a file is a custom model that gives the bundled results.
    from_file = emotion.Analyzer(BUNDLED_ONNX)
    assert from_file != emotion.Analyzer()
    assert pickle.loads(pickle.dumps(from_file)).analyze(astronaut) == emotion.Analyzer().analyze(astronaut)


def test_custom_model_with_every_option_pickles():
    image = load_rgb("astronaut-grid.png")
    custom = emotion.Analyzer(TINY_ONNX, **CUSTOM_OPTIONS)
    assert custom != emotion.Analyzer(TINY_ONNX)
    for name, value in CUSTOM_OPTIONS.items():
        assert emotion.Analyzer(TINY_ONNX, **{name: value}) != emotion.Analyzer(TINY_ONNX), name
    for clone in roundtrips(custom):
        assert clone == custom and hash(clone) == hash(custom)
        assert clone.model_info.to_dict() == custom.model_info.to_dict()
    clone = pickle.loads(pickle.dumps(custom))
    faces = custom.analyze(image)
    assert len(faces) == 3  # max_faces
    assert clone.analyze(image) == faces
    # The overrides are in force after unpickling: they change the tiny model's values.
    detector_only = ("max_faces", "min_face_size", "window_step", "max_face_size", "score_threshold",
                     "pyramid_scale_factor")
    assert faces != emotion.Analyzer(TINY_ONNX, **{k: CUSTOM_OPTIONS[k] for k in detector_only}).analyze(image)


def test_model_path_and_bytes_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        emotion.Analyzer(TINY_ONNX, model_bytes=TINY_ONNX.read_bytes())
    with pytest.raises(emotion.ModelError):
        emotion.Analyzer(model_bytes=b"not a model")


def test_results_pickle_copy_and_compare_by_value(analyzer):
    image = load_rgb("astronaut-grid.png")
    faces = analyzer.analyze(image)
    detections = analyzer.detect(image)
    assert len(faces) == 4 and len(detections) == 4
    for objects in (faces, detections, [f.bbox for f in faces]):
        for obj in objects:
            for clone in roundtrips(obj):
                assert type(clone) is type(obj)
                assert clone == obj and hash(clone) == hash(obj)
                assert clone.to_dict() == obj.to_dict()
        assert len(set(objects)) == len(objects)  # distinct faces stay distinct
    assert faces[0] != faces[1] and detections[0] != detections[1]
    # A classify result (no detection score) too.
    (boxed,) = analyzer.classify(image, [faces[0].bbox])
    assert boxed.detection_score is None
    assert pickle.loads(pickle.dumps(boxed)) == boxed != faces[0]


def test_constructors_build_equal_results(analyzer, astronaut):
    (face,) = analyzer.analyze(astronaut)
    (det,) = analyzer.detect(astronaut)
    d = face.to_dict()
    bbox = emotion.BBox(**d["bbox"])
    assert bbox == face.bbox
    assert emotion.Detection(bbox, det.detection_score, det.landmarks) == det
    assert emotion.Detection(bbox, det.detection_score) != det  # the landmarks are part of the value
    args = (d["valence"], d["arousal"], d["detection_score"], d["landmarks"])
    assert emotion.Face(bbox, d["probabilities"], *args) == face
    probs = [d["probabilities"][e] for e in emotion.EXPRESSIONS]
    rebuilt = emotion.Face(bbox, probs, *args)
    assert rebuilt == face and rebuilt.expression == face.expression
    with pytest.raises(ValueError, match="8 values"):
        emotion.Face(bbox, probs[:7], 0.0, 0.0)
    missing = {k: v for k, v in d["probabilities"].items() if k != "contempt"}
    with pytest.raises(ValueError, match="8 expressions"):
        emotion.Face(bbox, missing, 0.0, 0.0)
    with pytest.raises(ValueError, match='no "contempt"'):
        emotion.Face(bbox, {**missing, "joy": 0.0}, 0.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        emotion.Face(bbox, probs, float("nan"), 0.0)


# --- another process ------------------------------------------------------------------------

# The repository's test images: 1, 4, 0 and 0 faces.
PHOTOS = ["astronaut.png", "astronaut-grid.png", "chelsea.png", "coffee.png"]


def analyze_photo(analyzer, name):
    """Runs in a worker process: the analyzer arrives pickled, the faces go back pickled."""
    return analyzer.analyze(load_rgb(name))


def test_process_pool_equals_sequential():
    analyzer = emotion.Analyzer(min_face_size=30, threads=1)
    custom = emotion.Analyzer(TINY_ONNX, **CUSTOM_OPTIONS)
    sequential = [analyzer.analyze(load_rgb(n)) for n in PHOTOS]
    sequential_custom = [custom.analyze(load_rgb(n)) for n in PHOTOS]
    assert [len(f) for f in sequential] == [1, 4, 0, 0]
    assert [len(f) for f in sequential_custom] == [1, 3, 0, 0]
    # spawn: a fresh interpreter that imports emotion and unpickles everything it gets.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parallel = list(pool.map(analyze_photo, [analyzer] * len(PHOTOS), PHOTOS))
        parallel_custom = list(pool.map(analyze_photo, [custom] * len(PHOTOS), PHOTOS))
    assert parallel == sequential
    assert parallel_custom == sequential_custom
