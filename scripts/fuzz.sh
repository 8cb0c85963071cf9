#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 60), one after another, under the
# lowest CPU priority, with corpora seeded from the repository's test data, and prints the
# executions each target reached. Needs a nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly && cargo install cargo-fuzz`); without them it says SKIP
# and exits 0. Crashes land in fuzz/artifacts/TARGET/; see fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode image_view model tracker server)

if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "SKIP scripts/fuzz.sh: needs a nightly toolchain and cargo-fuzz"
  exit 0
fi

# Seeds: image files for the decoder, ONNX files for the model loader; the structured targets
# start from the same files' bytes (arbitrary reads any bytes) and grow their own corpus.
seed() {
  local target="$1"; shift
  mkdir -p "fuzz/corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] && cp -n "$f" "fuzz/corpus/$target/$(basename "$f")" || true
  done
}
images=(tests/data/*.png tests/data/damaged/* tests/data/multiframe/* tests/data/oversized/*.png examples/data/astronaut.png)
seed decode "${images[@]}" fuzz/regressions/decode-* 
seed model emotion-core/tests/fixtures/*.onnx fuzz/regressions/model-*
seed image_view tests/data/multiframe/two-frames.gif fuzz/regressions/image_view-*
seed tracker tests/data/multiframe/two-frames.gif fuzz/regressions/tracker-*
seed server tests/data/damaged/short-rows.jpg fuzz/regressions/server-*

# -s none: no sanitizer (the code under test is safe Rust; the build and the runs are several
# times faster); libFuzzer still catches panics, hangs (-timeout) and memory over -rss_limit_mb.
(cd fuzz && nice -n 19 cargo +nightly fuzz build -O -s none)
summary=()
for t in "${targets[@]}"; do
  log="fuzz/artifacts/$t.log"
  mkdir -p "fuzz/artifacts/$t"
  status=ok
  (cd fuzz && nice -n 19 cargo +nightly fuzz run -O -s none "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -max_len=262144 -print_final_stats=1) \
      >"$log" 2>&1 || status=FAILED
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  summary+=("$t: ${runs:-?} executions in ${seconds} s, corpus $(ls "fuzz/corpus/$t" | wc -l) files: $status")
  if [ "$status" != ok ]; then
    echo "--- $t failed; the end of $log:"; tail -30 "$log"
  fi
done
printf '%s\n' "${summary[@]}"
printf '%s\n' "${summary[@]}" | grep -q FAILED && exit 1 || exit 0
