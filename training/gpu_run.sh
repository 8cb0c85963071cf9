#!/usr/bin/env bash
# A model release's training in one GPU lease (about 9 minutes), on a machine with JAX but no
# TensorFlow and no network. Run from the repository root:
#
#   OUT=/somewhere bash training/gpu_run.sh
#
# Needs: the FER+ pack (python -m training.pack --out training/runs/ferplus-train.npz) and, if
# the machine lacks Keras, its wheels in .whl/ (training/README.md, "Training on a GPU machine").
#   phase 1, in parallel: teacher resnet_wide, students resnet_lite and resnet, on FER+ votes
#   phase 2: the teacher's soft labels (training.distill, mirrored images averaged), then each
#            student fine-tuned on them from its phase-1 weights
# Each run fits its minutes (train --budget-min). OUT receives at most 8 files (the lease's
# limit): the four students (.keras), the soft labels (.npz) and every log (logs.tar.gz).
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=${PACK:-training/runs/ferplus-train.npz}
OUT=${OUT:-training/runs/gpu}
P1=${P1_MIN:-4}
P2=${P2_MIN:-3.5}
WORKERS=${WORKERS:-4}
R=${RUNS:-/tmp/emotion-runs}
mkdir -p "$OUT" "$R"
log() { echo "$(date +%T) $*" | tee -a "$OUT/driver.log"; }

if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
python3 -c "import keras, jax; print('keras', keras.__version__, 'jax', jax.__version__, jax.devices())" \
    2>&1 | tee -a "$OUT/driver.log" || exit 1
nvidia-smi -L 2>&1 | tee -a "$OUT/driver.log"

train() {   # name, then train.py arguments
    local name=$1; shift
    python3 -m training.train --data "$PACK" --out "$R/$name" --workers "$WORKERS" \
        --batch-size 128 --weight-decay 0.05 "$@" >"$R/$name.out" 2>&1
    log "$name: exit $? $(grep -h 'after precise BN\|done:' "$R/$name/train.log" | tr '\n' ' ')"
    case $name in teacher) ;; *) f=$(final "$name") && [ -n "$f" ] && cp "$f" "$OUT/$name.keras" ;; esac
}
final() { ls "$R/$1/last.keras" "$R/$1/best.keras" 2>/dev/null | head -1; }

log "phase 1: ${P1} min"
train teacher --backbone resnet_wide --budget-min "$P1" &
train lite --backbone resnet_lite --budget-min "$P1" &
train resnet --backbone resnet --budget-min "$P1" &
wait

log "phase 2: soft labels, then ${P2} min"
python3 -m training.distill --teacher "$(final teacher)" --data "$PACK" \
    --out "$OUT/soft-labels.npz" >"$R/distill.out" 2>&1
log "distill: exit $? $(tail -1 "$R/distill.out")"
if [ -f "$OUT/soft-labels.npz" ]; then
    train lite-kd --backbone resnet_lite --init "$(final lite)" \
        --soft-labels "$OUT/soft-labels.npz" --lr 1e-3 --warmup-epochs 0.5 --budget-min "$P2" &
    train resnet-kd --backbone resnet --init "$(final resnet)" \
        --soft-labels "$OUT/soft-labels.npz" --lr 1e-3 --warmup-epochs 0.5 --budget-min "$P2" &
    wait
fi

tar -czf "$OUT/logs.tar.gz" -C "$R" --exclude='*.keras' --exclude=checkpoint . 2>/dev/null
log "done"
ls -la "$OUT"
