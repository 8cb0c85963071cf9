"""What every front door shares, from Python: the option table (tests/options.json), the
library's image decoder (EXIF, damaged files), model information, max_faces, flip averaging,
whole-image classification, result helpers and drawing, each checked against the CLI."""

import json
import math
import subprocess
import warnings

import numpy as np
import pytest

import emotion
from conftest import CLI, REPO_ROOT, photo_path, run_cli

def f32(obj):
    """Numbers as float32, the library's precision: the CLI prints the shortest decimal of each
    float32, Python holds the same float32 widened to float64, so these compare equal exactly."""
    if isinstance(obj, dict):
        return {k: f32(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [f32(v) for v in obj]
    if isinstance(obj, float):
        return np.float32(obj)
    return obj


OPTIONS = json.loads((REPO_ROOT / "tests" / "options.json").read_text())["cases"]


def _value(v):
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


@pytest.mark.parametrize("case", OPTIONS, ids=lambda c: f"{c['option']}={c['value']}")
def test_option_table(case):
    option, value = case["option"], _value(case["value"])
    if option == "input_size":
        value = tuple(value)
    if case["valid"]:
        emotion.Analyzer(**{option: value})
    else:
        with pytest.raises(emotion.InvalidOptionError, match=option):
            emotion.Analyzer(**{option: value})


def test_zero_means_not_set():
    a = emotion.Analyzer(threads=0, max_faces=0, max_face_size=0, batch_size=0)
    assert a.model_info.batch_size == 1
    assert len(a.analyze(emotion.load_image(photo_path("multiface.jpg")))) == 6


def _exif_rotated_jpeg(tmp_path):
    """astronaut.png stored sideways in a JPEG whose EXIF Orientation (6) says to turn it upright."""
    from PIL import Image

    with Image.open(photo_path("astronaut.png")) as im:
        sideways = im.convert("RGB").transpose(Image.Transpose.ROTATE_90)  # 90 degrees counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    sideways.save(path, quality=95, exif=exif)
    return path


def test_load_image_applies_exif_and_matches_the_cli_bit_for_bit(analyzer, tmp_path):
    from PIL import Image

    path = _exif_rotated_jpeg(tmp_path)
    pixels = emotion.load_image(path)
    assert pixels.dtype == np.uint8 and pixels.shape == (512, 512, 3) and pixels.flags.c_contiguous
    with Image.open(path) as im:
        raw = np.asarray(im.convert("RGB"))  # what a plain PIL recipe sees: the sideways picture
    # The frontal SeetaFace cascade misses the sideways face (YuNet, the default, finds it).
    assert emotion.Analyzer(detector="seeta").analyze(raw) == []
    faces = analyzer.analyze(pixels)
    assert len(faces) == 1
    cli = run_cli(path)
    assert (cli["width"], cli["height"]) == (512, 512)
    # Same decoder, same pixels: equal numbers, not merely close ones.
    assert f32([f.to_dict() for f in faces]) == f32(cli["faces"])


def test_load_image_png_equals_pillow():
    from PIL import Image

    with Image.open(photo_path("astronaut.png")) as im:
        expected = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(emotion.load_image(str(photo_path("astronaut.png"))), expected)


def test_load_image_takes_str_bytes_and_pathlike_paths(tmp_path):
    import os
    import pathlib
    import shutil

    expected = emotion.load_image(str(photo_path("astronaut.png")))
    # A name that is not UTF-8, as os.listdir(b".") gives it on Unix.
    name = b"caf\xe9.png" if os.name == "posix" else "café.png".encode()
    target = os.path.join(os.fsencode(tmp_path), name)
    try:
        shutil.copyfile(os.fsencode(photo_path("astronaut.png")), target)
    except OSError:
        pytest.skip("this file system refuses the name caf\\xe9.png")

    class BytesPath(os.PathLike):
        def __fspath__(self):
            return target

    for path in [target, BytesPath(), os.fsdecode(target), pathlib.Path(os.fsdecode(target))]:
        np.testing.assert_array_equal(emotion.load_image(path), expected)
    with pytest.raises(FileNotFoundError):
        emotion.load_image(os.fsencode(tmp_path / "missing.png"))
    with pytest.raises(TypeError):
        emotion.load_image(42)


def test_damaged_files(tmp_path):
    data = _exif_rotated_jpeg(tmp_path).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(emotion.ImageError, match="truncated"):
        emotion.load_image(cut)
    with pytest.warns(emotion.PartialImageWarning, match="cut.jpg"):
        partial = emotion.load_image(cut, allow_partial=True)
    assert partial.shape == (512, 512, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emotion.load_image(tmp_path / "phone.jpg", allow_partial=True)  # intact: no warning
    with pytest.raises(FileNotFoundError):
        emotion.load_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(emotion.ImageError):
        emotion.load_image(tmp_path / "text.png")
    # The CLI skips the file with exit code 1.
    out = subprocess.run([str(CLI), str(cut)], capture_output=True, text=True)
    assert out.returncode == 1 and "truncated" in out.stderr


def test_model_info_matches_the_cli(analyzer):
    info = analyzer.model_info
    cli = json.loads(subprocess.run([str(CLI), "--model-info"], check=True, capture_output=True, text=True).stdout)
    assert f32(info.to_dict()) == f32(cli)
    assert info.version and info.version == run_cli(photo_path("astronaut.png"))["model_version"]
    assert info.labels == emotion.EXPRESSIONS
    assert info.input_size == (48, 48) and info.input_color == "gray"
    over = emotion.Analyzer(crop_scale=1.5, batch_size=4, flip_average=True).model_info
    assert (over.crop_scale, over.batch_size, over.flip_average) == (1.5, 4, True)


def test_max_faces_matches_the_cli():
    path = photo_path("multiface.jpg")
    image = emotion.load_image(path)
    every = emotion.Analyzer().analyze(image)
    two = emotion.Analyzer(max_faces=2).analyze(image)
    assert len(every) == 6 and len(two) == 2
    areas = sorted((f.bbox.width * f.bbox.height for f in every), reverse=True)
    assert sorted((f.bbox.width * f.bbox.height for f in two), reverse=True) == areas[:2]
    assert f32([f.to_dict() for f in two]) == f32(run_cli(path, "--max-faces", "2")["faces"])


def test_flip_average_matches_the_cli_and_is_mirror_symmetric(astronaut):
    flip = emotion.Analyzer(flip_average=True)
    path = photo_path("astronaut.png")
    assert f32([f.to_dict() for f in flip.analyze(astronaut)]) == f32(run_cli(path, "--flip-average")["faces"])
    (face,) = flip.analyze(astronaut)
    x, y, w, h = face.bbox
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    # The mirrored box as a detection (no landmarks): cut in the detector's geometry, as analyze does.
    box = emotion.Detection(emotion.BBox(astronaut.shape[1] - x - w, y, w, h), face.detection_score)
    (m,) = flip.classify(mirrored, [box])
    np.testing.assert_allclose(m.probability_vector, face.probability_vector, atol=1e-4)
    assert m.valence == pytest.approx(face.valence, abs=1e-4)


def test_whole_image_matches_the_cli(analyzer, astronaut, tmp_path):
    from PIL import Image

    (face,) = analyzer.analyze(astronaut)
    bx, by, bw, bh = face.bbox  # the middle of the detector's box: the face fills the frame
    x, y, w, h = int(bx + 0.15 * bw), int(by + 0.15 * bh), int(0.7 * bw), int(0.7 * bh)
    crop = np.ascontiguousarray(astronaut[y : y + h, x : x + w])
    path = tmp_path / "crop.png"
    Image.fromarray(crop).save(path)
    # Too tight for the SeetaFace cascade (YuNet still finds it).
    assert emotion.Analyzer(detector="seeta").analyze(crop) == []
    whole = analyzer.classify_image(crop)
    assert whole.to_dict() == analyzer.classify(crop, [(0, 0, w, h)])[0].to_dict()
    assert f32([whole.to_dict()]) == f32(run_cli(path, "--whole-image")["faces"])


def test_result_helpers(analyzer, astronaut):
    (face,) = analyzer.analyze(astronaut)
    v = face.probability_vector
    assert v.dtype == np.float32 and v.shape == (8,)
    assert v.tolist() == pytest.approx([face.probabilities[e] for e in emotion.EXPRESSIONS])
    assert emotion.EXPRESSIONS[int(np.argmax(v))] == face.expression
    top = face.top(3)
    assert top[0] == (face.expression, pytest.approx(float(v.max())))
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True) and len(top) == 3
    assert face.top() == top[:1] and len(face.top(8)) == 8
    with pytest.raises(ValueError):
        face.top(0)
    detection = analyzer.detect(astronaut)[0]
    assert detection.detection_score == face.detection_score
    for obj in (face, face.bbox, detection, analyzer.model_info):
        json.dumps(obj.to_dict())


def test_draw_matches_the_cli_annotation(analyzer, tmp_path):
    from PIL import Image

    path = photo_path("multiface.jpg")
    image = emotion.load_image(path)
    faces = analyzer.analyze(image)
    drawn = emotion.draw(image, faces)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert not np.array_equal(drawn, image)
    np.testing.assert_array_equal(emotion.load_image(path), image)  # the input is untouched
    out = tmp_path / "annotated"
    subprocess.run([str(CLI), "--annotate", str(out), str(path)], check=True, capture_output=True)
    with Image.open(out / "multiface.annotated.png") as im:
        np.testing.assert_array_equal(drawn, np.asarray(im.convert("RGB")))
    # BGR in, BGR out: the same picture with the channels swapped; gray stays gray.
    bgr = emotion.draw(np.ascontiguousarray(image[:, :, ::-1]), faces, color="bgr")
    np.testing.assert_array_equal(bgr[:, :, ::-1], drawn)
    gray = emotion.draw(image[:, :, 1], faces)
    assert gray.shape == image.shape[:2]
    assert emotion.draw(image, []).tolist() == image.tolist()
    assert not math.isnan(float(drawn.mean()))
