"""Shared fixtures. Test images come from the repository (examples/data, tests/data); a few
tests also read test-only photos from ../shared/photos beside the repository and skip, saying what
is missing, when it is absent (CI sets EMOTION_REQUIRE_SHARED=1 to turn such a skip into a
failure). Paths are resolved from this file's location."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import emotion

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where each test image lives: the repository's own images first, then ../shared (optional).
IMAGE_DIRS = [REPO_ROOT / "examples" / "data", REPO_ROOT / "tests" / "data"]
# $EMOTION_SHARED, else ../shared beside the repository (as training/config.py resolves it).
SHARED_PHOTOS = Path(os.environ.get("EMOTION_SHARED", REPO_ROOT.parent / "shared")) / "photos" / "misc"
CLI = REPO_ROOT / "target" / "release" / "emotion"

# multiface.jpg (../shared) holds 6 faces of ~90 px: the default min_face_size finds them (20-32
# also report a 7th, ~70 px box, and run 2-4x slower).
MULTIFACE_MIN_FACE_SIZE = 40


def photo_path(name: str) -> Path:
    """A test image: examples/data or tests/data in the repository, else ../shared/photos/misc
    (skipping the test when that is absent)."""
    for folder in IMAGE_DIRS:
        if (folder / name).exists():
            return folder / name
    path = SHARED_PHOTOS / name
    if not path.exists():
        reason = f"needs {path} (test-only photo beside the repository), absent"
        if os.environ.get("EMOTION_REQUIRE_SHARED") == "1":
            pytest.fail(f"{reason} and EMOTION_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return path


def load_rgb(name: str) -> np.ndarray:
    """HxWx3 uint8 RGB array, C-contiguous."""
    from PIL import Image

    with Image.open(photo_path(name)) as im:
        return np.asarray(im.convert("RGB")).copy()


def run_cli(path: Path, *args: str) -> dict:
    """The Rust CLI's JSON object for one image."""
    if not CLI.exists():
        pytest.fail(f"{CLI} not built: run `cargo build --release -p emotion-cli` (scripts/test-python.sh does)")
    out = subprocess.run([str(CLI), *args, str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def results(faces) -> list:
    """Faces or detections as plain dicts (for exact comparisons)."""
    return [f.to_dict() for f in faces]


@pytest.fixture(scope="session")
def analyzer() -> emotion.Analyzer:
    return emotion.Analyzer()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return load_rgb("astronaut.png")
