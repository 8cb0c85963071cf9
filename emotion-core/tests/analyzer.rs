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
    // YuNet's score, in [0, 1]: this face scores about 0.9 (the default threshold is 0.7).
    assert!((0.8..=1.0).contains(&f.detection_score.unwrap()), "{:?}", f.detection_score);
    assert!(f.landmarks.is_some());
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

    // A gray picture: a gray model sees the same input; the detector (YuNet, fed colour) finds
    // the same faces with boxes that differ a little.
    if a.model().preprocessing().color == emotion_core::InputColor::Gray {
        let gray = ImageView::try_from(&img).unwrap().to_luma();
        let g = a.analyze(&ImageView::gray(&gray, w, h).unwrap()).unwrap();
        assert_eq!(g.len(), rgb.len());
        for x in &g {
            let best = rgb.iter().map(|y| x.bbox.iou(&y.bbox)).fold(0.0, f32::max);
            assert!(best > 0.8, "{:?}: best IoU {best}", x.bbox);
        }
    }
}

#[test]
fn one_face_alone_equals_the_same_face_in_a_batch() {
    let img = common::grid();
    let view = ImageView::try_from(&img).unwrap();
    let a = Analyzer::new().unwrap();
    let all = a.analyze(&view).unwrap();
    let detections = a.detect(&view).unwrap();
    assert_eq!(all.len(), 4);
    for (face, d) in all.iter().zip(&detections) {
        let alone = a.classify_detections(&view, &[*d]).unwrap();
        assert_eq!(alone.len(), 1);
        for (p, q) in alone[0].probabilities.iter().zip(face.probabilities.iter()) {
            assert!((p - q).abs() <= 1e-5, "{p} vs {q}");
        }
        assert!((alone[0].valence - face.valence).abs() <= 1e-5);
        assert!((alone[0].arousal - face.arousal).abs() <= 1e-5);
        assert_eq!(alone[0].detection_score, Some(d.detection_score));
        assert_eq!(alone[0].landmarks, d.landmarks);
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

#[test]
fn max_faces_keeps_the_largest_in_detector_order() {
    let Some(img) = common::shared_photo("misc/multiface.jpg") else { return };
    let view = ImageView::try_from(&img).unwrap();
    let all = Analyzer::new().unwrap().analyze(&view).unwrap();
    assert_eq!(all.len(), 6);
    let area = |f: &Face| f.bbox.width * f.bbox.height;
    for n in [1, 2, 5, 6, 10] {
        let some = Analyzer::builder().max_faces(n).build().unwrap().analyze(&view).unwrap();
        assert_eq!(some.len(), n.min(6));
        // Every kept face is at least as large as every dropped one.
        let smallest_kept = some.iter().map(area).fold(f32::INFINITY, f32::min);
        for f in all.iter().filter(|f| !some.iter().any(|s| s.bbox == f.bbox)) {
            assert!(area(f) <= smallest_kept, "n={n}: dropped a larger face");
        }
        // Same faces, same numbers, still best detection score first.
        let expected: Vec<Face> = all.iter().filter(|f| some.iter().any(|s| s.bbox == f.bbox)).copied().collect();
        assert_same(&expected, &some, 0.0);
    }
    let a = Analyzer::builder().max_faces(3).build().unwrap();
    assert_eq!(a.detect(&view).unwrap().len(), 3);
    // Caller boxes are never dropped.
    let boxes: Vec<BBox> = all.iter().map(|f| f.bbox).collect();
    assert_eq!(a.classify(&view, &boxes).unwrap().len(), 6);
}

#[test]
fn flip_averaging_gives_a_face_and_its_mirror_image_the_same_answer() {
    let img = common::sample();
    let mirrored = image::imageops::flip_horizontal(&img);
    let (view, mirror_view) = (ImageView::try_from(&img).unwrap(), ImageView::try_from(&mirrored).unwrap());
    let plain = Analyzer::new().unwrap();
    let face = plain.analyze(&view).unwrap()[0];
    let b = face.bbox;
    let mirror_box = BBox::new(img.width() as f32 - b.x - b.width, b.y, b.width, b.height);
    // Off-centre boxes too, and one reaching past the left edge (mirrored: past the right).
    let boxes = [b, BBox::new(b.x + 17.0, b.y - 9.0, b.width * 0.8, b.height), BBox::new(-30.0, 40.0, 200.0, 220.0)];
    let mirror = |b: &BBox| BBox::new(img.width() as f32 - b.x - b.width, b.y, b.width, b.height);
    let mirror_boxes: Vec<BBox> = boxes.iter().map(mirror).collect();
    assert_eq!(mirror_boxes[0], mirror_box);

    let max_diff = |a: &[Face], b: &[Face]| {
        a.iter()
            .zip(b)
            .flat_map(|(x, y)| {
                x.probabilities
                    .iter()
                    .zip(y.probabilities)
                    .map(|(p, q)| (p - q).abs())
                    .chain([(x.valence - y.valence).abs(), (x.arousal - y.arousal).abs()])
                    .collect::<Vec<_>>()
            })
            .fold(0f32, f32::max)
    };
    let flip = Analyzer::builder().flip_average(true).build().unwrap();
    assert!(flip.flip_average());
    let with = max_diff(&flip.classify(&view, &boxes).unwrap(), &flip.classify(&mirror_view, &mirror_boxes).unwrap());
    let without = max_diff(&plain.classify(&view, &boxes).unwrap(), &plain.classify(&mirror_view, &mirror_boxes).unwrap());
    assert!(with < 1e-4, "flip averaging: a face and its mirror differ by {with}");
    assert!(without > 10.0 * with.max(1e-5), "without flip averaging the mirror differs by only {without}");

    // The average of the face and its mirror, each classified plainly.
    let averaged = flip.classify(&view, &[b]).unwrap()[0];
    let (p, q) = (plain.classify(&view, &[b]).unwrap()[0], plain.classify(&mirror_view, &[mirror_box]).unwrap()[0]);
    for i in 0..8 {
        assert!((averaged.probabilities[i] - (p.probabilities[i] + q.probabilities[i]) / 2.0).abs() < 1e-4);
    }
    assert!((averaged.valence - (p.valence + q.valence) / 2.0).abs() < 1e-4);
    let sum: f32 = averaged.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5);
}

#[test]
fn an_analyzer_built_on_a_loaded_model_shares_it_and_answers_the_same() {
    let img = common::grid();
    let view = ImageView::try_from(&img).unwrap();
    let base = Analyzer::builder().min_face_size(20).build().unwrap();
    let same = Analyzer::builder().model(base.model().clone()).min_face_size(20).build().unwrap();
    assert_same(&base.analyze(&view).unwrap(), &same.analyze(&view).unwrap(), 0.0);
    // Other settings on the shared model: the same as loading it afresh with those settings.
    let shared = Analyzer::builder().model(base.model().clone()).max_faces(1).flip_average(true).build().unwrap();
    let fresh = Analyzer::builder().max_faces(1).flip_average(true).build().unwrap();
    let faces = shared.analyze(&view).unwrap();
    assert_eq!(faces.len(), 1);
    assert_same(&fresh.analyze(&view).unwrap(), &faces, 0.0);
    // Its preprocessing is fixed: overrides are refused by name, not silently dropped.
    let overrides = emotion_core::ModelOverrides::default().with_crop_scale(1.5);
    match Analyzer::builder().model(base.model().clone()).model_overrides(overrides).build() {
        Err(Error::InvalidOption { name, .. }) => assert_eq!(name, "model_overrides"),
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}
