//! The C tracker (`emotion_tracker_*`) against `emotion_core::Tracker` on the same frames: equal
//! track ids, boxes and values; plus its argument checks.

use std::ffi::CStr;
use std::ptr;
use std::sync::Arc;

use emotion::*;
use image::{imageops, Rgb, RgbImage};

const IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/astronaut.png");

fn last_error() -> String {
    unsafe { CStr::from_ptr(emotion_last_error_message()) }.to_string_lossy().into_owned()
}

/// A 12-frame 640x480 clip: the sample face panning, then a cut to a bright background.
fn clip() -> Vec<RgbImage> {
    let portrait = emotion_core::load_rgb(IMAGE).unwrap();
    let face = imageops::resize(&portrait, 240, 240, imageops::FilterType::Triangle);
    (0..12)
        .map(|i| {
            let bg = if i < 8 { 70 } else { 230 };
            let mut f = RgbImage::from_pixel(640, 480, Rgb([bg, bg, bg]));
            imageops::overlay(&mut f, &face, 60 + 25 * i, 90);
            f
        })
        .collect()
}

#[test]
fn c_tracker_matches_the_rust_tracker() {
    let frames = clip();
    let mut opts = emotion_tracker_options_default();
    opts.detection_interval = 4;
    opts.half_life_ms = 120.0;

    let mut analyzer = ptr::null_mut();
    assert_eq!(unsafe { emotion_analyzer_new(ptr::null(), &mut analyzer) }, EMOTION_OK, "{}", last_error());
    let mut tracker = ptr::null_mut();
    assert_eq!(unsafe { emotion_tracker_new(analyzer, &opts, &mut tracker) }, EMOTION_OK, "{}", last_error());
    // The tracker keeps the analyzer alive.
    unsafe { emotion_analyzer_free(analyzer) };

    let core_options = emotion_core::TrackerOptions::default().with_detection_interval(4).with_half_life_ms(120.0);
    let mut rust = emotion_core::Tracker::new(Arc::new(emotion_core::Analyzer::new().unwrap()), core_options).unwrap();

    let mut ids = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let t = 40.0 * i as f64;
        let expected = rust.update(&emotion_core::ImageView::try_from(f).unwrap(), t).unwrap();
        let mut out = [emotion_tracked_face {
            track_id: 0,
            face: unsafe { std::mem::zeroed() },
            raw_probabilities: [0.0; 8],
            raw_valence: 0.0,
            raw_arousal: 0.0,
        }; 4];
        let mut n = 0usize;
        let status = unsafe {
            emotion_tracker_update(tracker, f.as_ptr(), 640, 480, 640 * 3, EMOTION_PIXEL_RGB8, t, out.as_mut_ptr(), 4, &mut n)
        };
        assert_eq!(status, EMOTION_OK, "frame {i}: {}", last_error());
        assert_eq!(n, expected.len(), "frame {i}");
        for (c, r) in out[..n].iter().zip(&expected) {
            assert_eq!(c.track_id, r.track_id);
            assert_eq!(c.face.bbox, emotion_bbox::from(r.face.bbox));
            assert_eq!(c.face.probabilities, r.face.probabilities);
            assert_eq!((c.face.valence, c.face.arousal), (r.face.valence, r.face.arousal));
            assert_eq!(c.face.expression, r.face.expression as u32);
            assert_eq!(c.raw_probabilities, r.raw.probabilities);
            assert_eq!((c.raw_valence, c.raw_arousal), (r.raw.valence, r.raw.arousal));
            ids.push(c.track_id);
        }
    }
    assert!(ids.len() >= 11, "faces on {} of 12 frames", ids.len());
    // One id before the cut, another after it.
    assert!(ids[0] != *ids.last().unwrap());

    // Capacity 0: the frame is processed, the count reported; emotion_tracker_faces gives them.
    let f = &frames[11];
    let mut n = 0usize;
    let s = unsafe { emotion_tracker_update(tracker, f.as_ptr(), 640, 480, 640 * 3, EMOTION_PIXEL_RGB8, 1000.0, ptr::null_mut(), 0, &mut n) };
    assert_eq!(s, EMOTION_ERROR_BUFFER_TOO_SMALL);
    assert_eq!(n, 1);
    let mut again = [unsafe { std::mem::zeroed::<emotion_tracked_face>() }; 2];
    let mut m = 0usize;
    assert_eq!(unsafe { emotion_tracker_faces(tracker, again.as_mut_ptr(), 2, &mut m) }, EMOTION_OK);
    assert_eq!(m, 1);
    assert_eq!(again[0].track_id, *ids.last().unwrap());

    // A time not later than the previous frame's.
    let s = unsafe { emotion_tracker_update(tracker, f.as_ptr(), 640, 480, 640 * 3, EMOTION_PIXEL_RGB8, 1000.0, again.as_mut_ptr(), 2, &mut n) };
    assert_eq!(s, EMOTION_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("later than the previous"), "{}", last_error());
    assert_eq!(n, 0);
    unsafe { emotion_tracker_free(tracker) };
}

#[test]
fn tracker_argument_errors() {
    let mut tracker = ptr::null_mut();
    assert_eq!(unsafe { emotion_tracker_new(ptr::null(), ptr::null(), &mut tracker) }, EMOTION_ERROR_NULL_POINTER);
    assert!(tracker.is_null());
    let mut analyzer = ptr::null_mut();
    assert_eq!(unsafe { emotion_analyzer_new(ptr::null(), &mut analyzer) }, EMOTION_OK);
    let mut opts = emotion_tracker_options_default();
    opts.struct_size = 0;
    assert_eq!(unsafe { emotion_tracker_new(analyzer, &opts, &mut tracker) }, EMOTION_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("struct_size"), "{}", last_error());
    let mut opts = emotion_tracker_options_default();
    opts.half_life_ms = -1.0;
    assert_eq!(unsafe { emotion_tracker_new(analyzer, &opts, &mut tracker) }, EMOTION_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("half_life_ms"), "{}", last_error());
    assert_eq!(unsafe { emotion_tracker_new(analyzer, ptr::null(), &mut tracker) }, EMOTION_OK);
    let mut n = 7usize;
    let px = [0u8; 12];
    assert_eq!(
        unsafe { emotion_tracker_update(ptr::null_mut(), px.as_ptr(), 2, 2, 6, EMOTION_PIXEL_RGB8, 0.0, ptr::null_mut(), 0, &mut n) },
        EMOTION_ERROR_NULL_POINTER
    );
    assert_eq!(n, 0);
    assert_eq!(
        unsafe { emotion_tracker_update(tracker, px.as_ptr(), 2, 2, 6, 99, 0.0, ptr::null_mut(), 0, &mut n) },
        EMOTION_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { emotion_tracker_update(tracker, px.as_ptr(), 2, 2, 6, EMOTION_PIXEL_RGB8, f64::NAN, ptr::null_mut(), 0, &mut n) },
        EMOTION_ERROR_INVALID_ARGUMENT
    );
    assert_eq!(unsafe { emotion_tracker_reset(tracker) }, EMOTION_OK);
    unsafe { emotion_tracker_free(tracker) };
    unsafe { emotion_tracker_free(ptr::null_mut()) };
    unsafe { emotion_analyzer_free(analyzer) };
}
