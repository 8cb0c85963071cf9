"""Training pipeline for the `emotion` library's model (see training/README.md).

Modules: config (defaults, paths), data (loaders, targets, tf.data), model (backbones + the
multi-task head), wild (the wild faces' crops and split), train, calibrate, export (ONNX with the
library's metadata), evaluate and evaluate_wild (metrics through the `emotion` library).
"""

import os as _os

# TF 2.21's oneDNN kernels corrupted the heap here ("malloc(): unaligned tcache chunk detected",
# SIGABRT) when training mini_XCEPTION's separable convs; the plain Eigen kernels are fine.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
