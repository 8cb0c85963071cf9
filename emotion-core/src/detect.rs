//! Face detection: the [`FaceDetector`] trait and its two backends, chosen by
//! [`DetectorOptions::detector`]:
//! - [`YuNetDetector`] (the default, [`DetectorKind::Yunet`]): libfacedetection's YuNet CNN, with
//!   five landmarks per face (module `yunet`);
//! - [`SeetaDetector`] ([`DetectorKind::Seeta`]): the SeetaFace frontal cascade (Wu et al.,
//!   "Funnel-structured cascade for multi-view face detection with alignment awareness",
//!   Neurocomputing 2017) as ported to Rust by the `rustface` crate (vendored as
//!   `emotion-rustface`, which can spread one detection over threads with the same results); no
//!   landmarks.
//!
//! Landmark convention, everywhere in the library: five points in image pixels, in the order
//! the subject's right eye, the subject's left eye, the nose tip, the right and the left corner
//! of the mouth (the subject's right: on the image's left for a face looking at the camera).

mod yunet;

pub use yunet::{YuNetDetector, DEFAULT_SCORE_THRESHOLD as YUNET_DEFAULT_SCORE_THRESHOLD};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::pixels::{BBox, ImageView};

/// Five facial landmarks in image pixels, `[x, y]` each, in the order: the subject's right eye,
/// left eye, nose tip, right mouth corner, left mouth corner (module docs). They may lie
/// outside the image for a face cut by its edge.
pub type Landmarks = [[f32; 2]; 5];

/// One detected face. `#[non_exhaustive]` (later versions may add fields): detectors outside
/// this crate build one with [`Detection::new`] and [`Detection::with_landmarks`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Detection {
    /// Face bounding box in pixels of the analysed image, clamped to the image.
    pub bbox: BBox,
    /// Detector confidence (the same name as [`crate::Face::detection_score`]), compared against
    /// [`DetectorOptions::score_threshold`]. YuNet: in [0, 1] (faces typically 0.7-0.95);
    /// SeetaFace: the cascade's final score, unbounded above (typical faces score 5-40).
    pub detection_score: f32,
    /// The five landmarks ([`Landmarks`]), from detectors that give them (YuNet); `None` from
    /// SeetaFace.
    pub landmarks: Option<Landmarks>,
}

impl Detection {
    /// A detection from its box (pixels, origin top-left) and detector score, without landmarks.
    pub const fn new(bbox: BBox, detection_score: f32) -> Self {
        Detection { bbox, detection_score, landmarks: None }
    }

    /// The same detection with landmarks ([`Landmarks`]: image pixels, subject's right eye, left
    /// eye, nose tip, right and left mouth corners).
    pub const fn with_landmarks(mut self, landmarks: Landmarks) -> Self {
        self.landmarks = Some(landmarks);
        self
    }
}

/// Anything that finds faces. Implementations must be shareable between threads; the
/// [`crate::Analyzer`] calls `detect_with_threads` from whatever thread calls it.
pub trait FaceDetector: Send + Sync {
    /// Faces in `image`, best score first. An image with no faces gives an empty vector.
    ///
    /// # Errors
    /// Whatever the implementation reports (for [`SeetaDetector`]: [`Error::InvalidOption`] when
    /// `min_face_size` would upscale the image past 256 MP, [`Error::Internal`] if the cascade
    /// fails).
    fn detect(&self, image: &ImageView<'_>) -> Result<Vec<Detection>>;

    /// [`FaceDetector::detect`] using up to `threads` threads, the calling thread included (0
    /// counts as 1); the result must not depend on `threads`. The [`crate::Analyzer`] calls this
    /// with its [`crate::Analyzer::threads`]. The default ignores `threads` and calls `detect`,
    /// so detectors that do not use threads need not implement it.
    ///
    /// # Errors
    /// As [`FaceDetector::detect`].
    fn detect_with_threads(&self, image: &ImageView<'_>, threads: usize) -> Result<Vec<Detection>> {
        let _ = threads;
        self.detect(image)
    }

    /// Faces whose box lies mostly inside `region` (pixels) with a side between `min_face` and
    /// `max_face` pixels, best score first: the [`crate::Tracker`]'s cheap re-detection around a
    /// known face. The default runs [`FaceDetector::detect`] on the whole image and keeps the
    /// boxes whose centre is in `region` and whose longer side is in range; [`SeetaDetector`]
    /// scans only the region, at that scale.
    fn detect_in_region(&self, image: &ImageView<'_>, region: BBox, min_face: f32, max_face: f32) -> Result<Vec<Detection>> {
        let inside = |d: &Detection| {
            let (cx, cy) = (d.bbox.x + d.bbox.width / 2.0, d.bbox.y + d.bbox.height / 2.0);
            let side = d.bbox.width.max(d.bbox.height);
            cx >= region.x
                && cx <= region.x + region.width
                && cy >= region.y
                && cy <= region.y + region.height
                && (min_face..=max_face).contains(&side)
        };
        Ok(self.detect(image)?.into_iter().filter(inside).collect())
    }

    /// The box the emotion model's crop is cut around for a face this detector boxed as `bbox`
    /// (pixels). The model's crop metadata (`crop_scale`, `crop_shift_y`) was measured on
    /// SeetaFace's boxes, so this maps a detector's box to the SeetaFace box of the same face;
    /// the default (and [`SeetaDetector`]) returns `bbox` unchanged. This is the one place
    /// where detectors' box shapes are reconciled, so every detector feeds the model the same
    /// crop of a face ([`YuNetDetector`]: a square of 0.850 x its box's height, shifted up by
    /// 0.007 box heights, measured on 74 faces found by both).
    fn crop_box(&self, bbox: &BBox) -> BBox {
        *bbox
    }
}

/// Which face detector an [`crate::Analyzer`] builds ([`DetectorOptions::detector`]).
/// `#[non_exhaustive]`: later versions may add detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DetectorKind {
    /// [`YuNetDetector`], the default: a CNN finding frontal and profile faces from about 12
    /// pixels up, with five landmarks.
    #[default]
    Yunet,
    /// [`SeetaDetector`], the SeetaFace frontal cascade of earlier versions; no landmarks.
    Seeta,
}

impl DetectorKind {
    /// The option value naming it: `"yunet"` or `"seeta"`.
    pub const fn name(self) -> &'static str {
        match self {
            DetectorKind::Yunet => "yunet",
            DetectorKind::Seeta => "seeta",
        }
    }
}

impl std::str::FromStr for DetectorKind {
    type Err = Error;

    /// `"yunet"` or `"seeta"`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming `detector` for anything else.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "yunet" => Ok(DetectorKind::Yunet),
            "seeta" => Ok(DetectorKind::Seeta),
            _ => Err(Error::InvalidOption { name: "detector", value: s.to_string(), expected: "must be \"yunet\" or \"seeta\"" }),
        }
    }
}

/// Settings of the face detector, each checked by [`DetectorOptions::validate`].
///
/// `#[non_exhaustive]`: later versions may add settings. Start from [`Default`] and change
/// fields with the `with_*` methods (or assign them on a `mut` value):
///
/// ```
/// let options = emotion_core::DetectorOptions::default().with_min_face_size(80).with_score_threshold(0.7);
/// assert!(options.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DetectorOptions {
    /// The detector: [`DetectorKind::Yunet`] (default) or [`DetectorKind::Seeta`].
    pub detector: DetectorKind,
    /// Smallest face side to find, pixels of the input image, in [10, 10000]; default 20.
    ///
    /// YuNet: the image is scaled so that such a face measures 20 network pixels (its smallest
    /// reliable face); the scaled image's longest side is at most 1280, so on larger photos the
    /// smallest face found grows with the photo.
    ///
    /// SeetaFace: the scale detection runs at, as the face side that fills the cascade's 40 px
    /// window: the image is scaled by 40 / min_face_size (`rustface` ignores its own
    /// `set_min_face_size`). It is not a filter on the boxes: the cascade's boxes are tighter
    /// than its window, so boxes of about 0.65-0.85 x this value are found and faces a little
    /// over it can be missed; leave a margin and drop smaller boxes yourself if they must not
    /// appear. 80 runs ~4x faster than 40; 20 runs ~4x slower than 40.
    pub min_face_size: u32,
    /// Largest face side to look for, pixels, >= `min_face_size` (`None` or `Some(0)`: up to
    /// the image's short side). Smaller values skip the coarse pyramid levels.
    pub max_face_size: Option<u32>,
    /// Minimum detection score to report a face; 0 (the default) means the detector's own
    /// default. YuNet: in [0, 1], default [`YUNET_DEFAULT_SCORE_THRESHOLD`]; SeetaFace: finite and
    /// >= 0, default 2.0 (SeetaFace's own example setting). Higher trades recall for fewer false
    /// positives.
    pub score_threshold: f32,
    /// Ratio between image-pyramid levels, in [0.01, 0.99]. Default 0.8; lower is faster and
    /// misses more faces between scales.
    pub pyramid_scale_factor: f32,
    /// Sliding-window step in pixels at each pyramid level, in [1, 64]. Default 4.
    pub window_step: u32,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            detector: DetectorKind::Yunet,
            min_face_size: 20,
            max_face_size: None,
            score_threshold: 0.0,
            pyramid_scale_factor: 0.8,
            window_step: 4,
        }
    }
}

/// The cascade's fixed window side in pixels (rustface `K_WND_SIZE`).
const WINDOW: f32 = 40.0;
/// Upper bound on the (possibly upscaled) image handed to the cascade, pixels.
const MAX_DETECTION_PIXELS: f64 = 256e6;

/// SeetaFace's score threshold when [`DetectorOptions::score_threshold`] is 0.
pub const SEETA_DEFAULT_SCORE_THRESHOLD: f32 = 2.0;

impl DetectorOptions {
    /// Sets [`DetectorOptions::detector`].
    pub const fn with_detector(mut self, detector: DetectorKind) -> Self {
        self.detector = detector;
        self
    }

    /// The score threshold in force: [`DetectorOptions::score_threshold`], or the detector's
    /// default when it is 0.
    pub fn effective_score_threshold(&self) -> f32 {
        match (self.score_threshold, self.detector) {
            (t, _) if t != 0.0 => t,
            (_, DetectorKind::Yunet) => YUNET_DEFAULT_SCORE_THRESHOLD,
            (_, DetectorKind::Seeta) => SEETA_DEFAULT_SCORE_THRESHOLD,
        }
    }

    /// Sets [`DetectorOptions::min_face_size`] (pixels).
    pub const fn with_min_face_size(mut self, pixels: u32) -> Self {
        self.min_face_size = pixels;
        self
    }

    /// Sets [`DetectorOptions::max_face_size`] (pixels; `None`: no upper limit).
    pub const fn with_max_face_size(mut self, pixels: Option<u32>) -> Self {
        self.max_face_size = pixels;
        self
    }

    /// Sets [`DetectorOptions::score_threshold`].
    pub const fn with_score_threshold(mut self, score: f32) -> Self {
        self.score_threshold = score;
        self
    }

    /// Sets [`DetectorOptions::pyramid_scale_factor`].
    pub const fn with_pyramid_scale_factor(mut self, factor: f32) -> Self {
        self.pyramid_scale_factor = factor;
        self
    }

    /// Sets [`DetectorOptions::window_step`] (pixels).
    pub const fn with_window_step(mut self, pixels: u32) -> Self {
        self.window_step = pixels;
        self
    }

    /// Checks every field against its documented range.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value: String, expected| Err(Error::InvalidOption { name, value, expected });
        if !(10..=10_000).contains(&self.min_face_size) {
            return bad("min_face_size", self.min_face_size.to_string(), "must be in [10, 10000] pixels");
        }
        if let Some(m) = self.max_face_size.filter(|&m| m != 0) {
            if m < self.min_face_size {
                return bad("max_face_size", m.to_string(), "must be >= min_face_size");
            }
        }
        if !(self.score_threshold.is_finite() && self.score_threshold >= 0.0) {
            return bad("score_threshold", self.score_threshold.to_string(), "must be finite and >= 0 (0: the detector's default)");
        }
        if self.detector == DetectorKind::Yunet && self.score_threshold > 1.0 {
            return bad("score_threshold", self.score_threshold.to_string(), "must be in [0, 1] for detector yunet (0: its default)");
        }
        if !(0.01..=0.99).contains(&self.pyramid_scale_factor) {
            return bad("pyramid_scale_factor", self.pyramid_scale_factor.to_string(), "must be in [0.01, 0.99]");
        }
        if !(1..=64).contains(&self.window_step) {
            return bad("window_step", self.window_step.to_string(), "must be in [1, 64] pixels");
        }
        Ok(())
    }
}

/// The SeetaFace frontal face detector. The parsed cascade is shared; every `detect` call builds
/// its own `rustface` detector from it (rustface's detector needs `&mut` and is neither `Send`
/// nor `Sync`; building one around the shared cascade is a few allocations, where cloning the
/// cascade's weights had cost ~0.09 ms a call), so one `SeetaDetector` serves any number of
/// threads without locks.
#[derive(Clone)]
pub struct SeetaDetector {
    model: Arc<rustface::Model>,
    options: DetectorOptions,
}

impl std::fmt::Debug for SeetaDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeetaDetector").field("options", &self.options).finish_non_exhaustive()
    }
}

impl SeetaDetector {
    /// A detector from a SeetaFace cascade file's bytes (`seeta_fd_frontal_v1.0.bin`).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for options out of range, [`Error::DetectorLoad`] when the bytes
    /// are not a cascade.
    pub fn from_bytes(bytes: &[u8], options: DetectorOptions) -> Result<Self> {
        let options = DetectorOptions { detector: DetectorKind::Seeta, ..options };
        options.validate()?;
        // rustface's parser allocates from the file's own counts (a garbage count can ask for
        // gigabytes): check the header's hierarchy count first, and catch its panics.
        let hierarchies = bytes.get(..4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if !matches!(hierarchies, Some(1..=64)) {
            return Err(Error::DetectorLoad("not a SeetaFace cascade (bad header)".into()));
        }
        let parsed = catch_unwind(|| rustface::read_model(bytes));
        let model = match parsed {
            Ok(Ok(m)) if !m.get_classifiers().is_empty() => Arc::new(m),
            Ok(Ok(_)) => return Err(Error::DetectorLoad("no classifiers in the cascade file".into())),
            Ok(Err(e)) => return Err(Error::DetectorLoad(e.to_string())),
            Err(_) => return Err(Error::DetectorLoad("malformed cascade file".into())),
        };
        Ok(SeetaDetector { model, options })
    }

    /// The bundled SeetaFace frontal cascade (BSD-2, `models/LICENSE-seetaface.txt`).
    #[cfg(feature = "bundled-models")]
    pub fn bundled(options: DetectorOptions) -> Result<Self> {
        Self::from_bytes(crate::bundled::SEETA_FRONTAL, options)
    }

    /// The options in force.
    pub fn options(&self) -> &DetectorOptions {
        &self.options
    }

    /// The same cascade with other options (e.g. a per-request smallest face size); cheap, no
    /// file is parsed again.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for options out of range.
    pub fn with_options(&self, options: DetectorOptions) -> Result<Self> {
        let options = DetectorOptions { detector: DetectorKind::Seeta, ..options };
        options.validate()?;
        Ok(SeetaDetector { model: self.model.clone(), options })
    }
}

/// Greedy non-maximum suppression: best score first, dropping boxes that overlap a kept one by
/// more than `iou`. Ties keep the earlier box, so the result depends only on the input order.
pub(crate) fn suppress(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    // Stable sort: ties keep the input order.
    dets.sort_by(|a, b| b.detection_score.total_cmp(&a.detection_score));
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len());
    for d in dets {
        if kept.iter().all(|k| k.bbox.iou(&d.bbox) <= iou) {
            kept.push(d);
        }
    }
    kept
}

fn resize_luma(luma: Vec<u8>, w: u32, h: u32, to_w: u32, to_h: u32) -> Result<Vec<u8>> {
    if (to_w, to_h) == (w, h) {
        return Ok(luma);
    }
    // Built from a buffer of exactly w*h bytes: cannot fail.
    let full = image::GrayImage::from_raw(w, h, luma).ok_or_else(|| Error::Internal("luma buffer size".into()))?;
    Ok(image::imageops::resize(&full, to_w, to_h, image::imageops::FilterType::Triangle).into_raw())
}

impl SeetaDetector {
    /// One cascade run over a `width` x `height` luma buffer on up to `threads` threads,
    /// scanning faces up to `max_face` pixels, keeping those scoring at least `threshold`; boxes
    /// in that buffer's pixels, unclamped.
    fn run_cascade(&self, luma: &[u8], width: u32, height: u32, max_face: u32, threshold: f64, threads: usize) -> Result<Vec<Detection>> {
        if (width.min(height) as f32) < WINDOW {
            return Ok(Vec::new());
        }
        let o = &self.options;
        let faces = catch_unwind(AssertUnwindSafe(|| {
            let mut det = rustface::create_detector_with_model(Arc::clone(&self.model));
            // Ranges checked by DetectorOptions::validate, so these setters do not panic.
            det.set_score_thresh(threshold);
            det.set_pyramid_scale_factor(o.pyramid_scale_factor);
            det.set_slide_window_step(o.window_step, o.window_step);
            det.set_max_face_size(max_face.max(WINDOW as u32));
            det.set_num_threads(threads);
            det.detect(&rustface::ImageData::new(luma, width, height))
        }))
        .map_err(|_| Error::Internal("the SeetaFace detector panicked".into()))?;
        Ok(faces
            .iter()
            .map(|f| {
                let r = f.bbox();
                Detection::new(BBox::new(r.x() as f32, r.y() as f32, r.width() as f32, r.height() as f32), f.score() as f32)
            })
            .collect())
    }

    /// Scale from image pixels to detection pixels (the cascade's window is 40 px, so faces of
    /// `min_face` pixels are brought to 40) and the scaled size; `None` when nothing fits.
    fn detection_size(&self, w: u32, h: u32, min_face: f32) -> Result<Option<(f32, u32, u32)>> {
        let scale = WINDOW / min_face;
        let sw = (w as f32 * scale).round() as u32;
        let sh = (h as f32 * scale).round() as u32;
        // Nothing the size of a window fits: no face (also avoids rustface's underflow on tiny
        // images).
        if (sw.min(sh) as f32) < WINDOW {
            return Ok(None);
        }
        if f64::from(sw) * f64::from(sh) > MAX_DETECTION_PIXELS {
            return Err(Error::InvalidOption {
                name: "min_face_size",
                value: min_face.to_string(),
                expected: "too small for an image this large (the rescaled image would exceed 256 MP)",
            });
        }
        Ok(Some((scale, sw, sh)))
    }
}

/// Maps boxes from detection pixels back to image pixels (`/ scale`, then `+ offset`), clamped to
/// the `w` x `h` image, best score first.
fn to_image(dets: Vec<Detection>, scale: f32, offset: (f32, f32), w: u32, h: u32) -> Vec<Detection> {
    let mut out: Vec<Detection> = dets
        .into_iter()
        .filter_map(|d| {
            let b = d.bbox;
            let b = BBox::new(b.x / scale + offset.0, b.y / scale + offset.1, b.width / scale, b.height / scale);
            b.clamp_to(w, h).map(|bbox| Detection { bbox, ..d })
        })
        .collect();
    out.sort_by(|a, b| b.detection_score.total_cmp(&a.detection_score));
    out
}

impl FaceDetector for SeetaDetector {
    /// The whole image pyramid in one cascade run, on the calling thread:
    /// [`FaceDetector::detect_with_threads`] with 1 thread.
    fn detect(&self, image: &ImageView<'_>) -> Result<Vec<Detection>> {
        self.detect_with_threads(image, 1)
    }

    /// The whole image pyramid in one cascade run on up to `threads` threads (scoped threads,
    /// ended before it returns; 1: none spawned). The split is inside the cascade (pyramid
    /// levels in row bands, then the candidate windows of each later stage), with the results
    /// put back in the single-threaded order, so faces, boxes and scores are identical on any
    /// thread count. (Splitting the pyramid into separate cascade runs would not be: the
    /// cascade adds up a face's scores over all pyramid levels before the threshold.)
    fn detect_with_threads(&self, image: &ImageView<'_>, threads: usize) -> Result<Vec<Detection>> {
        let o = &self.options;
        let (w, h) = (image.width(), image.height());
        let Some((scale, sw, sh)) = self.detection_size(w, h, o.min_face_size as f32)? else {
            return Ok(Vec::new());
        };
        let base = resize_luma(image.to_luma_threads(threads)?, w, h, sw, sh)?;
        let max_face = o
            .max_face_size
            .filter(|&m| m != 0)
            .map_or(sw.min(sh), |m| ((m as f32 * scale).round() as u32).max(WINDOW as u32));
        let dets = self.run_cascade(&base, sw, sh, max_face, f64::from(o.effective_score_threshold()), threads.max(1))?;
        Ok(to_image(dets, scale, (0.0, 0.0), w, h))
    }

    /// Scans only `region` (clamped to the image), rescaled so that `min_face` becomes the
    /// cascade's 40 px window, for faces up to `max_face`: for a region twice a face's side and
    /// a 1.5x size range this costs a few percent of a whole 640x480 frame. On the calling
    /// thread: the [`crate::Tracker`] already scans the regions of several faces in parallel.
    fn detect_in_region(&self, image: &ImageView<'_>, region: BBox, min_face: f32, max_face: f32) -> Result<Vec<Detection>> {
        let (w, h) = (image.width(), image.height());
        let Some(r) = region.clamp_to(w, h) else { return Ok(Vec::new()) };
        if !(min_face.is_finite() && max_face.is_finite() && min_face > 0.0) {
            return Ok(Vec::new());
        }
        let min_face = min_face.max(10.0);
        let (x0, y0) = (r.x.floor() as u32, r.y.floor() as u32);
        let (x1, y1) = (((r.x + r.width).ceil() as u32).min(w), ((r.y + r.height).ceil() as u32).min(h));
        let (rw, rh) = (x1 - x0, y1 - y0);
        let Some((scale, sw, sh)) = self.detection_size(rw, rh, min_face)? else {
            return Ok(Vec::new());
        };
        let luma = resize_luma(image.luma_region(x0, y0, rw, rh), rw, rh, sw, sh)?;
        let max_param = (max_face.max(min_face) * scale).round() as u32;
        let dets = self.run_cascade(&luma, sw, sh, max_param, f64::from(self.options.effective_score_threshold()), 1)?;
        Ok(to_image(dets, scale, (x0 as f32, y0 as f32), w, h))
    }
}
