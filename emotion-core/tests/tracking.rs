//! The video tracker on synthetic clips made in memory from the repository's sample portrait
//! (pan, zoom, a scene cut, a face leaving and coming back), and thread-count parity of stills.

mod common;

use std::sync::Arc;

use emotion_core::{Analyzer, Error, ImageView, TrackedFace, Tracker, TrackerOptions};
use image::{imageops, Rgb, RgbImage};

const FRAME_MS: f64 = 40.0;

fn analyzer(threads: usize) -> Arc<Analyzer> {
    Arc::new(Analyzer::builder().threads(threads).build().unwrap())
}

/// A 640x480 frame: flat `background`, and the sample portrait scaled to `side` pixels with its
/// top-left corner at (`x`, `y`) (parts outside the frame are cut off); `None`: no portrait.
fn frame(portrait: &RgbImage, at: Option<(i64, i64, u32)>, background: [u8; 3]) -> RgbImage {
    let mut f = RgbImage::from_pixel(640, 480, Rgb(background));
    if let Some((x, y, side)) = at {
        let p = imageops::resize(portrait, side, side, imageops::FilterType::Triangle);
        imageops::overlay(&mut f, &p, x, y);
    }
    f
}

fn run(tracker: &mut Tracker, frames: &[RgbImage]) -> Vec<Vec<TrackedFace>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| tracker.update(&ImageView::try_from(f).unwrap(), i as f64 * FRAME_MS).unwrap())
        .collect()
}

fn ids(faces: &[TrackedFace]) -> Vec<u64> {
    faces.iter().map(|f| f.track_id).collect()
}

#[test]
fn pan_and_zoom_keep_one_track_id() {
    let portrait = common::sample();
    // 40 frames: the face pans 6 px a frame to the right while growing from 240 to 318 px.
    let frames: Vec<RgbImage> =
        (0..40).map(|i| frame(&portrait, Some((40 + 6 * i, 60 + i / 2, 240 + 2 * i as u32)), [90, 90, 90])).collect();
    let mut tracker = Tracker::new(analyzer(2), TrackerOptions::default()).unwrap();
    let out = run(&mut tracker, &frames);
    let found = out.iter().filter(|f| f.len() == 1).count();
    assert!(found >= 39, "face found on {found} of 40 frames: {:?}", out.iter().map(|f| f.len()).collect::<Vec<_>>());
    assert!(out.iter().all(|f| f.len() <= 1), "one face, yet more were reported");
    let all: Vec<u64> = out.iter().flat_map(|f| ids(f)).collect();
    assert!(all.iter().all(|&id| id == all[0]), "track ids changed: {all:?}");
    // The box follows the face: its centre moves right with the pan.
    let first = out.iter().find(|f| !f.is_empty()).unwrap()[0].face.bbox;
    let last = out.iter().rev().find(|f| !f.is_empty()).unwrap()[0].face.bbox;
    assert!(last.x - first.x > 150.0, "box did not follow the pan: {first:?} -> {last:?}");
}

#[test]
fn a_scene_cut_ends_every_track() {
    let portrait = common::sample();
    let mut frames: Vec<RgbImage> = (0..6).map(|_| frame(&portrait, Some((100, 80, 260)), [60, 60, 60])).collect();
    // The same face at the same place on a bright background: the boxes overlap (a tracker
    // matching by position alone would continue the track) but the histogram changes.
    frames.extend((0..6).map(|_| frame(&portrait, Some((104, 80, 260)), [235, 235, 235])));
    let mut tracker = Tracker::new(analyzer(2), TrackerOptions::default()).unwrap();
    let out = run(&mut tracker, &frames);
    assert!(out.iter().all(|f| f.len() == 1), "{:?}", out.iter().map(|f| f.len()).collect::<Vec<_>>());
    let before = out[5][0].track_id;
    let after = out[6][0].track_id;
    assert!(out[..6].iter().all(|f| f[0].track_id == before));
    assert!(out[6..].iter().all(|f| f[0].track_id == after));
    assert_ne!(before, after, "the cut did not end the track");
    // `scene_cut` says which frame began the new scene: the 7th, not the first.
    let mut tracker = Tracker::new(analyzer(2), TrackerOptions::default()).unwrap();
    let cuts: Vec<bool> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            tracker.update(&ImageView::try_from(f).unwrap(), i as f64 * FRAME_MS).unwrap();
            tracker.scene_cut()
        })
        .collect();
    let at: Vec<usize> = cuts.iter().enumerate().filter(|(_, &c)| c).map(|(i, _)| i).collect();
    assert_eq!(at, [6], "{cuts:?}");

    // With cuts off, the same clip keeps one track.
    let options = TrackerOptions::default().with_scene_cut_threshold(1.0);
    let mut tracker = Tracker::new(analyzer(2), options).unwrap();
    let out = run(&mut tracker, &frames);
    assert_eq!(out[5][0].track_id, out[6][0].track_id);
}

/// Face on frames [0, 8), gone for `gone` frames, back at the same place for 8 frames.
fn leave_and_return(gone: usize) -> Vec<Vec<TrackedFace>> {
    let portrait = common::sample();
    let present = frame(&portrait, Some((180, 100, 250)), [90, 90, 90]);
    // The face leaves by sliding out to the right over 4 frames, then the frame stays empty.
    let mut frames: Vec<RgbImage> = vec![present.clone(); 8];
    frames.extend((1..=4).map(|i| frame(&portrait, Some((180 + 120 * i, 100, 250)), [90, 90, 90])));
    frames.extend(std::iter::repeat(frame(&portrait, None, [90, 90, 90])).take(gone - 4));
    frames.extend(std::iter::repeat(present).take(8));
    let options = TrackerOptions::default().with_max_age_ms(600.0);
    let mut tracker = Tracker::new(analyzer(2), options).unwrap();
    run(&mut tracker, &frames)
}

#[test]
fn a_face_back_after_the_timeout_gets_a_new_id() {
    // Gone for 30 frames = 1.2 s > 600 ms.
    let out = leave_and_return(30);
    let first = out[0][0].track_id;
    assert!(out[..8].iter().all(|f| ids(f) == [first]));
    assert!(out[12..38].iter().all(|f| f.is_empty()), "a stale face was reported after the person left");
    // With no live track every frame is scanned whole: the returning face is found at once.
    let back: Vec<u64> = out[38..].iter().flat_map(|f| ids(f)).collect();
    assert_eq!(back.len(), 8, "the returning face was found on {} of 8 frames", back.len());
    assert!(back.iter().all(|&id| id == back[0] && id != first), "ids after return: {back:?}, before: {first}");
}

#[test]
fn a_face_back_within_the_timeout_keeps_its_id() {
    // Gone for 8 frames = 320 ms < 600 ms.
    let out = leave_and_return(8);
    let first = out[0][0].track_id;
    let back: Vec<u64> = out[16..].iter().flat_map(|f| ids(f)).collect();
    assert!(back.len() >= 7);
    assert!(back.iter().all(|&id| id == first), "ids after return: {back:?}, before: {first}");
}

#[test]
fn a_max_age_below_the_frame_interval_keeps_a_face_seen_on_every_frame() {
    // 25 fps (40 ms a frame) with max_age_ms 0 and 39: a face present on every frame keeps one
    // id; gone for a frame, it comes back with a new one (the track ended where it was missed).
    let portrait = common::sample();
    let present = frame(&portrait, Some((180, 100, 250)), [90, 90, 90]);
    let empty = frame(&portrait, None, [90, 90, 90]);
    for max_age in [0.0, 39.0] {
        let mut tracker = Tracker::new(analyzer(2), TrackerOptions::default().with_max_age_ms(max_age)).unwrap();
        let out = run(&mut tracker, &vec![present.clone(); 12]);
        let all: Vec<u64> = out.iter().flat_map(|f| ids(f)).collect();
        assert_eq!(all.len(), 12, "max_age_ms {max_age}: found on {} of 12 frames", all.len());
        assert!(all.iter().all(|&id| id == all[0]), "max_age_ms {max_age}: ids {all:?}");

        let mut tracker = Tracker::new(analyzer(2), TrackerOptions::default().with_max_age_ms(max_age)).unwrap();
        let out = run(&mut tracker, &[present.clone(), present.clone(), empty.clone(), present.clone(), present.clone()]);
        assert!(out[2].is_empty());
        assert_eq!(ids(&out[0]), ids(&out[1]));
        assert_eq!(ids(&out[3]), ids(&out[4]));
        assert_ne!(ids(&out[1]), ids(&out[3]), "max_age_ms {max_age}: a track outlived its max age");
    }
}

#[test]
fn smoothing_follows_the_half_life_and_keeps_raw_values() {
    let portrait = common::sample();
    let analyzer = analyzer(1);
    // The portrait, then the same frame with the mouth blurred away (the smile gone): the second
    // frame continues the track (same place, nearly the same histogram) with a step in the raw
    // values.
    let a = frame(&portrait, Some((150, 90, 280)), [90, 90, 90]);
    let face = analyzer.analyze(&ImageView::try_from(&a).unwrap()).unwrap()[0].bbox;
    let mut b = a.clone();
    let (mx, my, mw, mh) = (face.x as u32, (face.y + face.height * 0.6) as u32, face.width as u32, (face.height * 0.4) as u32);
    let mouth = imageops::blur(&*imageops::crop_imm(&a, mx, my, mw, mh), 6.0);
    imageops::replace(&mut b, &mouth, i64::from(mx), i64::from(my));
    let half_life = 250.0;
    let options = TrackerOptions::default().with_half_life_ms(half_life);
    let mut tracker = Tracker::new(analyzer.clone(), options).unwrap();
    let fa = tracker.update(&ImageView::try_from(&a).unwrap(), 1000.0).unwrap();
    let fb = tracker.update(&ImageView::try_from(&b).unwrap(), 1000.0 + half_life).unwrap();
    assert_eq!((fa.len(), fb.len()), (1, 1));
    assert_eq!(fa[0].track_id, fb[0].track_id);
    let step = fa[0].raw.probabilities.iter().zip(&fb[0].raw.probabilities).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(step > 0.01, "the two frames give almost the same values ({step}): nothing to smooth");
    // A new track starts at its raw values.
    assert_eq!(fa[0].face.probabilities, fa[0].raw.probabilities);
    // Raw values are the analyzer's own on this frame's box.
    let direct = analyzer.classify_detections(
        &ImageView::try_from(&b).unwrap(),
        &[emotion_core::Detection::new(fb[0].face.bbox, fb[0].face.detection_score.unwrap())],
    );
    let direct = direct.unwrap()[0];
    assert_eq!(fb[0].raw.probabilities, direct.probabilities);
    assert_eq!((fb[0].raw.valence, fb[0].raw.arousal), (direct.valence, direct.arousal));
    // One half-life later the smoothed values are half-way from the old to the new.
    let half = |x: f32, y: f32| x + 0.5 * (y - x);
    for i in 0..8 {
        let expected = half(fa[0].raw.probabilities[i], fb[0].raw.probabilities[i]);
        assert!((fb[0].face.probabilities[i] - expected).abs() < 1e-6, "class {i}");
    }
    assert!((fb[0].face.valence - half(fa[0].raw.valence, fb[0].raw.valence)).abs() < 1e-6);
    assert!((fb[0].face.arousal - half(fa[0].raw.arousal, fb[0].raw.arousal)).abs() < 1e-6);
    let sum: f32 = fb[0].face.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4);
    assert_eq!(fb[0].face.expression, emotion_core::Expression::argmax(&fb[0].face.probabilities));

    // Half-life 0: smoothed = raw.
    let options = TrackerOptions::default().with_half_life_ms(0.0);
    let mut tracker = Tracker::new(analyzer, options).unwrap();
    tracker.update(&ImageView::try_from(&a).unwrap(), 0.0).unwrap();
    let f = tracker.update(&ImageView::try_from(&b).unwrap(), 40.0).unwrap();
    assert_eq!(f[0].face.probabilities, f[0].raw.probabilities);
    assert_eq!(f[0].face.valence, f[0].raw.valence);
}

#[test]
fn bad_timestamps_and_options_are_rejected() {
    let portrait = common::sample();
    let a = frame(&portrait, None, [90, 90, 90]);
    let view = ImageView::try_from(&a).unwrap();
    let mut tracker = Tracker::new(analyzer(1), TrackerOptions::default()).unwrap();
    tracker.update(&view, 100.0).unwrap();
    for t in [100.0, 50.0, f64::NAN, f64::INFINITY] {
        let e = tracker.update(&view, t).unwrap_err();
        assert!(matches!(e, Error::InvalidTimestamp { previous_ms: Some(p), .. } if p == 100.0), "{t}: {e}");
    }
    let e = tracker.update(&view, -1e308).unwrap_err().to_string();
    assert_eq!(e, "invalid frame time -1e308 ms: must be later than the previous frame's (previous frame at 100 ms)");
    tracker.update(&view, 140.0).unwrap();

    let d = TrackerOptions::default;
    let cases: Vec<(TrackerOptions, &str)> = vec![
        (d().with_detection_interval(0), "detection_interval"),
        (d().with_search_margin(0.0), "search_margin"),
        (d().with_search_margin(f32::NAN), "search_margin"),
        (d().with_scale_range(1.0), "scale_range"),
        (d().with_max_age_ms(-1.0), "max_age_ms"),
        (d().with_min_iou(0.0), "min_iou"),
        (d().with_half_life_ms(f64::NAN), "half_life_ms"),
        (d().with_scene_cut_threshold(0.0), "scene_cut_threshold"),
    ];
    for (options, field) in cases {
        match Tracker::new(analyzer(1), options) {
            Err(Error::InvalidOption { name, .. }) => assert_eq!(name, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn tracking_does_not_depend_on_thread_count() {
    let portrait = common::sample();
    let frames: Vec<RgbImage> = (0..12).map(|i| frame(&portrait, Some((60 + 10 * i, 70, 250)), [90, 90, 90])).collect();
    let options = TrackerOptions::default().with_detection_interval(5);
    let one = run(&mut Tracker::new(analyzer(1), options).unwrap(), &frames);
    let two = run(&mut Tracker::new(analyzer(2), options).unwrap(), &frames);
    assert_eq!(one, two);
}

#[test]
fn stills_give_the_same_faces_on_any_thread_count() {
    // The repository's one-face sample and 4-face grid; a 6-face group photo when present.
    let mut images = vec![("astronaut", common::sample()), ("grid", common::grid())];
    if let Some(img) = common::shared_photo("misc/multiface.jpg") {
        images.push(("multiface", img));
    }
    let analyzers: Vec<Arc<Analyzer>> = [1, 2, 3, 4].into_iter().map(analyzer).collect();
    for (name, img) in &images {
        let view = ImageView::try_from(img).unwrap();
        let one = analyzers[0].analyze(&view).unwrap();
        assert!(!one.is_empty(), "{name}: no face");
        for a in &analyzers[1..] {
            assert_eq!(a.analyze(&view).unwrap(), one, "{name}: {} threads differ from 1", a.threads());
        }
    }
}

/// Standard deviation of each box coordinate of the one track over a clip, pixels.
fn box_jitter(faces: &[Vec<TrackedFace>]) -> [f32; 4] {
    let boxes: Vec<[f32; 4]> = faces.iter().map(|f| {
        assert_eq!(f.len(), 1, "one face per frame");
        f[0].face.bbox.to_array()
    }).collect();
    let n = boxes.len() as f32;
    let mut out = [0f32; 4];
    for (k, o) in out.iter_mut().enumerate() {
        let mean = boxes.iter().map(|b| b[k]).sum::<f32>() / n;
        *o = (boxes.iter().map(|b| (b[k] - mean).powi(2)).sum::<f32>() / n).sqrt();
    }
    out
}

#[test]
fn a_static_face_keeps_its_box_within_a_pixel() {
    // 100 frames of a still portrait with camera noise (+-4 levels per pixel, different every
    // frame): the tracker alternates whole-frame detection and re-detection near the track,
    // and the box must not wander.
    let portrait = common::sample();
    let still = frame(&portrait, Some((200, 100, 260)), [40, 60, 80]);
    let mut seed = 12345u32;
    let frames: Vec<RgbImage> = (0..100)
        .map(|_| {
            let mut f = still.clone();
            for p in f.iter_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *p = (i32::from(*p) + (seed >> 24) as i32 % 9 - 4).clamp(0, 255) as u8;
            }
            f
        })
        .collect();
    let mut tracker = Tracker::new(analyzer(2), TrackerOptions::default()).unwrap();
    let faces = run(&mut tracker, &frames);
    let jitter = box_jitter(&faces);
    eprintln!("box jitter (std of x, y, width, height over 100 frames): {jitter:?} px");
    assert!(jitter.iter().all(|&j| j < 1.0), "{jitter:?}");
    assert!(faces.iter().all(|f| f[0].face.landmarks.is_some()));
}
