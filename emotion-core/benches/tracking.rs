//! Tracking mode against whole-frame detection on every frame, on a synthetic 640x480 clip made
//! from the repository's sample portrait (the face pans, zooms, leaves and comes back). Prints
//! the median and mean time per frame of each mode, their ratio, and in how many of the frames
//! where whole-frame detection finds the face tracking finds it too.
//! Run: `cargo bench -p emotion-core --bench tracking` (one thread per mode; no test data needed).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use emotion_core::{Analyzer, ImageView, Tracker, TrackerOptions};
use image::{imageops, RgbImage};

const FRAMES: usize = 240;
const FRAME_MS: f64 = 1000.0 / 30.0;

/// Frame `i`: the portrait (200-300 px, slowly zooming) moving on a Lissajous path; it walks out
/// of the frame to the right around frames 150-185 and comes back.
fn clip() -> Vec<RgbImage> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/data/astronaut.png");
    let portrait = emotion_core::load_rgb(&p).unwrap();
    let mut bg = imageops::resize(&portrait, 640, 480, imageops::FilterType::Triangle);
    imageops::colorops::brighten_in_place(&mut bg, -60);
    let bg = imageops::blur(&bg, 12.0);
    (0..FRAMES)
        .map(|i| {
            let t = i as f32 / FRAMES as f32 * std::f32::consts::TAU;
            let side = (250.0 + 50.0 * (2.0 * t).sin()) as u32;
            let mut x = 180.0 + 150.0 * t.sin();
            if (150..186).contains(&i) {
                x += 40.0 * (i - 149) as f32; // walks out to the right
            }
            let y = 90.0 + 60.0 * (1.5 * t).cos();
            let mut f: RgbImage = bg.clone();
            let face = imageops::resize(&portrait, side, side, imageops::FilterType::Triangle);
            imageops::overlay(&mut f, &face, x as i64, y as i64);
            f
        })
        .collect()
}

fn run(frames: &[RgbImage], options: TrackerOptions, analyzer: &Arc<Analyzer>) -> (Vec<f64>, Vec<bool>) {
    let mut tracker = Tracker::new(Arc::clone(analyzer), options).unwrap();
    let mut times = Vec::new();
    let mut found = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let view = ImageView::try_from(f).unwrap();
        let t0 = Instant::now();
        let faces = tracker.update(&view, i as f64 * FRAME_MS).unwrap();
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        found.push(!faces.is_empty());
    }
    (times, found)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

fn main() {
    // `cargo test --benches` passes --bench-free args; run only under `cargo bench`.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let frames = clip();
    let analyzer = Arc::new(Analyzer::builder().threads(1).build().unwrap());
    let full_options = TrackerOptions::default().with_detection_interval(1);
    // Warm-up (page in the model, caches).
    run(&frames[..5], full_options, &analyzer);
    let (full_t, full_found) = run(&frames, full_options, &analyzer);
    let (track_t, track_found) = run(&frames, TrackerOptions::default(), &analyzer);
    let both = full_found.iter().zip(&track_found).filter(|(f, t)| **f && **t).count();
    let full_n = full_found.iter().filter(|f| **f).count();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("640x480 clip, {FRAMES} frames, 1 thread, detect + classify + track per frame");
    println!("  whole-frame detection every frame: median {:.2} ms, mean {:.2} ms", median(&full_t), mean(&full_t));
    println!(
        "  tracking (detection_interval {}): median {:.2} ms, mean {:.2} ms",
        TrackerOptions::default().detection_interval,
        median(&track_t),
        mean(&track_t)
    );
    println!("  speed-up: {:.1}x (medians), {:.1}x (means)", median(&full_t) / median(&track_t), mean(&full_t) / mean(&track_t));
    println!(
        "  face found by tracking in {both} of the {full_n} frames where whole-frame detection finds it ({:.1} %); tracking alone: {} frames",
        100.0 * both as f64 / full_n.max(1) as f64,
        track_found.iter().filter(|f| **f).count()
    );
    let missed: Vec<usize> = (0..frames.len()).filter(|&i| full_found[i] && !track_found[i]).collect();
    println!("  frames where only whole-frame detection finds the face: {missed:?}");
}
