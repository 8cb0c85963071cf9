//! Video: follow faces from frame to frame ([`Tracker`]), giving each a stable `track_id` and
//! expression probabilities, valence and arousal smoothed over time.
//!
//! Per frame, in order:
//! 1. **Scene cut.** A 32-bin histogram of the frame's luma (every 4th pixel of every 4th row)
//!    is compared with the previous frame's by total-variation distance (half the L1 distance of
//!    the normalized histograms, in [0, 1]: 0 for the same distribution, 1 for disjoint ones).
//!    Above [`TrackerOptions::scene_cut_threshold`], or when the frame size changes, all tracks
//!    end. A histogram ignores motion (a pan or a zoom on one scene moves pixels, not their
//!    distribution), which a plain frame difference would mistake for a cut.
//! 2. **Expiry.** Tracks not matched for more than [`TrackerOptions::max_age_ms`] end, except
//!    those matched on the previous frame: a face seen on every frame keeps its track whatever
//!    the frame interval (`max_age_ms` 0 on a 25 fps video ends a track on the first frame
//!    it is missing from, not on every frame).
//! 3. **Detection.** Every [`TrackerOptions::detection_interval`]-th frame, after a cut,
//!    on every frame where a live track is not found near its last box (until it is found again
//!    or expires), and on every frame while no track is live (so a face entering an empty scene
//!    is found at once), the detector scans the whole frame. On the other frames it scans only a margin around
//!    each track's last box, for faces of about that box's size
//!    ([`crate::FaceDetector::detect_in_region`]), which is far cheaper.
//! 4. **Matching.** Detections are matched to tracks greedily by intersection over union (IoU):
//!    the pair with the highest IoU first, each track and detection used once, pairs under
//!    [`TrackerOptions::min_iou`] left unmatched. (Greedy equals the optimal Hungarian assignment
//!    whenever faces do not overlap, the usual case, and is simpler to follow.) Unmatched
//!    detections start new tracks, with ids counting up from 1 and never reused.
//! 5. **Smoothing.** Each matched face is classified, and its track's values move towards the
//!    new ones: `s += (1 - 0.5^(dt / half_life)) * (raw - s)`, `dt` the time since the track's
//!    last update ([`TrackerOptions::half_life_ms`]; 0 turns it off). After one half-life a step
//!    change is half-way through. The smoothed probabilities still sum to 1.

use std::sync::Arc;

use crate::analyzer::{Analyzer, Face};
use crate::detect::{suppress, Detection};
use crate::error::{Error, Result};
use crate::expression::{Expression, EXPRESSION_COUNT};
use crate::pixels::{BBox, ImageView};

/// Settings of a [`Tracker`], each checked by [`TrackerOptions::validate`].
///
/// `#[non_exhaustive]`: later versions may add settings. Start from [`Default`] and change
/// fields with the `with_*` methods:
///
/// ```
/// let options = emotion_core::TrackerOptions::default().with_half_life_ms(500.0).with_detection_interval(5);
/// assert!(options.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TrackerOptions {
    /// While faces are tracked, a whole-frame detection runs on every n-th frame (and after cuts
    /// and lost tracks), in [1, 1000] frames; 1 detects on every frame. A new face beside tracked
    /// ones appears within this many frames; with no live track every frame is scanned.
    /// Default 10.
    pub detection_interval: u32,
    /// Margin around a track's last box searched on the frames between whole-frame detections,
    /// as a fraction of the box's longer side on each side, in [0.1, 4]. Default 0.5 (a region
    /// twice the box's side): enough for a face moving half its width between frames.
    pub search_margin: f32,
    /// Faces searched around a track measure between `side / scale_range` and
    /// `side * scale_range`, `side` the last box's longer side; in [1.1, 4]. Default 1.5.
    pub scale_range: f32,
    /// A track ends when it has not been matched for longer than this, milliseconds, in
    /// [0, 3 600 000]. Default 1000. A person who comes back later gets a new `track_id`.
    /// A track matched on one frame can always be matched on the next, however far apart the
    /// frames are, so values below the frame interval (0 included) end a track on the first
    /// frame it is not found on.
    pub max_age_ms: f64,
    /// Smallest IoU (in (0, 1]) between a detection and a track's last box to match them.
    /// Default 0.3.
    pub min_iou: f32,
    /// Half-life of the exponential smoothing of probabilities, valence and arousal,
    /// milliseconds, in [0, 3 600 000]; 0 turns smoothing off (smoothed = raw). Default 300.
    pub half_life_ms: f64,
    /// Total-variation distance between the luma histograms of consecutive frames above which
    /// the frame starts a new scene and every track ends, in (0, 1]; 1 never cuts. Default 0.5.
    pub scene_cut_threshold: f32,
}

impl Default for TrackerOptions {
    fn default() -> Self {
        TrackerOptions {
            detection_interval: 10,
            search_margin: 0.5,
            scale_range: 1.5,
            max_age_ms: 1000.0,
            min_iou: 0.3,
            half_life_ms: 300.0,
            scene_cut_threshold: 0.5,
        }
    }
}

impl TrackerOptions {
    /// Sets [`TrackerOptions::detection_interval`] (frames).
    pub const fn with_detection_interval(mut self, value: u32) -> Self {
        self.detection_interval = value;
        self
    }

    /// Sets [`TrackerOptions::search_margin`] (box sides).
    pub const fn with_search_margin(mut self, value: f32) -> Self {
        self.search_margin = value;
        self
    }

    /// Sets [`TrackerOptions::scale_range`].
    pub const fn with_scale_range(mut self, value: f32) -> Self {
        self.scale_range = value;
        self
    }

    /// Sets [`TrackerOptions::max_age_ms`] (milliseconds).
    pub const fn with_max_age_ms(mut self, value: f64) -> Self {
        self.max_age_ms = value;
        self
    }

    /// Sets [`TrackerOptions::min_iou`].
    pub const fn with_min_iou(mut self, value: f32) -> Self {
        self.min_iou = value;
        self
    }

    /// Sets [`TrackerOptions::half_life_ms`] (milliseconds; 0 = off).
    pub const fn with_half_life_ms(mut self, value: f64) -> Self {
        self.half_life_ms = value;
        self
    }

    /// Sets [`TrackerOptions::scene_cut_threshold`].
    pub const fn with_scene_cut_threshold(mut self, value: f32) -> Self {
        self.scene_cut_threshold = value;
        self
    }

    /// Checks every field against its documented range.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value: String, expected| Err(Error::InvalidOption { name, value, expected });
        if !(1..=1000).contains(&self.detection_interval) {
            return bad("detection_interval", self.detection_interval.to_string(), "must be in [1, 1000] frames");
        }
        if !(0.1..=4.0).contains(&self.search_margin) {
            return bad("search_margin", self.search_margin.to_string(), "must be in [0.1, 4] box sides");
        }
        if !(1.1..=4.0).contains(&self.scale_range) {
            return bad("scale_range", self.scale_range.to_string(), "must be in [1.1, 4]");
        }
        if !(0.0..=3_600_000.0).contains(&self.max_age_ms) {
            return bad("max_age_ms", self.max_age_ms.to_string(), "must be in [0, 3600000] ms");
        }
        if !(self.min_iou > 0.0 && self.min_iou <= 1.0) {
            return bad("min_iou", self.min_iou.to_string(), "must be in (0, 1]");
        }
        if !(0.0..=3_600_000.0).contains(&self.half_life_ms) {
            return bad("half_life_ms", self.half_life_ms.to_string(), "must be in [0, 3600000] ms");
        }
        if !(self.scene_cut_threshold > 0.0 && self.scene_cut_threshold <= 1.0) {
            return bad("scene_cut_threshold", self.scene_cut_threshold.to_string(), "must be in (0, 1]");
        }
        Ok(())
    }
}

/// The model's outputs for one face on one frame, before smoothing.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RawValues {
    /// Expression probabilities in AffectNet order, each in [0, 1], summing to 1.
    pub probabilities: [f32; EXPRESSION_COUNT],
    /// Valence in [-1, 1].
    pub valence: f32,
    /// Arousal in [-1, 1].
    pub arousal: f32,
}

/// A face on one frame of a video, with the track it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TrackedFace {
    /// Stable id of the track (the same person from frame to frame), counting up from 1 and
    /// never reused by one [`Tracker`].
    pub track_id: u64,
    /// The face on this frame: `detection_score` and `landmarks` from this frame's detection;
    /// `bbox` this frame's detection steadied against the track's previous box (a still face's
    /// box stays within a pixel, a moving one follows at once), the box the model's crop was
    /// cut around; `probabilities`, `valence` and
    /// `arousal` smoothed over the track; `expression` the most probable smoothed class.
    pub face: Face,
    /// This frame's own model outputs.
    pub raw: RawValues,
}

struct Track {
    id: u64,
    bbox: BBox,
    last_seen_ms: f64,
    smoothed: RawValues,
}

/// The track's box on a new frame: the detection blended into the previous box with a weight
/// that grows with the move, so a still face's box stays put (detector noise of a pixel or two
/// is averaged out, keeping the box's standard deviation under a pixel on a static clip) and a
/// moving face's box follows at once: weight = largest coordinate change / (10 % of the box
/// side), clamped to [0.25, 1].
fn steady_box(previous: &BBox, detected: &BBox) -> BBox {
    let (p, d) = (previous.to_array(), detected.to_array());
    let side = detected.width.max(detected.height).max(1.0);
    let change = p.iter().zip(&d).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    let w = (change / (0.1 * side)).clamp(0.25, 1.0);
    let mix = |a: f32, b: f32| a + (b - a) * w;
    BBox::new(mix(p[0], d[0]), mix(p[1], d[1]), mix(p[2], d[2]), mix(p[3], d[3]))
}

/// Follows faces through a video: feed frames in order with their timestamps ([`Tracker::update`]),
/// get faces with a stable `track_id` and smoothed values. See the [module docs](self) for the
/// method. `Send`: move it to the thread that reads the video; one tracker per video.
pub struct Tracker {
    analyzer: Arc<Analyzer>,
    options: TrackerOptions,
    tracks: Vec<Track>,
    next_id: u64,
    previous_ms: Option<f64>,
    frame_size: Option<(u32, u32)>,
    histogram: Option<[u32; HISTOGRAM_BINS]>,
    frames_since_detection: u32,
    scene_cut: bool,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker").field("options", &self.options).field("tracks", &self.tracks.len()).finish_non_exhaustive()
    }
}

const HISTOGRAM_BINS: usize = 32;
/// The histogram samples every SAMPLE_STEP-th pixel of every SAMPLE_STEP-th row.
const SAMPLE_STEP: usize = 4;

impl Tracker {
    /// A tracker using `analyzer`'s detector, model and threads.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for options out of range.
    pub fn new(analyzer: Arc<Analyzer>, options: TrackerOptions) -> Result<Self> {
        options.validate()?;
        Ok(Tracker {
            analyzer,
            options,
            tracks: Vec::new(),
            next_id: 1,
            previous_ms: None,
            frame_size: None,
            histogram: None,
            frames_since_detection: 0,
            scene_cut: false,
        })
    }

    /// The options in force.
    pub fn options(&self) -> &TrackerOptions {
        &self.options
    }

    /// The analyzer in use.
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    /// Number of live tracks (including those not matched on the last frame but not yet
    /// expired).
    pub fn track_count(&self) -> usize {
        self.tracks.len()
    }

    /// Whether the frame of the last [`Tracker::update`] began a new scene: a scene cut or a
    /// change of frame size ended every track there. `false` for the first frame (and after
    /// [`Tracker::reset`]), which follows no scene.
    pub fn scene_cut(&self) -> bool {
        self.scene_cut
    }

    /// Ends every track and forgets the previous frame, as at the start of a new video
    /// (track ids keep counting up).
    pub fn reset(&mut self) {
        self.tracks.clear();
        self.previous_ms = None;
        self.frame_size = None;
        self.histogram = None;
        self.frames_since_detection = 0;
        self.scene_cut = false;
    }

    /// Processes the next frame, shown at `time_ms` milliseconds (any origin). Returns the faces
    /// found on it, by increasing `track_id`. Tracks not found on this frame are not returned
    /// (they live on, unreported, until [`TrackerOptions::max_age_ms`]).
    ///
    /// # Errors
    /// [`Error::InvalidTimestamp`] when `time_ms` is not finite or not later than the previous
    /// frame's (the tracker is left unchanged); detector and inference errors as
    /// [`Analyzer::analyze`].
    pub fn update(&mut self, image: &ImageView<'_>, time_ms: f64) -> Result<Vec<TrackedFace>> {
        if !time_ms.is_finite() {
            return Err(Error::InvalidTimestamp { time_ms, previous_ms: self.previous_ms, reason: "must be finite" });
        }
        if self.previous_ms.is_some_and(|p| time_ms <= p) {
            return Err(Error::InvalidTimestamp {
                time_ms,
                previous_ms: self.previous_ms,
                reason: "must be later than the previous frame's",
            });
        }
        let previous_ms = self.previous_ms.replace(time_ms);

        let size = (image.width(), image.height());
        let histogram = luma_histogram(image);
        let cut = self.frame_size != Some(size)
            || self.histogram.is_some_and(|h| histogram_distance(&h, &histogram) > self.options.scene_cut_threshold);
        self.scene_cut = cut && self.frame_size.is_some();
        self.frame_size = Some(size);
        self.histogram = Some(histogram);
        if cut {
            self.tracks.clear();
        }
        let max_age = self.options.max_age_ms;
        self.tracks.retain(|t| Some(t.last_seen_ms) == previous_ms || time_ms - t.last_seen_ms <= max_age);

        let due = cut || self.tracks.is_empty() || self.frames_since_detection + 1 >= self.options.detection_interval;
        let mut detections = if due { None } else { self.detect_near_tracks(image)? };
        if detections.is_none() {
            detections = Some(self.analyzer.detect(image)?);
            self.frames_since_detection = 0;
        } else {
            self.frames_since_detection += 1;
        }
        let detections = detections.unwrap_or_default();

        let pairs = self.assign(&detections);
        // A face continuing a track is cut and reported at its steadied box.
        let mut detections = detections;
        for (d, pair) in detections.iter_mut().zip(&pairs) {
            if let Some(t) = *pair {
                d.bbox = steady_box(&self.tracks[t].bbox, &d.bbox);
            }
        }
        let faces = self.analyzer.classify_detections(image, &detections)?;
        let mut out = Vec::with_capacity(faces.len());
        for (d, raw_face) in faces.into_iter().enumerate() {
            let raw = RawValues { probabilities: raw_face.probabilities, valence: raw_face.valence, arousal: raw_face.arousal };
            let track = match pairs[d] {
                Some(t) => {
                    let track = &mut self.tracks[t];
                    let weight = smoothing_weight(time_ms - track.last_seen_ms, self.options.half_life_ms);
                    track.smoothed = blend(&track.smoothed, &raw, weight);
                    track.bbox = raw_face.bbox;
                    track.last_seen_ms = time_ms;
                    track
                }
                None => {
                    self.tracks.push(Track { id: self.next_id, bbox: raw_face.bbox, last_seen_ms: time_ms, smoothed: raw });
                    self.next_id += 1;
                    self.tracks.last_mut().expect("just pushed")
                }
            };
            let s = track.smoothed;
            let face = Face {
                probabilities: s.probabilities,
                expression: Expression::argmax(&s.probabilities),
                valence: s.valence,
                arousal: s.arousal,
                ..raw_face
            };
            out.push(TrackedFace { track_id: track.id, face, raw });
        }
        out.sort_by_key(|f| f.track_id);
        Ok(out)
    }

    /// Re-detects every live track around its last box. `None` when a track is not found there
    /// (the caller then scans the whole frame: the face may have moved far or be back elsewhere).
    fn detect_near_tracks(&self, image: &ImageView<'_>) -> Result<Option<Vec<Detection>>> {
        let o = &self.options;
        let detector = self.analyzer.detector();
        let found = crate::parallel::map(&self.tracks, self.analyzer.threads(), |t| {
            let side = t.bbox.width.max(t.bbox.height);
            let m = side * o.search_margin;
            let region = BBox::new(t.bbox.x - m, t.bbox.y - m, t.bbox.width + 2.0 * m, t.bbox.height + 2.0 * m);
            let dets = detector.detect_in_region(image, region, side / o.scale_range, side * o.scale_range)?;
            // The face of this track is the detection overlapping its last box the most.
            Ok(dets.into_iter().max_by(|a, b| a.bbox.iou(&t.bbox).total_cmp(&b.bbox.iou(&t.bbox))))
        })?;
        let Some(dets) = found.into_iter().collect::<Option<Vec<Detection>>>() else { return Ok(None) };
        // Two tracks may have found the same face.
        Ok(Some(suppress(dets, 0.3)))
    }

    /// For each detection, the index of the track it continues (greedy by IoU), or `None`.
    fn assign(&self, detections: &[Detection]) -> Vec<Option<usize>> {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (d, det) in detections.iter().enumerate() {
            for (t, track) in self.tracks.iter().enumerate() {
                let iou = det.bbox.iou(&track.bbox);
                if iou >= self.options.min_iou {
                    pairs.push((iou, d, t));
                }
            }
        }
        // Highest IoU first; ties by detection then track index, so the result is deterministic.
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut by_detection = vec![None; detections.len()];
        let mut track_used = vec![false; self.tracks.len()];
        for (_, d, t) in pairs {
            if by_detection[d].is_none() && !track_used[t] {
                by_detection[d] = Some(t);
                track_used[t] = true;
            }
        }
        by_detection
    }
}

/// Weight of a new value after `dt_ms` with half-life `half_life_ms`: `1 - 0.5^(dt / h)`, 1 when
/// smoothing is off.
pub(crate) fn smoothing_weight(dt_ms: f64, half_life_ms: f64) -> f32 {
    if half_life_ms <= 0.0 {
        1.0
    } else {
        (1.0 - 0.5f64.powf(dt_ms / half_life_ms)) as f32
    }
}

fn blend(old: &RawValues, new: &RawValues, weight: f32) -> RawValues {
    // `a + 1 * (b - a)` is not always `b` in floating point: smoothing off must give raw values.
    if weight >= 1.0 {
        return *new;
    }
    let mix = |a: f32, b: f32| a + weight * (b - a);
    let mut probabilities = [0f32; EXPRESSION_COUNT];
    for (p, (a, b)) in probabilities.iter_mut().zip(old.probabilities.iter().zip(&new.probabilities)) {
        *p = mix(*a, *b);
    }
    RawValues { probabilities, valence: mix(old.valence, new.valence), arousal: mix(old.arousal, new.arousal) }
}

/// 32-bin luma histogram of every 4th pixel of every 4th row (BT.601 luma as
/// [`ImageView::to_luma`]).
fn luma_histogram(image: &ImageView<'_>) -> [u32; HISTOGRAM_BINS] {
    let mut h = [0u32; HISTOGRAM_BINS];
    for y in (0..image.height()).step_by(SAMPLE_STEP) {
        for v in image.luma_region(0, y, image.width(), 1).into_iter().step_by(SAMPLE_STEP) {
            h[usize::from(v) * HISTOGRAM_BINS / 256] += 1;
        }
    }
    h
}

/// Total-variation distance between two histograms, in [0, 1].
fn histogram_distance(a: &[u32; HISTOGRAM_BINS], b: &[u32; HISTOGRAM_BINS]) -> f32 {
    let (na, nb) = (a.iter().sum::<u32>().max(1) as f32, b.iter().sum::<u32>().max(1) as f32);
    0.5 * a.iter().zip(b).map(|(&x, &y)| (x as f32 / na - y as f32 / nb).abs()).sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_change_is_half_way_after_one_half_life() {
        let w = smoothing_weight(300.0, 300.0);
        assert!((w - 0.5).abs() < 1e-6);
        // Ten steps of a tenth of a half-life compound to the same weight.
        let mut s = 0.0f32;
        for _ in 0..10 {
            s += smoothing_weight(30.0, 300.0) * (1.0 - s);
        }
        assert!((s - 0.5).abs() < 1e-5, "{s}");
        assert_eq!(smoothing_weight(5.0, 0.0), 1.0);
    }

    #[test]
    fn histogram_distance_range() {
        let mut a = [0u32; HISTOGRAM_BINS];
        let mut b = [0u32; HISTOGRAM_BINS];
        a[0] = 10;
        b[31] = 5;
        assert_eq!(histogram_distance(&a, &b), 1.0);
        assert_eq!(histogram_distance(&a, &a), 0.0);
    }
}
