#!/usr/bin/env bash
# Model 0.3's training on one GPU machine, in about 9 minutes (JAX, no TensorFlow, no network).
# Run from the repository root:
#
#   OUT=/somewhere bash training/gpu_run.sh
#
# Needs: the pack with FER+ train and the wild faces (training/README.md, "Another machine":
# python -m training.wild, then python -m training.pack --wild ... --jpeg 92) and, if the
# machine lacks Keras, its wheels in .whl/.
#   phase 1, in parallel, each on FER+ train (+ the wild faces' training part):
#     lite-fer            resnet_lite, FER+ only (the 0.2.1 recipe at this budget: the baseline)
#     lite-wild           resnet_lite, + wild faces
#     lite-wild-robust    resnet_lite, + wild faces, + degradations (augment.robust)
#     lite-wild-robust-w  the same with other source weights (WEIGHTS below)
#     teacher             resnet_wide (3 M parameters), + wild faces, + degradations
#   phase 2: the teacher's soft labels for every training image (training.distill, mirrored
#            images averaged), then lite-kd and lite-kd-w fine-tuned on them from
#            lite-wild-robust and lite-wild-robust-w.
# Each run fits its minutes (train --budget-min). OUT receives at most 8 files (the machine's
# limit): the six students (.keras), the soft labels (.npz: calibrate.py rebuilds a KD run's
# training split from them) and every log and run.json (logs.tar.gz).
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=${PACK:-training/runs/gpu-pack.npz}
OUT=${OUT:-training/runs/gpu}
P1=${P1_MIN:-4.8}
P2=${P2_MIN:-3.2}
WORKERS=${WORKERS:-3}
WEIGHTS=${WEIGHTS:-muxspace=0.5,expw=2,diffusionfer=2,london=2}
R=${RUNS:-/tmp/emotion-runs}
mkdir -p "$OUT" "$R"
log() { echo "$(date +%T) $*" | tee -a "$R/driver.log"; }

WHEELS=${WHEELS:-.whl}
if compgen -G "$WHEELS/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site "$WHEELS"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
python3 -c "import keras, jax; print('keras', keras.__version__, 'jax', jax.__version__, jax.devices())" \
    2>&1 | tee -a "$R/driver.log" || exit 1
nvidia-smi -L 2>&1 | tee -a "$R/driver.log"

train() {   # name, then train.py arguments
    local name=$1; shift
    python3 -m training.train --data "$PACK" --out "$R/$name" --workers "$WORKERS" \
        --batch-size 128 --weight-decay 0.05 "$@" >"$R/$name.out" 2>&1
    log "$name: exit $? $(grep -h 'after precise BN\|done:' "$R/$name/train.log" | tr '\n' ' ')"
    case $name in teacher) ;; *) f=$(final "$name") && [ -n "$f" ] && cp "$f" "$OUT/$name.keras" ;; esac
}
# The run's final weights (after precise BN), else its best held-out checkpoint.
final() { ls "$R/$1/last.keras" "$R/$1/best.keras" 2>/dev/null | head -1; }

log "phase 1: ${P1} min"
train lite-fer --backbone resnet_lite --budget-min "$P1" &
train lite-wild --backbone resnet_lite --wild "$PACK" --budget-min "$P1" &
train lite-wild-robust --backbone resnet_lite --wild "$PACK" --robust 1 --budget-min "$P1" &
train lite-wild-robust-w --backbone resnet_lite --wild "$PACK" --robust 1 \
    --source-weights "$WEIGHTS" --budget-min "$P1" &
train teacher --backbone resnet_wide --wild "$PACK" --robust 1 --budget-min "$P1" &
wait

log "phase 2: soft labels, then ${P2} min"
python3 -m training.distill --teacher "$(final teacher)" --data "$PACK" --wild "$PACK" \
    --out "$R/soft-labels.npz" >"$R/distill.out" 2>&1
log "distill: exit $? $(tail -1 "$R/distill.out")"
if [ -f "$R/soft-labels.npz" ]; then
    train lite-kd --backbone resnet_lite --wild "$PACK" --robust 1 --init "$(final lite-wild-robust)" \
        --soft-labels "$R/soft-labels.npz" --lr 1e-3 --warmup-epochs 0.5 --budget-min "$P2" &
    train lite-kd-w --backbone resnet_lite --wild "$PACK" --robust 1 --source-weights "$WEIGHTS" \
        --init "$(final lite-wild-robust-w)" --soft-labels "$R/soft-labels.npz" --lr 1e-3 \
        --warmup-epochs 0.5 --budget-min "$P2" &
    wait
    cp "$R/soft-labels.npz" "$OUT/"
fi

tar -czf "$OUT/logs.tar.gz" -C "$R" --exclude='*.keras' --exclude=checkpoint . 2>/dev/null
log "done"
ls -la "$OUT"
