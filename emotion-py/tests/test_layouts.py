"""Every accepted pixel layout gives the faces of the plain RGB array: exactly where the pixels
are the same, approximately where a conversion changes them (gray)."""

import numpy as np
import pytest

import emotion
from conftest import results


@pytest.fixture(scope="module")
def expected(analyzer, astronaut):
    faces = analyzer.analyze(astronaut)
    assert len(faces) == 1
    return results(faces)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma as the library computes it (8.8 fixed point)."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((77 * r + 150 * g + 29 * b + 128) >> 8).astype(np.uint8)


def test_rgba(analyzer, astronaut, expected):
    alpha = np.random.default_rng(0).integers(0, 256, astronaut.shape[:2], dtype=np.uint8)
    rgba = np.dstack([astronaut, alpha])
    assert rgba.shape[2] == 4
    assert results(analyzer.analyze(rgba)) == expected


def test_bgr_reversed_view(analyzer, astronaut, expected):
    bgr = astronaut[:, :, ::-1]  # negative channel stride: copied
    assert bgr.strides[2] == -1
    assert results(analyzer.analyze(bgr, color="bgr")) == expected


def test_bgr_contiguous(analyzer, astronaut, expected):
    bgr = np.ascontiguousarray(astronaut[:, :, ::-1])  # as cv2.imread gives: borrowed
    assert results(analyzer.analyze(bgr, color="bgr")) == expected
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])
    assert results(analyzer.analyze(bgra, color="bgr")) == expected


def test_bgr_without_color_differs(analyzer, astronaut, expected):
    # The default is RGB: a BGR frame passed without color="bgr" is read with red and blue swapped.
    bgr = np.ascontiguousarray(astronaut[:, :, ::-1])
    assert results(analyzer.analyze(bgr)) != expected


def test_gray(analyzer, astronaut, expected):
    gray = luma(astronaut)
    seeta = emotion.Analyzer(detector="seeta")
    (seeta_rgb,) = results(seeta.analyze(astronaut))
    for image in (gray, gray[:, :, None]):
        (face,) = results(analyzer.analyze(image))
        # YuNet reads colour: on gray pixels its box moves a little.
        for k, v in face["bbox"].items():
            assert v == pytest.approx(expected[0]["bbox"][k], abs=4.0)
        assert face["expression"] == expected[0]["expression"]
        for k, p in face["probabilities"].items():
            assert p == pytest.approx(expected[0]["probabilities"][k], abs=0.05)
        # The SeetaFace cascade reads luma only: the same box as from the colour image.
        (seeta_face,) = results(seeta.analyze(image))
        assert seeta_face["bbox"] == seeta_rgb["bbox"]


def test_gray_pil_modes(analyzer, astronaut, expected):
    from PIL import Image

    pil = Image.fromarray(astronaut)
    for mode in ("L", "LA", "P", "RGBA"):
        (face,) = analyzer.analyze(pil.convert(mode))
        assert face.bbox.to_dict() == pytest.approx(expected[0]["bbox"], abs=4.0), mode
        assert face.expression == expected[0]["expression"], mode


def test_pil_la_mode_is_read_as_gray(analyzer, astronaut):
    from PIL import Image

    # La (premultiplied alpha) as LA: its luma, alpha ignored; opaque, exactly the L image's.
    gray = Image.fromarray(astronaut).convert("L")
    la = gray.convert("LA").convert("La")
    assert la.mode == "La"
    faces = results(analyzer.analyze(la))
    assert len(faces) == 1 and faces == results(analyzer.analyze(gray))


def test_negative_row_stride(analyzer, astronaut, expected):
    upside_down = np.ascontiguousarray(astronaut[::-1])
    view = upside_down[::-1]  # the original picture through a negative row stride
    assert view.strides[0] < 0
    assert results(analyzer.analyze(view)) == expected


def test_mirrored(analyzer, astronaut, expected):
    mirrored = astronaut[:, ::-1]  # negative pixel stride
    faces = results(analyzer.analyze(mirrored))
    assert faces == results(analyzer.analyze(np.ascontiguousarray(mirrored)))
    (face,) = faces
    width = astronaut.shape[1]
    want = expected[0]["bbox"]
    assert face["bbox"]["x"] == pytest.approx(width - want["x"] - want["width"], abs=8)


def test_crop_of_larger_array(analyzer, astronaut, expected):
    padded = np.zeros((astronaut.shape[0] + 20, astronaut.shape[1] + 40, 3), np.uint8)
    padded[10:-10, 20:-20] = astronaut
    view = padded[10:-10, 20:-20]  # row stride larger than a row: borrowed with its stride
    assert not view.flags.c_contiguous
    assert results(analyzer.analyze(view)) == expected


def test_fortran_order(analyzer, astronaut, expected):
    f = np.asfortranarray(astronaut)
    assert not f.flags.c_contiguous
    assert results(analyzer.analyze(f)) == expected


def test_subsampled(analyzer, astronaut):
    view = astronaut[::2, ::2]
    assert results(analyzer.analyze(view)) == results(analyzer.analyze(np.ascontiguousarray(view)))


def test_read_only_array(analyzer, astronaut, expected):
    ro = astronaut.copy()
    ro.flags.writeable = False
    assert results(analyzer.analyze(ro)) == expected


def test_broadcast_zero_strides(analyzer):
    flat = np.broadcast_to(np.uint8(128), (64, 64, 3))
    assert analyzer.analyze(flat) == []


def test_one_row_and_one_column(analyzer):
    assert analyzer.analyze(np.zeros((1, 50, 3), np.uint8)) == []
    assert analyzer.analyze(np.zeros((50, 1), np.uint8)) == []
    assert analyzer.classify(np.zeros((1, 1, 3), np.uint8), [(0, 0, 1, 1)])[0].bbox == emotion.BBox(0, 0, 1, 1)
