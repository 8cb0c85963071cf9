//! Measures how a training face crop relates to the library's detector box, giving the model
//! metadata `emotion.crop_scale` and `emotion.crop_shift_y` (see `training/README.md`).
//!
//! Each training image (a face crop, e.g. FER+ 48x48) is upscaled 4x so the 40 px detector
//! window fits, the face is detected, and the crop is expressed in box units: scale = crop side /
//! box side, shift_y = (crop centre y - box centre y) / box height. Prints the medians as JSON.
//!
//! `cargo run --release -p emotion-core --example measure_crop_geometry -- ../shared/data/ferplus/train 2000`

use emotion_core::{DetectorOptions, FaceDetector, ImageView, SeetaDetector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or("usage: measure_crop_geometry DIR [MAX_IMAGES]")?;
    let max: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    files.sort();
    let det = SeetaDetector::bundled(DetectorOptions::default().with_min_face_size(40))?;
    const UP: u32 = 4;
    let (mut scales, mut shifts) = (Vec::new(), Vec::new());
    let mut tried = 0;
    for f in files.iter().take(max) {
        tried += 1;
        let img = emotion_core::load_rgb(f)?;
        let (w, h) = (img.width() * UP, img.height() * UP);
        let big = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
        let faces = det.detect(&ImageView::try_from(&big)?)?;
        // Only unambiguous crops: exactly one face.
        if let [face] = faces.as_slice() {
            let b = face.bbox;
            scales.push(w.max(h) as f32 / b.width.max(b.height));
            shifts.push((h as f32 / 2.0 - (b.y + b.height / 2.0)) / b.height);
        }
    }
    let median = |v: &mut Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
    };
    let n = scales.len();
    println!(
        "{{\"images\": {tried}, \"one_face\": {n}, \"crop_scale\": {:.4}, \"crop_shift_y\": {:.4}}}",
        median(&mut scales),
        median(&mut shifts)
    );
    Ok(())
}
