#!/usr/bin/env bash
# The webcam page in headless Chromium with a fake camera, and the CLI's --report pages opened
# from disk (emotion-server/browser-test).
# Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and node/npm; skips with a line
# saying so where chromium is absent (.ci/run installs it). Screenshots: target/browser-test/.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "SKIP: browser test: no chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "SKIP: browser test: node/npm not found"
  exit 0
fi
cargo build --release -p emotion-server --bin emotion-server --example y4m
cargo build --release -p emotion-cli --bin emotion
cd emotion-server/browser-test
npm ci --no-audit --no-fund --silent
CHROMIUM="$CHROMIUM" OUT="$PWD/../../target/browser-test" node --test
