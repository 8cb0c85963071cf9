#!/usr/bin/env bash
# Every test, in every language: Rust (cargo test), C (scripts/test-c.sh: gcc -Werror, parity
# with the CLI, valgrind), Python (scripts/test-python.sh: wheel, fresh venv, pytest for the
# binding and the training pipeline), the webcam page in headless Chromium
# (scripts/test-browser.sh). Needs ../shared beside the repository (test photos, data).
set -euo pipefail
cd "$(dirname "$0")/.."

# One release build of the whole workspace: tests, the C library and the CLI share it.
cargo build --release --workspace --exclude emotion-py
cargo test --release --workspace --exclude emotion-py
bash scripts/test-c.sh
bash scripts/test-python.sh
bash scripts/test-browser.sh
