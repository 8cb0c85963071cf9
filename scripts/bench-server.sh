#!/usr/bin/env bash
# Bounded load run of emotion-server on loopback (a benchmark, not a test): CLIENTS concurrent
# clients POST the sample photo to /v1/analyze for SECONDS seconds with `hey` (Debian package
# `hey`), then a short run with twice the concurrency limit to show the 503s. Prints requests/s,
# p50/p99 latency, status codes and the server's resident memory before and after.
#
#   scripts/bench-server.sh [CLIENTS=4] [SECONDS=30] [MAX_CONCURRENCY=8]
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${1:-4}"
SECONDS_="${2:-30}"
LIMIT="${3:-8}"
PHOTO=examples/data/astronaut.png
command -v hey >/dev/null || { echo "needs hey: apt-get install hey"; exit 1; }

# The workspace build of scripts/test.sh: building the server alone would unify other features
# and recompile the dependencies.
cargo build --release -q --workspace --exclude emotion-py
LOG=$(mktemp)
./target/release/emotion-server --port 0 --max-concurrency "$LIMIT" 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
URL="$(grep -o 'http://[^ ]*' "$LOG" | head -1)v1/analyze"
rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$PID/status"; }

# One warm-up request, so "before" is the loaded server, not the bare process.
curl -s -o /dev/null -H 'content-type: image/png' --data-binary @"$PHOTO" "$URL"
echo "server: $URL, $(nproc) cores, --max-concurrency $LIMIT; resident memory before: $(rss)"

# hey's report, cut to requests/s, p50/p99, status codes and transport errors (counted, with the
# first few kinds).
summary() {
  awk '/Requests\/sec/ {print "  requests/s: " $2}
       /^Response time histogram/ {sec = "hist"; next}
       /^Latency distribution/ {sec = "lat"; next}
       /^Details/ {sec = ""; next}
       /^Status code distribution/ {sec = "status"; next}
       /^Error distribution/ {sec = "err"; next}
       sec == "lat" && ($1 == "50%" || $1 == "99%") {printf "  p%s: %.0f ms\n", substr($1, 1, length($1) - 1), $3 * 1000}
       sec == "status" && NF {print "  status " $1 ": " $2}
       sec == "err" && NF {n = $1; gsub(/[][]/, "", n); errors += n; sub(/.*: /, ""); if (!($0 in kinds) && k++ < 3) kinds[$0] = 1}
       END {printf "  transport errors: %d", errors; for (m in kinds) printf " (%s)", m; print ""}'
}
echo "== $CLIENTS clients for ${SECONDS_} s (below the limit: every answer must be 200)"
hey -z "${SECONDS_}s" -c "$CLIENTS" -m POST -T image/png -D "$PHOTO" "$URL" | summary
echo "  resident memory after: $(rss) (peak $(hwm))"
OVER=$((2 * LIMIT))
echo "== $OVER clients for 10 s (twice the limit: the excess gets 503 at once)"
hey -z 10s -c "$OVER" -m POST -T image/png -D "$PHOTO" "$URL" | summary
echo "  resident memory after: $(rss) (peak $(hwm))"
curl -sf -o /dev/null -H 'content-type: image/png' --data-binary @"$PHOTO" "$URL" && echo "server still answers: yes"
