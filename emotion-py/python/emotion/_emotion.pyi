"""Type stubs of the native module ``emotion._emotion`` (re-exported by ``emotion``)."""

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, Protocol, TypedDict, Union, final

import numpy as np
import numpy.typing as npt

__all__ = ["__version__", "EXPRESSIONS", "Analyzer", "BBox", "Detection", "Face", "Tracker", "TrackedFace"]

__version__: str
"""The library version, ``MAJOR.MINOR.PATCH``."""

EXPRESSIONS: tuple[str, ...]
"""The 8 expression names in AffectNet (model output) order: ``("neutral", "happy", "sad",
"surprise", "fear", "disgust", "anger", "contempt")``."""

class _PILImage(Protocol):
    """What ``emotion`` uses of a ``PIL.Image.Image`` (Pillow is not a dependency)."""

    @property
    def mode(self) -> str: ...
    @property
    def size(self) -> tuple[int, int]: ...
    def tobytes(self) -> bytes: ...
    def convert(self, mode: str) -> "_PILImage": ...

_ImageInput = Union[npt.NDArray[np.uint8], _PILImage]
"""A numpy ``uint8`` array of shape ``(H, W, 3)`` (RGB, or BGR with ``color="bgr"``),
``(H, W, 4)`` (RGBA / BGRA; alpha is ignored), ``(H, W)`` or ``(H, W, 1)`` (gray), any strides;
or a PIL image (modes RGB, RGBA, L used as they are; others converted to RGB, or to L for 1/LA)."""

_BoxInput = Union["BBox", "Detection", Sequence[float]]
"""A face box: a :class:`BBox`, a :class:`Detection`, or 4 numbers ``(x, y, width, height)``
in pixels."""

_Color = Literal["rgb", "bgr"]

@final
class BBox:
    """A face box in pixels: origin at the image's top-left corner, x to the right, y down.

    Unpacks like a tuple: ``x, y, width, height = face.bbox``; compares by value.
    """

    def __new__(cls, x: float, y: float, width: float, height: float) -> BBox: ...
    @property
    def x(self) -> float:
        """Left edge, pixels."""
    @property
    def y(self) -> float:
        """Top edge, pixels."""
    @property
    def width(self) -> float:
        """Width, pixels."""
    @property
    def height(self) -> float:
        """Height, pixels."""
    def to_dict(self) -> dict[str, float]:
        """``{"x": ..., "y": ..., "width": ..., "height": ...}``."""
    def __iter__(self) -> Iterator[float]: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Detection:
    """A face found by :meth:`Analyzer.detect`."""

    @property
    def bbox(self) -> BBox:
        """The face box (pixels), clamped to the image."""
    @property
    def score(self) -> float:
        """Detector confidence: the SeetaFace cascade score, unbounded above (faces typically
        score 5-40); only faces above the Analyzer's ``score_threshold`` are returned."""
    def to_dict(self) -> dict[str, object]:
        """``{"bbox": {"x", "y", "width", "height"}, "score": float}``."""

@final
class Face:
    """One analysed face."""

    @property
    def bbox(self) -> BBox:
        """The face box (pixels), clamped to the image."""
    @property
    def detection_score(self) -> float | None:
        """The detector's score (see :attr:`Detection.score`); ``None`` for boxes passed to
        :meth:`Analyzer.classify` that are not :class:`Detection` objects."""
    @property
    def expression(self) -> str:
        """The most probable expression, one of :data:`EXPRESSIONS`."""
    @property
    def probabilities(self) -> dict[str, float]:
        """Expression name -> probability in [0, 1], in :data:`EXPRESSIONS` order, summing to 1.
        A new dict on each access."""
    @property
    def valence(self) -> float:
        """Valence in [-1, 1], negative to positive. The bundled model learnt it from AffectNet
        class statistics, not human valence ratings (see its model card)."""
    @property
    def arousal(self) -> float:
        """Arousal in [-1, 1], calm to excited (same provenance as valence)."""
    def to_dict(self) -> dict[str, object]:
        """Built-in types only (JSON-serializable), the shape of one face in the CLI's JSON:
        ``{"bbox": {"x", "y", "width", "height"}, "detection_score": float | None,
        "expression": str, "probabilities": {name: float}, "valence": float, "arousal": float}``."""

@final
class Analyzer:
    """Face detector (SeetaFace frontal cascade) plus emotion model.

    Images are **RGB by default**: pass ``color="bgr"`` for OpenCV frames.

    Thread-safe: share one Analyzer between threads; the GIL is released during detection and
    inference, and concurrent calls give the same results as sequential ones. Don't write into a
    numpy array from another thread while a call is using it (C-contiguous rows are read in place,
    not copied).

    Args:
        model_path: an ONNX model meeting the model contract (file path); ``None`` for the
            bundled model.
        min_face_size: smallest face side to find, pixels, in [10, 10000]. Larger is faster
            (80 runs ~4x faster than 40).
        max_face_size: largest face side to look for, pixels (>= min_face_size); ``None``: up to
            the image's short side.
        score_threshold: minimum detection score, > 0. Higher gives fewer false positives and
            misses more faces.
        pyramid_scale_factor: ratio between image-pyramid levels, in [0.01, 0.99]; lower is
            faster and misses more faces.
        window_step: detector sliding-window step, pixels, in [1, 64].
        threads: most threads one call uses (detection and the model), in [1, 256];
            ``None``: the number of CPU cores.

    Raises:
        InvalidOptionError: an option out of range.
        ModelError: the model file cannot be read or parsed, or does not meet the contract.
        DetectorError: the detector model cannot be loaded.
    """

    def __new__(
        cls,
        model_path: str | os.PathLike[str] | None = None,
        *,
        min_face_size: int = 40,
        max_face_size: int | None = None,
        score_threshold: float = 2.0,
        pyramid_scale_factor: float = 0.8,
        window_step: int = 4,
        threads: int | None = None,
    ) -> Analyzer: ...
    def analyze(self, image: _ImageInput, *, color: _Color = "rgb") -> list[Face]:
        """Detects the faces in ``image`` and classifies each.

        Args:
            image: uint8 array ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA, ``(H, W)`` gray, any
                strides; or a PIL image.
            color: ``"rgb"`` (default) or ``"bgr"`` for 3/4-channel arrays in OpenCV order.

        Returns:
            The faces, best detection score first (empty when there are none).

        Raises:
            TypeError: not a numpy array or PIL image, or dtype not uint8.
            ValueError: ndim not 2 or 3, channels not 1/3/4, zero-size array, or ``color`` not
                ``"rgb"``/``"bgr"``.
            ImageError: image over 100 megapixels.
        """
    def detect(self, image: _ImageInput, *, color: _Color = "rgb") -> list[Detection]:
        """Detection only: the faces' boxes and scores, best score first. Arguments and errors
        as :meth:`analyze`."""
    def classify(self, image: _ImageInput, boxes: Iterable[_BoxInput], *, color: _Color = "rgb") -> list[Face]:
        """Classifies your own face boxes (pixels, e.g. from another detector), in the given
        order; boxes partly outside the image are clamped to it. ``detection_score`` is the
        score of :class:`Detection` boxes (``analyze`` is ``classify(image, detect(image))``),
        ``None`` for the others. Arguments and errors as :meth:`analyze`, plus:

        Raises:
            TypeError: a box is not 4 numbers, a BBox or a Detection.
            ValueError: a box has a length other than 4.
            InvalidBoxError: a box with a non-finite value, width or height <= 0, or entirely
                outside the image.
        """

class _RawValues(TypedDict):
    probabilities: dict[str, float]
    valence: float
    arousal: float

@final
class TrackedFace:
    """A face on one video frame (:meth:`Tracker.update`): the fields of a :class:`Face`
    (``bbox`` and ``detection_score`` from this frame; ``probabilities``, ``expression``,
    ``valence`` and ``arousal`` smoothed over the track) plus ``track_id`` and this frame's own
    unsmoothed values in ``raw``."""

    @property
    def track_id(self) -> int:
        """Stable id of the track (the same person from frame to frame), from 1 up, never reused
        by one :class:`Tracker`."""
    @property
    def bbox(self) -> BBox:
        """The face box on this frame, pixels, clamped to the image."""
    @property
    def detection_score(self) -> float | None:
        """This frame's detection score."""
    @property
    def expression(self) -> str:
        """The most probable smoothed expression, one of :data:`EXPRESSIONS`."""
    @property
    def probabilities(self) -> dict[str, float]:
        """Smoothed expression name -> probability in [0, 1] (sums to 1)."""
    @property
    def valence(self) -> float:
        """Smoothed valence in [-1, 1]."""
    @property
    def arousal(self) -> float:
        """Smoothed arousal in [-1, 1]."""
    @property
    def raw(self) -> _RawValues:
        """This frame's own values: ``{"probabilities": {...}, "valence": v, "arousal": a}``."""
    def to_dict(self) -> dict[str, object]:
        """The shape of one face in the CLI's video JSON: ``track_id``, the :meth:`Face.to_dict`
        keys (smoothed values) and ``raw``."""

@final
class Tracker:
    """Follows faces through a video: feed frames in order with their time, get faces with a
    stable ``track_id`` and expression probabilities, valence and arousal smoothed over time.

    Between whole-frame detections (every ``detection_interval`` frames, after a scene cut, and
    when a track is lost) each face is re-found in a margin around its last box, which is much
    cheaper. Frames are **RGB by default**: pass ``color="bgr"`` for OpenCV frames. One tracker
    per video; not for use from several threads at once.

    Args:
        analyzer: the :class:`Analyzer` to use (detector, model, threads); ``None``: a default one.
        detection_interval: whole-frame detection every this many frames, in [1, 1000].
        search_margin: margin searched around a face's last box, in box sides, in [0.1, 4].
        scale_range: faces re-found between ``side / scale_range`` and ``side * scale_range``,
            in [1.1, 4].
        max_age_ms: a track ends after this long unseen, ms, in [0, 3600000]; a person who
            comes back later gets a new ``track_id``.
        min_iou: smallest box overlap (IoU) continuing a track, in (0, 1].
        half_life_ms: smoothing half-life, ms, in [0, 3600000]; 0 turns smoothing off.
        scene_cut_threshold: luma-histogram distance between consecutive frames (total
            variation, in [0, 1]) that ends every track, in (0, 1]; 1 never cuts.

    Raises:
        InvalidOptionError: an option out of range.
    """

    def __new__(
        cls,
        analyzer: Analyzer | None = None,
        *,
        detection_interval: int = 10,
        search_margin: float = 0.5,
        scale_range: float = 1.5,
        max_age_ms: float = 1000.0,
        min_iou: float = 0.3,
        half_life_ms: float = 300.0,
        scene_cut_threshold: float = 0.5,
    ) -> Tracker: ...
    def update(self, image: _ImageInput, time_ms: float, *, color: _Color = "rgb") -> list[TrackedFace]:
        """Processes the next frame, shown at ``time_ms`` milliseconds (any origin).

        Returns:
            The faces found on this frame, by increasing ``track_id``.

        Raises:
            InvalidOptionError: ``time_ms`` not finite or not later than the previous frame's.
            TypeError, ValueError, ImageError: as :meth:`Analyzer.analyze`.
        """
    def reset(self) -> None:
        """Ends every track, as at the start of a new video (track ids keep counting up)."""
    @property
    def track_count(self) -> int:
        """Live tracks, including faces unseen on the last frame but not yet expired."""
