"""The package is the installed wheel, and carries its version, stubs and py.typed."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import emotion
from conftest import REPO_ROOT


def test_imported_from_site_packages():
    # scripts/test-python.sh installs the wheel into a fresh venv; the source tree is not on sys.path.
    assert "site-packages" in Path(emotion.__file__).parts, emotion.__file__


def test_version_is_the_crate_version():
    cargo = (REPO_ROOT / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.MULTILINE).group(1)
    assert emotion.__version__ == version


def test_typing_files_are_shipped():
    package = Path(emotion.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_emotion.pyi").exists()


def test_expressions_in_affectnet_order():
    assert emotion.EXPRESSIONS == ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt")


def test_public_names():
    for name in emotion.__all__:
        assert hasattr(emotion, name), name
    assert emotion.Analyzer.__module__ == "emotion"
    assert repr(emotion.ImageError) == "<class 'emotion.ImageError'>"


def test_stubs_match_runtime(tmp_path):
    pytest.importorskip("mypy")  # installed by scripts/test-python.sh
    stubtest = [sys.executable, "-m", "mypy.stubtest", "emotion"]
    run = subprocess.run(stubtest, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
