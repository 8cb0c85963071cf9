//! Module-level functions: `load_image` and `draw`.

use std::path::PathBuf;

use emotion_core::{Error, Face as CoreFace, LoadOptions};
use numpy::IntoPyArray;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::{to_py_err, PARTIAL_IMAGE_WARNING};
use crate::image::{type_name, with_image};
use crate::results::Face;
use crate::tracker::TrackedFace;

/// Decodes an image file with the library's decoder (the one the command line and C's
/// emotion_image_load use): PNG, JPEG, BMP, GIF, TIFF, WebP; EXIF orientation applied; 8-bit
/// RGB. Results of analyze() on it equal the command line's, bit for bit.
///
/// Args:
///     path: the image file: str, bytes (as os.listdir(b".") gives names that are not UTF-8)
///         or an os.PathLike of either.
///     allow_partial: accept a truncated or damaged file: the part that decodes is returned
///         (the rest black, or grey for JPEG) and an emotion.PartialImageWarning is issued.
///         Default False: such files raise ImageError.
///
/// Returns:
///     numpy.ndarray, uint8, shape (height, width, 3), RGB.
///
/// Raises:
///     FileNotFoundError, PermissionError, OSError: the file cannot be read.
///     ImageError: not an image in a supported format, truncated or damaged (unless
///         allow_partial), or more than 100 million pixels.
#[pyfunction]
#[pyo3(signature = (path, *, allow_partial=false))]
pub(crate) fn load_image<'py>(py: Python<'py>, path: &Bound<'py, PyAny>, allow_partial: bool) -> PyResult<Bound<'py, PyAny>> {
    let path = path_arg(path)?;
    let options = LoadOptions::default().allow_partial(allow_partial);
    let loaded = py.detach(|| emotion_core::load_image(&path, &options)).map_err(|e| match e {
        Error::Io { source, .. } => PyErr::from(std::io::Error::new(source.kind(), format!("{}: {source}", path.display()))),
        e => to_py_err(py, e),
    })?;
    if loaded.partial {
        let warning = PARTIAL_IMAGE_WARNING.get(py)?;
        let message = format!(
            "{}: image data is incomplete or damaged ({}); returning the part that decoded",
            path.display(),
            loaded.decode_error.as_deref().unwrap_or("decoding stopped early")
        );
        PyErr::warn(py, warning.as_any(), &std::ffi::CString::new(message.replace('\0', ""))?, 1)?;
    }
    let (w, h) = loaded.image.dimensions();
    let array = numpy::ndarray::Array3::from_shape_vec((h as usize, w as usize, 3), loaded.image.into_raw())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py).into_any())
}

/// Draws faces into a copy of an image: each face's box, its expression label with the
/// probability, and a small valence (x) / arousal (y, up) plane with a dot at its values (the
/// drawing of the command line's --annotate and C's emotion_draw).
///
/// Args:
///     image: as for Analyzer.analyze (numpy array or PIL image).
///     faces: Face objects (from analyze or classify) or TrackedFace objects (from
///         Tracker.update: their smoothed expression is drawn; the track id is not).
///     color: "rgb" (default) or "bgr" for 3/4-channel arrays in OpenCV order.
///
/// Returns:
///     numpy.ndarray, uint8: a new array of shape (H, W, 3), (H, W, 4) or (H, W) (the image's
///     channels; PIL images as RGB, RGBA or L), in the image's channel order.
///
/// Raises:
///     TypeError: a face that is neither a Face nor a TrackedFace.
///     TypeError, ValueError, ImageError: the image, as Analyzer.analyze.
#[pyfunction]
#[pyo3(signature = (image, faces, *, color="rgb"))]
pub(crate) fn draw<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    faces: Vec<Bound<'py, PyAny>>,
    color: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let faces = faces
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if let Ok(f) = f.cast::<Face>() {
                Ok(f.get().to_core())
            } else if let Ok(t) = f.cast::<TrackedFace>() {
                Ok(t.get().face.to_core())
            } else {
                Err(PyTypeError::new_err(format!("faces[{i}] must be a Face or a TrackedFace, got {}", type_name(f))))
            }
        })
        .collect::<PyResult<Vec<CoreFace>>>()?;
    with_image(image, color, |view| {
        let (w, h, format) = (view.width(), view.height(), view.format());
        let bpp = format.bytes_per_pixel();
        let row = w as usize * bpp;
        let mut pixels = view.to_packed();
        emotion_core::draw::draw_faces(&mut pixels, w, h, row, format, &faces).map_err(|e| to_py_err(py, e))?;
        let array = if bpp == 1 {
            numpy::ndarray::Array2::from_shape_vec((h as usize, w as usize), pixels)
                .map_err(|e| PyValueError::new_err(e.to_string()))?
                .into_pyarray(py)
                .into_any()
        } else {
            numpy::ndarray::Array3::from_shape_vec((h as usize, w as usize, bpp), pixels)
                .map_err(|e| PyValueError::new_err(e.to_string()))?
                .into_pyarray(py)
                .into_any()
        };
        Ok(array)
    })
}

/// A file path given as `str`, `bytes` or an `os.PathLike` of either, as `open()` takes it:
/// `bytes` are decoded as `os.fsdecode` does, so on Unix a name that is not UTF-8 (from
/// `os.listdir(b".")`) reaches the file system unchanged. `TypeError` for anything else.
fn path_arg(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let os = path.py().import("os")?;
    let fspath = os.call_method1("fspath", (path,))?;
    let text = if fspath.is_instance_of::<pyo3::types::PyBytes>() { os.call_method1("fsdecode", (fspath,))? } else { fspath };
    text.extract::<PathBuf>()
}
