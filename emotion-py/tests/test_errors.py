"""Bad inputs raise the documented exceptions, with messages that say what is wrong."""

import numpy as np
import pytest

import emotion


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((64, 64, 3), np.float32), "dtype uint8, got float32"),
        (np.zeros((64, 64, 3), np.float64), "dtype uint8, got float64"),
        (np.zeros((64, 64, 3), np.int64), "dtype uint8, got int64"),
        (np.zeros((64, 64, 3), bool), "dtype uint8, got bool"),
        ([[0, 0, 0]], "got list"),
        (b"\0" * 100, "got bytes"),
        (None, "got NoneType"),
    ],
)
def test_wrong_type(analyzer, image, message):
    with pytest.raises(TypeError, match="image") as e:
        analyzer.analyze(image)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((64,), "2 dimensions (HxW gray) or 3 (HxWxC), got 1 with shape [64]"),
        ((1, 64, 64, 3), "got 4 with shape [1, 64, 64, 3]"),
        ((), "got 0"),
        ((64, 64, 2), "1, 3 or 4 channels on its last axis, got shape [64, 64, 2]"),
        ((64, 64, 5), "1, 3 or 4 channels"),
        ((0, 0, 3), "empty: shape [0, 0, 3]"),
        ((0, 64), "empty: shape [0, 64]"),
        ((64, 0, 4), "empty"),
    ],
)
def test_wrong_shape(analyzer, shape, message):
    with pytest.raises(ValueError) as e:
        analyzer.analyze(np.zeros(shape, np.uint8))
    assert message in str(e.value)
    assert not isinstance(e.value, emotion.EmotionError)


@pytest.mark.parametrize("color", ["RGB", "bgra", "hsv", ""])
def test_wrong_color(analyzer, color):
    with pytest.raises(ValueError, match='color must be "rgb" or "bgr"') as e:
        analyzer.analyze(np.zeros((64, 64, 3), np.uint8), color=color)
    assert repr(color) in str(e.value) or f'"{color}"' in str(e.value)


def test_color_is_keyword_only(analyzer):
    with pytest.raises(TypeError):
        analyzer.analyze(np.zeros((64, 64, 3), np.uint8), "bgr")


def test_bgr_with_pil_image(analyzer):
    from PIL import Image

    with pytest.raises(ValueError, match="only applies to numpy arrays"):
        analyzer.analyze(Image.new("RGB", (64, 64)), color="bgr")


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_pil_modes_wider_than_8_bits_are_refused(analyzer, mode):
    from PIL import Image

    # Pillow would clip these to 8 bits (not scale them) and the faces would silently vanish.
    with pytest.raises(ValueError, match="more than 8 bits per channel"):
        analyzer.analyze(Image.new(mode, (64, 64)))


def test_huge_strided_view_is_refused_before_copying(analyzer):
    # A zero-stride view describing 6 GB: rejected from its shape, nothing copied.
    view = np.broadcast_to(np.uint8(7), (2**31, 1, 3))
    with pytest.raises(emotion.ImageError, match="too large"):
        analyzer.analyze(view)


def test_empty_pil_image(analyzer):
    from PIL import Image

    with pytest.raises(ValueError, match="empty"):
        analyzer.analyze(Image.new("RGB", (0, 0)))


def test_missing_model_file(tmp_path):
    path = tmp_path / "nope.onnx"
    with pytest.raises(emotion.ModelError, match="cannot read") as e:
        emotion.Analyzer(path)
    assert str(path) in str(e.value)
    assert isinstance(e.value, emotion.EmotionError)


def test_corrupt_model_file(tmp_path):
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"this is not an onnx model" * 100)
    with pytest.raises(emotion.ModelError, match="cannot load model"):
        emotion.Analyzer(str(path))
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(emotion.ModelError, match="empty"):
        emotion.Analyzer(empty)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"min_face_size": 5}, "min_face_size = 5: must be in [10, 10000]"),
        ({"min_face_size": -40}, "min_face_size = -40: must be in [10, 10000] pixels"),
        ({"max_face_size": 19}, "max_face_size = 19: must be >= min_face_size"),
        ({"score_threshold": 1.5}, "score_threshold = 1.5: must be in [0, 1] for detector yunet"),
        ({"detector": "haar"}, 'detector = haar: must be "yunet" or "seeta"'),
        ({"score_threshold": float("nan")}, "score_threshold = NaN"),
        ({"pyramid_scale_factor": 1.5}, "pyramid_scale_factor = 1.5"),
        ({"window_step": 0}, "window_step = 0: must be in [1, 64]"),
        ({"threads": 257}, "threads = 257: must be in [0, 256] (0 = all cores)"),
        ({"max_faces": -1}, "max_faces = -1: must be in [0, 18446744073709551615] (0 = all)"),
        ({"crop_scale": 20.0}, "crop_scale = 20: must be in [0.1, 10]"),
        ({"input_color": "blue"}, "input_color = blue"),
    ],
)
def test_invalid_option(options, message):
    with pytest.raises(emotion.InvalidOptionError) as e:
        emotion.Analyzer(**options)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, emotion.EmotionError)


@pytest.mark.parametrize(
    "options, message",
    [
        # Beyond the option's type (u32, usize), even beyond 64 bits: the option's whole range.
        ({"threads": 10**30}, f"threads = {10**30}: must be in [0, 256] (0 = all cores)"),
        ({"threads": -(2**64)}, f"threads = {-(2**64)}: must be in [0, 256] (0 = all cores)"),
        ({"threads": np.uint64(2**64 - 1)}, "threads = 18446744073709551615: must be in [0, 256]"),
        ({"min_face_size": 2**32 + 40}, "min_face_size = 4294967336: must be in [10, 10000] pixels"),
        ({"min_face_size": 2**100}, f"min_face_size = {2**100}: must be in [10, 10000] pixels"),
        ({"max_face_size": 2**32}, "max_face_size = 4294967296: must be >= min_face_size and <= 4294967295"),
        ({"max_face_size": -5}, "max_face_size = -5: must be >= min_face_size and <= 4294967295"),
        ({"max_faces": 2**64}, "max_faces = 18446744073709551616: must be in [0, 18446744073709551615] (0 = all)"),
        ({"window_step": 2**63}, "window_step = 9223372036854775808: must be in [1, 64] pixels"),
        ({"window_step": -(2**70)}, f"window_step = {-(2**70)}: must be in [1, 64] pixels"),
        ({"batch_size": 10**20}, f"batch_size = {10**20}: must be in [0, 64] (0 = 1)"),
        ({"batch_size": -1}, "batch_size = -1: must be in [0, 64] (0 = 1)"),
        ({"input_size": (2**64, 64)}, "input_size = 18446744073709551616x64: each side must be in [8, 1024] pixels"),
        ({"input_size": (64, -8)}, "input_size = 64x-8: each side must be in [8, 1024] pixels"),
    ],
)
def test_integer_option_out_of_its_type(options, message):
    with pytest.raises(emotion.InvalidOptionError) as e:
        emotion.Analyzer(**options)
    assert message in str(e.value)


@pytest.mark.parametrize("value", [0, -3, 2**32 + 5, 10**30])
def test_tracker_detection_interval_out_of_range(value):
    with pytest.raises(emotion.InvalidOptionError) as e:
        emotion.Tracker(detection_interval=value)
    assert f"detection_interval = {value}: must be in [1, 1000] frames" in str(e.value)


@pytest.mark.parametrize("option", ["min_face_size", "window_step", "threads", "max_faces", "batch_size"])
def test_integer_option_of_another_type(option):
    # Still a TypeError, not an InvalidOptionError.
    for value in ("40", 40.0):
        with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
            emotion.Analyzer(**{option: value})
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        emotion.Tracker(detection_interval=10.0)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        emotion.Analyzer(None, 40)


@pytest.mark.parametrize(
    "box, error, message",
    [
        ((0, 0, 0, 10), emotion.InvalidBoxError, "width and height must be > 0"),
        ((1000, 1000, 10, 10), emotion.InvalidBoxError, "less than 1 pixel wide or high inside the image"),
        ((10, 10, 1e-30, 10), emotion.InvalidBoxError, "less than 1 pixel wide or high inside the image"),
        ((0, 0, float("inf"), 10), emotion.InvalidBoxError, "must be finite"),
        ((0, 0, 10), ValueError, "boxes[0] has 3 values; expected 4"),
        (("a", 0, 10, 10), TypeError, "boxes[0] must be 4 numbers"),
        (5, TypeError, "boxes[0] must be 4 numbers"),
    ],
)
def test_invalid_box(analyzer, box, error, message):
    with pytest.raises(error) as e:
        analyzer.classify(np.zeros((64, 64, 3), np.uint8), [box])
    assert message in str(e.value)


def test_boxes_not_a_sequence(analyzer):
    with pytest.raises(TypeError, match="boxes must be a sequence"):
        analyzer.classify(np.zeros((64, 64, 3), np.uint8), 5)


def test_exception_hierarchy():
    for cls in (emotion.ImageError, emotion.InvalidOptionError, emotion.InvalidBoxError):
        assert issubclass(cls, emotion.EmotionError) and issubclass(cls, ValueError)
    for cls in (emotion.ModelError, emotion.DetectorError, emotion.InferenceError):
        assert issubclass(cls, emotion.EmotionError) and not issubclass(cls, ValueError)


def test_exception_classes_are_the_native_modules():
    # Made once by the native module (errors.rs), re-exported unchanged by emotion._errors.
    from emotion import _emotion, _errors

    for name in _errors.__all__:
        assert getattr(emotion, name) is getattr(_emotion, name) is getattr(_errors, name), name
        assert getattr(emotion, name).__module__ == "emotion", name
    assert issubclass(emotion.PartialImageWarning, UserWarning)
    assert emotion.ImageError.__doc__.startswith("The pixels cannot be used")


def test_frame_time_out_of_order_is_an_invalid_option(analyzer):
    tracker = emotion.Tracker(analyzer)
    frame = np.zeros((48, 64, 3), np.uint8)
    tracker.update(frame, 10.0)
    with pytest.raises(emotion.InvalidOptionError, match=r"invalid frame time 5 ms: .*\(previous frame at 10 ms\)"):
        tracker.update(frame, 5.0)
