//! `Analyzer::analyze` on 2 threads against 1 thread on stills of 640x480 and larger (the sample
//! portrait scaled to 640x480 and 1280x960; `../shared/photos` group photos when present).
//! Prints the median time of each and the ratio, measured in one run.
//! Run: `cargo bench -p emotion-core --bench threads`.

use std::path::PathBuf;
mod common;

use common::median_ms;

use emotion_core::{Analyzer, ImageView};
use image::imageops;

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sample = emotion_core::load_rgb(root.join("../examples/data/astronaut.png")).unwrap();
    let mut images = vec![
        ("sample 640x480".to_string(), imageops::resize(&sample, 640, 480, imageops::FilterType::Triangle)),
        ("sample 1280x960".to_string(), imageops::resize(&sample, 1280, 960, imageops::FilterType::Triangle)),
    ];
    let shared = root.join("../../shared/photos");
    for rel in ["misc/multiface.jpg", "voc-faces/bald_guys.jpg"] {
        match emotion_core::load_rgb(shared.join(rel)) {
            Ok(img) => images.push((format!("{rel} {}x{}", img.width(), img.height()), img)),
            Err(_) => println!("(skipping {rel}: ../shared/photos not found)"),
        }
    }
    let one = Analyzer::builder().threads(1).build().unwrap();
    let two = Analyzer::builder().threads(2).build().unwrap();
    println!("analyze (detect + classify), median of 9 runs each, interleaved");
    for (name, img) in &images {
        let view = ImageView::try_from(img).unwrap();
        let faces = one.analyze(&view).unwrap().len();
        assert_eq!(two.analyze(&view).unwrap().len(), faces);
        let (mut t1, mut t2) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            t1.push(median_ms(|| drop(one.analyze(&view).unwrap()), 3));
            t2.push(median_ms(|| drop(two.analyze(&view).unwrap()), 3));
        }
        t1.sort_by(f64::total_cmp);
        t2.sort_by(f64::total_cmp);
        println!("  {name}: {faces} face(s), 1 thread {:.1} ms, 2 threads {:.1} ms, speed-up {:.2}x", t1[1], t2[1], t1[1] / t2[1]);
    }
}
