#!/usr/bin/env bash
# Soak of emotion-server on loopback (not part of scripts/test.sh): measures capacity, runs
# DURATION s at ~75 % of it with still images and 4 WebSocket streams, then OVERLOAD s at twice
# the concurrency limit with clients that stall uploads and drop connections; prints a row each
# 10 s (requests/s, p50/p99, status codes, transport errors, RSS, /healthz) and checks the
# issue's targets (exit 1 if one fails). Python 3 standard library only.
#
#   scripts/soak-server.sh [DURATION=600] [OVERLOAD=120] [MAX_CONCURRENCY=8] [WORKERS=cores]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-600}"
OVERLOAD="${2:-120}"
LIMIT="${3:-8}"
WORKERS="${4:-$(nproc)}"
PHOTO=examples/data/astronaut.png
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q --workspace --exclude emotion-py
LOG=$(mktemp)
./target/release/emotion-server --port 0 --max-concurrency "$LIMIT" --workers "$WORKERS" --body-timeout 5 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
PORT="$(grep -o 'http://[^ ]*' "$LOG" | head -1 | sed 's|.*:\([0-9]*\)/.*|\1|')"
echo "emotion-server pid $PID port $PORT, --max-concurrency $LIMIT --workers $WORKERS, $(nproc) cores"
python3 scripts/soak_server.py --port "$PORT" --pid "$PID" --photo "$PHOTO" --limit "$LIMIT" \
  --duration "$DURATION" --overload "$OVERLOAD" --calibrate "$(( DURATION < 200 ? DURATION / 10 + 5 : 20 ))"
