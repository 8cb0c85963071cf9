"""Results as a table: one row per face per image or video frame, the columns of the command
line's ``--format csv`` (:data:`CSV_COLUMNS`, a stable order), as a CSV file (:func:`to_csv`) or a
pandas DataFrame (:func:`to_dataframe`).

``results`` is one of:

- a list of :class:`Face` or :class:`TrackedFace` (what one ``analyze`` or ``Tracker.update``
  call returns): the rows of one image, with an empty ``file``;
- a mapping ``{file: faces}`` (file names as ``str`` or ``os.PathLike``): stills, in the
  mapping's order;
- an iterable of records, each a dict in the command line's JSON-lines shape
  (``json.loads(line)`` of ``emotion``'s output): ``file``, for video frames ``frame`` and
  ``time_ms``, and ``faces``, a list of face dicts (``Face.to_dict()`` shape) or of
  :class:`Face` / :class:`TrackedFace` objects. Records without ``faces`` (the ``--summary``
  line) are skipped.

An image or frame without faces gives one row whose face columns are empty, so frame counts
survive. Numbers are written in their shortest round-trip form: the library's float32 values as
float32 (reading them back as ``numpy.float32`` gives the exact values), ``time_ms`` as float64.
The command line's CSV of the same results is the same text.
"""

from __future__ import annotations

import csv
import os
from typing import Any, Iterable, Iterator, List, Mapping, Sequence, Union

import numpy as np

from ._emotion import EXPRESSIONS

#: The 5 landmark points, in the detector's order (the subject's right eye first); each gives the
#: columns ``<name>_x`` and ``<name>_y`` (pixels), empty when the detector gives no landmarks.
LANDMARKS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")

#: The table's columns, in order: where the face was seen (``file``; ``frame``, 0-based, and
#: ``time_ms`` for video frames), ``track_id`` (tracked faces), the box in pixels (``bbox_x``,
#: ``bbox_y``, ``bbox_width``, ``bbox_height``), the landmarks (:data:`LANDMARKS`),
#: ``detection_score``, ``expression``, the 8 probabilities named by expression in AffectNet
#: order, ``valence``, ``arousal`` (for tracked faces smoothed), then a tracked face's own values
#: on that frame before smoothing (``raw_neutral`` ... ``raw_contempt``, ``raw_valence``,
#: ``raw_arousal``).
CSV_COLUMNS = (
    ("file", "frame", "time_ms", "track_id", "bbox_x", "bbox_y", "bbox_width", "bbox_height")
    + tuple(f"{name}_{axis}" for name in LANDMARKS for axis in ("x", "y"))
    + ("detection_score", "expression")
    + tuple(EXPRESSIONS)
    + ("valence", "arousal")
    + tuple(f"raw_{e}" for e in EXPRESSIONS)
    + ("raw_valence", "raw_arousal")
)

_INT_COLUMNS = ("frame", "track_id")
_TEXT_COLUMNS = ("file", "expression")

Results = Union[Sequence[Any], Mapping[Any, Sequence[Any]], Iterable[Mapping[str, Any]]]


def _float32(v: Any) -> str:
    """Shortest round-trip text of a library value (float32 where it is exactly one)."""
    if v is None:
        return ""
    x = float(v)
    f = np.float32(x)
    if float(f) == x or not np.isfinite(x):
        return np.format_float_positional(f, unique=True, trim="-")
    return np.format_float_positional(np.float64(x), unique=True, trim="-")


def _float64(v: Any) -> str:
    return "" if v is None else np.format_float_positional(np.float64(float(v)), unique=True, trim="-")


def _int(v: Any) -> str:
    return "" if v is None else str(int(v))


def _face_dict(face: Any) -> Mapping[str, Any]:
    if isinstance(face, Mapping):
        return face
    to_dict = getattr(face, "to_dict", None)
    if to_dict is None:
        raise TypeError(f"expected a Face, TrackedFace or face dict, got {type(face).__name__}")
    return to_dict()


def _is_face(x: Any) -> bool:
    return hasattr(x, "bbox") and hasattr(x, "probabilities") and not isinstance(x, Mapping)


def _records(results: Results) -> Iterator[Mapping[str, Any]]:
    if isinstance(results, Mapping):
        for file, faces in results.items():
            yield {"file": os.fspath(file), "faces": faces}
        return
    if isinstance(results, (str, bytes)):
        raise TypeError("results must be faces, a {file: faces} mapping or records, not a string")
    items = results if isinstance(results, Sequence) else list(results)
    if len(items) == 0 or all(_is_face(x) for x in items):
        yield {"file": "", "faces": items}
        return
    for r in items:
        if not isinstance(r, Mapping):
            raise TypeError(f"expected a record dict (file, faces, ...) or a face, got {type(r).__name__}")
        if "faces" in r:
            yield r


def _rows(results: Results) -> Iterator[List[str]]:
    """The table's rows as text fields, in :data:`CSV_COLUMNS` order."""
    empty_face = [""] * (len(CSV_COLUMNS) - 3)
    for r in _records(results):
        place = [os.fspath(r.get("file") or ""), _int(r.get("frame")), _float64(r.get("time_ms"))]
        faces = r["faces"]
        if len(faces) == 0:
            yield place + empty_face
            continue
        for face in faces:
            d = _face_dict(face)
            b = d["bbox"]
            row = place + [_int(d.get("track_id"))]
            row += [_float32(b[k]) for k in ("x", "y", "width", "height")]
            landmarks = d.get("landmarks")
            if landmarks is None:
                row += [""] * (2 * len(LANDMARKS))
            else:
                points = np.asarray(landmarks, dtype=np.float64).reshape(len(LANDMARKS), 2)
                row += [_float32(v) for v in points.ravel()]
            row += [_float32(d.get("detection_score")), str(d["expression"])]
            probabilities = d["probabilities"]
            row += [_float32(probabilities[e]) for e in EXPRESSIONS]
            row += [_float32(d["valence"]), _float32(d["arousal"])]
            raw = d.get("raw")
            if raw is None:
                row += [""] * (len(EXPRESSIONS) + 2)
            else:
                row += [_float32(raw["probabilities"][e]) for e in EXPRESSIONS]
                row += [_float32(raw["valence"]), _float32(raw["arousal"])]
            yield row


def to_csv(results: Results, path_or_file: Union[str, "os.PathLike[str]", Any]) -> None:
    """Writes ``results`` as CSV, the command line's ``--format csv`` table: a header of
    :data:`CSV_COLUMNS`, then one row per face per image or frame (see the module docs for the
    accepted ``results``).

    Args:
        results: faces, a ``{file: faces}`` mapping, or records in the JSON-lines shape.
        path_or_file: a path (written as UTF-8, replaced if it exists) or a text file object.

    Raises:
        TypeError: ``results`` of another shape.
        KeyError: a face dict without a needed key (``bbox``, ``expression``, ``probabilities``,
            ``valence``, ``arousal``).
        OSError: the file cannot be written.
    """
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "w", newline="", encoding="utf-8") as f:
            _write(results, f)
    else:
        _write(results, path_or_file)


def _write(results: Results, f: Any) -> None:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    w.writerows(_rows(results))


def to_dataframe(results: Results) -> "Any":
    """``results`` as a pandas DataFrame with the columns of :data:`CSV_COLUMNS` (the table
    :func:`to_csv` writes): ``file`` and ``expression`` as text (None where empty), ``frame``
    and ``track_id`` as nullable ``Int64``, every other column ``float64`` (NaN where empty),
    each value the CSV's decimal text read as float64, as ``pandas.read_csv`` reads it.

    Raises:
        ImportError: pandas is not installed (``pip install pandas``).
        TypeError, KeyError: as :func:`to_csv`.
    """
    try:
        import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("emotion.to_dataframe needs pandas: pip install pandas (or use emotion.to_csv)") from e
    columns: dict = {c: [] for c in CSV_COLUMNS}
    for row in _rows(results):
        for c, v in zip(CSV_COLUMNS, row):
            columns[c].append(v)
    data = {}
    for c, values in columns.items():
        if c in _TEXT_COLUMNS:
            data[c] = pd.Series([v if v != "" else None for v in values], dtype=object)
        elif c in _INT_COLUMNS:
            data[c] = pd.array([int(v) if v != "" else None for v in values], dtype="Int64")
        else:
            data[c] = np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
    return pd.DataFrame(data, columns=list(CSV_COLUMNS))


__all__ = ["CSV_COLUMNS", "LANDMARKS", "to_csv", "to_dataframe"]
