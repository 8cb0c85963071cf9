"""Type stubs of the native module ``emotion._emotion`` (re-exported by ``emotion``)."""

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, Protocol, Union, final

import numpy as np
import numpy.typing as npt

__all__ = ["__version__", "EXPRESSIONS", "Analyzer", "BBox", "Detection", "Face"]

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

    Unpacks like a tuple: ``x, y, width, height = face.bbox``; compares, hashes, pickles and
    copies by value.
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
    def __hash__(self) -> int: ...

@final
class Detection:
    """A face found by :meth:`Analyzer.detect`. Compares, hashes, pickles and copies by value."""

    def __new__(cls, bbox: BBox, score: float) -> Detection: ...
    @property
    def bbox(self) -> BBox:
        """The face box (pixels), clamped to the image."""
    @property
    def score(self) -> float:
        """Detector confidence: the SeetaFace cascade score, unbounded above (faces typically
        score 5-40); only faces above the Analyzer's ``score_threshold`` are returned."""
    def to_dict(self) -> dict[str, object]:
        """``{"bbox": {"x", "y", "width", "height"}, "score": float}``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Face:
    """One analysed face. Compares, hashes, pickles and copies by value."""

    def __new__(
        cls,
        bbox: BBox,
        probabilities: Sequence[float] | dict[str, float],
        valence: float,
        arousal: float,
        detection_score: float | None = None,
    ) -> Face:
        """A face from its parts (e.g. read back from JSON); :attr:`expression` is the most
        probable of ``probabilities``: 8 numbers in :data:`EXPRESSIONS` order, or a dict naming
        all 8 (stored as float32).

        Raises:
            TypeError: probabilities is neither a sequence nor a dict.
            ValueError: not 8 probabilities, a missing name, or a non-finite number.
        """
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
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Analyzer:
    """Face detector (SeetaFace frontal cascade) plus emotion model.

    Images are **RGB by default**: pass ``color="bgr"`` for OpenCV frames.

    Thread-safe: share one Analyzer between threads; the GIL is released during detection and
    inference, and concurrent calls give the same results as sequential ones. Don't write into a
    numpy array from another thread while a call is using it (C-contiguous rows are read in place,
    not copied).

    Picklable, for process pools and clusters (``multiprocessing``, ``concurrent.futures``,
    Dask): it pickles as its settings plus its model (the bundled one by reference, a custom one
    by its ONNX bytes, so the file need not exist where it is unpickled) and unpickles into an
    equal Analyzer that gives identical results. Analyzers compare equal (and hash alike) when
    built from the same settings and the same model.

    Args:
        model_path: an ONNX model meeting the model contract (file path); ``None`` for the
            bundled model. The file is read once, at construction.
        model_bytes: the same model, already in memory; not together with ``model_path``.
        min_face_size: smallest face side to find, pixels, in [10, 10000]. Larger is faster
            (80 runs ~4x faster than 40).
        max_face_size: largest face side to look for, pixels (>= min_face_size); ``None``: up to
            the image's short side.
        score_threshold: minimum detection score, > 0. Higher gives fewer false positives and
            misses more faces.
        pyramid_scale_factor: ratio between image-pyramid levels, in [0.01, 0.99]; lower is
            faster and misses more faces.
        window_step: detector sliding-window step, pixels, in [1, 64].
        threads: most threads one call uses to run the model over several faces, in [1, 256];
            ``None``: the number of CPU cores. Use 1 in each worker when a pool of processes
            or threads already keeps every core busy.

    Raises:
        InvalidOptionError: an option out of range.
        ModelError: the model file cannot be read or parsed, or does not meet the contract.
        DetectorError: the detector model cannot be loaded.
        ValueError: both ``model_path`` and ``model_bytes`` given.
    """

    def __new__(
        cls,
        model_path: str | os.PathLike[str] | None = None,
        *,
        model_bytes: bytes | None = None,
        min_face_size: int = 40,
        max_face_size: int | None = None,
        score_threshold: float = 2.0,
        pyramid_scale_factor: float = 0.8,
        window_step: int = 4,
        threads: int | None = None,
    ) -> Analyzer: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
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
