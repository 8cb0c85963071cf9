//! Criterion benchmarks: per-face classification (by batch size), detection at 640x480 and
//! 1920x1080 for several minimum face sizes, and `analyze` end to end.
//! Run: `cargo bench -p emotion-core --bench pipeline` (photos from `../shared/photos`).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use emotion_core::{Analyzer, DetectorOptions, FaceDetector, ImageView, ModelOverrides, SeetaDetector};

fn photo(rel: &str) -> image::RgbImage {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/photos").join(rel);
    emotion_core::load_rgb(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn resized(rel: &str, w: u32, h: u32) -> image::RgbImage {
    image::imageops::resize(&photo(rel), w, h, image::imageops::FilterType::Triangle)
}

fn classify(c: &mut Criterion) {
    let img = photo("misc/multiface.jpg");
    let view = ImageView::try_from(&img).unwrap();
    let boxes: Vec<_> = Analyzer::new().unwrap().detect(&view).unwrap().iter().map(|d| d.bbox).collect();
    let mut g = c.benchmark_group("classify");
    for batch in [1usize, 4, 8] {
        let overrides = ModelOverrides::default().with_batch_size(batch);
        for threads in [1usize, 2] {
            let a = Analyzer::builder().model_overrides(overrides.clone()).threads(threads).build().unwrap();
            let id = format!("{}faces/batch{batch}/threads{threads}", boxes.len());
            g.bench_function(&id, |b| b.iter(|| a.classify(&view, &boxes).unwrap()));
        }
    }
    let single = Analyzer::builder().threads(1).build().unwrap();
    g.bench_function("1face", |b| b.iter(|| single.classify(&view, &boxes[..1]).unwrap()));
    g.finish();
}

fn detect(c: &mut Criterion) {
    let vga = resized("misc/multiface.jpg", 640, 480);
    let hd = resized("voc-faces/bald_guys.jpg", 1920, 1080);
    let tiny = resized("misc/1face.png", 48, 48);
    let mut g = c.benchmark_group("detect");
    for (name, img) in [("640x480", &vga), ("1920x1080", &hd)] {
        for min_face in [20u32, 40, 80] {
            let det = SeetaDetector::bundled(DetectorOptions::default().with_min_face_size(min_face)).unwrap();
            let view = ImageView::try_from(img).unwrap();
            g.bench_with_input(BenchmarkId::new(name, format!("min_face_{min_face}")), &view, |b, v| b.iter(|| det.detect(v).unwrap()));
        }
    }
    // A 48x48 image: one pyramid level, so this is mostly the per-call detector construction.
    let det = SeetaDetector::bundled(DetectorOptions::default()).unwrap();
    let view = ImageView::try_from(&tiny).unwrap();
    g.bench_function("48x48_per_call_overhead", |b| b.iter(|| det.detect(&view).unwrap()));
    g.finish();
}

fn analyze(c: &mut Criterion) {
    let a = Analyzer::new().unwrap();
    let mut g = c.benchmark_group("analyze");
    for rel in ["misc/astronaut.png", "misc/multiface.jpg"] {
        let img = photo(rel);
        let view = ImageView::try_from(&img).unwrap();
        g.bench_function(rel.trim_start_matches("misc/"), |b| b.iter(|| a.analyze(&view).unwrap()));
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = classify, detect, analyze }
criterion_main!(benches);
