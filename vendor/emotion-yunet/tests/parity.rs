//! The fork against upstream libfacedetection_rs 0.1.0's unmodified output (tests/upstream-golden.txt,
//! made once with the upstream crate on the same BGR bytes): same faces, scores, boxes and
//! landmarks, bit for bit, at upstream's settings, from BGR and from RGB bytes (upstream passed any
//! bytes to the network as given; the fork swaps RGB to BGR, so RGB input now gives the BGR answer),
//! on any thread count. Photos under ../shared are skipped when it is absent (a visible line),
//! unless EMOTION_REQUIRE_SHARED=1.

use std::collections::BTreeMap;
use std::path::PathBuf;

use emotion_yunet::{Detector, Face};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// photo name -> (width, height, faces) from the golden file.
fn golden() -> BTreeMap<String, (usize, usize, Vec<Vec<f32>>)> {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/upstream-golden.txt")).unwrap();
    let mut out: BTreeMap<String, (usize, usize, Vec<Vec<f32>>)> = BTreeMap::new();
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("# ") {
            let parts: Vec<&str> = head.split(' ').collect();
            if parts.len() == 3 && parts[2].starts_with("faces=") {
                let (w, h) = parts[1].split_once('x').unwrap();
                out.insert(parts[0].to_string(), (w.parse().unwrap(), h.parse().unwrap(), Vec::new()));
            }
            continue;
        }
        let mut fields = line.split(' ');
        let name = fields.next().unwrap();
        let values: Vec<f32> = fields.map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), 15, "{line}");
        out.get_mut(name).unwrap().2.push(values);
    }
    out
}

fn path_of(name: &str) -> PathBuf {
    if let Some(p) = name.strip_prefix("repo:") {
        repo_root().join("tests/data").join(p)
    } else {
        repo_root().join("../shared").join(name.strip_prefix("shared:").unwrap())
    }
}

fn flatten(faces: &[Face]) -> Vec<Vec<f32>> {
    faces
        .iter()
        .map(|f| {
            let mut v = vec![f.score, f.x, f.y, f.width, f.height];
            v.extend_from_slice(&f.landmarks);
            v
        })
        .collect()
}

#[test]
fn same_faces_as_upstream_on_the_test_photos() {
    let require_shared = std::env::var("EMOTION_REQUIRE_SHARED").as_deref() == Ok("1");
    let mut checked = 0;
    let mut faces_seen = 0;
    for (name, (w, h, expected)) in golden() {
        let path = path_of(&name);
        if !path.exists() {
            assert!(!require_shared, "{} is missing and EMOTION_REQUIRE_SHARED=1", path.display());
            eprintln!("SKIP {name}: {} not found (../shared absent)", path.display());
            continue;
        }
        let rgb = image::open(&path).unwrap().to_rgb8();
        assert_eq!((rgb.width() as usize, rgb.height() as usize), (w, h), "{name}");
        let bgr: Vec<u8> = rgb.as_raw().chunks_exact(3).flat_map(|p| [p[2], p[1], p[0]]).collect();
        for threads in [1, 2, 3] {
            let mut detector = Detector::new();
            detector.set_num_threads(threads);
            let from_bgr = flatten(detector.detect_bgr(&bgr, w, h, w * 3).unwrap().faces());
            assert_eq!(from_bgr, expected, "{name} from BGR on {threads} threads");
            let from_rgb = flatten(detector.detect_rgb(rgb.as_raw(), w, h, w * 3).unwrap().faces());
            assert_eq!(from_rgb, expected, "{name} from RGB on {threads} threads");
        }
        checked += 1;
        faces_seen += expected.len();
    }
    // The three photos in the repository always run; astronaut-grid.png alone has 4 faces.
    assert!(checked >= 3 && faces_seen >= 7, "checked {checked} photos, {faces_seen} faces");
}

#[test]
fn strided_input_gives_the_same_faces() {
    let rgb = image::open(repo_root().join("tests/data/astronaut-grid.png")).unwrap().to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let step = w * 3 + 7;
    let mut strided = vec![0u8; step * h];
    for (dst, src) in strided.chunks_mut(step).zip(rgb.as_raw().chunks(w * 3)) {
        dst[..w * 3].copy_from_slice(src);
    }
    let mut detector = Detector::new();
    let packed = flatten(detector.detect_rgb(rgb.as_raw(), w, h, w * 3).unwrap().faces());
    let padded = flatten(detector.detect_rgb(&strided, w, h, step).unwrap().faces());
    assert_eq!(packed.len(), 4);
    assert_eq!(packed, padded);
}
