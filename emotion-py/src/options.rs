//! Option values as Python gives them: integers of any size, named in the error when out of
//! range.

use emotion_core::Error;
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;

use crate::errors::to_py_err;

/// An integer option as Python gave it: any size (pyo3's `i64` would raise OverflowError for
/// 2**63 and up, before the option could be named).
pub(crate) enum Int {
    Small(i64),
    /// Outside i64: the number in decimal.
    Big(String),
}

impl std::fmt::Display for Int {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Int::Small(v) => v.fmt(f),
            Int::Big(v) => f.write_str(v),
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Int {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.extract::<i64>() {
            Ok(v) => Ok(Int::Small(v)),
            // Only integers (int, numpy integers, __index__) overflow; other types keep their
            // TypeError.
            Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
                let py = obj.py();
                Ok(Int::Big(py.import("operator")?.call_method1("index", (obj,))?.str()?.to_string()))
            }
            Err(e) => Err(e),
        }
    }
}

/// An integer option as the core's unsigned type; `None` when outside it (negative or too large).
pub(crate) fn to_unsigned<T: TryFrom<i64>>(value: &Int) -> Option<T> {
    match value {
        Int::Small(v) => T::try_from(*v).ok(),
        Int::Big(_) => None,
    }
}

/// An integer option as the core's unsigned type. A value outside the type (negative or too
/// large) gives the `InvalidOptionError` the core gives for other out-of-range values, with
/// `expected`, the option's whole range.
pub(crate) fn unsigned<T: TryFrom<i64>>(name: &'static str, value: &Int, expected: &'static str) -> Result<T, Error> {
    to_unsigned(value).ok_or_else(|| Error::InvalidOption { name, value: value.to_string(), expected })
}

/// The whole range of each integer option, as the core words it (the core checks the values
/// that fit in its types; these are for the others).
pub(crate) const MIN_FACE_SIZE_RANGE: &str = "must be in [10, 10000] pixels";
pub(crate) const MAX_FACE_SIZE_RANGE: &str = "must be >= min_face_size and <= 4294967295 pixels, or 0 (no limit)";
pub(crate) const MAX_FACES_RANGE: &str = "must be in [0, 18446744073709551615] (0 = all)";
pub(crate) const WINDOW_STEP_RANGE: &str = "must be in [1, 64] pixels";
pub(crate) const THREADS_RANGE: &str = "must be in [0, 256] (0 = all cores)";
pub(crate) const INPUT_SIZE_RANGE: &str = "each side must be in [8, 1024] pixels";
pub(crate) const BATCH_SIZE_RANGE: &str = "must be in [0, 64] (0 = 1)";
pub(crate) const DETECTION_INTERVAL_RANGE: &str = "must be in [1, 1000] frames";

/// The integer options with a number as default (shown by `help()`) are read through these:
/// pyo3 would raise OverflowError for an int beyond 64 bits, before the option is named.
fn int_option<T: TryFrom<i64>>(obj: &Bound<'_, PyAny>, name: &'static str, expected: &'static str) -> PyResult<T> {
    unsigned(name, &obj.extract::<Int>()?, expected).map_err(|e| to_py_err(obj.py(), e))
}

pub(crate) fn min_face_size_option(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_option(obj, "min_face_size", MIN_FACE_SIZE_RANGE)
}

pub(crate) fn window_step_option(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_option(obj, "window_step", WINDOW_STEP_RANGE)
}

pub(crate) fn detection_interval_option(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_option(obj, "detection_interval", DETECTION_INTERVAL_RANGE)
}
