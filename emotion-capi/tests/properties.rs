//! Property tests through the C API (the `extern "C"` functions, called from Rust): random image
//! sizes, strides and pixel formats (including unknown ones), boxes with NaN, infinite, huge and
//! negative coordinates, option structs with random fields, random and damaged bytes as image
//! and model files. Every call must return a status (no panic, no abort), and every case must
//! give back all the memory it took: a counting allocator checks the live byte count before and
//! after each case.
//!
//! CI runs a few cases of each (seconds). A long run:
//!     PROPTEST_CASES=5000 cargo test --release -p emotion-capi --test properties

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicIsize, Ordering};

use emotion::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Live heap bytes of the whole process (this binary has a single test, so nothing else runs).
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn config(ci: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(ci);
    Config { cases, failure_persistence: None, ..Config::default() }
}

const KNOWN_STATUS: std::ops::RangeInclusive<emotion_status> = EMOTION_OK..=EMOTION_ERROR_INTERNAL;

/// Runs `f` and checks it returned every byte it allocated. The thread's last-error message is
/// reset first and after (it is the one allocation the API keeps between calls, by design).
fn no_leak(what: &str, f: impl FnOnce()) {
    clear_last_error();
    let before = LIVE.load(Ordering::SeqCst);
    f();
    clear_last_error();
    let after = LIVE.load(Ordering::SeqCst);
    assert_eq!(after, before, "{what}: {} bytes not released", after - before);
}

fn clear_last_error() {
    // A successful status-returning call clears the message.
    let mut count = 0usize;
    let s = unsafe { emotion_detect(ANALYZER.0, TINY.as_ptr(), 1, 1, 1, EMOTION_PIXEL_GRAY8, ptr::null_mut(), 0, &mut count) };
    assert_eq!(s, EMOTION_OK);
}

static TINY: [u8; 1] = [0];

struct Shared(*mut emotion_analyzer);
unsafe impl Sync for Shared {}
/// Created once in the test (before any measurement), never freed.
static mut ANALYZER: Shared = Shared(ptr::null_mut());

fn status_ok(s: emotion_status, what: &str) {
    assert!(KNOWN_STATUS.contains(&s), "{what}: unknown status {s}");
    assert_ne!(s, EMOTION_ERROR_INTERNAL, "{what}: internal error: {}", unsafe {
        CStr::from_ptr(emotion_last_error_message()).to_string_lossy()
    });
}

fn check_faces(faces: &[emotion_face], width: u32, height: u32) {
    for f in faces {
        let sum: f32 = f.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3);
        assert!(f.expression < 8);
        assert!((-1.0..=1.0).contains(&f.valence) && (-1.0..=1.0).contains(&f.arousal));
        let b = f.bbox;
        assert!(b.x >= 0.0 && b.y >= 0.0 && b.x + b.width <= width as f32 + 1e-3 && b.y + b.height <= height as f32 + 1e-3);
    }
}

fn awkward_f32() -> impl Strategy<Value = f32> {
    prop_oneof![-100.0f32..300.0, any::<f32>(), Just(f32::NAN), Just(f32::INFINITY), Just(-1e30f32), Just(1e30f32)]
}

#[test]
fn the_c_api_never_panics_leaks_or_aborts() {
    unsafe {
        let mut a = ptr::null_mut();
        let o = emotion_options { threads: 1, min_face_size: 200, ..emotion_options_default() };
        assert_eq!(emotion_analyzer_new(&o, &mut a), EMOTION_OK);
        ANALYZER = Shared(a);
    }
    let analyzer = unsafe { ANALYZER.0 };
    // Warm-up: lazily built tables in the engine are allocated once, outside the measurements.
    no_leak_warmup(analyzer);

    // Images: any size up to 4096 per side, any stride, any format value.
    let images = (0u32..4096, 0u32..4096, prop_oneof![4 => 0u32..5, 1 => any::<u32>()], -8isize..40, any::<u8>());
    TestRunner::new(config(16))
        .run(&images, |(width, height, format, stride_delta, seed)| {
            let bpp = match format {
                EMOTION_PIXEL_GRAY8 => 1,
                EMOTION_PIXEL_RGB8 | EMOTION_PIXEL_BGR8 => 3,
                _ => 4,
            };
            let row = width as usize * bpp;
            let stride = (row as isize + stride_delta).max(0) as usize;
            // The buffer the C caller promises: at least what the description needs.
            let needed = if height == 0 || stride < row { 0 } else { stride * (height as usize - 1) + row };
            let pixels: Vec<u8> = (0..needed.max(1)).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
            no_leak("emotion_analyze", || {
                let mut faces = vec![unsafe { std::mem::zeroed::<emotion_face>() }; 4];
                let mut n = 0;
                let s = unsafe {
                    emotion_analyze(analyzer, pixels.as_ptr(), width, height, stride, format, faces.as_mut_ptr(), 4, &mut n)
                };
                status_ok(s, "emotion_analyze");
                if s == EMOTION_OK {
                    check_faces(&faces[..n], width, height);
                }
                let mut copy = pixels.clone();
                let s = unsafe { emotion_draw(copy.as_mut_ptr(), width, height, stride, format, faces.as_ptr(), n) };
                status_ok(s, "emotion_draw");
            });
            Ok(())
        })
        .unwrap();

    // Caller boxes.
    let boxes = proptest::collection::vec((awkward_f32(), awkward_f32(), awkward_f32(), awkward_f32()), 0..5);
    let img: Vec<u8> = (0..64 * 48 * 3).map(|i| (i % 251) as u8).collect();
    TestRunner::new(config(32))
        .run(&boxes, |boxes| {
            let boxes: Vec<emotion_bbox> =
                boxes.into_iter().map(|(x, y, width, height)| emotion_bbox { x, y, width, height }).collect();
            no_leak("emotion_classify", || {
                let mut faces = vec![unsafe { std::mem::zeroed::<emotion_face>() }; boxes.len()];
                let mut n = 0;
                let s = unsafe {
                    emotion_classify(analyzer, img.as_ptr(), 64, 48, 192, EMOTION_PIXEL_RGB8, boxes.as_ptr(), boxes.len(),
                        faces.as_mut_ptr(), faces.len(), &mut n)
                };
                status_ok(s, "emotion_classify");
                assert!(s == EMOTION_OK || s == EMOTION_ERROR_INVALID_ARGUMENT, "{s}");
                if s == EMOTION_OK {
                    assert_eq!(n, boxes.len());
                    check_faces(&faces, 64, 48);
                }
            });
            Ok(())
        })
        .unwrap();

    // Option structs with random fields (struct_size right).
    let options = (
        (prop_oneof![0u32..300, any::<u32>()], prop_oneof![Just(0u32), any::<u32>()], any::<u32>(), awkward_f32()),
        (prop_oneof![0.0f32..1.2, any::<f32>()], 0u32..80, prop_oneof![0u32..300, any::<u32>()], 0u32..3),
        (0u32..4, 0u32..5, awkward_f32(), awkward_f32(), 0u32..70),
    );
    TestRunner::new(config(12))
        .run(&options, |((min, max, max_faces, score), (pyramid, step, threads, flip), (color, mean_count, crop, shift, batch))| {
            let o = emotion_options {
                min_face_size: min,
                max_face_size: max,
                max_faces,
                score_threshold: score,
                pyramid_scale_factor: pyramid,
                window_step: step,
                threads,
                flip_average: flip,
                input_color: color,
                mean_count,
                crop_scale: crop,
                crop_shift_y: shift,
                batch_size: batch,
                ..emotion_options_default()
            };
            no_leak("emotion_analyzer_new", || {
                let mut a = ptr::null_mut();
                let s = unsafe { emotion_analyzer_new(&o, &mut a) };
                status_ok(s, "emotion_analyzer_new");
                assert!(s == EMOTION_OK || s == EMOTION_ERROR_INVALID_ARGUMENT || s == EMOTION_ERROR_MODEL, "{s}");
                assert_eq!(a.is_null(), s != EMOTION_OK);
                unsafe { emotion_analyzer_free(a) };
            });
            Ok(())
        })
        .unwrap();

    // Random bytes as image files and as model files.
    let dir = std::env::temp_dir().join(format!("emotion-capi-properties-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sample_png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/astronaut.png")).unwrap();
    let model = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../emotion-core/tests/fixtures/tiny_ok.onnx")).unwrap();
    let files = (
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            (any::<proptest::sample::Index>(), any::<u8>()).prop_map(move |(cut, b)| {
                let mut v = sample_png[..cut.index(sample_png.len()).max(1)].to_vec();
                let last = v.len() - 1;
                v[last] ^= b;
                v
            }),
            (any::<proptest::sample::Index>(), any::<proptest::sample::Index>(), any::<u8>()).prop_map(move |(cut, at, b)| {
                let mut v = model[..cut.index(model.len() + 1).max(1)].to_vec();
                let at = at.index(v.len());
                v[at] = b;
                v
            }),
        ],
        any::<bool>(),
    );
    let file = dir.join("input.bin");
    let c_file = CString::new(file.to_str().unwrap()).unwrap();
    TestRunner::new(config(24))
        .run(&files, |(bytes, allow_partial)| {
            std::fs::write(&file, &bytes).unwrap();
            no_leak("emotion_image_load_with_options", || {
                let mut img = emotion_image { pixels: ptr::null_mut(), width: 0, height: 0, stride: 0, format: 0 };
                let mut partial = 0;
                let flags = if allow_partial { EMOTION_LOAD_ALLOW_PARTIAL } else { 0 };
                let s = unsafe { emotion_image_load_with_options(c_file.as_ptr(), flags, &mut img, &mut partial) };
                status_ok(s, "emotion_image_load_with_options");
                assert!(matches!(s, EMOTION_OK | EMOTION_ERROR_DECODE | EMOTION_ERROR_INVALID_IMAGE), "{s}");
                assert_eq!(img.pixels.is_null(), s != EMOTION_OK);
                unsafe { emotion_image_free(&mut img) };
            });
            no_leak("emotion_analyzer_new_with_model", || {
                let mut a = ptr::null_mut();
                let s = unsafe { emotion_analyzer_new_with_model(c_file.as_ptr(), ptr::null(), &mut a) };
                status_ok(s, "emotion_analyzer_new_with_model");
                assert!(s == EMOTION_OK || s == EMOTION_ERROR_MODEL || s == EMOTION_ERROR_INVALID_ARGUMENT, "{s}");
                unsafe { emotion_analyzer_free(a) };
            });
            Ok(())
        })
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// One call of each kind before measuring, so one-time allocations are not counted as leaks.
fn no_leak_warmup(analyzer: *mut emotion_analyzer) {
    let img: Vec<u8> = (0..64 * 48 * 3).map(|i| (i % 251) as u8).collect();
    let mut faces = vec![unsafe { std::mem::zeroed::<emotion_face>() }; 2];
    let mut n = 0;
    let b = emotion_bbox { x: 1.0, y: 1.0, width: 30.0, height: 30.0 };
    unsafe {
        emotion_classify(analyzer, img.as_ptr(), 64, 48, 192, EMOTION_PIXEL_RGB8, &b, 1, faces.as_mut_ptr(), 2, &mut n);
        emotion_analyze(analyzer, img.as_ptr(), 64, 48, 192, EMOTION_PIXEL_RGB8, faces.as_mut_ptr(), 2, &mut n);
        let mut a = ptr::null_mut();
        emotion_analyzer_new(ptr::null(), &mut a);
        emotion_analyzer_free(a);
    }
}
