"""Facial emotion recognition: find the faces in an image and, for each, the probabilities of 8
expressions (AffectNet order, :data:`EXPRESSIONS`) plus valence and arousal in [-1, 1].

    >>> import emotion, numpy as np
    >>> from PIL import Image
    >>> analyzer = emotion.Analyzer()                 # bundled detector and model
    >>> for face in analyzer.analyze(np.asarray(Image.open("photo.jpg").convert("RGB"))):
    ...     print(face.bbox, face.expression, face.probabilities["happy"], face.valence, face.arousal)

Images are numpy ``uint8`` arrays, **RGB by default** (HxWx3; HxWx4 RGBA; HxW gray), or PIL
images. Pass ``color="bgr"`` for OpenCV frames (``cv2.imread``, ``VideoCapture.read``).

An :class:`Analyzer` is thread-safe and releases the GIL while it works. For video, a
:class:`Tracker` follows faces from frame to frame with stable ``track_id`` s and smoothed values.
"""

from ._emotion import EXPRESSIONS, Analyzer, BBox, Detection, Face, TrackedFace, Tracker, __version__
from ._errors import (
    DetectorError,
    EmotionError,
    ImageError,
    InferenceError,
    InvalidBoxError,
    InvalidOptionError,
    ModelError,
)

__all__ = [
    "EXPRESSIONS",
    "Analyzer",
    "BBox",
    "Detection",
    "Face",
    "Tracker",
    "TrackedFace",
    "__version__",
    "EmotionError",
    "ImageError",
    "InvalidOptionError",
    "InvalidBoxError",
    "ModelError",
    "DetectorError",
    "InferenceError",
]
