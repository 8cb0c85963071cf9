"""Shared fixtures. Test photos live outside the repository, in ../shared/photos (test-only data,
never packaged); paths are resolved from this file's location."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import emotion

REPO_ROOT = Path(__file__).resolve().parents[2]
PHOTOS = REPO_ROOT.parent / "shared" / "photos" / "misc"
CLI = REPO_ROOT / "target" / "release" / "emotion"

# multiface.jpg holds 6 faces of ~90 px: the default min_face_size finds them (20-32 also report
# a 7th, ~70 px box, and run 2-4x slower).
MULTIFACE_MIN_FACE_SIZE = 40


def photo_path(name: str) -> Path:
    path = PHOTOS / name
    if not path.exists():
        pytest.fail(f"test photo missing: {path} (expected in ../shared/photos/misc next to the repository)")
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
