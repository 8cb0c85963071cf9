//! The default detector (YuNet) against the SeetaFace cascade, measured in one run: time of
//! `Analyzer::analyze` on a 640x480 one-face frame and on a 4000x3000 photo, face counts on small
//! and crowded faces, close-ups and photos without people. Prints medians and ratios.
//! Run: `cargo bench -p emotion-core --bench detectors` (the face counts need `../shared`).
//!
//! SeetaFace runs twice: with the same options as YuNet (`min_face_size` 20, this release's
//! default) and at 40, its default until 0.2.1.

use std::path::{Path, PathBuf};
mod common;

use common::median_ms;

use emotion_core::{Analyzer, BBox, DetectorKind, ImageView};
use image::{imageops, RgbImage};

fn analyzer(kind: DetectorKind, min_face_size: u32, threads: usize) -> Analyzer {
    Analyzer::builder().detector_kind(kind).min_face_size(min_face_size).threads(threads).build().unwrap()
}

fn scaled(img: &RgbImage, factor: f32) -> RgbImage {
    let (w, h) = ((img.width() as f32 * factor).round() as u32, (img.height() as f32 * factor).round() as u32);
    imageops::resize(img, w.max(1), h.max(1), imageops::FilterType::Triangle)
}

/// Medians of `analyzers` on `img`, interleaved (3 rounds of the median of `runs`; the middle round).
fn times(analyzers: &[&Analyzer], img: &RgbImage, runs: usize) -> Vec<f64> {
    let view = ImageView::try_from(img).unwrap();
    let mut rounds = vec![Vec::new(); analyzers.len()];
    for _ in 0..3 {
        for (a, r) in analyzers.iter().zip(&mut rounds) {
            r.push(median_ms(|| drop(a.analyze(&view).unwrap()), runs));
        }
    }
    rounds
        .into_iter()
        .map(|mut r| {
            r.sort_by(f64::total_cmp);
            r[1]
        })
        .collect()
}

/// Labelled boxes of `../shared/photos/face-boxes.csv` by file.
fn labelled(shared: &Path) -> Vec<(String, Vec<BBox>)> {
    let Ok(text) = std::fs::read_to_string(shared.join("face-boxes.csv")) else { return Vec::new() };
    let mut out: Vec<(String, Vec<BBox>)> = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let n = |i: usize| f[i].parse::<f32>().unwrap();
        let b = BBox::new(n(1), n(2), n(3), n(4));
        match out.iter_mut().find(|(file, _)| file == f[0]) {
            Some((_, boxes)) => boxes.push(b),
            None => out.push((f[0].to_string(), vec![b])),
        }
    }
    out
}

/// (labelled faces found at IoU >= 0.4, detections matching no labelled face).
fn recall(a: &Analyzer, img: &RgbImage, truth: &[BBox]) -> (usize, usize) {
    let found = a.detect(&ImageView::try_from(img).unwrap()).unwrap();
    let hits = truth.iter().filter(|t| found.iter().any(|d| d.bbox.iou(t) >= 0.4)).count();
    let extra = found.iter().filter(|d| truth.iter().all(|t| d.bbox.iou(t) < 0.4)).count();
    (hits, extra)
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../../shared/photos");
    let sample = emotion_core::load_rgb(root.join("../examples/data/astronaut.png")).unwrap();
    let yunet1 = analyzer(DetectorKind::Yunet, 20, 1);
    let yunet2 = analyzer(DetectorKind::Yunet, 20, 2);
    let seeta1 = analyzer(DetectorKind::Seeta, 20, 1);
    let seeta40 = analyzer(DetectorKind::Seeta, 40, 1);
    let seeta40_2 = analyzer(DetectorKind::Seeta, 40, 2);

    println!("analyze (detect + classify), medians, interleaved in one run");
    let frame = imageops::resize(&sample, 640, 480, imageops::FilterType::Triangle);
    let t = times(&[&yunet1, &seeta1, &seeta40, &yunet2, &seeta40_2], &frame, 7);
    println!("  640x480, one face, 1 thread: yunet {:.1} ms, seeta (min 20) {:.1} ms, seeta (min 40) {:.1} ms", t[0], t[1], t[2]);
    println!("    yunet / seeta: {:.2}x (same options), {:.2}x (seeta at 40)", t[0] / t[1], t[0] / t[2]);
    println!("  640x480, 2 threads: yunet {:.1} ms ({:.2}x its 1-thread time), seeta (min 40) {:.1} ms", t[3], t[3] / t[0], t[4]);

    let big = imageops::resize(&sample, 4000, 3000, imageops::FilterType::Triangle);
    let t = times(&[&yunet2, &seeta40_2], &big, 3);
    println!("  4000x3000 (the sample, one face), 2 threads: yunet {:.0} ms, seeta (min 40) {:.0} ms", t[0], t[1]);

    let truth = labelled(&shared);
    if truth.is_empty() {
        println!("(skipping the face counts: ../shared/photos not found)");
        return;
    }
    let detectors = [("yunet", &yunet1), ("seeta 20", &seeta1), ("seeta 40", &seeta40)];
    println!("labelled faces found (IoU >= 0.4) / detections matching no labelled face");
    for factor in [1.0f32, 0.5, 0.4] {
        let mut sums = [(0usize, 0usize); 3];
        let mut total = 0;
        for (file, boxes) in &truth {
            let img = scaled(&emotion_core::load_rgb(shared.join(file)).unwrap(), factor);
            let boxes: Vec<BBox> = boxes.iter().map(|b| BBox::new(b.x * factor, b.y * factor, b.width * factor, b.height * factor)).collect();
            total += boxes.len();
            for (s, (_, a)) in sums.iter_mut().zip(&detectors) {
                let (h, e) = recall(a, &img, &boxes);
                *s = (s.0 + h, s.1 + e);
            }
        }
        let sides: Vec<f32> = truth.iter().flat_map(|(_, b)| b.iter().map(|b| b.width * factor)).collect();
        let (lo, hi) = sides.iter().fold((f32::MAX, 0f32), |(l, h), &s| (l.min(s), h.max(s)));
        let cells: Vec<String> = detectors.iter().zip(&sums).map(|((n, _), (h, e))| format!("{n} {h}/{total}, {e} extra")).collect();
        println!("  VOC photos x{factor} (faces {lo:.0}-{hi:.0} px): {}", cells.join("; "));
    }
    let count = |a: &Analyzer, img: &RgbImage| a.detect(&ImageView::try_from(img).unwrap()).unwrap().len();
    println!("face counts (no labels)");
    for (file, factors) in [("voc-faces/bald_guys.jpg", &[1.0f32, 0.5, 0.35][..]), ("misc/multiface.jpg", &[1.0, 0.5, 0.3][..])] {
        let img = emotion_core::load_rgb(shared.join(file)).unwrap();
        for &f in factors {
            let img = scaled(&img, f);
            let cells: Vec<String> = detectors.iter().map(|(n, a)| format!("{n} {}", count(a, &img))).collect();
            println!("  {file} x{f} ({}x{}): {}", img.width(), img.height(), cells.join(", "));
        }
    }
    // A collage: the 9 VOC photos at 0.4 scale (15-18 px faces) in a 3x3 grid.
    let tiles: Vec<RgbImage> = truth.iter().map(|(f, _)| scaled(&emotion_core::load_rgb(shared.join(f)).unwrap(), 0.4)).collect();
    let (tw, th) = (tiles.iter().map(|t| t.width()).max().unwrap(), tiles.iter().map(|t| t.height()).max().unwrap());
    let mut collage = RgbImage::from_pixel(3 * tw, tiles.len().div_ceil(3) as u32 * th, image::Rgb([128, 128, 128]));
    for (i, t) in tiles.iter().enumerate() {
        imageops::replace(&mut collage, t, i64::from(i as u32 % 3 * tw), i64::from(i as u32 / 3 * th));
    }
    let cells: Vec<String> = detectors.iter().map(|(n, a)| format!("{n} {}", count(a, &collage))).collect();
    println!("  collage of the VOC photos x0.4 ({} labelled faces): {}", truth.iter().map(|(_, b)| b.len()).sum::<usize>(), cells.join(", "));
    let mut none = Vec::new();
    for file in ["misc/chelsea.png", "misc/coffee.png", "voc-faces/dogs.jpg"] {
        let img = emotion_core::load_rgb(shared.join(file)).unwrap();
        none.push(format!("{file}: {}", detectors.iter().map(|(n, a)| format!("{n} {}", count(a, &img))).collect::<Vec<_>>().join(", ")));
    }
    println!("photos without people: {}", none.join("; "));
    // Close-ups: studio portraits and synthetic faces of the wild data, scaled to 640x640 so
    // the face fills 50-100 % of the image.
    let wild = root.join("../../shared/data/wild");
    for set in ["london", "diffusionfer"] {
        let Ok(dir) = std::fs::read_dir(wild.join(set).join("faces")) else { continue };
        let mut files: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        let mut found = [0usize; 3];
        for f in &files {
            let img = emotion_core::load_rgb(f).unwrap();
            let img = imageops::resize(&img, 640, 640, imageops::FilterType::Triangle);
            for (c, (_, a)) in found.iter_mut().zip(&detectors) {
                *c += usize::from(count(a, &img) >= 1);
            }
        }
        let cells: Vec<String> = detectors.iter().zip(found).map(|((n, _), c)| format!("{n} {:.1} %", 100.0 * c as f64 / files.len() as f64)).collect();
        println!("close-ups ({set}, {} faces scaled to 640x640), at least one face found: {}", files.len(), cells.join(", "));
    }
}
