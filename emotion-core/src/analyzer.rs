//! The pipeline: detect faces, cut and normalize one crop per face into a single NCHW batch,
//! run the emotion model, and assemble [`Face`]s.

use std::path::PathBuf;

use crate::detect::{DetectorKind, DetectorOptions, Detection, FaceDetector, Landmarks};
use crate::error::{Error, Result};
use crate::expression::{Expression, EXPRESSION_COUNT};
use crate::model::{EmotionModel, ModelOverrides, Prediction, Preprocessing};
use crate::pixels::{BBox, ImageView};

/// One analysed face. `#[non_exhaustive]`: later versions may add fields, so read the fields
/// rather than destructuring or constructing a `Face`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Face {
    /// Face bounding box in pixels (origin top-left), clamped to the image.
    pub bbox: BBox,
    /// The detector's score ([`Detection::score`]); `None` for caller-supplied boxes.
    pub detection_score: Option<f32>,
    /// Expression probabilities in AffectNet order (index with `Expression as usize`), each in
    /// [0, 1], summing to 1.
    pub probabilities: [f32; EXPRESSION_COUNT],
    /// The most probable expression.
    pub expression: Expression,
    /// Valence in [-1, 1] (negative to positive). The bundled model learnt it from AffectNet
    /// class statistics, not human valence ratings: see `models/MODEL_CARD.md`.
    pub valence: f32,
    /// Arousal in [-1, 1] (calm to excited); same provenance as `valence`.
    pub arousal: f32,
    /// The detector's five landmarks in image pixels (subject's right eye, left eye, nose tip,
    /// right and left mouth corners: [`Landmarks`]); `None` for caller boxes and for the
    /// SeetaFace detector.
    pub landmarks: Option<Landmarks>,
}

impl Face {
    /// A face from its parts (for drawing results that came from elsewhere, e.g. across FFI):
    /// box in pixels, detection score (`None` for caller boxes), probabilities in AffectNet
    /// order, the expression to label it with, valence and arousal.
    pub const fn new(
        bbox: BBox,
        detection_score: Option<f32>,
        probabilities: [f32; EXPRESSION_COUNT],
        expression: Expression,
        valence: f32,
        arousal: f32,
    ) -> Self {
        Face { bbox, detection_score, probabilities, expression, valence, arousal, landmarks: None }
    }

    /// The same face with landmarks ([`Landmarks`]).
    pub const fn with_landmarks(mut self, landmarks: Option<Landmarks>) -> Self {
        self.landmarks = landmarks;
        self
    }

    /// Probability of one expression, in [0, 1].
    pub fn probability(&self, e: Expression) -> f32 {
        self.probabilities[e as usize]
    }
}

/// Face detector plus emotion model. `Send + Sync`: share one (e.g. in an `Arc`) between threads;
/// concurrent calls give the same answers as sequential ones.
pub struct Analyzer {
    detector: Box<dyn FaceDetector>,
    model: EmotionModel,
    threads: usize,
    max_faces: Option<usize>,
    flip_average: bool,
    align: bool,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("model", &self.model)
            .field("threads", &self.threads)
            .field("max_faces", &self.max_faces)
            .field("flip_average", &self.flip_average)
            .field("align", &self.align)
            .finish_non_exhaustive()
    }
}

impl Analyzer {
    /// The bundled SeetaFace detector and emotion model with default settings.
    ///
    /// # Errors
    /// Only if the bundled files are damaged ([`Error::DetectorLoad`], [`Error::ModelLoad`]).
    #[cfg(feature = "bundled-models")]
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// A builder to choose the model, detector and their settings.
    pub fn builder() -> AnalyzerBuilder {
        AnalyzerBuilder::default()
    }

    /// The emotion model in use.
    pub fn model(&self) -> &EmotionModel {
        &self.model
    }

    /// Threads one call may use: to detect faces (the detector's
    /// [`FaceDetector::detect_with_threads`]), to run the model over several faces, and for a
    /// [`crate::Tracker`] to re-detect several tracked faces at once (the builder's setting, or
    /// the core count). Results do not depend on it.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The most faces `detect` and `analyze` report ([`AnalyzerBuilder::max_faces`]); `None`: all.
    pub fn max_faces(&self) -> Option<usize> {
        self.max_faces
    }

    /// Whether crops are turned so the eyes are level ([`AnalyzerBuilder::align`]).
    pub fn align(&self) -> bool {
        self.align
    }

    /// Whether each face is classified together with its mirror image
    /// ([`AnalyzerBuilder::flip_average`]).
    pub fn flip_average(&self) -> bool {
        self.flip_average
    }

    /// Detects faces and classifies each: faces in detector order (best score first), at most
    /// [`Analyzer::max_faces`] of them.
    ///
    /// # Errors
    /// Detector or inference failures ([`Error::Internal`], [`Error::Inference`]); the image was
    /// validated when the [`ImageView`] was built.
    pub fn analyze(&self, image: &ImageView<'_>) -> Result<Vec<Face>> {
        let detections = self.detect(image)?;
        self.classify_detections(image, &detections)
    }

    /// Classifies the faces of an earlier [`Analyzer::detect`] call on the same image (lets a
    /// caller time or filter the two stages); `analyze` is `detect` then this.
    pub fn classify_detections(&self, image: &ImageView<'_>, detections: &[Detection]) -> Result<Vec<Face>> {
        let regions: Vec<Region> = detections
            .iter()
            .map(|d| Region { bbox: d.bbox, score: Some(d.detection_score), landmarks: d.landmarks, crop_box: self.detector.crop_box(&d.bbox) })
            .collect();
        self.classify_regions(image, &regions)
    }

    /// Detection only: faces best score first; with [`AnalyzerBuilder::max_faces`] = N, the N
    /// largest faces (by box area, ties by higher score), still best score first.
    pub fn detect(&self, image: &ImageView<'_>) -> Result<Vec<Detection>> {
        let mut found = self.detector.detect_with_threads(image, self.threads)?;
        if let Some(n) = self.max_faces {
            keep_largest(&mut found, n);
        }
        Ok(found)
    }

    /// The face detector in use.
    pub fn detector(&self) -> &dyn FaceDetector {
        self.detector.as_ref()
    }

    /// Classifies caller-supplied face boxes (pixels), in the given order. Boxes partly outside
    /// the image are clamped to it; `detection_score` and `landmarks` are `None`. A box is taken
    /// as a square face box, the way SeetaFace or OpenCV's Haar cascade draw one (the geometry
    /// the model's crop metadata describes; see [`FaceDetector::crop_box`]), whatever the
    /// detector: a tight face crop passed whole is cut as in training. YuNet's boxes are taller
    /// and narrower: to classify a YuNet [`Detection`] again, pass it to
    /// [`Analyzer::classify_detections`], which maps its box (Python's `classify` does this for
    /// `Detection` objects).
    ///
    /// # Errors
    /// [`Error::InvalidBox`] for a box with a non-finite coordinate, a width or height <= 0, or
    /// less than 1 x 1 pixel inside the image.
    pub fn classify(&self, image: &ImageView<'_>, boxes: &[BBox]) -> Result<Vec<Face>> {
        let regions = boxes
            .iter()
            .enumerate()
            .map(|(index, b)| {
                let bad = |reason| Error::InvalidBox { index, bbox: b.to_array(), reason };
                if !b.to_array().iter().all(|v| v.is_finite()) {
                    return Err(bad("coordinates must be finite"));
                }
                if b.width <= 0.0 || b.height <= 0.0 {
                    return Err(bad("width and height must be > 0"));
                }
                let clamped = b
                    .clamp_to(image.width(), image.height())
                    .filter(|c| c.width >= 1.0 && c.height >= 1.0)
                    .ok_or_else(|| bad("less than 1 pixel wide or high inside the image"))?;
                Ok(Region { bbox: clamped, score: None, landmarks: None, crop_box: clamped })
            })
            .collect::<Result<Vec<_>>>()?;
        self.classify_regions(image, &regions)
    }

    fn classify_regions(&self, image: &ImageView<'_>, faces: &[Region]) -> Result<Vec<Face>> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        let pre = self.model.preprocessing();
        let face_len = self.model.input_len();
        // With flip averaging each face is followed in the batch by its mirror image.
        let copies = if self.flip_average { 2 } else { 1 };
        // The crops are cut on the analyzer's threads too: a large face's area-filtered crop
        // costs about as much as running the model on it.
        let crops = crate::parallel::map(faces, self.threads, |face| {
            let mut out = vec![0f32; copies * face_len];
            let (crop, mirror) = out.split_at_mut(face_len);
            let region = crop_region(&face.crop_box, pre);
            match face.landmarks.filter(|_| self.align).map(|l| roll(&l)) {
                Some(angle) if angle != 0.0 => image.crop_resize_normalize_rotated(region, angle, pre, crop),
                _ => image.crop_resize_normalize(region, pre, crop),
            }
            if self.flip_average {
                mirror_rows(crop, mirror, pre.width);
            }
            Ok(out)
        })?;
        let batch = crops.concat();
        let predictions = self.model.predict(&batch, self.threads)?;
        let predictions = predictions.chunks_exact(copies).map(average);
        Ok(faces
            .iter()
            .zip(predictions)
            .map(|(face, p)| Face {
                bbox: face.bbox,
                detection_score: face.score,
                probabilities: p.probabilities,
                expression: Expression::argmax(&p.probabilities),
                valence: p.valence,
                arousal: p.arousal,
                landmarks: face.landmarks,
            })
            .collect())
    }
}

/// A face to classify.
struct Region {
    /// The box reported on the [`Face`].
    bbox: BBox,
    /// Detection score; `None` for caller boxes.
    score: Option<f32>,
    landmarks: Option<Landmarks>,
    /// The box the crop is cut around ([`FaceDetector::crop_box`] of a detection's box; caller
    /// boxes as given).
    crop_box: BBox,
}

/// Head roll in radians: the angle of the line from the subject's right eye to the left eye
/// (0 when level, positive when the left eye is lower in the image).
fn roll(l: &Landmarks) -> f32 {
    let (dx, dy) = (l[1][0] - l[0][0], l[1][1] - l[0][1]);
    if dx == 0.0 && dy == 0.0 {
        0.0
    } else {
        dy.atan2(dx)
    }
}

/// The N largest detections (box area, ties by higher score), kept in their original order.
fn keep_largest(found: &mut Vec<Detection>, n: usize) {
    if found.len() <= n {
        return;
    }
    let area = |d: &Detection| d.bbox.width * d.bbox.height;
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&found[a], &found[b]);
        area(b).total_cmp(&area(a)).then(b.detection_score.total_cmp(&a.detection_score))
    });
    let mut keep = vec![false; found.len()];
    for &i in &order[..n] {
        keep[i] = true;
    }
    let mut i = 0;
    found.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Writes the horizontal mirror of `crop` (planes of rows `width` floats long) into `mirror`.
fn mirror_rows(crop: &[f32], mirror: &mut [f32], width: usize) {
    for (src, dst) in crop.chunks_exact(width).zip(mirror.chunks_exact_mut(width)) {
        for (d, s) in dst.iter_mut().zip(src.iter().rev()) {
            *d = *s;
        }
    }
}

/// The mean of one face's predictions (its crop and, with flip averaging, its mirror).
fn average(p: &[Prediction]) -> Prediction {
    if let [one] = p {
        return *one;
    }
    let n = p.len() as f32;
    let mut out = Prediction { probabilities: [0.0; EXPRESSION_COUNT], valence: 0.0, arousal: 0.0 };
    for q in p {
        for (o, x) in out.probabilities.iter_mut().zip(q.probabilities) {
            *o += x / n;
        }
        out.valence += q.valence / n;
        out.arousal += q.arousal / n;
    }
    out
}

/// The region the model sees for a face box: centred on the box (shifted down by
/// `crop_shift_y` box heights), `crop_scale` times the box's longer side, with the model input's
/// aspect ratio. It may extend past the image; the crop repeats edge pixels there.
pub fn crop_region(bbox: &BBox, pre: &Preprocessing) -> BBox {
    let side = bbox.width.max(bbox.height) * pre.crop_scale;
    let longest = pre.width.max(pre.height) as f32;
    let (w, h) = (side * pre.width as f32 / longest, side * pre.height as f32 / longest);
    let cx = bbox.x + bbox.width / 2.0;
    let cy = bbox.y + bbox.height / 2.0 + pre.crop_shift_y * bbox.height;
    BBox::new(cx - w / 2.0, cy - h / 2.0, w, h)
}

/// Whether crops are aligned by default ([`AnalyzerBuilder::align`]).
pub const DEFAULT_ALIGN: bool = false;

enum ModelSource {
    Path(PathBuf),
    Bytes(Vec<u8>),
    Loaded(EmotionModel),
}

/// Configures an [`Analyzer`]. Defaults: bundled model and detector, [`DetectorOptions::default`],
/// inference spread over all available cores, every face reported, no flip averaging.
///
/// One rule for optional counts and limits, in every front door (Rust, Python, C, CLI): **0
/// means "not set"**, i.e. the default: `threads(0)` uses all cores, `max_faces(0)` reports all
/// faces, `max_face_size(0)` puts no upper bound on face size, a `batch_size` of 0 in
/// [`ModelOverrides`] is batch 1. Other out-of-range values are an [`Error::InvalidOption`].
#[derive(Default)]
pub struct AnalyzerBuilder {
    model: Option<ModelSource>,
    overrides: ModelOverrides,
    detector_options: DetectorOptions,
    detector: Option<Box<dyn FaceDetector>>,
    threads: Option<usize>,
    max_faces: Option<usize>,
    flip_average: bool,
    align: Option<bool>,
}


impl AnalyzerBuilder {
    /// Aligned crops: for faces with landmarks (YuNet), turn the crop about its centre so the
    /// eyes are level before the model sees it (roll only; the crop's size and position are
    /// unchanged). Faces without landmarks (SeetaFace, caller boxes) are never turned. Default
    /// [`DEFAULT_ALIGN`].
    pub fn align(mut self, on: bool) -> Self {
        self.align = Some(on);
        self
    }

    /// Use the ONNX model at `path` instead of the bundled one.
    pub fn model_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.model = Some(ModelSource::Path(path.into()));
        self
    }

    /// Use an ONNX model from memory instead of the bundled one.
    pub fn model_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.model = Some(ModelSource::Bytes(bytes.into()));
        self
    }

    /// Use a model already loaded (e.g. [`Analyzer::model`] of another analyzer): nothing is
    /// parsed or optimized again and the plan is shared, so building analyzers that differ only
    /// in detector settings, `max_faces` or `flip_average` (say, one per request) is cheap.
    /// Its preprocessing is already fixed: [`AnalyzerBuilder::model_overrides`] must then be
    /// left unset.
    pub fn model(mut self, model: EmotionModel) -> Self {
        self.model = Some(ModelSource::Loaded(model));
        self
    }

    /// Override the model's preprocessing metadata (or batch size): see [`ModelOverrides`].
    pub fn model_overrides(mut self, overrides: ModelOverrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Which detector to build: [`DetectorKind::Yunet`] (default) or [`DetectorKind::Seeta`]
    /// ([`DetectorOptions::detector`]).
    pub fn detector_kind(mut self, kind: DetectorKind) -> Self {
        self.detector_options.detector = kind;
        self
    }

    /// All detector settings at once.
    pub fn detector_options(mut self, options: DetectorOptions) -> Self {
        self.detector_options = options;
        self
    }

    /// Smallest face to find, pixels ([`DetectorOptions::min_face_size`]).
    pub fn min_face_size(mut self, pixels: u32) -> Self {
        self.detector_options.min_face_size = pixels;
        self
    }

    /// Largest face to look for, pixels ([`DetectorOptions::max_face_size`]); 0 = no limit.
    pub fn max_face_size(mut self, pixels: u32) -> Self {
        self.detector_options.max_face_size = (pixels != 0).then_some(pixels);
        self
    }

    /// Report at most `n` faces: the `n` largest (box area; ties go to the higher detection
    /// score), in detector order. 0 (the default) = all faces. Applies to `detect` and
    /// `analyze`, not to caller boxes given to `classify`.
    pub fn max_faces(mut self, n: usize) -> Self {
        self.max_faces = (n != 0).then_some(n);
        self
    }

    /// Test-time horizontal-flip averaging: run the model on each face crop and on its mirror
    /// image and average the two predictions (probabilities, valence, arousal). Costs a second
    /// inference per face; makes results symmetric (a face and its mirror image give the same
    /// answer up to float rounding). Default off.
    pub fn flip_average(mut self, on: bool) -> Self {
        self.flip_average = on;
        self
    }

    /// Minimum detection score ([`DetectorOptions::score_threshold`]).
    pub fn score_threshold(mut self, score: f32) -> Self {
        self.detector_options.score_threshold = score;
        self
    }

    /// Image pyramid ratio ([`DetectorOptions::pyramid_scale_factor`]).
    pub fn pyramid_scale_factor(mut self, factor: f32) -> Self {
        self.detector_options.pyramid_scale_factor = factor;
        self
    }

    /// Sliding-window step, pixels ([`DetectorOptions::window_step`]).
    pub fn window_step(mut self, pixels: u32) -> Self {
        self.detector_options.window_step = pixels;
        self
    }

    /// Use your own detector instead of the built-in ones (the detector options are then unused).
    pub fn detector(mut self, detector: Box<dyn FaceDetector>) -> Self {
        self.detector = Some(detector);
        self
    }

    /// Most threads one call may use to detect faces and to run the model over several faces
    /// (and a [`crate::Tracker`] to re-detect several tracked faces at once), in [0, 256]; 0
    /// (the default) = the number of available cores. Results do not depend on it.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Loads and checks everything.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for settings out of range, or for model overrides given with an
    /// already loaded [`AnalyzerBuilder::model`]; model errors as [`EmotionModel::from_bytes`];
    /// [`Error::ModelLoad`] when no model was given and the `bundled-models` feature is off.
    pub fn build(self) -> Result<Analyzer> {
        let threads = match self.threads {
            Some(t) if t > 256 => {
                return Err(Error::InvalidOption {
                    name: "threads",
                    value: t.to_string(),
                    expected: "must be in [0, 256] (0 = all cores)",
                })
            }
            Some(t) if t > 0 => t,
            _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        };
        let model = match self.model {
            Some(ModelSource::Path(p)) => EmotionModel::from_path(p, &self.overrides)?,
            Some(ModelSource::Bytes(b)) => EmotionModel::from_bytes(&b, &self.overrides)?,
            Some(ModelSource::Loaded(m)) if self.overrides == ModelOverrides::default() => m,
            Some(ModelSource::Loaded(_)) => {
                return Err(Error::InvalidOption {
                    name: "model_overrides",
                    value: format!("{:?}", self.overrides),
                    expected: "must be unset with an already loaded model (apply them when loading it)",
                })
            }
            #[cfg(feature = "bundled-models")]
            None => EmotionModel::from_bytes(crate::bundled::EMOTION_MODEL, &self.overrides)?,
            #[cfg(not(feature = "bundled-models"))]
            None => return Err(Error::ModelLoad("no model given and the `bundled-models` feature is off".into())),
        };
        let detector: Box<dyn FaceDetector> = match self.detector {
            Some(d) => d,
            None => default_detector(self.detector_options)?,
        };
        let align = self.align.unwrap_or(DEFAULT_ALIGN);
        Ok(Analyzer { detector, model, threads, max_faces: self.max_faces, flip_average: self.flip_average, align })
    }
}

/// The built-in detector `options.detector` names. YuNet's weights are compiled into the code
/// (no file); SeetaFace's cascade needs the `bundled-models` feature.
fn default_detector(options: DetectorOptions) -> Result<Box<dyn FaceDetector>> {
    options.validate()?;
    match options.detector {
        DetectorKind::Seeta => seeta_detector(options),
        _ => Ok(Box::new(crate::detect::YuNetDetector::new(options)?)),
    }
}

#[cfg(feature = "bundled-models")]
fn seeta_detector(options: DetectorOptions) -> Result<Box<dyn FaceDetector>> {
    Ok(Box::new(crate::detect::SeetaDetector::bundled(options)?))
}

#[cfg(not(feature = "bundled-models"))]
fn seeta_detector(_options: DetectorOptions) -> Result<Box<dyn FaceDetector>> {
    Err(Error::DetectorLoad(
        "the `bundled-models` feature is off: pass a detector, e.g. SeetaDetector::from_bytes".into(),
    ))
}
