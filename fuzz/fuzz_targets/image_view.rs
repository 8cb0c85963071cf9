//! Arbitrary buffers, sizes, strides and pixel formats through `ImageView`, then `analyze`,
//! `detect` and `classify` with arbitrary boxes (NaN, infinite, negative, outside): typed errors,
//! never a panic; faces inside the image with probabilities summing to 1.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use emotion_core::{Analyzer, BBox, ImageView, PixelFormat};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    width: u8,
    height: u8,
    /// Bytes added to the packed row length (may be refused when the buffer is short).
    stride_extra: u8,
    format: u8,
    /// Shorter than needed on purpose at times: the view must refuse it.
    data: Vec<u8>,
    boxes: Vec<(f32, f32, f32, f32)>,
    detect: bool,
}

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| Analyzer::builder().threads(1).build().expect("the bundled analyzer"))
}

fuzz_target!(|input: Input| {
    let format = match input.format % 5 {
        0 => PixelFormat::Rgb8,
        1 => PixelFormat::Rgba8,
        2 => PixelFormat::Bgr8,
        3 => PixelFormat::Bgra8,
        _ => PixelFormat::Gray8,
    };
    let (w, h) = (u32::from(input.width), u32::from(input.height));
    let stride = usize::from(input.width) * format.bytes_per_pixel() + usize::from(input.stride_extra);
    let Ok(view) = ImageView::new(&input.data, w, h, stride, format) else { return };
    let boxes: Vec<BBox> = input.boxes.iter().take(8).map(|&(x, y, bw, bh)| BBox::new(x, y, bw, bh)).collect();
    let a = analyzer();
    if let Ok(faces) = a.classify(&view, &boxes) {
        assert_eq!(faces.len(), boxes.len());
        for f in &faces {
            let sum: f32 = f.probabilities.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "probabilities sum to {sum}");
            assert!((-1.0..=1.0).contains(&f.valence) && (-1.0..=1.0).contains(&f.arousal));
        }
    }
    if input.detect {
        if let Ok(faces) = a.analyze(&view) {
            for f in &faces {
                let b = f.bbox;
                assert!(b.x >= 0.0 && b.y >= 0.0 && b.x + b.width <= w as f32 + 1e-3 && b.y + b.height <= h as f32 + 1e-3, "{b:?}");
            }
        }
    }
});
