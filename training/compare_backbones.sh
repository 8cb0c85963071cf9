#!/usr/bin/env bash
# Backbone comparison on an equal short budget (same images seen, same schedule, same seed):
# each candidate trains 2 x 100 steps of 64 on FER+ train (held-out 10 % for accuracy), then is
# exported and its per-face latency measured in the library (see training/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for b in resnet vgg mini_xception; do
  $PY -m training.train --backbone "$b" --epochs 2 --steps 100 --warmup-epochs 0.25 \
      --threads "${THREADS:-1}" --out "training/runs/compare-$b"
done
