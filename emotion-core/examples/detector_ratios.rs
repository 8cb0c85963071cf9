//! YuNet (the default detector) against SeetaFace in one process, for issue 21's targets: times
//! as ratios measured in one run (the two pipelines called in turn, medians), and face counts.
//! Needs `../shared/photos`.
//!
//! `cargo run --release -p emotion-core --example detector_ratios [ROUNDS]`

use std::time::Instant;

use emotion_core::{Analyzer, DetectorKind, ImageView};
use image::{imageops, imageops::FilterType, Rgb, RgbImage};

fn photo(rel: &str) -> RgbImage {
    emotion_core::load_rgb(format!("{}/../../shared/photos/{rel}", env!("CARGO_MANIFEST_DIR"))).expect("../shared/photos")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median milliseconds of `f` over `rounds` calls each, the closures called in turn.
fn timed(rounds: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut t = vec![Vec::new(); fs.len()];
    for f in fs.iter_mut() {
        f();
    }
    for _ in 0..rounds {
        for (i, f) in fs.iter_mut().enumerate() {
            let s = Instant::now();
            f();
            t[i].push(s.elapsed().as_secs_f64() * 1e3);
        }
    }
    t.into_iter().map(median).collect()
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let build = |kind, threads, min_face| Analyzer::builder().detector_kind(kind).threads(threads).min_face_size(min_face).build().unwrap();
    // A 640x480 frame with one face (the astronaut portrait at 300 px).
    let portrait = photo("misc/astronaut.png");
    let mut vga = RgbImage::from_pixel(640, 480, Rgb([70, 80, 90]));
    imageops::overlay(&mut vga, &imageops::resize(&portrait, 300, 300, FilterType::Triangle), 170, 90);
    let v = ImageView::try_from(&vga).unwrap();
    let (y1, s1, s1_40, y2) = (build(DetectorKind::Yunet, 1, 20), build(DetectorKind::Seeta, 1, 20), build(DetectorKind::Seeta, 1, 40), build(DetectorKind::Yunet, 2, 20));
    let t = timed(rounds, &mut [&mut || drop(y1.analyze(&v)), &mut || drop(s1.analyze(&v)), &mut || drop(s1_40.analyze(&v)), &mut || drop(y2.analyze(&v))]);
    println!("analyze 640x480 one face, 1 thread: yunet {:.2} ms, seeta(min_face 20) {:.2} ms, seeta(min_face 40) {:.2} ms; ratios {:.2}x, {:.2}x", t[0], t[1], t[2], t[0] / t[1], t[0] / t[2]);
    println!("analyze 640x480 one face, yunet 2 threads: {:.2} ms ({:.2}x of 1 thread)", t[3], t[3] / t[0]);

    // A 4000x3000 photo (the collage upscaled).
    let big = imageops::resize(&photo("voc-faces/bald_guys.jpg"), 4000, 3000, FilterType::Triangle);
    let bv = ImageView::try_from(&big).unwrap();
    let t = timed(rounds.min(5), &mut [&mut || drop(y2.detect(&bv)), &mut || drop(y1.detect(&bv))]);
    println!("detect 4000x3000, yunet: {:.1} ms on 2 threads, {:.1} ms on 1", t[0], t[1]);

    // Face counts: the collage at smaller scales (faces of about 60, 30, 20 px).
    let seeta_default = build(DetectorKind::Seeta, 2, 40);
    let collage = photo("voc-faces/bald_guys.jpg");
    for scale in [1.0f32, 0.5, 0.33] {
        let (w, h) = ((collage.width() as f32 * scale) as u32, (collage.height() as f32 * scale) as u32);
        let img = imageops::resize(&collage, w, h, FilterType::Triangle);
        let iv = ImageView::try_from(&img).unwrap();
        println!("bald_guys.jpg x{scale}: yunet {} faces, seeta (default 40) {} faces, seeta (20) {}", y2.detect(&iv).unwrap().len(), seeta_default.detect(&iv).unwrap().len(), s1.detect(&iv).unwrap().len());
    }
    // Close-ups: the portrait's head filling 50-100 % of a 640x640 image.
    let det = y2.detector();
    let (mut found, mut n) = (0, 0);
    for side in (320..=640).step_by(16) {
        let mut img = RgbImage::from_pixel(640, 640, Rgb([128, 128, 128]));
        let p = imageops::resize(&portrait, side * 512 / 300, side * 512 / 300, FilterType::Triangle);
        let off = (640 - side as i64 * 512 / 300) / 2;
        imageops::overlay(&mut img, &p, off, off);
        n += 1;
        found += usize::from(det.detect_with_threads(&ImageView::try_from(&img).unwrap(), 2).unwrap().len() == 1);
    }
    println!("close-ups (face 50-100 % of 640 px): one face found on {found} of {n}");
}
