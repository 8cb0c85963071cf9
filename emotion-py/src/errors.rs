//! The `emotion` exception classes, made here (not in Python) on first use, and the one table
//! from the core's [`ErrorKind`] to them.

use emotion_core::{Error, ErrorKind};
use pyo3::exceptions::{PyException, PyUserWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// One exception (or warning) class of the `emotion` package, created on first use and then
/// kept: `emotion.ImageError` and the others are these objects, re-exported by
/// `emotion/__init__.py` and `emotion/_errors.py`.
pub(crate) struct ExceptionClass {
    /// The class name as users import it from `emotion`.
    pub(crate) name: &'static str,
    doc: &'static str,
    /// The base classes, in method resolution order.
    bases: for<'py> fn(Python<'py>) -> PyResult<Vec<Bound<'py, PyType>>>,
    class: PyOnceLock<Py<PyType>>,
}

impl ExceptionClass {
    const fn new(
        name: &'static str,
        doc: &'static str,
        bases: for<'py> fn(Python<'py>) -> PyResult<Vec<Bound<'py, PyType>>>,
    ) -> Self {
        ExceptionClass { name, doc, bases, class: PyOnceLock::new() }
    }

    /// The class object (the same one on every call).
    pub(crate) fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyType>> {
        let class = self.class.get_or_try_init(py, || -> PyResult<Py<PyType>> {
            let bases = PyTuple::new(py, (self.bases)(py)?)?;
            let namespace = PyDict::new(py);
            namespace.set_item("__doc__", self.doc)?;
            // Shown in tracebacks as `emotion.ImageError: ...`, where users import it from.
            namespace.set_item("__module__", "emotion")?;
            // `type(name, bases, namespace)`: a class with several bases, which pyo3's
            // `create_exception!` (one base) cannot make.
            let class = py.get_type::<PyType>().call1((self.name, bases, namespace))?;
            Ok(class.cast_into::<PyType>()?.unbind())
        })?;
        Ok(class.bind(py).clone())
    }
}

fn emotion_error_and_value_error(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyType>>> {
    Ok(vec![EMOTION_ERROR.get(py)?, py.get_type::<PyValueError>()])
}

fn emotion_error(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyType>>> {
    Ok(vec![EMOTION_ERROR.get(py)?])
}

pub(crate) static EMOTION_ERROR: ExceptionClass =
    ExceptionClass::new("EmotionError", "Base class of every error raised by the ``emotion`` library.", |py| {
        Ok(vec![py.get_type::<PyException>()])
    });
pub(crate) static IMAGE_ERROR: ExceptionClass = ExceptionClass::new(
    "ImageError",
    "The pixels cannot be used: e.g. more than 100 megapixels, or an unsupported layout; or an \
     image file cannot be decoded.",
    emotion_error_and_value_error,
);
pub(crate) static INVALID_OPTION_ERROR: ExceptionClass = ExceptionClass::new(
    "InvalidOptionError",
    "An :class:`~emotion.Analyzer` or :class:`~emotion.Tracker` option outside its documented \
     range, or a video frame time that is not finite or not later than the previous frame's.",
    emotion_error_and_value_error,
);
pub(crate) static INVALID_BOX_ERROR: ExceptionClass = ExceptionClass::new(
    "InvalidBoxError",
    "A box given to :meth:`~emotion.Analyzer.classify` that is empty, not finite, or entirely \
     outside the image.",
    emotion_error_and_value_error,
);
pub(crate) static MODEL_ERROR: ExceptionClass = ExceptionClass::new(
    "ModelError",
    "The emotion model cannot be read, parsed, or does not meet the model contract.",
    emotion_error,
);
pub(crate) static DETECTOR_ERROR: ExceptionClass =
    ExceptionClass::new("DetectorError", "The face detector model cannot be loaded.", emotion_error);
pub(crate) static INFERENCE_ERROR: ExceptionClass = ExceptionClass::new(
    "InferenceError",
    "Running the model or the detector failed (a library bug: please report it).",
    emotion_error,
);
pub(crate) static PARTIAL_IMAGE_WARNING: ExceptionClass = ExceptionClass::new(
    "PartialImageWarning",
    "Issued by :func:`~emotion.load_image` with ``allow_partial=True`` when the file was \
     truncated or damaged and only part of it decoded. Turn it into an error with \
     ``warnings.simplefilter(\"error\", emotion.PartialImageWarning)``, or record it with \
     ``warnings.catch_warnings(record=True)``.",
    |py| Ok(vec![py.get_type::<PyUserWarning>()]),
);

/// Every class, for the module to export.
pub(crate) static ALL: [&ExceptionClass; 8] = [
    &EMOTION_ERROR,
    &IMAGE_ERROR,
    &INVALID_OPTION_ERROR,
    &INVALID_BOX_ERROR,
    &MODEL_ERROR,
    &DETECTOR_ERROR,
    &INFERENCE_ERROR,
    &PARTIAL_IMAGE_WARNING,
];

/// The exception class of each kind of core error: the one table (no catch-all, so a new
/// [`ErrorKind`] does not compile until it is placed here).
pub(crate) fn exception_for(kind: ErrorKind) -> &'static ExceptionClass {
    match kind {
        ErrorKind::InvalidImage | ErrorKind::ImageTooLarge | ErrorKind::Decode => &IMAGE_ERROR,
        ErrorKind::InvalidArgument => &INVALID_OPTION_ERROR,
        ErrorKind::InvalidBox => &INVALID_BOX_ERROR,
        // Only reading a model file gives Io here (load_image raises OSError itself).
        ErrorKind::Model | ErrorKind::Io => &MODEL_ERROR,
        ErrorKind::Detector => &DETECTOR_ERROR,
        ErrorKind::Inference | ErrorKind::Internal => &INFERENCE_ERROR,
    }
}

/// Converts a core error into the matching `emotion.*Error`, with the core's message.
pub(crate) fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    match exception_for(e.kind()).get(py) {
        Ok(class) => PyErr::from_type(class, e.to_string()),
        Err(creating) => creating,
    }
}
