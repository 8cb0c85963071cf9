"""Type stubs of the native module ``emotion._emotion`` (re-exported by ``emotion``)."""

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, Protocol, TypedDict, Union, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "__version__",
    "EXPRESSIONS",
    "Analyzer",
    "BBox",
    "Detection",
    "Face",
    "ModelInfo",
    "Tracker",
    "TrackedFace",
    "load_image",
    "draw",
    "EmotionError",
    "ImageError",
    "InvalidOptionError",
    "InvalidBoxError",
    "ModelError",
    "DetectorError",
    "InferenceError",
    "PartialImageWarning",
]

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
or a PIL image: modes RGB, RGBA and L used as they are; 1, LA and La converted to L (alpha
ignored); I, I;16 (and I;16L, I;16B, I;16N) and F refused with ``ValueError`` (more than 8 bits per
channel: scale them to 8 bits first); any other mode (P, PA, RGBX, RGBa, CMYK, YCbCr, ...)
converted to RGB with ``Image.convert``."""

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

    def __new__(cls, bbox: BBox, detection_score: float, landmarks: object = None) -> Detection: ...
    @property
    def bbox(self) -> BBox:
        """The face box (pixels), clamped to the image."""
    @property
    def detection_score(self) -> float:
        """Detector confidence: YuNet's score in [0, 1] (faces typically 0.7-0.95) or the
        SeetaFace cascade score (unbounded above, faces typically 5-40); only faces above the
        Analyzer's score threshold are returned. The same name as :attr:`Face.detection_score`."""
    @property
    def landmarks(self) -> npt.NDArray[np.float32] | None:
        """The detector's five landmarks in image pixels, float32 array of shape (5, 2), rows
        (x, y): the subject's right eye, left eye, nose tip, right and left mouth corners (the
        subject's right is on the image's left for a face looking at the camera); ``None`` from
        the ``"seeta"`` detector and for boxes given to :meth:`Analyzer.classify`."""
    def to_dict(self) -> dict[str, object]:
        """``{"bbox": {"x", "y", "width", "height"}, "detection_score": float}``."""
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
        landmarks: object = None,
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
        """The detector's score (see :attr:`Detection.detection_score`); ``None`` for boxes
        passed to :meth:`Analyzer.classify` that are not :class:`Detection` objects (C reports
        NaN there)."""
    @property
    def landmarks(self) -> npt.NDArray[np.float32] | None:
        """The detector's five landmarks in image pixels, float32 array of shape (5, 2), rows
        (x, y): the subject's right eye, left eye, nose tip, right and left mouth corners (the
        subject's right is on the image's left for a face looking at the camera); ``None`` from
        the ``"seeta"`` detector and for boxes given to :meth:`Analyzer.classify`."""
    @property
    def expression(self) -> str:
        """The most probable expression, one of :data:`EXPRESSIONS`."""
    @property
    def probabilities(self) -> dict[str, float]:
        """Expression name -> probability in [0, 1], in :data:`EXPRESSIONS` order, summing to 1.
        A new dict on each access."""
    @property
    def probability_vector(self) -> npt.NDArray[np.float32]:
        """The 8 probabilities as a float32 array of shape ``(8,)`` in :data:`EXPRESSIONS`
        order. A new array on each access."""
    def top(self, k: int = 1) -> list[tuple[str, float]]:
        """The ``k`` (1-8) most probable expressions as ``(name, probability)``, most probable
        first (ties in :data:`EXPRESSIONS` order)."""
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
    """Face detector (YuNet by default, or the SeetaFace frontal cascade) plus emotion model.

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
        min_face_size: the face side the detector is scaled for, pixels, in [10, 10000]; not a
            filter: smaller boxes (down to about 0.65x) can be found and faces just above it
            missed, so leave a margin. Larger is faster (80 runs ~4x faster than 40).
        max_face_size: largest face side to look for, pixels (>= min_face_size); ``None`` or 0:
            up to the image's short side.
        max_faces: report at most this many faces per image: the largest, ties by detection
            score, in detector order; ``None`` or 0: all.
        score_threshold: minimum detection score; 0: the detector's default (``"yunet"``: 0.7,
            range [0, 1]; ``"seeta"``: 2.0). Higher gives fewer false positives and misses more
            faces.
        detector: ``"yunet"`` (default; a CNN giving five landmarks per face) or ``"seeta"``
            (the SeetaFace frontal cascade of earlier versions, no landmarks).
        align: turn each face's crop so the eyes are level before the model (faces with
            landmarks); off by default.
        pyramid_scale_factor: ratio between image-pyramid levels, in [0.01, 0.99]; lower is
            faster and misses more faces.
        window_step: detector sliding-window step, pixels, in [1, 64].
        threads: most threads one call uses to detect faces and to run the model over several
            faces (a :class:`Tracker`: also to re-detect several tracked faces at once), in
            [0, 256]; ``None`` or 0: the number of CPU cores. Use 1 in each worker when a pool
            of processes or threads already keeps every core busy.
        flip_average: classify each face with its mirror image and average the predictions
            (twice the model time; a face and its mirror image then agree).
        input_color, input_size, mean, std, crop_scale, crop_shift_y, batch_size: model
            overrides for models without (or with wrong) metadata (``"gray"``/``"rgb"``;
            ``(height, width)`` in [8, 1024]; 1 or 3 per-channel values; crop scale [0.1, 10];
            crop shift [-1, 1]; batch size [0, 64], 0 = 1). ``None``: the model's value.

    Counts and limits follow one rule in every front door (Python, Rust, C, command line):
    0 or ``None`` means "not set" (all cores, all faces, no limit, batch 1).

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
        min_face_size: int = 20,
        max_face_size: int | None = None,
        score_threshold: float = 0.0,
        pyramid_scale_factor: float = 0.8,
        window_step: int = 4,
        max_faces: int | None = None,
        threads: int | None = None,
        flip_average: bool = False,
        input_color: Literal["gray", "rgb"] | None = None,
        input_size: tuple[int, int] | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        crop_scale: float | None = None,
        crop_shift_y: float | None = None,
        batch_size: int | None = None,
        detector: Literal["yunet", "seeta"] = "yunet",
        align: bool = False,
    ) -> Analyzer: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def model_info(self) -> ModelInfo:
        """The model's information and the preprocessing in force."""
    def classify_image(self, image: _ImageInput, *, color: _Color = "rgb") -> Face:
        """Classifies the whole image as one face, without detection (for tight face crops the
        detector cannot find): ``classify(image, [(0, 0, width, height)])[0]``. Arguments and
        errors as :meth:`analyze`."""
    def analyze(self, image: _ImageInput, *, color: _Color = "rgb") -> list[Face]:
        """Detects the faces in ``image`` and classifies each.

        Args:
            image: uint8 array ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA, ``(H, W)`` gray, any
                strides; or a PIL image (modes: see ``_ImageInput``).
            color: ``"rgb"`` (default) or ``"bgr"`` for 3/4-channel arrays in OpenCV order.

        Returns:
            The faces, best detection score first (empty when there are none).

        Raises:
            TypeError: not a numpy array or PIL image, or dtype not uint8.
            ValueError: ndim not 2 or 3, channels not 1/3/4, zero-size array or PIL image, PIL
                mode I, I;16* or F, or ``color`` not ``"rgb"``/``"bgr"``.
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

@final
class ModelInfo:
    """The emotion model's information (:attr:`Analyzer.model_info`): the fields of the command
    line's ``--model-info`` JSON and C's ``emotion_model_info``."""

    @property
    def version(self) -> str:
        """The model's ``emotion.version`` (``""`` when absent)."""
    @property
    def training_data(self) -> str:
        """What the model learnt from (``""`` when absent)."""
    @property
    def description(self) -> str:
        """Free-text description (``""`` when absent)."""
    @property
    def input_color(self) -> Literal["gray", "rgb"]:
        """``"gray"`` (1 channel, BT.601 luma) or ``"rgb"``."""
    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of the model input, pixels."""
    @property
    def labels(self) -> tuple[str, ...]:
        """The expression labels in output order: :data:`EXPRESSIONS`."""
    @property
    def mean(self) -> list[float]:
        """Per-channel mean subtracted from pixel / 255."""
    @property
    def std(self) -> list[float]:
        """Per-channel divisor applied after the mean."""
    @property
    def crop_scale(self) -> float:
        """Crop side as a multiple of the face box's longer side."""
    @property
    def crop_shift_y(self) -> float:
        """Crop centre shift down, as a fraction of the box height."""
    @property
    def batch_size(self) -> int:
        """Batch size of the optimized inference plan."""
    @property
    def flip_average(self) -> bool:
        """Whether flip averaging is on."""
    @property
    def align(self) -> bool:
        """Whether faces are aligned by their eye landmarks before classification."""
    def to_dict(self) -> dict[str, object]:
        """The command line's ``--model-info`` JSON: the fields above with ``input_height`` and
        ``input_width`` for ``input_size``, ``labels`` as a list, and ``library_version``."""

def load_image(path: str | bytes | os.PathLike[str] | os.PathLike[bytes], *, allow_partial: bool = False) -> npt.NDArray[np.uint8]:
    """Decodes an image file with the library's decoder (as the command line and C do): PNG,
    JPEG, BMP, GIF, TIFF, WebP; EXIF orientation applied. Returns a ``(height, width, 3)`` uint8
    RGB array; :meth:`Analyzer.analyze` on it equals the command line's results bit for bit.

    Args:
        path: the image file: ``str``, ``bytes`` (as ``os.listdir(b".")`` gives names that
            are not UTF-8) or an ``os.PathLike`` of either.
        allow_partial: accept a truncated or damaged file, returning the part that decoded (the
            rest black, or grey for JPEG) with a :class:`~emotion.PartialImageWarning`. Default:
            such files raise :class:`~emotion.ImageError`.

    Raises:
        OSError: the file cannot be read (FileNotFoundError, PermissionError, ...).
        ImageError: not a supported image, truncated or damaged, or over 100 megapixels.
    """

def draw(
    image: _ImageInput, faces: Sequence[Face | TrackedFace], *, color: _Color = "rgb"
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with each face's box, expression label and valence (x) / arousal (y)
    marker drawn, as the command line's ``--annotate`` and C's ``emotion_draw`` draw them.
    Returns an array of the image's shape, ``(H, W, 3)``, ``(H, W, 4)`` or ``(H, W)`` (PIL
    images as RGB, RGBA or L), in its channel order (``color="bgr"`` for OpenCV frames).

    ``faces``: :class:`Face` objects, or :class:`TrackedFace` objects from
    :meth:`Tracker.update` (drawn with their smoothed values; the track id is not drawn).

    Raises:
        TypeError: a face that is neither a Face nor a TrackedFace.
        TypeError, ValueError, ImageError: the image, as :meth:`Analyzer.analyze`.
    """

class _RawValues(TypedDict):
    probabilities: dict[str, float]
    valence: float
    arousal: float

@final
class TrackedFace:
    """A face on one video frame (:meth:`Tracker.update`): the fields of a :class:`Face`
    (``bbox`` and ``detection_score`` from this frame; ``expression``, ``probabilities``,
    ``probability_vector``, ``top()``, ``valence`` and ``arousal`` smoothed over the track) plus
    ``track_id`` and this frame's own unsmoothed values in ``raw``. :func:`draw` draws it as a
    Face."""

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
    def landmarks(self) -> npt.NDArray[np.float32] | None:
        """The detector's five landmarks in image pixels, float32 array of shape (5, 2), rows
        (x, y): the subject's right eye, left eye, nose tip, right and left mouth corners (the
        subject's right is on the image's left for a face looking at the camera); ``None`` from
        the ``"seeta"`` detector and when not detected."""
    @property
    def expression(self) -> str:
        """The most probable smoothed expression, one of :data:`EXPRESSIONS`."""
    @property
    def probabilities(self) -> dict[str, float]:
        """Smoothed expression name -> probability in [0, 1] (sums to 1)."""
    @property
    def probability_vector(self) -> npt.NDArray[np.float32]:
        """The smoothed probabilities as a float32 array of shape ``(8,)`` in
        :data:`EXPRESSIONS` order, as :attr:`Face.probability_vector`. A new array on each
        access."""
    def top(self, k: int = 1) -> list[tuple[str, float]]:
        """The ``k`` (1-8) most probable smoothed expressions as ``(name, probability)``, most
        probable first (ties in :data:`EXPRESSIONS` order), as :meth:`Face.top`.

        Raises:
            ValueError: ``k`` outside [1, 8].
        """
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

    Between whole-frame detections (every ``detection_interval`` frames, after a scene cut, when a
    track is lost, and on every frame while no face is tracked) each face is re-found in a margin around its last box, which is much
    cheaper. Frames are **RGB by default**: pass ``color="bgr"`` for OpenCV frames. One tracker
    per video.

    Threads: a Tracker follows one video, whose frames come in time order, so use it from one
    thread at a time. Calls from several threads at once are safe: they run one after the other
    (a call waits, with the GIL released, until the one in progress returns), in no set order, so
    frames may arrive out of time order and raise :class:`~emotion.InvalidOptionError`.

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

class EmotionError(Exception):
    """Base class of every error raised by the ``emotion`` library."""

class ImageError(EmotionError, ValueError):
    """The pixels cannot be used: e.g. more than 100 megapixels, or an unsupported layout; or an
    image file cannot be decoded."""

class InvalidOptionError(EmotionError, ValueError):
    """An :class:`~emotion.Analyzer` or :class:`~emotion.Tracker` option outside its documented
    range, or a video frame time that is not finite or not later than the previous frame's."""

class InvalidBoxError(EmotionError, ValueError):
    """A box given to :meth:`~emotion.Analyzer.classify` that is empty, not finite, or entirely
    outside the image."""

class ModelError(EmotionError):
    """The emotion model cannot be read, parsed, or does not meet the model contract."""

class DetectorError(EmotionError):
    """The face detector model cannot be loaded."""

class InferenceError(EmotionError):
    """Running the model or the detector failed (a library bug: please report it)."""

class PartialImageWarning(UserWarning):
    """Issued by :func:`~emotion.load_image` with ``allow_partial=True`` when the file was
    truncated or damaged and only part of it decoded."""
