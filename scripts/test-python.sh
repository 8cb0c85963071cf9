#!/usr/bin/env bash
# Builds the `emotion` wheel, installs it into a fresh virtual environment and runs the Python
# tests against the installed package: the binding's (emotion-py/tests) and the training
# pipeline's (training/tests). Run from anywhere; needs python3 (with venv and pip) and a
# Rust toolchain. Set PYTHON to choose the interpreter.
#
#   scripts/test-python.sh            # extra arguments go to pytest, e.g. -k layouts
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
MATURIN_VERSION=1.16.0
BUILD_VENV=target/py-build-venv
TEST_VENV=target/py-test-venv
WHEELS=target/wheels

# 1. maturin, in its own venv unless one is already on PATH at the right version.
if command -v maturin >/dev/null && [[ "$(maturin --version)" == "maturin $MATURIN_VERSION" ]]; then
    MATURIN=maturin
else
    if [[ ! -x "$BUILD_VENV/bin/maturin" ]] || [[ "$("$BUILD_VENV/bin/maturin" --version)" != "maturin $MATURIN_VERSION" ]]; then
        "$PYTHON" -m venv "$BUILD_VENV"
        "$BUILD_VENV/bin/python" -m pip install --quiet "maturin==$MATURIN_VERSION"
    fi
    MATURIN="$BUILD_VENV/bin/maturin"
fi

# 2. The wheel (release profile, shared target dir) and the CLI the parity test compares against.
rm -f "$WHEELS"/emotion-*.whl
"$MATURIN" build --release -m emotion-py/Cargo.toml -o "$WHEELS" --interpreter "$PYTHON"
cargo build --release --workspace --exclude emotion-py   # same selection as scripts/test.sh: a no-op after it

# 3. A fresh venv with only the wheel and the test tools: the source tree is not importable.
rm -rf "$TEST_VENV"
"$PYTHON" -m venv "$TEST_VENV"
# The training pipeline's pinned stack (TensorFlow CPU, tf2onnx, onnxruntime) goes in the same
# venv: its tests export models and load them in the library through this wheel.
# The `dask` extra (dask.distributed) runs the Dask example's test.
WHEEL=$(ls "$WHEELS"/emotion-*.whl)
"$TEST_VENV/bin/python" -m pip install --quiet "$WHEEL[dask]" \
    -r training/requirements.txt mypy==2.4.1

# 4. The tests, from the repository root (the `training` package is importable from there; the
#    `emotion` package only from site-packages).
"$TEST_VENV/bin/python" -m pytest emotion-py/tests training/tests -q -p no:cacheprovider "$@"
