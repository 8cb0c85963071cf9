//! `emotion._emotion`: the native half of the `emotion` Python package.
//!
//! A thin layer over `emotion-core`: it turns numpy arrays and PIL images into
//! [`ImageView`]s, runs the core with the GIL released, and turns the results into small
//! read-only Python objects. No image or model logic lives here.
//!
//! Memory safety of borrowed pixels while the GIL is released:
//! - numpy arrays whose rows are packed (pixels and channels contiguous, positive row stride)
//!   are borrowed, not copied: a `PyReadonlyArray` keeps a strong reference to the array (so it
//!   cannot be freed) and numpy-crate's shared borrow (so no Rust code can borrow it mutably)
//!   for the whole call. Python code in another thread can still write into the array while
//!   the call runs, exactly as with numpy's own GIL-releasing functions: the result then reflects
//!   a half-written image (the core only reads bytes). Don't do that.
//! - other layouts (negative or zero strides, channel-reversed views, ...) are copied into a
//!   packed buffer first.
//! - PIL images are converted with `Image.tobytes()`, an immutable `bytes` object we hold.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use emotion_core::{
    Detection as CoreDetection, Error, Expression, Face as CoreFace, ImageView, InputColor, Landmarks as CoreLandmarks, LoadOptions,
    ModelOverrides, PixelFormat, DEFAULT_MAX_PIXELS,
};
use numpy::{
    IntoPyArray, PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyTuple, PyType};

// ---------------------------------------------------------------------------------------------
// Errors

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
fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let class = py
        .import("emotion._errors")
        .and_then(|m| Ok(m.getattr(error_class(&e))?.cast_into::<PyType>()?));
    match class {
        Ok(class) => PyErr::from_type(class, e.to_string()),
        Err(import_error) => import_error,
    }
}

/// An integer option as Python gave it: any size (pyo3's `i64` would raise OverflowError for
/// 2**63 and up, before the option could be named).
enum Int {
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
fn to_unsigned<T: TryFrom<i64>>(value: &Int) -> Option<T> {
    match value {
        Int::Small(v) => T::try_from(*v).ok(),
        Int::Big(_) => None,
    }
}

/// An integer option as the core's unsigned type. A value outside the type (negative or too
/// large) gives the `InvalidOptionError` the core gives for other out-of-range values, with
/// `expected`, the option's whole range.
fn unsigned<T: TryFrom<i64>>(name: &'static str, value: &Int, expected: &'static str) -> Result<T, Error> {
    to_unsigned(value).ok_or_else(|| Error::InvalidOption { name, value: value.to_string(), expected })
}

/// The whole range of each integer option, as the core words it (the core checks the values
/// that fit in its types; these are for the others).
const MIN_FACE_SIZE_RANGE: &str = "must be in [10, 10000] pixels";
const MAX_FACE_SIZE_RANGE: &str = "must be >= min_face_size and <= 4294967295 pixels, or 0 (no limit)";
const MAX_FACES_RANGE: &str = "must be in [0, 18446744073709551615] (0 = all)";
const WINDOW_STEP_RANGE: &str = "must be in [1, 64] pixels";
const THREADS_RANGE: &str = "must be in [0, 256] (0 = all cores)";
const INPUT_SIZE_RANGE: &str = "each side must be in [8, 1024] pixels";
const BATCH_SIZE_RANGE: &str = "must be in [0, 64] (0 = 1)";
const DETECTION_INTERVAL_RANGE: &str = "must be in [1, 1000] frames";

/// The integer options with a number as default (shown by `help()`) are read through these:
/// pyo3 would raise OverflowError for an int beyond 64 bits, before the option is named.
fn int_option<T: TryFrom<i64>>(obj: &Bound<'_, PyAny>, name: &'static str, expected: &'static str) -> PyResult<T> {
    unsigned(name, &obj.extract::<Int>()?, expected).map_err(|e| to_py_err(obj.py(), e))
}

fn min_face_size_option(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_option(obj, "min_face_size", MIN_FACE_SIZE_RANGE)
}

fn window_step_option(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_option(obj, "window_step", WINDOW_STEP_RANGE)
}

fn detection_interval_option(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_option(obj, "detection_interval", DETECTION_INTERVAL_RANGE)
}

// ---------------------------------------------------------------------------------------------
// Images in

/// Calls `f` with a view of `image` (numpy array or PIL image); the pixels stay valid and
/// unchanged (see the module docs) until `f` returns.
fn with_image<R>(image: &Bound<'_, PyAny>, color: &str, f: impl FnOnce(ImageView<'_>) -> PyResult<R>) -> PyResult<R> {
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

fn type_name(obj: &Bound<'_, PyAny>) -> String {
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

/// Caller boxes: each a `BBox`, a `Detection` (whose score is kept) or 4 numbers
/// (x, y, width, height).
fn parse_boxes(boxes: &Bound<'_, PyAny>) -> PyResult<(Vec<emotion_core::BBox>, Vec<Option<f64>>)> {
    let items = boxes.try_iter().map_err(|_| {
        PyTypeError::new_err(format!("boxes must be a sequence of (x, y, width, height), got {}", type_name(boxes)))
    })?;
    let (mut out, mut scores) = (Vec::new(), Vec::new());
    for (i, item) in items.enumerate() {
        let item = item?;
        if let Ok(b) = item.cast::<BBox>() {
            out.push(b.get().to_core());
            scores.push(None);
        } else if let Ok(d) = item.cast::<Detection>() {
            out.push(d.get().bbox.to_core());
            scores.push(Some(d.get().detection_score));
        } else {
            let values: Vec<f32> = item
                .try_iter()
                .and_then(|it| it.map(|v| v?.extract::<f32>()).collect())
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "boxes[{i}] must be 4 numbers (x, y, width, height), a BBox or a Detection, got {}",
                        type_name(&item)
                    ))
                })?;
            let [x, y, width, height] = values[..] else {
                return Err(PyValueError::new_err(format!(
                    "boxes[{i}] has {} values; expected 4: (x, y, width, height)",
                    values.len()
                )));
            };
            out.push(emotion_core::BBox::new(x, y, width, height));
            scores.push(None);
        }
    }
    Ok((out, scores))
}

/// 8 probabilities from a sequence in AffectNet order or a dict naming each expression.
fn parse_probabilities(value: &Bound<'_, PyAny>) -> PyResult<[f32; 8]> {
    let values: Vec<f64> = if let Ok(dict) = value.cast::<PyDict>() {
        if dict.len() != Expression::ALL.len() {
            return Err(PyValueError::new_err(format!(
                "probabilities must name the 8 expressions {:?}, got {} keys",
                Expression::ALL.map(Expression::name),
                dict.len()
            )));
        }
        Expression::ALL
            .iter()
            .map(|e| match dict.get_item(e.name())? {
                Some(p) => p.extract::<f64>(),
                None => Err(PyValueError::new_err(format!("probabilities has no {:?}", e.name()))),
            })
            .collect::<PyResult<_>>()?
    } else {
        value.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "probabilities must be 8 numbers in AffectNet order or a dict, got {}",
                type_name(value)
            ))
        })?
    };
    let Ok(probabilities) = <[f64; 8]>::try_from(values.as_slice()) else {
        return Err(PyValueError::new_err(format!("probabilities must have 8 values, got {}", values.len())));
    };
    if !probabilities.iter().all(|p| p.is_finite()) {
        return Err(PyValueError::new_err(format!("probabilities must be finite, got {probabilities:?}")));
    }
    Ok(probabilities.map(|p| p as f32))
}

// ---------------------------------------------------------------------------------------------
// Results out

/// A face box in pixels: origin at the image's top-left corner, x to the right, y down.
/// Unpacks like a tuple: `x, y, width, height = face.bbox`.
#[pyclass(module = "emotion", frozen, eq, from_py_object)]
#[derive(Clone, Copy, PartialEq)]
struct BBox {
    /// Left edge, pixels.
    #[pyo3(get)]
    x: f64,
    /// Top edge, pixels.
    #[pyo3(get)]
    y: f64,
    /// Width, pixels.
    #[pyo3(get)]
    width: f64,
    /// Height, pixels.
    #[pyo3(get)]
    height: f64,
}

impl BBox {
    fn from_core(b: emotion_core::BBox) -> Self {
        BBox { x: b.x.into(), y: b.y.into(), width: b.width.into(), height: b.height.into() }
    }

    fn to_core(self) -> emotion_core::BBox {
        emotion_core::BBox::new(self.x as f32, self.y as f32, self.width as f32, self.height as f32)
    }

    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("x", self.x)?;
        d.set_item("y", self.y)?;
        d.set_item("width", self.width)?;
        d.set_item("height", self.height)?;
        Ok(d)
    }
}

#[pymethods]
impl BBox {
    #[new]
    fn new(x: f64, y: f64, width: f64, height: f64) -> Self {
        BBox { x, y, width, height }
    }

    /// `{"x": ..., "y": ..., "width": ..., "height": ...}`.
    #[allow(clippy::wrong_self_convention)] // a Python method: pyo3 methods take &self
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.dict(py)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyTuple::new(py, [self.x, self.y, self.width, self.height])?.try_iter()
    }

    fn __len__(&self) -> usize {
        4
    }

    /// Pickles and copies as `BBox(x, y, width, height)`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, (f64, f64, f64, f64))> {
        let b = slf.get();
        Ok((slf.get_type(), (b.x, b.y, b.width, b.height)))
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        (self.x, self.y, self.width, self.height).into_pyobject(py)?.hash()
    }

    fn __repr__(&self) -> String {
        format!("BBox(x={:.1}, y={:.1}, width={:.1}, height={:.1})", self.x, self.y, self.width, self.height)
    }
}

/// A face found by the detector. Compares, pickles and copies by value.
#[pyclass(module = "emotion", frozen, eq)]
#[derive(Clone, Copy, PartialEq)]
struct Detection {
    /// The face box (pixels), clamped to the image.
    #[pyo3(get)]
    bbox: BBox,
    /// Detector confidence: YuNet's score in [0, 1] (faces typically 0.7-0.95) or the SeetaFace
    /// cascade score, unbounded above (faces typically 5-40); only faces above the Analyzer's
    /// score threshold are returned. The same name as `Face.detection_score`.
    #[pyo3(get)]
    detection_score: f64,
    landmarks_: Option<CoreLandmarks>,
}

impl From<CoreDetection> for Detection {
    fn from(d: CoreDetection) -> Self {
        Detection { bbox: BBox::from_core(d.bbox), detection_score: d.detection_score.into(), landmarks_: d.landmarks }
    }
}

/// Five landmarks as a numpy float32 array of shape (5, 2), or None.
fn landmarks_array<'py>(py: Python<'py>, l: &Option<CoreLandmarks>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(points) = l else { return Ok(None) };
    let flat: Vec<f32> = points.iter().flatten().copied().collect();
    Ok(Some(PyArray1::from_vec(py, flat).reshape([5, 2])?.into_any()))
}

/// Landmarks from Python: None, or 5 (x, y) pairs of finite numbers (a (5, 2) array or nested
/// sequences).
fn parse_landmarks(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<CoreLandmarks>> {
    let Some(v) = v.filter(|v| !v.is_none()) else { return Ok(None) };
    let bad = || PyValueError::new_err("landmarks must be None or 5 (x, y) pairs of finite numbers");
    let rows: Vec<Vec<f32>> = v.extract().map_err(|_| bad())?;
    if rows.len() != 5 || rows.iter().any(|r| r.len() != 2 || !r.iter().all(|x| x.is_finite())) {
        return Err(bad());
    }
    let mut out = [[0f32; 2]; 5];
    for (o, r) in out.iter_mut().zip(&rows) {
        *o = [r[0], r[1]];
    }
    Ok(Some(out))
}

#[pymethods]
impl Detection {
    /// A detection from its parts: `Detection(bbox, detection_score, landmarks=None)`.
    ///
    /// Raises:
    ///     ValueError: landmarks not None or 5 (x, y) pairs of finite numbers.
    #[new]
    #[pyo3(signature = (bbox, detection_score, landmarks=None))]
    fn new(bbox: BBox, detection_score: f64, landmarks: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(Detection { bbox, detection_score, landmarks_: parse_landmarks(landmarks)? })
    }

    /// The detector's five landmarks in image pixels as a numpy float32 array of shape (5, 2),
    /// rows (x, y) in the order: the subject's right eye, left eye, nose tip, right and left
    /// mouth corners (the subject's right is on the image's left for a face looking at the
    /// camera); None from the seeta detector. A new array on each access.
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        landmarks_array(py, &self.landmarks_)
    }

    /// Pickles and copies as `Detection(bbox, detection_score, landmarks)`.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, (BBox, f64, Option<Vec<[f32; 2]>>))> {
        let d = slf.get();
        Ok((slf.get_type(), (d.bbox, d.detection_score, d.landmarks_.map(|l| l.to_vec()))))
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        (self.bbox.__hash__(py)?, self.detection_score).into_pyobject(py)?.hash()
    }

    /// `{"bbox": {...}, "detection_score": ...}`.
    #[allow(clippy::wrong_self_convention)] // a Python method: pyo3 methods take &self
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("bbox", self.bbox.dict(py)?)?;
        d.set_item("detection_score", self.detection_score)?;
        d.set_item("landmarks", self.landmarks_.map(|l| l.to_vec()))?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("Detection(bbox={}, detection_score={:.2})", self.bbox.__repr__(), self.detection_score)
    }
}

/// One analysed face. Compares, pickles and copies by value.
#[pyclass(module = "emotion", frozen, eq)]
#[derive(Clone, PartialEq)]
struct Face {
    /// The face box (pixels), clamped to the image.
    #[pyo3(get)]
    bbox: BBox,
    /// The detector's score (see `Detection.detection_score`); None for boxes given to `classify`.
    #[pyo3(get)]
    detection_score: Option<f64>,
    expression: Expression,
    probabilities: [f32; 8],
    /// Valence in [-1, 1], negative to positive (the bundled model learnt it from AffectNet class
    /// statistics, not human valence ratings: see its model card).
    #[pyo3(get)]
    valence: f64,
    /// Arousal in [-1, 1], calm to excited (same provenance as valence).
    #[pyo3(get)]
    arousal: f64,
    landmarks_: Option<CoreLandmarks>,
}

impl Face {
    fn to_core(&self) -> CoreFace {
        CoreFace::new(
            self.bbox.to_core(),
            self.detection_score.map(|s| s as f32),
            self.probabilities,
            self.expression,
            self.valence as f32,
            self.arousal as f32,
        )
        .with_landmarks(self.landmarks_)
    }
}

impl From<CoreFace> for Face {
    fn from(f: CoreFace) -> Self {
        Face {
            bbox: BBox::from_core(f.bbox),
            detection_score: f.detection_score.map(f64::from),
            expression: f.expression,
            probabilities: f.probabilities,
            valence: f.valence.into(),
            arousal: f.arousal.into(),
            landmarks_: f.landmarks,
        }
    }
}

#[pymethods]
impl Face {
    /// A face from its parts, e.g. read back from JSON; `expression` is the most probable of
    /// `probabilities`.
    ///
    /// Args:
    ///     bbox: the face box (pixels).
    ///     probabilities: 8 probabilities in AffectNet order (`emotion.EXPRESSIONS`), or a dict
    ///         naming all 8.
    ///     valence, arousal: in [-1, 1].
    ///     detection_score: the detector's score, or None.
    ///     landmarks: five (x, y) points (see `Face.landmarks`), or None.
    ///
    /// Raises:
    ///     ValueError: not 8 probabilities, an unknown or missing expression name, a non-finite
    ///         number, or landmarks that are not 5 (x, y) pairs.
    #[new]
    #[pyo3(signature = (bbox, probabilities, valence, arousal, detection_score=None, landmarks=None))]
    fn new(
        bbox: BBox,
        probabilities: &Bound<'_, PyAny>,
        valence: f64,
        arousal: f64,
        detection_score: Option<f64>,
        landmarks: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let landmarks_ = parse_landmarks(landmarks)?;
        let probabilities = parse_probabilities(probabilities)?;
        if !(valence.is_finite() && arousal.is_finite()) {
            return Err(PyValueError::new_err(format!("valence and arousal must be finite, got {valence} and {arousal}")));
        }
        Ok(Face { bbox, detection_score, expression: Expression::argmax(&probabilities), probabilities, valence, arousal, landmarks_ })
    }

    /// The detector's five landmarks in image pixels as a numpy float32 array of shape (5, 2),
    /// rows (x, y) in the order: the subject's right eye, left eye, nose tip, right and left
    /// mouth corners (the subject's right is on the image's left for a face looking at the
    /// camera); None for boxes given to `classify` and from the seeta detector. A new array on
    /// each access.
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        landmarks_array(py, &self.landmarks_)
    }

    /// Pickles and copies as `Face(bbox, probabilities, valence, arousal, detection_score,
    /// landmarks)`; the float32 values round-trip exactly through Python floats.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, (BBox, [f64; 8], f64, f64, Option<f64>, Option<Vec<[f32; 2]>>))> {
        let f = slf.get();
        let landmarks = f.landmarks_.map(|l| l.to_vec());
        Ok((slf.get_type(), (f.bbox, f.probabilities.map(f64::from), f.valence, f.arousal, f.detection_score, landmarks)))
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        let probabilities = PyTuple::new(py, self.probabilities.map(f64::from))?;
        (self.bbox.__hash__(py)?, probabilities, self.valence, self.arousal, self.detection_score).into_pyobject(py)?.hash()
    }

    /// The most probable expression, one of `emotion.EXPRESSIONS`.
    #[getter]
    fn expression(&self) -> &'static str {
        self.expression.name()
    }

    /// Expression name -> probability in [0, 1], in AffectNet order (`emotion.EXPRESSIONS`);
    /// the values sum to 1. A new dict on each access.
    #[getter]
    fn probabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (e, p) in Expression::ALL.iter().zip(self.probabilities) {
            d.set_item(e.name(), f64::from(p))?;
        }
        Ok(d)
    }

    /// The 8 probabilities as a numpy float32 array of shape (8,), in AffectNet order
    /// (`emotion.EXPRESSIONS`): `EXPRESSIONS[i]` has probability `probability_vector[i]`.
    /// A new array on each access.
    #[getter]
    fn probability_vector<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.probabilities)
    }

    /// The `k` most probable expressions as (name, probability) pairs, most probable first
    /// (ties in AffectNet order). `k` in [1, 8]; `top()` is `[(expression, probability)]`.
    #[pyo3(signature = (k=1))]
    fn top(&self, k: usize) -> PyResult<Vec<(&'static str, f64)>> {
        if !(1..=8).contains(&k) {
            return Err(PyValueError::new_err(format!("k must be in [1, 8], got {k}")));
        }
        let mut order: Vec<usize> = (0..8).collect();
        order.sort_by(|&a, &b| self.probabilities[b].total_cmp(&self.probabilities[a]).then(a.cmp(&b)));
        Ok(order[..k].iter().map(|&i| (Expression::ALL[i].name(), f64::from(self.probabilities[i]))).collect())
    }

    /// Plain dict of built-in types (JSON-serializable), the shape of one face in the CLI's JSON:
    /// `bbox` (dict), `detection_score`, `landmarks` (five [x, y] lists or None), `expression`,
    /// `probabilities`, `valence`, `arousal`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("bbox", self.bbox.dict(py)?)?;
        d.set_item("detection_score", self.detection_score)?;
        d.set_item("landmarks", self.landmarks_.map(|l| l.to_vec()))?;
        d.set_item("expression", self.expression())?;
        d.set_item("probabilities", self.probabilities(py)?)?;
        d.set_item("valence", self.valence)?;
        d.set_item("arousal", self.arousal)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let score = self.detection_score.map_or("None".to_string(), |s| format!("{s:.2}"));
        format!(
            "Face(expression='{}' ({:.2}), valence={:.3}, arousal={:.3}, bbox={}, detection_score={score})",
            self.expression.name(),
            self.probabilities[self.expression as usize],
            self.valence,
            self.arousal,
            self.bbox.__repr__()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Analyzer

/// What an `Analyzer` was built from: everything needed to build an equal one elsewhere.
/// Counts and limits hold 0 for "not set", as the builder takes them.
#[derive(Clone, PartialEq)]
struct Settings {
    /// The custom model's ONNX bytes (read once from `model_path`), `None` for the bundled model.
    model: Option<Arc<Vec<u8>>>,
    min_face_size: u32,
    max_face_size: u32,
    max_faces: usize,
    score_threshold: f32,
    pyramid_scale_factor: f32,
    window_step: u32,
    threads: usize,
    flip_average: bool,
    detector: emotion_core::DetectorKind,
    align: bool,
    overrides: ModelOverrides,
}

impl Settings {
    fn build(&self) -> Result<emotion_core::Analyzer, Error> {
        let mut builder = emotion_core::Analyzer::builder()
            .min_face_size(self.min_face_size)
            .max_face_size(self.max_face_size)
            .max_faces(self.max_faces)
            .score_threshold(self.score_threshold)
            .pyramid_scale_factor(self.pyramid_scale_factor)
            .window_step(self.window_step)
            .threads(self.threads)
            .flip_average(self.flip_average)
            .detector_kind(self.detector)
            .align(self.align)
            .model_overrides(self.overrides.clone());
        if let Some(bytes) = &self.model {
            builder = builder.model_bytes(bytes.as_slice());
        }
        builder.build()
    }

    /// The constructor's keyword arguments that rebuild these settings.
    fn kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let o = &self.overrides;
        d.set_item("model_bytes", self.model.as_ref().map(|b| PyBytes::new(py, b)))?;
        d.set_item("min_face_size", self.min_face_size)?;
        d.set_item("max_face_size", self.max_face_size)?;
        d.set_item("max_faces", self.max_faces)?;
        d.set_item("score_threshold", self.score_threshold)?;
        d.set_item("pyramid_scale_factor", self.pyramid_scale_factor)?;
        d.set_item("window_step", self.window_step)?;
        d.set_item("threads", self.threads)?;
        d.set_item("flip_average", self.flip_average)?;
        d.set_item("detector", self.detector.name())?;
        d.set_item("align", self.align)?;
        d.set_item("input_color", o.color.map(|c| c.name()))?;
        d.set_item("input_size", o.size)?;
        d.set_item("mean", o.mean.clone())?;
        d.set_item("std", o.std.clone())?;
        d.set_item("crop_scale", o.crop_scale)?;
        d.set_item("crop_shift_y", o.crop_shift_y)?;
        d.set_item("batch_size", o.batch_size)?;
        Ok(d)
    }
}

impl Hash for Settings {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let floats = |v: &Option<Vec<f32>>| v.as_ref().map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        let o = &self.overrides;
        self.model.as_deref().hash(state);
        (self.min_face_size, self.max_face_size, self.max_faces, self.window_step, self.threads).hash(state);
        (self.score_threshold.to_bits(), self.pyramid_scale_factor.to_bits(), self.flip_average).hash(state);
        (self.detector, self.align).hash(state);
        (o.color.map(|c| c.name()), o.size, floats(&o.mean), floats(&o.std), o.batch_size).hash(state);
        (o.crop_scale.map(f32::to_bits), o.crop_shift_y.map(f32::to_bits)).hash(state);
    }
}

/// Face detector (SeetaFace frontal cascade) plus emotion model.
///
/// Images are RGB by default: pass color="bgr" for OpenCV frames.
///
/// Thread-safe: share one Analyzer between threads; the GIL is released during detection and
/// inference, and concurrent calls give the same results as sequential ones. Don't write into a
/// numpy array from another thread while a call is using it (packed rows are read in place).
///
/// Counts and limits follow one rule in every front door (Python, Rust, C, command line): 0 or
/// None means "not set", i.e. the default (all cores, all faces, no limit, batch 1).
///
/// Picklable, for process pools and clusters: it pickles as its settings plus its model (the
/// bundled model by reference, a custom one by its ONNX bytes, so the file need not exist where
/// it is unpickled) and unpickles into an equal Analyzer giving identical results. Analyzers
/// compare equal when built from the same settings and model.
///
/// Args:
///     model_path: an ONNX model file meeting the model contract; None for the bundled model.
///     model_bytes: the same, already in memory (bytes); not with model_path.
///     min_face_size: smallest face side to find, pixels, in [10, 10000]. Larger is faster
///         (80 runs ~4x faster than 40).
///     max_face_size: largest face side to look for, pixels (>= min_face_size); None or 0: up
///         to the image's short side.
///     max_faces: report at most this many faces per image (analyze, detect): the largest, ties
///         by detection score, in detector order; None or 0: all.
///     score_threshold: minimum detection score, > 0; higher gives fewer false positives and
///         misses more faces.
///     pyramid_scale_factor: ratio between image-pyramid levels, in [0.01, 0.99]; lower is
///         faster and misses more faces.
///     window_step: detector sliding-window step, pixels, in [1, 64].
///     threads: most threads one call uses to detect faces and to run the model over several
///         faces (a Tracker: also to re-detect several tracked faces at once), in [0, 256];
///         None or 0: the number of CPU cores. Use 1 when a pool of processes or threads
///         already keeps every core busy.
///     flip_average: classify each face together with its mirror image and average the two
///         predictions (twice the model time; a face and its mirror image then agree).
///     input_color, input_size, mean, std, crop_scale, crop_shift_y, batch_size: model
///         overrides, for models without (or with wrong) metadata: "gray" or "rgb"; (height,
///         width) in [8, 1024]; per-channel sequences (1 or 3 values) subtracted from pixel/255
///         and dividing after it (> 0); crop side as a multiple of the box's longer side
///         [0.1, 10]; crop centre shift down as a fraction of the box height [-1, 1]; inference
///         batch size [0, 64] (0 = 1). None: the model's own value.
///
/// Raises:
///     InvalidOptionError: an option out of range.
///     ModelError: the model file cannot be read or parsed, or does not meet the contract.
///     DetectorError: the detector model cannot be loaded.
///     ValueError: both model_path and model_bytes given.
#[pyclass(module = "emotion", frozen, eq)]
struct Analyzer {
    inner: Arc<emotion_core::Analyzer>,
    settings: Settings,
}

impl PartialEq for Analyzer {
    fn eq(&self, other: &Self) -> bool {
        self.settings == other.settings
    }
}

#[pymethods]
impl Analyzer {
    // Keep these defaults equal to emotion_core::DetectorOptions::default().
    #[new]
    #[pyo3(signature = (
        model_path=None, *, model_bytes=None, min_face_size=20, max_face_size=None, max_faces=None,
        score_threshold=0.0, pyramid_scale_factor=0.8, window_step=4, threads=None, flip_average=false,
        input_color=None, input_size=None, mean=None, std=None, crop_scale=None, crop_shift_y=None,
        batch_size=None, detector="yunet", align=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model_path: Option<PathBuf>,
        model_bytes: Option<Bound<'_, PyBytes>>,
        #[pyo3(from_py_with = min_face_size_option)] min_face_size: u32,
        max_face_size: Option<Int>,
        max_faces: Option<Int>,
        score_threshold: f32,
        pyramid_scale_factor: f32,
        #[pyo3(from_py_with = window_step_option)] window_step: u32,
        threads: Option<Int>,
        flip_average: bool,
        input_color: Option<&str>,
        input_size: Option<(Int, Int)>,
        mean: Option<Vec<f32>>,
        std: Option<Vec<f32>>,
        crop_scale: Option<f32>,
        crop_shift_y: Option<f32>,
        batch_size: Option<Int>,
        detector: &str,
        align: bool,
    ) -> PyResult<Self> {
        if model_path.is_some() && model_bytes.is_some() {
            return Err(PyValueError::new_err("give model_path or model_bytes, not both"));
        }
        let model_bytes = model_bytes.map(|b| b.as_bytes().to_vec());
        let build = || -> Result<(emotion_core::Analyzer, Settings), Error> {
            let detector: emotion_core::DetectorKind = detector.parse()?;
            let color = match input_color {
                None => None,
                Some("gray") => Some(InputColor::Gray),
                Some("rgb") => Some(InputColor::Rgb),
                Some(other) => {
                    return Err(Error::InvalidOption {
                        name: "input_color",
                        value: other.to_string(),
                        expected: "must be \"gray\" or \"rgb\"",
                    })
                }
            };
            let size = match input_size {
                Some((h, w)) => match (to_unsigned(&h), to_unsigned(&w)) {
                    (Some(h), Some(w)) => Some((h, w)),
                    _ => {
                        return Err(Error::InvalidOption {
                            name: "input_size",
                            value: format!("{h}x{w}"),
                            expected: INPUT_SIZE_RANGE,
                        })
                    }
                },
                None => None,
            };
            let mut overrides = ModelOverrides::default();
            overrides.color = color;
            overrides.size = size;
            overrides.mean = mean;
            overrides.std = std;
            overrides.crop_scale = crop_scale;
            overrides.crop_shift_y = crop_shift_y;
            overrides.batch_size = batch_size.map(|b| unsigned("batch_size", &b, BATCH_SIZE_RANGE)).transpose()?;
            // A custom model is kept as bytes so that pickling ships the model itself.
            let model = match (model_path, model_bytes) {
                (Some(path), _) => Some(emotion_core::files::read_limited(&path, emotion_core::files::MAX_FILE_BYTES)?),
                (None, bytes) => bytes,
            };
            let settings = Settings {
                model: model.map(Arc::new),
                min_face_size,
                max_face_size: unsigned("max_face_size", &max_face_size.unwrap_or(Int::Small(0)), MAX_FACE_SIZE_RANGE)?,
                // A limit beyond the address space (32-bit platforms) is no limit.
                max_faces: unsigned::<u64>("max_faces", &max_faces.unwrap_or(Int::Small(0)), MAX_FACES_RANGE)?
                    .try_into()
                    .unwrap_or(usize::MAX),
                score_threshold,
                pyramid_scale_factor,
                window_step,
                threads: unsigned("threads", &threads.unwrap_or(Int::Small(0)), THREADS_RANGE)?,
                flip_average,
                detector,
                align,
                overrides,
            };
            Ok((settings.build()?, settings))
        };
        let (inner, settings) = py.detach(build).map_err(|e| to_py_err(py, e))?;
        Ok(Analyzer { inner: Arc::new(inner), settings })
    }

    /// Pickles and copies as `functools.partial(Analyzer, **settings)()`: the settings and,
    /// for a custom model, its ONNX bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let partial = py.import("functools")?.getattr("partial")?;
        let rebuild = partial.call((slf.get_type(),), Some(&slf.get().settings.kwargs(py)?))?;
        Ok((rebuild, PyTuple::empty(py)))
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.settings.hash(&mut hasher);
        hasher.finish()
    }

    /// The model's information and the preprocessing in force (metadata merged with the
    /// overrides): a ModelInfo.
    #[getter]
    fn model_info(&self) -> ModelInfo {
        let model = self.inner.model();
        let (info, pre) = (model.info(), model.preprocessing());
        ModelInfo {
            version: info.version.clone(),
            training_data: info.training_data.clone(),
            description: info.description.clone(),
            input_color: pre.color.name(),
            input_size: (pre.height, pre.width),
            mean: pre.mean.clone(),
            std: pre.std.clone(),
            crop_scale: pre.crop_scale.into(),
            crop_shift_y: pre.crop_shift_y.into(),
            batch_size: model.batch_size(),
            flip_average: self.inner.flip_average(),
        }
    }

    /// Detects the faces in `image` and classifies each.
    ///
    /// Args:
    ///     image: numpy uint8 array, shape (H, W, 3) RGB, (H, W, 4) RGBA, (H, W) or (H, W, 1)
    ///         gray, any strides; or a PIL image: modes RGB, RGBA and L used as they are, 1, LA
    ///         and La converted to L (alpha ignored), I, I;16* and F refused (more than 8 bits
    ///         per channel), any other mode (P, PA, RGBX, RGBa, CMYK, YCbCr, ...) converted to RGB.
    ///     color: "rgb" (the default) or "bgr" for 3/4-channel arrays in OpenCV order.
    ///
    /// Returns:
    ///     list[Face], best detection score first (empty when there are none).
    ///
    /// Raises:
    ///     TypeError: not a numpy array or PIL image, or dtype not uint8.
    ///     ValueError: ndim not 2 or 3, channels not 1/3/4, zero-size array or PIL image, PIL
    ///         mode I, I;16* or F, or color not "rgb"/"bgr".
    ///     ImageError: image over 100 megapixels.
    #[pyo3(signature = (image, *, color="rgb"))]
    fn analyze(&self, py: Python<'_>, image: &Bound<'_, PyAny>, color: &str) -> PyResult<Vec<Face>> {
        with_image(image, color, |view| {
            let faces = py.detach(|| self.inner.analyze(&view)).map_err(|e| to_py_err(py, e))?;
            Ok(faces.into_iter().map(Face::from).collect())
        })
    }

    /// Detection only: list[Detection] (boxes and scores), best score first. Arguments and
    /// errors as analyze().
    #[pyo3(signature = (image, *, color="rgb"))]
    fn detect(&self, py: Python<'_>, image: &Bound<'_, PyAny>, color: &str) -> PyResult<Vec<Detection>> {
        with_image(image, color, |view| {
            let found = py.detach(|| self.inner.detect(&view)).map_err(|e| to_py_err(py, e))?;
            Ok(found.into_iter().map(Detection::from).collect())
        })
    }

    /// Classifies your own face boxes, in the given order: list[Face].
    ///
    /// Each box is a BBox, a Detection or 4 numbers (x, y, width, height) in pixels; boxes partly
    /// outside the image are clamped to it. detection_score is the score of Detection boxes
    /// (analyze is classify(image, detect(image))), None for the others. Arguments and errors as
    /// analyze(), plus TypeError / ValueError for a box that is not 4 numbers, and
    /// InvalidBoxError for a box with a non-finite value, width or height <= 0, or entirely
    /// outside the image.
    #[pyo3(signature = (image, boxes, *, color="rgb"))]
    fn classify(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        boxes: &Bound<'_, PyAny>,
        color: &str,
    ) -> PyResult<Vec<Face>> {
        let (boxes, scores) = parse_boxes(boxes)?;
        with_image(image, color, |view| {
            let faces = py.detach(|| self.inner.classify(&view, &boxes)).map_err(|e| to_py_err(py, e))?;
            let faces = faces.into_iter().zip(scores).map(|(f, score)| Face { detection_score: score, ..Face::from(f) });
            Ok(faces.collect())
        })
    }

    /// Classifies the whole image as one face, without detection (for tight face crops, which
    /// the detector cannot find): classify(image, [(0, 0, width, height)]). Returns one Face.
    /// Arguments and errors as analyze().
    #[pyo3(signature = (image, *, color="rgb"))]
    fn classify_image(&self, py: Python<'_>, image: &Bound<'_, PyAny>, color: &str) -> PyResult<Face> {
        with_image(image, color, |view| {
            let whole = emotion_core::BBox::new(0.0, 0.0, view.width() as f32, view.height() as f32);
            let mut faces = py.detach(|| self.inner.classify(&view, &[whole])).map_err(|e| to_py_err(py, e))?;
            faces.pop().map(Face::from).ok_or_else(|| PyValueError::new_err("no face returned"))
        })
    }

    fn __repr__(&self) -> String {
        let info = self.inner.model().info();
        if info.version.is_empty() {
            "Analyzer()".to_string()
        } else {
            format!("Analyzer(model version {:?})", info.version)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Video

/// The model's own outputs for a face on one frame, before smoothing, as a dict:
/// `{"probabilities": {name: p, ...}, "valence": v, "arousal": a}`.
fn raw_dict<'py>(py: Python<'py>, raw: &emotion_core::RawValues) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let p = PyDict::new(py);
    for (e, v) in Expression::ALL.iter().zip(raw.probabilities) {
        p.set_item(e.name(), f64::from(v))?;
    }
    d.set_item("probabilities", p)?;
    d.set_item("valence", f64::from(raw.valence))?;
    d.set_item("arousal", f64::from(raw.arousal))?;
    Ok(d)
}

/// A face on one video frame, returned by `Tracker.update`: the fields of a `Face` (bbox and
/// detection_score from this frame; expression, probabilities, probability_vector, top(),
/// valence and arousal smoothed over the track) plus `track_id` and this frame's unsmoothed `raw`
/// values. `emotion.draw` draws it as a Face.
#[pyclass(module = "emotion", frozen)]
struct TrackedFace {
    /// Stable id of the track (the same person from frame to frame), from 1 up, never reused by
    /// one Tracker.
    #[pyo3(get)]
    track_id: u64,
    face: Face,
    raw: emotion_core::RawValues,
}

#[pymethods]
impl TrackedFace {
    /// The face box on this frame (pixels), clamped to the image.
    #[getter]
    fn bbox(&self) -> BBox {
        self.face.bbox
    }

    /// This frame's detection score.
    #[getter]
    fn detection_score(&self) -> Option<f64> {
        self.face.detection_score
    }

    /// This frame's five landmarks, as `Face.landmarks` (None from the seeta detector).
    #[getter]
    fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.face.landmarks(py)
    }

    /// The most probable smoothed expression, one of `emotion.EXPRESSIONS`.
    #[getter]
    fn expression(&self) -> &'static str {
        self.face.expression()
    }

    /// Smoothed expression name -> probability in [0, 1] (sums to 1).
    #[getter]
    fn probabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.face.probabilities(py)
    }

    /// The smoothed probabilities as a numpy float32 array of shape (8,), in AffectNet order
    /// (`emotion.EXPRESSIONS`), as `Face.probability_vector`. A new array on each access.
    #[getter]
    fn probability_vector<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.face.probability_vector(py)
    }

    /// The `k` most probable smoothed expressions as (name, probability) pairs, most probable
    /// first (ties in AffectNet order), as `Face.top`. `k` in [1, 8].
    ///
    /// Raises:
    ///     ValueError: k outside [1, 8].
    #[pyo3(signature = (k=1))]
    fn top(&self, k: usize) -> PyResult<Vec<(&'static str, f64)>> {
        self.face.top(k)
    }

    /// Smoothed valence in [-1, 1].
    #[getter]
    fn valence(&self) -> f64 {
        self.face.valence
    }

    /// Smoothed arousal in [-1, 1].
    #[getter]
    fn arousal(&self) -> f64 {
        self.face.arousal
    }

    /// This frame's own values: `{"probabilities": {...}, "valence": v, "arousal": a}`.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        raw_dict(py, &self.raw)
    }

    /// Plain dict, the shape of one face in the CLI's video JSON: `track_id`, the `Face.to_dict`
    /// keys (smoothed values) and `raw`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("track_id", self.track_id)?;
        for (k, v) in self.face.to_dict(py)?.iter() {
            d.set_item(k, v)?;
        }
        d.set_item("raw", raw_dict(py, &self.raw)?)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("TrackedFace(track_id={}, {})", self.track_id, self.face.__repr__())
    }
}

/// Follows faces through a video: feed frames in order with their time, get faces with a stable
/// `track_id` and expression probabilities, valence and arousal smoothed over time.
///
/// Between whole-frame detections (every `detection_interval` frames, after a scene cut, when a
/// track is lost, and on every frame while no face is tracked) each face is re-found in a margin around its last box, which is much
/// cheaper. Frames are RGB by default: pass color="bgr" for OpenCV frames.
///
/// Args:
///     analyzer: the Analyzer to use (its detector, model and threads); None: a default one.
///     detection_interval: whole-frame detection every this many frames, in [1, 1000].
///     search_margin: margin searched around a face's last box, in box sides, in [0.1, 4].
///     scale_range: faces re-found between side / scale_range and side * scale_range, in
///         [1.1, 4].
///     max_age_ms: a track ends after this long unseen, ms, in [0, 3600000]; a person who comes
///         back later gets a new track_id.
///     min_iou: smallest box overlap (IoU) continuing a track, in (0, 1].
///     half_life_ms: smoothing half-life, ms, in [0, 3600000]; 0 turns smoothing off.
///     scene_cut_threshold: luma-histogram distance between frames that ends all tracks, in
///         (0, 1]; 1 never cuts.
///
/// Threads: one Tracker follows one video, whose frames come in time order, so use it from one
/// thread at a time. Calls from several threads at once are safe: they run one after the other
/// (a call waits, with the GIL released, until the one in progress returns), in no set order, so
/// frames may arrive out of time order and raise InvalidOptionError.
///
/// Raises:
///     InvalidOptionError: an option out of range.
#[pyclass(module = "emotion", frozen)]
struct Tracker {
    /// Serialises calls from several Python threads: `update` releases the GIL.
    inner: Mutex<emotion_core::Tracker>,
}

impl Tracker {
    /// The tracker, once no other thread uses it. Waits with the GIL released: the thread in
    /// `update` needs no GIL to finish, but other Python threads should keep running meanwhile.
    fn with<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut emotion_core::Tracker) -> R + Send) -> R {
        py.detach(|| {
            let mut tracker = self.inner.lock().unwrap_or_else(|poisoned| {
                // A panic in an earlier call (raised as PanicException) may have left the tracks
                // half-updated: end them, as reset() does.
                let mut tracker = poisoned.into_inner();
                tracker.reset();
                self.inner.clear_poison();
                tracker
            });
            f(&mut tracker)
        })
    }
}

#[pymethods]
impl Tracker {
    // Keep these defaults equal to emotion_core::TrackerOptions::default().
    #[new]
    #[pyo3(signature = (
        analyzer=None, *, detection_interval=10, search_margin=0.5, scale_range=1.5,
        max_age_ms=1000.0, min_iou=0.3, half_life_ms=300.0, scene_cut_threshold=0.5
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        analyzer: Option<&Analyzer>,
        #[pyo3(from_py_with = detection_interval_option)] detection_interval: u32,
        search_margin: f32,
        scale_range: f32,
        max_age_ms: f64,
        min_iou: f32,
        half_life_ms: f64,
        scene_cut_threshold: f32,
    ) -> PyResult<Self> {
        let analyzer = match analyzer {
            Some(a) => Arc::clone(&a.inner),
            None => Arc::new(py.detach(emotion_core::Analyzer::new).map_err(|e| to_py_err(py, e))?),
        };
        let options = emotion_core::TrackerOptions::default()
            .with_detection_interval(detection_interval)
            .with_search_margin(search_margin)
            .with_scale_range(scale_range)
            .with_max_age_ms(max_age_ms)
            .with_min_iou(min_iou)
            .with_half_life_ms(half_life_ms)
            .with_scene_cut_threshold(scene_cut_threshold);
        let inner = emotion_core::Tracker::new(analyzer, options).map_err(|e| to_py_err(py, e))?;
        Ok(Tracker { inner: Mutex::new(inner) })
    }

    /// Processes the next frame, shown at `time_ms` milliseconds (any origin, increasing).
    ///
    /// Args:
    ///     image: a frame, as for Analyzer.analyze (numpy uint8 array or PIL image).
    ///     time_ms: the frame's time in milliseconds, later than the previous frame's.
    ///     color: "rgb" (the default) or "bgr" for OpenCV frames.
    ///
    /// Returns:
    ///     list[TrackedFace] by increasing track_id: the faces found on this frame.
    ///
    /// Raises:
    ///     InvalidOptionError: time_ms not finite or not later than the previous frame's.
    ///     TypeError, ValueError, ImageError: as Analyzer.analyze.
    #[pyo3(signature = (image, time_ms, *, color="rgb"))]
    fn update(&self, py: Python<'_>, image: &Bound<'_, PyAny>, time_ms: f64, color: &str) -> PyResult<Vec<TrackedFace>> {
        with_image(image, color, |view| {
            let faces = self.with(py, |tracker| tracker.update(&view, time_ms)).map_err(|e| to_py_err(py, e))?;
            Ok(faces
                .into_iter()
                .map(|t| TrackedFace { track_id: t.track_id, face: Face::from(t.face), raw: t.raw })
                .collect())
        })
    }

    /// Ends every track, as at the start of a new video (track ids keep counting up).
    fn reset(&self, py: Python<'_>) {
        self.with(py, |tracker| tracker.reset());
    }

    /// Number of live tracks (including faces unseen on the last frame but not yet expired).
    #[getter]
    fn track_count(&self, py: Python<'_>) -> usize {
        self.with(py, |tracker| tracker.track_count())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Tracker(tracks={})", self.track_count(py))
    }
}

/// The emotion model's information (`Analyzer.model_info`), the same fields as the command
/// line's `--model-info` JSON and C's `emotion_model_info`.
#[pyclass(module = "emotion", frozen)]
struct ModelInfo {
    /// `emotion.version` of the model ("" when absent).
    #[pyo3(get)]
    version: String,
    /// What the model learnt from ("" when absent).
    #[pyo3(get)]
    training_data: String,
    /// Free-text description ("" when absent).
    #[pyo3(get)]
    description: String,
    /// "gray" (1 input channel, BT.601 luma) or "rgb".
    #[pyo3(get)]
    input_color: &'static str,
    /// (height, width) of the model input, pixels.
    #[pyo3(get)]
    input_size: (usize, usize),
    /// Per-channel mean subtracted from pixel / 255.
    #[pyo3(get)]
    mean: Vec<f32>,
    /// Per-channel divisor applied after the mean.
    #[pyo3(get)]
    std: Vec<f32>,
    /// Crop side as a multiple of the face box's longer side.
    #[pyo3(get)]
    crop_scale: f64,
    /// Crop centre shift down, as a fraction of the box height.
    #[pyo3(get)]
    crop_shift_y: f64,
    /// Batch size of the optimized inference plan.
    #[pyo3(get)]
    batch_size: usize,
    /// Whether flip averaging is on.
    #[pyo3(get)]
    flip_average: bool,
}

#[pymethods]
impl ModelInfo {
    /// The expression labels in model output order: `emotion.EXPRESSIONS`.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, Expression::ALL.map(Expression::name))
    }

    /// Plain dict, the keys and values of the command line's `--model-info` JSON (input size as
    /// input_height and input_width, labels as a list, plus library_version).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("version", &self.version)?;
        d.set_item("training_data", &self.training_data)?;
        d.set_item("description", &self.description)?;
        d.set_item("input_color", self.input_color)?;
        d.set_item("input_height", self.input_size.0)?;
        d.set_item("input_width", self.input_size.1)?;
        d.set_item("labels", Expression::ALL.map(Expression::name).to_vec())?;
        d.set_item("mean", self.mean.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())?;
        d.set_item("std", self.std.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())?;
        d.set_item("crop_scale", self.crop_scale)?;
        d.set_item("crop_shift_y", self.crop_shift_y)?;
        d.set_item("batch_size", self.batch_size)?;
        d.set_item("flip_average", self.flip_average)?;
        d.set_item("library_version", emotion_core::VERSION)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "ModelInfo(version={:?}, input_color={:?}, input_size={:?}, training_data={:?})",
            self.version, self.input_color, self.input_size, self.training_data
        )
    }
}

/// Decodes an image file with the library's decoder (the one the command line and C's
/// emotion_image_load use): PNG, JPEG, BMP, GIF, TIFF, WebP; EXIF orientation applied; 8-bit
/// RGB. Results of analyze() on it equal the command line's, bit for bit.
///
/// Args:
///     path: the image file.
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
fn load_image<'py>(py: Python<'py>, path: PathBuf, allow_partial: bool) -> PyResult<Bound<'py, PyAny>> {
    let options = LoadOptions::default().allow_partial(allow_partial);
    let loaded = py.detach(|| emotion_core::load_image(&path, &options)).map_err(|e| match e {
        Error::Io { source, .. } => PyErr::from(std::io::Error::new(source.kind(), format!("{}: {source}", path.display()))),
        e => to_py_err(py, e),
    })?;
    if loaded.partial {
        let warning = py.import("emotion._errors")?.getattr("PartialImageWarning")?;
        let message = format!(
            "{}: image data is incomplete or damaged ({}); returning the part that decoded",
            path.display(),
            loaded.decode_error.as_deref().unwrap_or("decoding stopped early")
        );
        PyErr::warn(py, &warning, &std::ffi::CString::new(message.replace('\0', ""))?, 1)?;
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
fn draw<'py>(
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

#[pymodule]
fn _emotion(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("EXPRESSIONS", PyTuple::new(m.py(), Expression::ALL.map(Expression::name))?)?;
    m.add_class::<Analyzer>()?;
    m.add_class::<BBox>()?;
    m.add_class::<Detection>()?;
    m.add_class::<Face>()?;
    m.add_class::<Tracker>()?;
    m.add_class::<TrackedFace>()?;
    m.add_class::<ModelInfo>()?;
    m.add_function(wrap_pyfunction!(load_image, m)?)?;
    m.add_function(wrap_pyfunction!(draw, m)?)?;
    Ok(())
}
