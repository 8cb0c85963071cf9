//! Video: `Tracker` and the `TrackedFace`s it returns.

use std::sync::{Arc, Mutex};

use emotion_core::Expression;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::analyzer::Analyzer;
use crate::errors::to_py_err;
use crate::image::with_image;
use crate::options::detection_interval_option;
use crate::results::{BBox, Face};

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
pub(crate) struct TrackedFace {
    /// Stable id of the track (the same person from frame to frame), from 1 up, never reused by
    /// one Tracker.
    #[pyo3(get)]
    pub(crate) track_id: u64,
    pub(crate) face: Face,
    pub(crate) raw: emotion_core::RawValues,
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
pub(crate) struct Tracker {
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
