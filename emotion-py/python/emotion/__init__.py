"""Facial emotion recognition: find the faces in an image and, for each, the probabilities of 8
expressions (AffectNet order, :data:`EXPRESSIONS`) plus valence and arousal in [-1, 1].

    >>> import emotion
    >>> analyzer = emotion.Analyzer()                 # bundled detector and model
    >>> image = emotion.load_image("photo.jpg")       # HxWx3 uint8 RGB, EXIF orientation applied
    >>> for face in analyzer.analyze(image):
    ...     print(face.bbox, face.expression, face.probabilities["happy"], face.valence, face.arousal)

Images are numpy ``uint8`` arrays, **RGB by default** (HxWx3; HxWx4 RGBA; HxW gray), or PIL
images. Pass ``color="bgr"`` for OpenCV frames (``cv2.imread``, ``VideoCapture.read``).
:func:`load_image` decodes files as the command line does (same pixels, same results);
:func:`draw` draws faces into a copy of an image. :func:`to_csv` and :func:`to_dataframe` give
results as the command line's CSV table (one row per face, :data:`CSV_COLUMNS`).

An :class:`Analyzer` is thread-safe and releases the GIL while it works. For video, a
:class:`Tracker` follows faces from frame to frame with stable ``track_id`` s and smoothed values.
"""

from ._emotion import (
    EXPRESSIONS,
    Analyzer,
    BBox,
    Detection,
    Face,
    ModelInfo,
    TrackedFace,
    Tracker,
    __version__,
    draw,
    load_image,
)
from ._errors import (
    DetectorError,
    EmotionError,
    ImageError,
    InferenceError,
    InvalidBoxError,
    InvalidOptionError,
    ModelError,
    PartialImageWarning,
)
from ._table import CSV_COLUMNS, LANDMARKS, to_csv, to_dataframe

__all__ = [
    "EXPRESSIONS",
    "Analyzer",
    "BBox",
    "Detection",
    "Face",
    "ModelInfo",
    "Tracker",
    "TrackedFace",
    "__version__",
    "load_image",
    "draw",
    "CSV_COLUMNS",
    "LANDMARKS",
    "to_csv",
    "to_dataframe",
    "PartialImageWarning",
    "EmotionError",
    "ImageError",
    "InvalidOptionError",
    "InvalidBoxError",
    "ModelError",
    "DetectorError",
    "InferenceError",
]
