//! `Analyzer`: the Python constructor's keywords, pickling, and the analyze / detect / classify
//! calls with the GIL released.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use emotion_core::{Error, InputColor, ModelOverrides};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::errors::to_py_err;
use crate::image::{type_name, with_image};
use crate::options::*;
use crate::results::{BBox, Detection, Face, ModelInfo};
use emotion_core::Detection as CoreDetection;

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

/// Face detector (YuNet by default, or the SeetaFace frontal cascade) plus emotion model.
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
///     min_face_size: the face side the detector is scaled for, pixels, in [10, 10000]; not a
///         filter: smaller boxes (down to about 0.65x) can be found and faces just above it
///         missed, so leave a margin. Larger is faster (80 runs ~4x faster than 40).
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
pub(crate) struct Analyzer {
    pub(crate) inner: Arc<emotion_core::Analyzer>,
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
            align: self.inner.align(),
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
    /// outside the image are clamped to it. A Detection keeps its score and landmarks and its
    /// crop is cut as analyze cuts it (analyze is classify(image, detect(image))). Other boxes
    /// are taken as a square face box, as SeetaFace or OpenCV's Haar cascade draw one (the
    /// geometry in the model's crop metadata; YuNet's own boxes are taller and narrower), with
    /// detection_score and landmarks None. Arguments and errors as
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
        let (boxes, detections) = parse_boxes(boxes)?;
        with_image(image, color, |view| {
            let faces = py.detach(|| classify_mixed(&self.inner, &view, &boxes, &detections)).map_err(|e| to_py_err(py, e))?;
            Ok(faces.into_iter().map(Face::from).collect())
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

/// Classifies caller boxes and detections in the given order: plain boxes through
/// `Analyzer::classify` (the model's box geometry), detections through
/// `Analyzer::classify_detections` (the detector's geometry, score and landmarks kept).
fn classify_mixed(
    analyzer: &emotion_core::Analyzer,
    view: &emotion_core::ImageView<'_>,
    boxes: &[emotion_core::BBox],
    detections: &[Option<CoreDetection>],
) -> Result<Vec<emotion_core::Face>, Error> {
    let plain: Vec<emotion_core::BBox> =
        boxes.iter().zip(detections).filter(|(_, d)| d.is_none()).map(|(b, _)| *b).collect();
    let found: Vec<CoreDetection> = detections.iter().flatten().copied().collect();
    let mut plain = analyzer.classify(view, &plain)?.into_iter();
    let mut found = analyzer.classify_detections(view, &found)?.into_iter();
    Ok(detections
        .iter()
        .filter_map(|d| if d.is_some() { found.next() } else { plain.next() })
        .collect())
}

/// Caller boxes: each a `BBox`, a `Detection` (returned as such beside its box) or 4 numbers
/// (x, y, width, height).
pub(crate) fn parse_boxes(boxes: &Bound<'_, PyAny>) -> PyResult<(Vec<emotion_core::BBox>, Vec<Option<CoreDetection>>)> {
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
            let d = d.get();
            out.push(d.bbox.to_core());
            let core = CoreDetection::new(d.bbox.to_core(), d.detection_score as f32);
            scores.push(Some(match d.landmarks_ {
                Some(l) => core.with_landmarks(l),
                None => core,
            }));
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
