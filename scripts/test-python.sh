#!/usr/bin/env bash
# Builds the `emotion` wheel and sdist as they are published, installs each into a fresh virtual
# environment and runs the Python tests against the installed package:
#   1. the wheel: manylinux2014 (glibc 2.17) abi3, linked with zig (`maturin build --zig`), checked
#      with `auditwheel show`; the binding's tests (emotion-py/tests) and the training pipeline's
#      (training/tests) run against it;
#   2. the sdist (`maturin sdist`): pip builds it from source in a second fresh environment, and
#      the install, front-door parity and result tests run again (the rest would test the same
#      code twice). The build reuses the wheel's compiled dependencies (same target folder, same
#      zig settings), so it compiles only the two emotion crates.
# Run from anywhere; needs python3 (with venv and pip) and a Rust toolchain. Set PYTHON to choose
# the interpreter.
#
#   scripts/test-python.sh            # extra arguments go to pytest, e.g. -k layouts
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
MATURIN_VERSION=1.16.0
ZIG_VERSION=0.15.2        # ziglang wheel from PyPI: the C compiler and linker that target glibc 2.17
AUDITWHEEL_VERSION=6.8.2
BUILD_VENV=target/py-build-venv
TEST_VENV=target/py-test-venv
SDIST_VENV=target/py-sdist-venv
WHEELS=target/wheels
# The wheel is built with zig as C compiler and linker, which changes how C parts of dependencies
# are compiled, so it has its own target folder and never invalidates the workspace build.
ZIG_TARGET_DIR=$PWD/target/zig
ZIG_ARGS=(--zig --compatibility manylinux2014)

step() { printf '\n== %s\n' "$*"; }

# 1. maturin, zig and auditwheel, in their own venv.
tools_ok() {
    [[ -x "$BUILD_VENV/bin/maturin" ]] &&
        [[ "$("$BUILD_VENV/bin/maturin" --version)" == "maturin $MATURIN_VERSION" ]] &&
        [[ "$("$BUILD_VENV/bin/python" -m ziglang version 2>/dev/null)" == "$ZIG_VERSION" ]] &&
        [[ -x "$BUILD_VENV/bin/auditwheel" ]]
}
if ! tools_ok; then
    step "build tools: maturin $MATURIN_VERSION, ziglang $ZIG_VERSION, auditwheel $AUDITWHEEL_VERSION"
    "$PYTHON" -m venv "$BUILD_VENV"
    "$BUILD_VENV/bin/python" -m pip install --quiet "maturin==$MATURIN_VERSION" \
        "ziglang==$ZIG_VERSION" "auditwheel==$AUDITWHEEL_VERSION"
fi
MATURIN="$BUILD_VENV/bin/maturin"
export PATH="$PWD/$BUILD_VENV/bin:$PATH"   # maturin finds `python -m ziglang` through PATH

# 2. The wheel and the sdist.
step "wheel (manylinux2014, zig) and sdist"
rm -f "$WHEELS"/emotion-*.whl "$WHEELS"/emotion-*.tar.gz
CARGO_TARGET_DIR=$ZIG_TARGET_DIR "$MATURIN" build --release "${ZIG_ARGS[@]}" -m emotion-py/Cargo.toml \
    -o "$WHEELS" --interpreter "$PYTHON"
"$MATURIN" sdist -m emotion-py/Cargo.toml -o "$WHEELS"
wheel=$(ls "$WHEELS"/emotion-*.whl)
sdist=$(ls "$WHEELS"/emotion-*.tar.gz)
ls -l "$wheel" "$sdist"

step "auditwheel show"
"$BUILD_VENV/bin/auditwheel" show "$wheel" | tee target/auditwheel.txt
if ! grep -q 'manylinux_2_17_x86_64' target/auditwheel.txt || [[ "$wheel" != *manylinux_2_17_x86_64* ]]; then
    echo "the wheel is not manylinux_2_17 (manylinux2014)" >&2
    exit 1
fi

step "licence files in the wheel and the sdist"
"$PYTHON" - "$wheel" "$sdist" <<'PY'
import sys, tarfile, zipfile
wheel, sdist = sys.argv[1:]
names = zipfile.ZipFile(wheel).namelist()
need = ["LICENSE-MIT", "LICENSE-APACHE", "THIRD_PARTY_NOTICES.md"]
missing = [n for n in need if not any(x.endswith(".dist-info/licenses/" + n) for x in names)]
members = tarfile.open(sdist).getnames()
for path in need + ["emotion-core/models/emotion.onnx", "emotion-core/models/seeta_fd_frontal_v1.0.bin",
                    "emotion-core/models/LICENSE-seetaface.txt"]:
    if not any(m.endswith("/" + path) for m in members):
        missing.append("sdist: " + path)
if missing:
    sys.exit(f"missing from the distributions: {missing}")
print("wheel and sdist carry", ", ".join(need))
PY

# The CLI the parity tests compare against: the workspace build (a no-op after scripts/test.sh).
cargo build --release --workspace --exclude emotion-py

# 3. The wheel in a fresh venv with only it and the test tools: the source tree is not importable.
step "tests against the installed wheel"
rm -rf "$TEST_VENV"
"$PYTHON" -m venv "$TEST_VENV"
# The training pipeline's pinned stack (TensorFlow CPU, tf2onnx, onnxruntime) goes in the same
# venv: its tests export models and load them in the library through this wheel.
# The `dask` extra (dask.distributed) runs the Dask example's test; `pandas` emotion.to_dataframe's.
"$TEST_VENV/bin/python" -m pip install --quiet "$wheel[dask,pandas]" -r training/requirements.txt mypy==2.4.1
# From the repository root: the `training` package is importable from there, the `emotion`
# package only from site-packages.
"$TEST_VENV/bin/python" -m pytest emotion-py/tests training/tests -q -p no:cacheprovider --durations=10 "$@"

# 4. The sdist, built from source by pip (maturin as its PEP 517 backend), installed in another
#    fresh venv. pip runs in the build-tools venv without build isolation, so the backend is the
#    pinned maturin that built the wheel: its zig wrappers (whose path is part of the C compiler
#    setting cargo sees) are the same, and the build reuses the dependencies compiled in step 2.
step "tests against the sdist, built from source by pip"
rm -rf "$SDIST_VENV" target/sdist-wheel
CARGO_TARGET_DIR=$ZIG_TARGET_DIR MATURIN_PEP517_ARGS="${ZIG_ARGS[*]}" \
    "$BUILD_VENV/bin/python" -m pip wheel --quiet --no-build-isolation --no-deps "$sdist" -w target/sdist-wheel
"$PYTHON" -m venv "$SDIST_VENV"
"$SDIST_VENV/bin/python" -m pip install --quiet target/sdist-wheel/emotion-*.whl pytest pillow mypy==2.4.1
"$SDIST_VENV/bin/python" -m pytest emotion-py/tests/test_install.py emotion-py/tests/test_doors.py \
    emotion-py/tests/test_results.py -q -p no:cacheprovider "$@"
