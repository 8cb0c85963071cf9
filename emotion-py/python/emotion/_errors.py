"""Exceptions raised by ``emotion``.

Every error from the library is an :class:`EmotionError`; the subclasses say what kind.
Those about bad arguments are also :class:`ValueError`, so ``except ValueError`` works too.
Wrong argument *types* (e.g. a float array instead of uint8) raise plain :class:`TypeError`, and
badly shaped arrays (wrong ndim or channel count, zero size) or a wrong ``color`` raise plain
:class:`ValueError`, before the library is called.
"""

__all__ = [
    "EmotionError",
    "ImageError",
    "InvalidOptionError",
    "InvalidBoxError",
    "ModelError",
    "DetectorError",
    "InferenceError",
]


class EmotionError(Exception):
    """Base class of every error raised by the ``emotion`` library."""


class ImageError(EmotionError, ValueError):
    """The pixels cannot be used: e.g. more than 100 megapixels, or an unsupported layout."""


class InvalidOptionError(EmotionError, ValueError):
    """An :class:`~emotion.Analyzer` option outside its documented range."""


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
    truncated or damaged and only part of it decoded. Turn it into an error with
    ``warnings.simplefilter("error", emotion.PartialImageWarning)``, or record it with
    ``warnings.catch_warnings(record=True)``."""


# Shown in tracebacks as `emotion.ImageError: ...`, where users import them from.
for _cls in (
    EmotionError,
    ImageError,
    InvalidOptionError,
    InvalidBoxError,
    ModelError,
    DetectorError,
    InferenceError,
    PartialImageWarning,
):
    _cls.__module__ = "emotion"
del _cls
