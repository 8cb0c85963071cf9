//! A tracker fed arbitrary frame sequences (sizes, flat frames, noise, the sample portrait at
//! arbitrary places and scales), arbitrary times (NaN, infinite, repeated, going back) and
//! arbitrary options: typed errors, never a panic; ids count up and are unique on a frame.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use emotion_core::image::{imageops, Rgb, RgbImage};
use emotion_core::{Analyzer, ImageView, Tracker, TrackerOptions};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Content {
    Flat([u8; 3]),
    Noise(Vec<u8>),
    /// The portrait scaled to `side` px with its corner at (x, y) on a flat background.
    Portrait { x: i16, y: i16, side: u8, background: u8 },
}

#[derive(Arbitrary, Debug)]
struct Frame {
    width: u8,
    height: u8,
    time_ms: f64,
    content: Content,
}

#[derive(Arbitrary, Debug)]
struct Input {
    detection_interval: u16,
    search_margin: f32,
    scale_range: f32,
    max_age_ms: f64,
    min_iou: f32,
    half_life_ms: f64,
    scene_cut_threshold: f32,
    frames: Vec<Frame>,
    reset_at: Option<u8>,
}

fn analyzer() -> &'static Arc<Analyzer> {
    static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
    A.get_or_init(|| Arc::new(Analyzer::builder().threads(1).min_face_size(20).build().expect("the bundled analyzer")))
}

fn portrait() -> &'static RgbImage {
    static P: OnceLock<RgbImage> = OnceLock::new();
    P.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/astronaut.png");
        let full = emotion_core::load_rgb(path).expect("examples/data/astronaut.png");
        imageops::thumbnail(&full, 128, 128)
    })
}

fn render(f: &Frame) -> Option<RgbImage> {
    let (w, h) = (u32::from(f.width.max(1)).min(160), u32::from(f.height.max(1)).min(160));
    Some(match &f.content {
        Content::Flat(c) => RgbImage::from_pixel(w, h, Rgb(*c)),
        Content::Noise(bytes) if !bytes.is_empty() => {
            RgbImage::from_fn(w, h, |x, y| {
                let i = (3 * (y * w + x)) as usize;
                Rgb([bytes[i % bytes.len()], bytes[(i + 1) % bytes.len()], bytes[(i + 2) % bytes.len()]])
            })
        }
        Content::Noise(_) => return None,
        Content::Portrait { x, y, side, background } => {
            let mut img = RgbImage::from_pixel(w, h, Rgb([*background; 3]));
            let side = u32::from((*side).max(8));
            let p = imageops::resize(portrait(), side, side, imageops::FilterType::Nearest);
            imageops::overlay(&mut img, &p, i64::from(*x) % 200, i64::from(*y) % 200);
            img
        }
    })
}

fuzz_target!(|input: Input| {
    let options = TrackerOptions::default()
        .with_detection_interval(u32::from(input.detection_interval))
        .with_search_margin(input.search_margin)
        .with_scale_range(input.scale_range)
        .with_max_age_ms(input.max_age_ms)
        .with_min_iou(input.min_iou)
        .with_half_life_ms(input.half_life_ms)
        .with_scene_cut_threshold(input.scene_cut_threshold);
    let Ok(mut tracker) = Tracker::new(Arc::clone(analyzer()), options) else {
        assert!(options.validate().is_err());
        return;
    };
    for (i, frame) in input.frames.iter().take(12).enumerate() {
        if input.reset_at == Some(i as u8) {
            tracker.reset();
        }
        let Some(img) = render(frame) else { continue };
        let view = ImageView::try_from(&img).expect("a packed RGB image");
        let Ok(faces) = tracker.update(&view, frame.time_ms) else { continue };
        let ids: Vec<u64> = faces.iter().map(|f| f.track_id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids not increasing and unique: {ids:?}");
        for f in &faces {
            let sum: f32 = f.face.probabilities.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "smoothed probabilities sum to {sum}");
        }
        assert!(ids.iter().all(|&id| id >= 1));
    }
    assert!(tracker.track_count() <= 1000);
});
