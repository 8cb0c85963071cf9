//! Results out: small read-only Python objects for boxes, detections, faces and the model's
//! information.

use emotion_core::{Detection as CoreDetection, Expression, Face as CoreFace, Landmarks as CoreLandmarks};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyTuple, PyType};

use crate::image::type_name;

/// A face box in pixels: origin at the image's top-left corner, x to the right, y down.
/// Unpacks like a tuple: `x, y, width, height = face.bbox`.
#[pyclass(module = "emotion", frozen, eq, from_py_object)]
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct BBox {
    /// Left edge, pixels.
    #[pyo3(get)]
    pub(crate) x: f64,
    /// Top edge, pixels.
    #[pyo3(get)]
    pub(crate) y: f64,
    /// Width, pixels.
    #[pyo3(get)]
    pub(crate) width: f64,
    /// Height, pixels.
    #[pyo3(get)]
    pub(crate) height: f64,
}

impl BBox {
    pub(crate) fn from_core(b: emotion_core::BBox) -> Self {
        BBox { x: b.x.into(), y: b.y.into(), width: b.width.into(), height: b.height.into() }
    }

    pub(crate) fn to_core(self) -> emotion_core::BBox {
        emotion_core::BBox::new(self.x as f32, self.y as f32, self.width as f32, self.height as f32)
    }

    pub(crate) fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
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

    pub(crate) fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        (self.x, self.y, self.width, self.height).into_pyobject(py)?.hash()
    }

    pub(crate) fn __repr__(&self) -> String {
        format!("BBox(x={:.1}, y={:.1}, width={:.1}, height={:.1})", self.x, self.y, self.width, self.height)
    }
}

/// A face found by the detector. Compares, pickles and copies by value.
#[pyclass(module = "emotion", frozen, eq)]
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct Detection {
    /// The face box (pixels), clamped to the image.
    #[pyo3(get)]
    pub(crate) bbox: BBox,
    /// Detector confidence: YuNet's score in [0, 1] (faces typically 0.7-0.95) or the SeetaFace
    /// cascade score, unbounded above (faces typically 5-40); only faces above the Analyzer's
    /// score threshold are returned. The same name as `Face.detection_score`.
    #[pyo3(get)]
    pub(crate) detection_score: f64,
    pub(crate) landmarks_: Option<CoreLandmarks>,
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
pub(crate) struct Face {
    /// The face box (pixels), clamped to the image.
    #[pyo3(get)]
    pub(crate) bbox: BBox,
    /// The detector's score (see `Detection.detection_score`); None for boxes given to `classify`.
    #[pyo3(get)]
    pub(crate) detection_score: Option<f64>,
    pub(crate) expression: Expression,
    pub(crate) probabilities: [f32; 8],
    /// Valence in [-1, 1], negative to positive (the bundled model learnt it from AffectNet class
    /// statistics, not human valence ratings: see its model card).
    #[pyo3(get)]
    pub(crate) valence: f64,
    /// Arousal in [-1, 1], calm to excited (same provenance as valence).
    #[pyo3(get)]
    pub(crate) arousal: f64,
    pub(crate) landmarks_: Option<CoreLandmarks>,
}

impl Face {
    pub(crate) fn to_core(&self) -> CoreFace {
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
    pub(crate) fn landmarks<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
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

    pub(crate) fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        let probabilities = PyTuple::new(py, self.probabilities.map(f64::from))?;
        (self.bbox.__hash__(py)?, probabilities, self.valence, self.arousal, self.detection_score).into_pyobject(py)?.hash()
    }

    /// The most probable expression, one of `emotion.EXPRESSIONS`.
    #[getter]
    pub(crate) fn expression(&self) -> &'static str {
        self.expression.name()
    }

    /// Expression name -> probability in [0, 1], in AffectNet order (`emotion.EXPRESSIONS`);
    /// the values sum to 1. A new dict on each access.
    #[getter]
    pub(crate) fn probabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
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
    pub(crate) fn probability_vector<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.probabilities)
    }

    /// The `k` most probable expressions as (name, probability) pairs, most probable first
    /// (ties in AffectNet order). `k` in [1, 8]; `top()` is `[(expression, probability)]`.
    #[pyo3(signature = (k=1))]
    pub(crate) fn top(&self, k: usize) -> PyResult<Vec<(&'static str, f64)>> {
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
    pub(crate) fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
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

    pub(crate) fn __repr__(&self) -> String {
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

/// 8 probabilities from a sequence in AffectNet order or a dict naming each expression.
pub(crate) fn parse_probabilities(value: &Bound<'_, PyAny>) -> PyResult<[f32; 8]> {
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

/// The emotion model's information (`Analyzer.model_info`), the same fields as the command
/// line's `--model-info` JSON and C's `emotion_model_info`.
#[pyclass(module = "emotion", frozen)]
pub(crate) struct ModelInfo {
    /// `emotion.version` of the model ("" when absent).
    #[pyo3(get)]
    pub(crate) version: String,
    /// What the model learnt from ("" when absent).
    #[pyo3(get)]
    pub(crate) training_data: String,
    /// Free-text description ("" when absent).
    #[pyo3(get)]
    pub(crate) description: String,
    /// "gray" (1 input channel, BT.601 luma) or "rgb".
    #[pyo3(get)]
    pub(crate) input_color: &'static str,
    /// (height, width) of the model input, pixels.
    #[pyo3(get)]
    pub(crate) input_size: (usize, usize),
    /// Per-channel mean subtracted from pixel / 255.
    #[pyo3(get)]
    pub(crate) mean: Vec<f32>,
    /// Per-channel divisor applied after the mean.
    #[pyo3(get)]
    pub(crate) std: Vec<f32>,
    /// Crop side as a multiple of the face box's longer side.
    #[pyo3(get)]
    pub(crate) crop_scale: f64,
    /// Crop centre shift down, as a fraction of the box height.
    #[pyo3(get)]
    pub(crate) crop_shift_y: f64,
    /// Batch size of the optimized inference plan.
    #[pyo3(get)]
    pub(crate) batch_size: usize,
    /// Whether flip averaging is on.
    #[pyo3(get)]
    pub(crate) flip_average: bool,
    /// Whether faces are aligned by their eye landmarks before classification (`align=True`).
    #[pyo3(get)]
    pub(crate) align: bool,
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
        d.set_item("align", self.align)?;
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
