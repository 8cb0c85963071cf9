"""Every default the training pipeline uses, in one place.

Paths are resolved from this file's location so commands work from the repository root and tests
work from anywhere: the repo root is the parent of `training/`, shared material is `../shared`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parent
REPO_ROOT = TRAINING_DIR.parent
SHARED = Path(os.environ.get("EMOTION_SHARED", REPO_ROOT.parent / "shared"))

FERPLUS_TRAIN = SHARED / "data" / "ferplus" / "train"
FERPLUS_VALID = SHARED / "data" / "ferplus" / "valid"
VA_STATS_CSV = SHARED / "data" / "affectnet-va-stats.csv"

RUNS_DIR = TRAINING_DIR / "runs"                       # gitignored: logs, checkpoints, caches
DEFAULT_RUN = RUNS_DIR / "default"
BUNDLED_MODEL = REPO_ROOT / "emotion-core" / "models" / "emotion.onnx"

# Output order of the `expression` head (AffectNet-8). Never reorder.
LABELS = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt")
NUM_CLASSES = len(LABELS)

# FER+ label.csv vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear,
# contempt, unknown, NF. AffectNet index i takes FER+ column FERPLUS_TO_AFFECTNET[i]
# (from ../shared/README.md).
FERPLUS_TO_AFFECTNET = (0, 1, 3, 2, 6, 5, 4, 7)

# Crop geometry written into the model metadata: the library cuts a square of side
# crop_scale * detector-box side, centred on the box centre moved down by crop_shift_y * box height.
# Measured with the library's own detector on 1,500 FER+ train crops (1,235 with exactly one face):
#   cargo run --release -p emotion-core --example measure_crop_geometry -- ../shared/data/ferplus/train 1500
#   -> {"crop_scale": 1.1098, "crop_shift_y": -0.0079}  (medians)
# Override at export time with --crop-scale / --crop-shift-y (e.g. for AffectNet crops).
CROP_SCALE = 1.11
CROP_SHIFT_Y = -0.008

# Written into emotion.version: bump it for every model you ship, so users can tell models apart
# (the library reports it; the date is the training run's).
MODEL_VERSION = "0.3.0+wild.20261204"
ONNX_OPSET = 13
SEED = 1337


@dataclass(frozen=True)
class BackboneSpec:
    """Input geometry and normalisation of one backbone. input = (pixel/255 - mean) / std."""
    name: str
    size: int           # square input side, pixels
    color: str          # "gray" (C=1) or "rgb" (C=3)
    mean: tuple
    std: tuple

    @property
    def channels(self) -> int:
        return 1 if self.color == "gray" else 3


BACKBONES = {
    # Plain 3x3-convolution ResNet at FER's native 48x48 gray (see model.resnet_features).
    "resnet": BackboneSpec("resnet", 48, "gray", (0.5,), (0.5,)),
    # Lighter ResNet (one block fewer at 12 px, strided stem instead of the 24 px down conv):
    # the bundled model since 0.2.0, for tract latency (training/README.md, "Backbone
    # comparison"); and a wide one as a distillation teacher (GPU). See model.RESNETS.
    "resnet_lite": BackboneSpec("resnet_lite", 48, "gray", (0.5,), (0.5,)),
    "resnet_wide": BackboneSpec("resnet_wide", 48, "gray", (0.5,), (0.5,)),
    # VGG-style plain convolutions at 48x48 gray (see model.vgg_features).
    "vgg": BackboneSpec("vgg", 48, "gray", (0.5,), (0.5,)),
    # mini_XCEPTION (Arriaga et al. 2017): depthwise-separable, 64x64 gray scaled to [-1, 1]; the
    # 0.1.0 model. Trained from scratch here.
    "mini_xception": BackboneSpec("mini_xception", 64, "gray", (0.5,), (0.5,)),
    # NASNetMobile, the original design's backbone; Keras' NASNet preprocessing is also [-1, 1].
    "nasnetmobile": BackboneSpec("nasnetmobile", 224, "rgb", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}
DEFAULT_BACKBONE = "resnet_lite"

# Augmentation ranges: rotation +-10 degrees, zoom +-20 %, shift +-10 % of the side
# (the random crop), horizontal flip; plus a mild brightness/contrast jitter.
AUG_ROTATION_DEG = 10.0
AUG_ZOOM = 0.20
AUG_SHIFT = 0.10
AUG_BRIGHTNESS = 0.10   # added to pixel/255
AUG_CONTRAST = 0.20     # multiplicative, around the image mean
AUG_ERASE_P = 0.25      # probability of one random-erasing rectangle per image

# Loss weights and regularisation.
L2_DENSE = 1e-4
LOSS_WEIGHTS = {"expression": 1.0, "valence": 2.0, "arousal": 2.0}
CLASS_WEIGHT_POWER = 0.5   # per-class weight (median count / count) ** power, see data.class_weights
