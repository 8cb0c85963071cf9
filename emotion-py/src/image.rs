//! Images in: numpy arrays and PIL images as core [`ImageView`]s (see the crate docs on borrowed
//! pixels).

use emotion_core::{Error, ImageView, PixelFormat, DEFAULT_MAX_PIXELS};
use numpy::{PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::to_py_err;

/// Calls `f` with a view of `image` (numpy array or PIL image); the pixels stay valid and
/// unchanged (see the module docs) until `f` returns.
pub(crate) fn with_image<R>(image: &Bound<'_, PyAny>, color: &str, f: impl FnOnce(ImageView<'_>) -> PyResult<R>) -> PyResult<R> {
    let bgr = match color {
        "rgb" => false,
        "bgr" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "color must be \"rgb\" or \"bgr\", got {other:?} (\"bgr\" is for OpenCV frames; the default is \"rgb\")"
            )))
        }
    };
    if let Ok(array) = image.cast::<PyUntypedArray>() {
        return with_array(array, bgr, f);
    }
    if is_pil_image(image)? {
        if bgr {
            return Err(PyValueError::new_err(
                "color=\"bgr\" only applies to numpy arrays; PIL images are converted by their mode",
            ));
        }
        return with_pil_image(image, f);
    }
    Err(PyTypeError::new_err(format!(
        "image must be a numpy.ndarray of uint8 (HxWx3 RGB, HxWx4 RGBA or HxW gray) or a PIL image, got {}",
        type_name(image)
    )))
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an unknown type".into())
}

/// Duck typing, so PIL stays an optional dependency.
fn is_pil_image(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    for attr in ["mode", "size", "tobytes", "convert"] {
        if !obj.hasattr(attr)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn with_array<R>(
    array: &Bound<'_, PyUntypedArray>,
    bgr: bool,
    f: impl FnOnce(ImageView<'_>) -> PyResult<R>,
) -> PyResult<R> {
    let py = array.py();
    let shape = array.shape().to_vec();
    if !array.dtype().is_equiv_to(&numpy::dtype::<u8>(py)) {
        return Err(PyTypeError::new_err(format!(
            "image array must have dtype uint8, got {}; convert it first, e.g. \
             (img * 255).clip(0, 255).astype(np.uint8) for floats in [0, 1]",
            array.dtype()
        )));
    }
    let (height, width, channels) = match shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "image array must have 2 dimensions (HxW gray) or 3 (HxWxC), got {} with shape {shape:?}",
                shape.len()
            )))
        }
    };
    let format = match (channels, bgr) {
        (1, _) => PixelFormat::Gray8,
        (3, false) => PixelFormat::Rgb8,
        (3, true) => PixelFormat::Bgr8,
        (4, false) => PixelFormat::Rgba8,
        (4, true) => PixelFormat::Bgra8,
        _ => {
            return Err(PyValueError::new_err(format!(
                "image array must have 1, 3 or 4 channels on its last axis, got shape {shape:?}"
            )))
        }
    };
    if height == 0 || width == 0 {
        return Err(PyValueError::new_err(format!("image array is empty: shape {shape:?}")));
    }
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(PyValueError::new_err(format!("image array is too large: shape {shape:?}")));
    };
    let to_err = |e| to_py_err(py, e);

    let array = array.cast::<PyArrayDyn<u8>>()?;
    // Holds a reference to the array and a shared borrow until this function returns.
    let pixels = array
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("image array is borrowed mutably: {e}")))?;
    let row_bytes = width * channels;
    match packed_row_stride(&shape, pixels.strides(), channels) {
        Some(stride) => {
            let len = stride * (height - 1) + row_bytes;
            // SAFETY: the strides say row r starts at data + r * stride and holds row_bytes
            // contiguous bytes, so the `len` bytes from `data` lie inside the array's buffer; the
            // array is kept alive by `pixels` (see the module docs on concurrent writes).
            let data = unsafe { std::slice::from_raw_parts(pixels.data() as *const u8, len) };
            f(ImageView::new(data, w, h, stride, format).map_err(to_err)?)
        }
        None => {
            // Check the size before copying anything: a broadcast view can describe terabytes.
            let pixel_count = u64::from(w) * u64::from(h);
            if pixel_count > DEFAULT_MAX_PIXELS {
                let e = Error::ImageTooLarge { width: w, height: h, pixels: pixel_count, limit: DEFAULT_MAX_PIXELS };
                return Err(to_err(e));
            }
            // numpy's own copy is ~10x faster than element-wise iteration for views such as
            // `frame[:, :, ::-1]`.
            let copy = py.import("numpy")?.call_method1("ascontiguousarray", (array,))?;
            let copy = copy.cast::<PyArrayDyn<u8>>()?.try_readonly()
                .map_err(|e| PyValueError::new_err(format!("image array is borrowed mutably: {e}")))?;
            let packed = copy.as_slice().map_err(|e| PyValueError::new_err(format!("cannot copy the image array: {e}")))?;
            f(ImageView::new(packed, w, h, row_bytes, format).map_err(to_err)?)
        }
    }
}

/// The row stride in bytes when each row is `width * channels` contiguous bytes and rows go
/// forward in memory (any gap between rows is fine); `None` when the array must be copied.
fn packed_row_stride(shape: &[usize], strides: &[isize], channels: usize) -> Option<usize> {
    let (height, width) = (shape[0], shape[1]);
    let row_bytes = width * channels;
    let pixels_packed = width == 1 || strides[1] == channels as isize;
    let channels_packed = shape.len() == 2 || channels == 1 || strides[2] == 1;
    if !(pixels_packed && channels_packed) {
        return None;
    }
    if height == 1 {
        return Some(row_bytes);
    }
    usize::try_from(strides[0]).ok().filter(|&s| s >= row_bytes)
}

fn with_pil_image<R>(image: &Bound<'_, PyAny>, f: impl FnOnce(ImageView<'_>) -> PyResult<R>) -> PyResult<R> {
    let py = image.py();
    let mode: String = image.getattr("mode")?.extract()?;
    let (image, format) = match mode.as_str() {
        "RGB" => (image.clone(), PixelFormat::Rgb8),
        "RGBA" => (image.clone(), PixelFormat::Rgba8),
        "L" => (image.clone(), PixelFormat::Gray8),
        "1" | "LA" => (image.call_method1("convert", ("L",))?, PixelFormat::Gray8),
        // Premultiplied alpha: Pillow converts La only to LA (un-premultiplying, as RGBa to RGB).
        "La" => (image.call_method1("convert", ("LA",))?.call_method1("convert", ("L",))?, PixelFormat::Gray8),
        // Pillow converts these to 8 bits by clipping, not scaling: a 16-bit or float picture
        // would come out white or black and silently lose its faces.
        m if m == "I" || m == "F" || m.starts_with("I;") => {
            return Err(PyValueError::new_err(format!(
                "PIL mode {m:?} has more than 8 bits per channel; scale it to 8-bit first, e.g. \
                 Image.fromarray((np.asarray(img) / MAX * 255).astype(np.uint8))"
            )))
        }
        _ => (image.call_method1("convert", ("RGB",))?, PixelFormat::Rgb8),
    };
    let (width, height): (u32, u32) = image.getattr("size")?.extract()?;
    if width == 0 || height == 0 {
        return Err(PyValueError::new_err(format!("image is empty: PIL size ({width}, {height})")));
    }
    let bytes = image.call_method0("tobytes")?;
    let bytes = bytes.cast::<PyBytes>()?;
    let stride = width as usize * format.bytes_per_pixel();
    f(ImageView::new(bytes.as_bytes(), width, height, stride, format).map_err(|e| to_py_err(py, e))?)
}
