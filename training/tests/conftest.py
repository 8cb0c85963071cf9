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
    assert (config.FERPLUS_TRAIN / "label.csv").exists(), f"missing {config.FERPLUS_TRAIN}"
    return config.SHARED


def _train_and_export(tmp_root, backbone, train_args):
    from training import export, train
    run = tmp_root / f"run-{backbone}"
    train.main(["--backbone", backbone, "--out", str(run), *train_args])
    onnx_path = tmp_root / f"{backbone}.onnx"
    export.main(["--run", str(run), "--out", str(onnx_path), "--crop-scale", "1.3",
                 "--crop-shift-y", "-0.02"])
    return run, onnx_path


@pytest.fixture(scope="session")
def mini_model(tmp_path_factory, shared):
    """mini_xception (pretrained init): 300 FER+ images, 1 frozen + 1 fine-tune epoch of 3 steps."""
    return _train_and_export(tmp_path_factory.mktemp("mini"), "mini_xception",
                             ["--limit", "300", "--batch-size", "32", "--steps", "3",
                              "--frozen-epochs", "1", "--epochs", "1"])


@pytest.fixture(scope="session")
def nasnet_model(tmp_path_factory, shared):
    """nasnetmobile (224x224x3, weights=None): 24 FER+ images, 2 eager steps of batch 4 (tracing
    NASNet's training graph costs minutes on 2 cores; the ONNX conversion still takes ~1-2 min)."""
    return _train_and_export(tmp_path_factory.mktemp("nasnet"), "nasnetmobile",
                             ["--limit", "24", "--val-frac", "0.2", "--batch-size", "4",
                              "--steps", "2", "--epochs", "1", "--run-eagerly"])
