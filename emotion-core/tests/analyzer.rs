//! The whole pipeline on the repository's test images: pixel formats, strides, batching, caller
//! boxes, threads.

mod common;

use std::sync::Arc;

use emotion_core::{Analyzer, BBox, Error, Face, ImageView, PixelFormat};

fn assert_same(a: &[Face], b: &[Face], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.bbox, y.bbox);
        assert_eq!(x.expression, y.expression);
        for (p, q) in x.probabilities.iter().zip(y.probabilities.iter()) {
            assert!((p - q).abs() <= tol, "{p} vs {q}");
        }
        assert!((x.valence - y.valence).abs() <= tol && (x.arousal - y.arousal).abs() <= tol);
    }
}

#[test]
fn sample_has_one_face_with_valid_outputs() {
    let img = common::sample();
    let faces = Analyzer::new().unwrap().analyze(&ImageView::try_from(&img).unwrap()).unwrap();
    assert_eq!(faces.len(), 1);
    let f = &faces[0];
    let sum: f32 = f.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    assert!((-1.0..=1.0).contains(&f.valence) && (-1.0..=1.0).contains(&f.arousal));
    // The face in the NASA portrait is at about (165..335, 70..260).
    assert!(f.bbox.x > 120.0 && f.bbox.x < 220.0 && f.bbox.y > 40.0 && f.bbox.y < 140.0, "{:?}", f.bbox);
    assert!(f.detection_score.unwrap() > 2.0);
}

#[test]
fn rgb_bgr_rgba_gray_and_padded_stride_agree() {
    let img = common::grid();
    let (w, h) = img.dimensions();
    let a = Analyzer::new().unwrap();
    let rgb = a.analyze(&ImageView::try_from(&img).unwrap()).unwrap();
    assert_eq!(rgb.len(), 4);

    let bgr: Vec<u8> = img.pixels().flat_map(|p| [p[2], p[1], p[0]]).collect();
    assert_same(&rgb, &a.analyze(&ImageView::bgr(&bgr, w, h).unwrap()).unwrap(), 0.0);
    let rgba: Vec<u8> = img.pixels().flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    assert_same(&rgb, &a.analyze(&ImageView::rgba(&rgba, w, h).unwrap()).unwrap(), 0.0);
    let bgra: Vec<u8> = img.pixels().flat_map(|p| [p[2], p[1], p[0], 7]).collect();
    assert_same(&rgb, &a.analyze(&ImageView::bgra(&bgra, w, h).unwrap()).unwrap(), 0.0);

    let stride = w as usize * 3 + 13;
    let mut padded = vec![0xAAu8; stride * h as usize];
    for (y, row) in img.as_raw().chunks_exact(w as usize * 3).enumerate() {
        padded[y * stride..y * stride + row.len()].copy_from_slice(row);
    }
    let view = ImageView::new(&padded, w, h, stride, PixelFormat::Rgb8).unwrap();
    assert_same(&rgb, &a.analyze(&view).unwrap(), 0.0);

    // A gray picture: the detector sees the same luma, and a gray model the same input, so the
    // faces agree up to float rounding of the luma.
    if a.model().preprocessing().color == emotion_core::InputColor::Gray {
        let gray = ImageView::try_from(&img).unwrap().to_luma();
        let g = a.analyze(&ImageView::gray(&gray, w, h).unwrap()).unwrap();
        assert_eq!(g.len(), rgb.len());
        for (x, y) in g.iter().zip(&rgb) {
            assert_eq!(x.bbox, y.bbox);
        }
    }
}

#[test]
fn one_face_alone_equals_the_same_face_in_a_batch() {
    let img = common::grid();
    let view = ImageView::try_from(&img).unwrap();
    let a = Analyzer::new().unwrap();
    let all = a.analyze(&view).unwrap();
    assert_eq!(all.len(), 4);
    for face in &all {
        let alone = a.classify(&view, &[face.bbox]).unwrap();
        assert_eq!(alone.len(), 1);
        for (p, q) in alone[0].probabilities.iter().zip(face.probabilities.iter()) {
            assert!((p - q).abs() <= 1e-5, "{p} vs {q}");
        }
        assert!((alone[0].valence - face.valence).abs() <= 1e-5);
        assert!((alone[0].arousal - face.arousal).abs() <= 1e-5);
        assert_eq!(alone[0].detection_score, None);
    }
    // Same again with a plan built for batch 4 (chunks of 4, last one padded).
    let batched = Analyzer::builder()
        .model_overrides(emotion_core::ModelOverrides::default().with_batch_size(4))
        .build()
        .unwrap();
    assert_same(&all, &batched.analyze(&view).unwrap(), 1e-5);
}

#[test]
fn caller_boxes_are_clamped_or_rejected() {
    let img = common::sample();
    let view = ImageView::try_from(&img).unwrap();
    let a = Analyzer::new().unwrap();
    let faces = a.classify(&view, &[BBox::new(-50.0, -50.0, 200.0, 200.0), BBox::new(400.0, 400.0, 500.0, 500.0)]).unwrap();
    assert_eq!(faces[0].bbox, BBox::new(0.0, 0.0, 150.0, 150.0));
    assert_eq!(faces[1].bbox, BBox::new(400.0, 400.0, 112.0, 112.0));

    let cases = [
        (BBox::new(10.0, 10.0, 0.0, 20.0), "width and height must be > 0"),
        (BBox::new(10.0, 10.0, 20.0, -1.0), "width and height must be > 0"),
        (BBox::new(f32::NAN, 10.0, 20.0, 20.0), "coordinates must be finite"),
        (BBox::new(600.0, 10.0, 20.0, 20.0), "less than 1 pixel wide or high inside the image"),
        (BBox::new(511.5, 10.0, 20.0, 20.0), "less than 1 pixel wide or high inside the image"),
        (BBox::new(10.0, 10.0, 1e-30, 20.0), "less than 1 pixel wide or high inside the image"),
    ];
    for (b, why) in cases {
        match a.classify(&view, &[BBox::new(1.0, 1.0, 5.0, 5.0), b]) {
            Err(Error::InvalidBox { index: 1, reason, .. }) => assert_eq!(reason, why),
            other => panic!("{b:?}: expected InvalidBox, got {other:?}"),
        }
    }
    assert!(a.classify(&view, &[]).unwrap().is_empty());
}

#[test]
fn tiny_images_analyze_to_no_faces() {
    let a = Analyzer::new().unwrap();
    for (w, h) in [(1, 1), (10, 10), (19, 19), (1, 300), (300, 1)] {
        let px = vec![200u8; w * h];
        assert!(a.analyze(&ImageView::gray(&px, w as u32, h as u32).unwrap()).unwrap().is_empty());
    }
}

#[test]
fn eight_threads_match_sequential_results() {
    let a = Arc::new(Analyzer::new().unwrap());
    let photos: Arc<Vec<image::RgbImage>> =
        Arc::new(vec![common::sample(), common::grid(), common::test_image("chelsea.png")]);
    let expected: Vec<Vec<Face>> = photos.iter().map(|p| a.analyze(&ImageView::try_from(p).unwrap()).unwrap()).collect();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (a, photos) = (Arc::clone(&a), Arc::clone(&photos));
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        let k = (t + i) % photos.len();
                        (k, a.analyze(&ImageView::try_from(&photos[k]).unwrap()).unwrap())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (k, faces) in h.join().unwrap() {
            assert_same(&expected[k], &faces, 0.0);
        }
    }
}
