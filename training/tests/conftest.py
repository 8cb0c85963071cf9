"""Shared fixtures. Paths come from training.config, which resolves ../shared from the repo root
(the parent of training/), so the tests run from any working directory."""
import os

import pytest

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from training import config  # noqa: E402


def pytest_configure(config):
    # Keras 3.15 on numpy 2.4 warns once per weight copy; noise, not a problem of ours.
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:`shuffle=True` was passed:UserWarning")


@pytest.fixture(scope="session")
def shared():
    """FER+ data from ../shared; skipped (visibly) where it is absent, e.g. a stranger's clone."""
    if not (config.FERPLUS_TRAIN / "label.csv").exists():
        reason = f"FER+ data not found at {config.FERPLUS_TRAIN} (set EMOTION_SHARED)"
        if os.environ.get("EMOTION_REQUIRE_SHARED") == "1":   # CI: never skip
            pytest.fail(f"{reason} and EMOTION_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return config.SHARED


def _train_and_export(tmp_root, backbone, train_args):
    from training import export, train
    run = tmp_root / f"run-{backbone}"
    train.main(["--backbone", backbone, "--out", str(run), *train_args])
    onnx_path = tmp_root / f"{backbone}.onnx"
    export.main(["--run", str(run), "--out", str(onnx_path), "--crop-scale", "1.3",
                 "--crop-shift-y", "-0.02"])
    return run, onnx_path


# A few steps on 300 FER+ images: deterministic (fixed seed, numpy augmentation), seconds.
# Precise BN over 2 batches, not 100: its eager forward passes took 20 s of each smoke run.
SMOKE = ["--limit", "300", "--batch-size", "32", "--steps", "3", "--epochs", "1",
         "--checkpoint-min", "100", "--precise-bn-batches", "2"]


@pytest.fixture(scope="session")
def resnet_model(tmp_path_factory, shared):
    """The default backbone (resnet, 48x48 gray), smoke-trained and exported."""
    return _train_and_export(tmp_path_factory.mktemp("resnet"), "resnet", SMOKE)


@pytest.fixture(scope="session")
def mini_model(tmp_path_factory, shared):
    """mini_xception (depthwise-separable, 64x64 gray), smoke-trained from scratch and exported."""
    return _train_and_export(tmp_path_factory.mktemp("mini"), "mini_xception", SMOKE)
