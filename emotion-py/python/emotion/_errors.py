"""Exceptions raised by ``emotion`` (the classes are made by the native module, which maps each
kind of library error to one of them in one table: ``emotion-py/src/errors.rs``).

Every error from the library is an :class:`EmotionError`; the subclasses say what kind.
Those about bad arguments are also :class:`ValueError`, so ``except ValueError`` works too.
Wrong argument *types* (e.g. a float array instead of uint8) raise plain :class:`TypeError`, and
badly shaped arrays (wrong ndim or channel count, zero size) or a wrong ``color`` raise plain
:class:`ValueError`, before the library is called.
"""

from ._emotion import (
    DetectorError,
    EmotionError,
    ImageError,
    InferenceError,
    InvalidBoxError,
    InvalidOptionError,
    ModelError,
    PartialImageWarning,
)

__all__ = [
    "EmotionError",
    "ImageError",
    "InvalidOptionError",
    "InvalidBoxError",
    "ModelError",
    "DetectorError",
    "InferenceError",
    "PartialImageWarning",
]
