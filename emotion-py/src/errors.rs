//! Core errors as `emotion.*Error` exceptions.

use emotion_core::Error;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The `emotion` exception class (defined in `emotion/_errors.py`) for a core error.
fn error_class(e: &Error) -> &'static str {
    match e {
        Error::EmptyImage { .. }
        | Error::SizeOverflow { .. }
        | Error::ImageTooLarge { .. }
        | Error::StrideTooSmall { .. }
        | Error::BufferTooSmall { .. }
        | Error::UnsupportedLayout(_)
        | Error::Decode { .. } => "ImageError",
        Error::InvalidOption { .. } | Error::InvalidTimestamp { .. } => "InvalidOptionError",
        Error::InvalidBox { .. } => "InvalidBoxError",
        Error::ModelLoad(_) | Error::ModelContract(_) | Error::ModelMetadata { .. } | Error::Io { .. } => "ModelError",
        Error::DetectorLoad(_) => "DetectorError",
        Error::Inference(_) | Error::Internal(_) => "InferenceError",
        _ => "EmotionError",
    }
}

/// Converts a core error into the matching `emotion.*Error`, with the core's message.
pub(crate) fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let class = py
        .import("emotion._errors")
        .and_then(|m| Ok(m.getattr(error_class(&e))?.cast_into::<PyType>()?));
    match class {
        Ok(class) => PyErr::from_type(class, e.to_string()),
        Err(import_error) => import_error,
    }
}
