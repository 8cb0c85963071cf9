//! Video: `emotion_tracker_*`, a C face tracker over `emotion_core::Tracker`.

use std::sync::Arc;

use emotion_core::{TrackedFace, Tracker, TrackerOptions};

use crate::status::{emotion_status, guard, guard_value, Failure};
use crate::types::{emotion_face, emotion_pixel_format, EMOTION_EXPRESSION_COUNT};
use crate::analyzer::emotion_analyzer;
use crate::args::too_small;
use crate::image::image_view;

/// Follows faces through a video (`emotion_tracker_new`, `emotion_tracker_update`,
/// `emotion_tracker_free`). Opaque. Not thread-safe: use one tracker from one thread at a time
/// (one tracker per video); it keeps its own reference to the analyzer, which may be freed
/// before the tracker.
pub struct emotion_tracker {
    inner: Tracker,
    /// The faces of the last `emotion_tracker_update`, for `emotion_tracker_faces`.
    last: Vec<emotion_tracked_face>,
}

/// Tracker settings. Start from `emotion_tracker_options_default()` and change the fields you
/// need; `emotion_tracker_new` checks every field and answers `EMOTION_ERROR_INVALID_ARGUMENT`,
/// naming the field, when one is out of range.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_tracker_options {
    /// `sizeof(emotion_tracker_options)`, set by `emotion_tracker_options_default()`; a zeroed
    /// struct is rejected.
    pub struct_size: u32,
    /// Whole-frame detection every this many frames (and after scene cuts, lost tracks, and on
    /// every frame while no face is tracked), in [1, 1000]; between them faces are re-found near
    /// their last box. Default 10.
    pub detection_interval: u32,
    /// Margin searched around a face's last box on each side, in box sides, in [0.1, 4].
    /// Default 0.5.
    pub search_margin: f32,
    /// Faces re-found between side / scale_range and side * scale_range pixels, in [1.1, 4].
    /// Default 1.5.
    pub scale_range: f32,
    /// A track ends after this long unseen, milliseconds, in [0, 3600000]. Default 1000.
    pub max_age_ms: f64,
    /// Smallest box overlap (intersection over union) continuing a track, in (0, 1]. Default 0.3.
    pub min_iou: f32,
    /// Half-life of the smoothing of probabilities, valence and arousal, milliseconds, in
    /// [0, 3600000]; 0 turns smoothing off. Default 300.
    pub half_life_ms: f64,
    /// Luma-histogram distance between consecutive frames (total variation, in [0, 1]) above
    /// which every track ends (a scene cut), in (0, 1]; 1 never cuts. Default 0.5.
    pub scene_cut_threshold: f32,
}

const TRACKER_OPTIONS_SIZE: u32 = std::mem::size_of::<emotion_tracker_options>() as u32;

impl Default for emotion_tracker_options {
    fn default() -> Self {
        let d = TrackerOptions::default();
        emotion_tracker_options {
            struct_size: TRACKER_OPTIONS_SIZE,
            detection_interval: d.detection_interval,
            search_margin: d.search_margin,
            scale_range: d.scale_range,
            max_age_ms: d.max_age_ms,
            min_iou: d.min_iou,
            half_life_ms: d.half_life_ms,
            scene_cut_threshold: d.scene_cut_threshold,
        }
    }
}

impl emotion_tracker_options {
    fn to_core(self) -> TrackerOptions {
        TrackerOptions::default()
            .with_detection_interval(self.detection_interval)
            .with_search_margin(self.search_margin)
            .with_scale_range(self.scale_range)
            .with_max_age_ms(self.max_age_ms)
            .with_min_iou(self.min_iou)
            .with_half_life_ms(self.half_life_ms)
            .with_scene_cut_threshold(self.scene_cut_threshold)
    }
}

/// A face on one video frame (`emotion_tracker_update`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_tracked_face {
    /// Stable id of the track (the same person from frame to frame), from 1 up, never reused by
    /// one tracker.
    pub track_id: u64,
    /// `bbox` and `detection_score` from this frame; `probabilities`, `expression`, `valence`
    /// and `arousal` smoothed over the track.
    pub face: emotion_face,
    /// This frame's own expression probabilities (before smoothing), AffectNet order.
    pub raw_probabilities: [f32; EMOTION_EXPRESSION_COUNT],
    /// This frame's own valence, in [-1, 1].
    pub raw_valence: f32,
    /// This frame's own arousal, in [-1, 1].
    pub raw_arousal: f32,
}

impl From<TrackedFace> for emotion_tracked_face {
    fn from(t: TrackedFace) -> Self {
        emotion_tracked_face {
            track_id: t.track_id,
            face: t.face.into(),
            raw_probabilities: t.raw.probabilities,
            raw_valence: t.raw.valence,
            raw_arousal: t.raw.arousal,
        }
    }
}

/// The default tracker options (detection_interval 10, search_margin 0.5, scale_range 1.5,
/// max_age_ms 1000, min_iou 0.3, half_life_ms 300, scene_cut_threshold 0.5) with
/// `struct_size = sizeof(emotion_tracker_options)`.
#[no_mangle]
pub extern "C" fn emotion_tracker_options_default() -> emotion_tracker_options {
    emotion_tracker_options::default()
}

/// Creates a tracker that uses `analyzer`'s detector, model and threads. `options` may be NULL
/// for the defaults. The tracker holds its own reference to the analyzer: freeing the analyzer
/// first is allowed.
///
/// On success `*out` is a new tracker to release with `emotion_tracker_free`; on failure `*out`
/// is set to NULL (when `out` is not NULL).
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`analyzer` or `out` NULL),
/// `EMOTION_ERROR_INVALID_ARGUMENT` (an option out of range, or `struct_size` wrong).
///
/// # Safety
/// `analyzer` is NULL or a live analyzer; `options` is NULL or points to an
/// `emotion_tracker_options`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn emotion_tracker_new(
    analyzer: *const emotion_analyzer,
    options: *const emotion_tracker_options,
    out: *mut *mut emotion_tracker,
) -> emotion_status {
    guard("emotion_tracker_new", || unsafe {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        *out = std::ptr::null_mut();
        if analyzer.is_null() {
            return Err(Failure::null("analyzer"));
        }
        let options = if options.is_null() {
            emotion_tracker_options::default()
        } else {
            // Read struct_size alone first: a caller with another layout may have a smaller struct.
            let size = std::ptr::addr_of!((*options).struct_size).read_unaligned();
            if size != TRACKER_OPTIONS_SIZE {
                return Err(Failure::invalid(format!(
                    "emotion_tracker_options.struct_size is {size}, expected {TRACKER_OPTIONS_SIZE}: initialize \
                     the options with emotion_tracker_options_default()"
                )));
            }
            options.read_unaligned()
        };
        let tracker = Tracker::new(Arc::clone(&(*analyzer).inner), options.to_core())?;
        *out = Box::into_raw(Box::new(emotion_tracker { inner: tracker, last: Vec::new() }));
        Ok(())
    })
}

/// Processes the next video frame, shown at `time_ms` milliseconds (any origin; each frame's
/// time must be later than the previous one's). Writes the faces found on this frame to `out`,
/// by increasing `track_id`; `*count` = their number. Image arguments as `emotion_analyze`.
///
/// When more faces are found than `capacity`, returns `EMOTION_ERROR_BUFFER_TOO_SMALL` with
/// `*count` = the number needed and `out` untouched; the frame *was* processed: get its faces
/// with `emotion_tracker_faces` and a larger array (do not pass the frame again). `out` may be
/// NULL when `capacity` is 0. On any other error `*count` is 0, `out` is untouched and the
/// tracker is unchanged for a bad time or bad image arguments.
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`tracker`, `pixels` or `count` NULL, or `out` NULL with
/// `capacity` > 0), `EMOTION_ERROR_INVALID_ARGUMENT` (unknown `format`, or `time_ms` not finite
/// or not later than the previous frame's), `EMOTION_ERROR_INVALID_IMAGE`,
/// `EMOTION_ERROR_BUFFER_TOO_SMALL`, `EMOTION_ERROR_INFERENCE`, `EMOTION_ERROR_INTERNAL`.
///
/// # Safety
/// `tracker` is NULL or a live tracker not used by another thread during the call; `pixels`,
/// `out` and `count` as for `emotion_analyze`.
#[no_mangle]
pub unsafe extern "C" fn emotion_tracker_update(
    tracker: *mut emotion_tracker,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride_bytes: usize,
    format: emotion_pixel_format,
    time_ms: f64,
    out: *mut emotion_tracked_face,
    capacity: usize,
    count: *mut usize,
) -> emotion_status {
    guard("emotion_tracker_update", || unsafe {
        let (tracker, count) = tracker_args(tracker, out, capacity, count)?;
        let image = image_view(pixels, width, height, stride_bytes, format)?;
        let faces = tracker.inner.update(&image, time_ms)?;
        tracker.last = faces.into_iter().map(emotion_tracked_face::from).collect();
        copy_last(tracker, out, capacity, count)
    })
}

/// The faces of the last `emotion_tracker_update` call again (after it answered
/// `EMOTION_ERROR_BUFFER_TOO_SMALL`): `out`, `capacity` and `count` as there; no faces before
/// the first update.
///
/// Errors: `EMOTION_ERROR_NULL_POINTER`, `EMOTION_ERROR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `emotion_tracker_update`.
#[no_mangle]
pub unsafe extern "C" fn emotion_tracker_faces(
    tracker: *mut emotion_tracker,
    out: *mut emotion_tracked_face,
    capacity: usize,
    count: *mut usize,
) -> emotion_status {
    guard("emotion_tracker_faces", || unsafe {
        let (tracker, count) = tracker_args(tracker, out, capacity, count)?;
        copy_last(tracker, out, capacity, count)
    })
}

/// Ends every track, as at the start of a new video (track ids keep counting up).
///
/// Errors: `EMOTION_ERROR_NULL_POINTER`.
///
/// # Safety
/// `tracker` is NULL or a live tracker not used by another thread during the call.
#[no_mangle]
pub unsafe extern "C" fn emotion_tracker_reset(tracker: *mut emotion_tracker) -> emotion_status {
    guard("emotion_tracker_reset", || unsafe {
        let tracker = tracker.as_mut().ok_or_else(|| Failure::null("tracker"))?;
        tracker.inner.reset();
        tracker.last.clear();
        Ok(())
    })
}

/// Releases a tracker. NULL is ignored.
///
/// # Safety
/// `tracker` is NULL or a pointer returned by `emotion_tracker_new` and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn emotion_tracker_free(tracker: *mut emotion_tracker) {
    if !tracker.is_null() {
        // SAFETY: created by Box::into_raw in emotion_tracker_new; the caller gives up the pointer.
        guard_value((), || drop(unsafe { Box::from_raw(tracker) }));
    }
}

/// Checks `count` (then set to 0), `tracker`, and `out` (NULL only when `capacity` is 0).
unsafe fn tracker_args<'a>(
    tracker: *mut emotion_tracker,
    out: *mut emotion_tracked_face,
    capacity: usize,
    count: *mut usize,
) -> Result<(&'a mut emotion_tracker, &'a mut usize), Failure> {
    let count = count.as_mut().ok_or_else(|| Failure::null("count"))?;
    *count = 0;
    let tracker = tracker.as_mut().ok_or_else(|| Failure::null("tracker"))?;
    if out.is_null() && capacity > 0 {
        return Err(Failure::new(
            crate::status::EMOTION_ERROR_NULL_POINTER,
            "`out` is NULL but `capacity` is not 0",
        ));
    }
    Ok((tracker, count))
}

unsafe fn copy_last(
    tracker: &emotion_tracker,
    out: *mut emotion_tracked_face,
    capacity: usize,
    count: &mut usize,
) -> Result<(), Failure> {
    *count = tracker.last.len();
    if tracker.last.len() > capacity {
        return Err(too_small(capacity, tracker.last.len(), "faces"));
    }
    for (i, f) in tracker.last.iter().enumerate() {
        out.add(i).write(*f);
    }
    Ok(())
}
