#!/usr/bin/env bash
# Backbone comparison on an equal short budget (same images seen, same schedule, same seed):
# each candidate trains 2 x 100 steps of 64 on FER+ train (held-out 10 % for accuracy, after
# precise BN), is exported, and the exports' per-face latency is measured in the library against
# onnxruntime in one process (training/latency.py). Prints one table; see training/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-training/runs/ferplus-train.npz}
CANDIDATES=${CANDIDATES:-resnet resnet_lite vgg mini_xception}
models=()
for b in $CANDIDATES; do
  run=training/runs/compare-$b
  if [ ! -f "$run/last.keras" ]; then
    $PY -m training.train --backbone "$b" --data "$DATA" --epochs 2 --steps 100 \
        --warmup-epochs 0.25 --threads "${THREADS:-1}" --out "$run" >"$run.out" 2>&1
  fi
  $PY -m training.export --run "$run" --keras "$run/last.keras" --out "$run.onnx" >/dev/null 2>&1
  models+=("$run.onnx")
  echo "$b: held-out $(grep -h 'after precise BN' "$run/train.log" | sed 's/.*after precise BN: //')"
done
$PY -m training.latency emotion-core/models/emotion.onnx "${models[@]}" --runs "${RUNS:-300}"
