#!/usr/bin/env bash
# Every test, in every language: Rust (cargo test), C (scripts/test-c.sh: gcc -Werror, parity
# with the CLI, valgrind), Python (scripts/test-python.sh: wheel, fresh venv, pytest for the
# binding and the training pipeline), the webcam page in headless Chromium
# (scripts/test-browser.sh, which skips with a visible line where no browser is installed).
#
# Runs on a fresh clone: the test images are in the repository. Tests that need the test-only
# data of ../shared (labelled photos, FER+) print a SKIP line when it is absent;
# EMOTION_REQUIRE_SHARED=1 (set by .ci/run) makes that a failure instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# One release build of the whole workspace: tests, the C library and the CLI share it.
cargo build --release --workspace --exclude emotion-py
cargo test --release --workspace --exclude emotion-py
bash scripts/test-c.sh
bash scripts/test-python.sh
bash scripts/test-browser.sh
