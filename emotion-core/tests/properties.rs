//! Property tests: random image sizes, strides, pixel formats, boxes, option values, and random
//! or damaged bytes as image and model files, through the Rust API. Every call must return a
//! typed error or a valid result; a panic fails the test.
//!
//! CI runs a few cases of each (seconds). A long run:
//!     PROPTEST_CASES=5000 cargo test --release -p emotion-core --test properties
//! (`emotion-capi/tests/properties.rs` does the same through the C API, checking for leaks.)

mod common;

use std::sync::OnceLock;

use emotion_core::{
    decode_image, Analyzer, BBox, EmotionModel, Error, Face, ImageView, LoadOptions, ModelOverrides, PixelFormat,
};
use image::ImageFormat;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `PROPTEST_CASES` cases, else `ci` (small, so CI stays fast).
fn config(ci: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(ci);
    Config { cases, failure_persistence: None, ..Config::default() }
}

const FORMATS: [PixelFormat; 5] =
    [PixelFormat::Rgb8, PixelFormat::Rgba8, PixelFormat::Bgr8, PixelFormat::Bgra8, PixelFormat::Gray8];

/// A default analyzer, one whose detector shrinks images 10x (keeps 4096-pixel sides fast), and
/// one with flip averaging.
fn analyzers() -> &'static (Analyzer, Analyzer, Analyzer) {
    static A: OnceLock<(Analyzer, Analyzer, Analyzer)> = OnceLock::new();
    A.get_or_init(|| {
        (
            Analyzer::new().unwrap(),
            Analyzer::builder().min_face_size(400).build().unwrap(),
            Analyzer::builder().flip_average(true).build().unwrap(),
        )
    })
}

/// Checks everything a face promises.
fn check_face(f: &Face, width: u32, height: u32) {
    let sum: f32 = f.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-3, "probabilities sum to {sum}");
    assert!(f.probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!((-1.0..=1.0).contains(&f.valence) && (-1.0..=1.0).contains(&f.arousal));
    let b = f.bbox;
    assert!(b.x >= 0.0 && b.y >= 0.0 && b.width >= 1.0 && b.height >= 1.0, "{b:?}");
    assert!(b.x + b.width <= width as f32 + 1e-3 && b.y + b.height <= height as f32 + 1e-3, "{b:?}");
}

/// Pseudo-random pixels, cheap to make for large buffers.
fn pixels(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i as u32).wrapping_mul(2654435761) >> 24) as u8 ^ seed).collect()
}

/// Any f32 a caller might pass, with the awkward ones often.
fn awkward_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        -100.0f32..700.0,
        any::<f32>(),
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(1e30f32),
        Just(-1e30f32),
        Just(0.0f32),
        Just(f32::MIN_POSITIVE / 2.0),
    ]
}

prop_compose! {
    fn a_box()(x in awkward_f32(), y in awkward_f32(), w in awkward_f32(), h in awkward_f32()) -> BBox {
        BBox::new(x, y, w, h)
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Any size (0..4096 per side), stride and format: a valid view analyses to valid faces,
    /// anything else is a typed image error.
    #[test]
    fn image_views(
        width in 0u32..4096,
        height in 0u32..4096,
        format in 0usize..5,
        stride_delta in -8isize..64,
        short_by in prop_oneof![3 => Just(0usize), 1 => 1usize..100],
        seed in any::<u8>(),
    ) {
        let format = FORMATS[format];
        let row = width as usize * format.bytes_per_pixel();
        let stride = (row as isize + stride_delta).max(0) as usize;
        let needed = if height == 0 { 0 } else { stride * (height as usize - 1) + row };
        let data = pixels(needed.saturating_sub(short_by), seed);
        match ImageView::new(&data, width, height, stride, format) {
            Ok(view) => {
                let (default, coarse, _) = analyzers();
                let a = if u64::from(width) * u64::from(height) <= 250_000 { default } else { coarse };
                for f in a.analyze(&view).unwrap() {
                    check_face(&f, width, height);
                }
                assert_eq!(view.to_luma().len(), width as usize * height as usize);
            }
            Err(Error::EmptyImage { .. } | Error::StrideTooSmall { .. } | Error::BufferTooSmall { .. }
                | Error::SizeOverflow { .. } | Error::ImageTooLarge { .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    /// Caller boxes with NaN, infinite, huge, negative and tiny coordinates.
    #[test]
    fn caller_boxes(boxes in proptest::collection::vec(a_box(), 0..6), flip in any::<bool>()) {
        static SMALL: OnceLock<image::RgbImage> = OnceLock::new();
        let img = SMALL.get_or_init(|| image::imageops::thumbnail(&common::sample(), 96, 80));
        let view = ImageView::try_from(img).unwrap();
        let a = if flip { &analyzers().2 } else { &analyzers().0 };
        match a.classify(&view, &boxes) {
            Ok(faces) => {
                assert_eq!(faces.len(), boxes.len());
                for f in &faces {
                    check_face(f, 96, 80);
                }
            }
            Err(Error::InvalidBox { index, .. }) => assert!(index < boxes.len()),
            Err(e) => panic!("unexpected error {e:?}"),
        }
        let mut canvas = img.clone();
        let faces: Vec<Face> = boxes.iter().map(|&bbox| face_at(bbox)).collect();
        emotion_core::draw::draw_faces_rgb(&mut canvas, &faces);
    }

    /// Option values in and out of range: an analyzer or an `InvalidOption` error.
    #[test]
    fn options(
        min_face in prop_oneof![0u32..200, any::<u32>()],
        max_face in prop_oneof![Just(0u32), 0u32..500, any::<u32>()],
        max_faces in any::<usize>(),
        score in awkward_f32(),
        pyramid in prop_oneof![0.0f32..1.2, any::<f32>()],
        step in 0u32..80,
        threads in prop_oneof![0usize..300, any::<usize>()],
        crop_scale in proptest::option::of(awkward_f32()),
        crop_shift_y in proptest::option::of(awkward_f32()),
        batch in proptest::option::of(0usize..70),
        mean in proptest::option::of(proptest::collection::vec(awkward_f32(), 0..4)),
    ) {
        let mut overrides = ModelOverrides::default();
        (overrides.crop_scale, overrides.crop_shift_y, overrides.batch_size, overrides.mean) = (crop_scale, crop_shift_y, batch, mean);
        let built = Analyzer::builder()
            .min_face_size(min_face)
            .max_face_size(max_face)
            .max_faces(max_faces)
            .score_threshold(score)
            .pyramid_scale_factor(pyramid)
            .window_step(step)
            .threads(threads)
            .model_overrides(overrides)
            .build();
        match built {
            Ok(a) => {
                let img = common::sample();
                let small = image::imageops::thumbnail(&img, 64, 64);
                a.analyze(&ImageView::try_from(&small).unwrap()).unwrap();
            }
            Err(Error::InvalidOption { .. } | Error::ModelMetadata { .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    /// Random bytes, and damaged real image files, as image files.
    #[test]
    fn image_files(bytes in image_bytes(), allow_partial in any::<bool>()) {
        match decode_image(&bytes, &LoadOptions::default().allow_partial(allow_partial)) {
            Ok(loaded) => {
                let (w, h) = loaded.image.dimensions();
                assert!(w > 0 && h > 0);
                assert!(allow_partial || !loaded.partial);
            }
            Err(Error::Decode { .. } | Error::ImageTooLarge { .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    /// Random bytes, and damaged real models, as model files.
    #[test]
    fn model_files(bytes in model_bytes()) {
        match EmotionModel::from_bytes(&bytes, &ModelOverrides::default()) {
            Ok(m) => {
                let input = vec![0.25f32; m.input_len()];
                let p = m.predict(&input, 1).unwrap();
                assert_eq!(p.len(), 1);
            }
            Err(Error::ModelLoad(_) | Error::ModelContract(_) | Error::ModelMetadata { .. }
                | Error::InvalidOption { .. } | Error::Inference(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
}

fn face_at(bbox: BBox) -> Face {
    Face::new(bbox, None, [0.125; 8], emotion_core::Expression::Neutral, 0.5, -0.5)
}

/// Small images encoded in every supported format, made once.
fn encoded_samples() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let img = image::DynamicImage::ImageRgb8(image::imageops::thumbnail(&common::sample(), 40, 30));
        [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP, ImageFormat::Bmp, ImageFormat::Tiff]
            .into_iter()
            .map(|f| {
                let mut out = std::io::Cursor::new(Vec::new());
                img.write_to(&mut out, f).unwrap();
                out.into_inner()
            })
            .collect()
    })
}

/// Fully random bytes, or a real file truncated and with a few bytes changed.
fn image_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        damaged(encoded_samples().clone()),
    ]
}

fn model_bytes() -> impl Strategy<Value = Vec<u8>> {
    let real = vec![common::fixture("tiny_ok.onnx"), common::fixture("no_metadata.onnx")];
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..600), damaged(real)]
}

/// One of `files`, cut at a random length, with up to 4 bytes overwritten.
fn damaged(files: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = files.len();
    (0..n, any::<proptest::sample::Index>(), proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..4))
        .prop_map(move |(i, cut, edits)| {
            let mut bytes = files[i].clone();
            let keep = cut.index(bytes.len() + 1).max(1);
            bytes.truncate(keep);
            for (at, value) in edits {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            bytes
        })
}
