//! The C API called from Rust: sharing one analyzer between threads, the per-thread last error,
//! and agreement with `emotion-core`. The C programs in `examples/c` cover the same ground from C
//! (`scripts/test-c.sh`).

use std::ffi::{CStr, CString};
use std::ptr;

use emotion::*;

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/data/astronaut.png"
);

fn last_error() -> String {
    unsafe { CStr::from_ptr(emotion_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Owns an analyzer for the test's duration. Raw pointers are not `Send`; the API promises the
/// analyzer is thread-safe, so share it as an address.
struct Handle(*mut emotion_analyzer);
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}
impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { emotion_analyzer_free(self.0) };
    }
}

fn analyzer(options: Option<emotion_options>) -> Handle {
    let mut a = ptr::null_mut();
    let opts = options.as_ref().map_or(ptr::null(), |o| o as *const _);
    assert_eq!(
        unsafe { emotion_analyzer_new(opts, &mut a) },
        EMOTION_OK,
        "{}",
        last_error()
    );
    Handle(a)
}

struct Image(emotion_image);
impl Drop for Image {
    fn drop(&mut self) {
        unsafe { emotion_image_free(&mut self.0) };
    }
}

fn load(path: &str) -> Image {
    let mut img = emotion_image {
        pixels: ptr::null_mut(),
        width: 0,
        height: 0,
        stride: 0,
        format: 0,
    };
    let c = CString::new(path).unwrap();
    assert_eq!(
        unsafe { emotion_image_load(c.as_ptr(), &mut img) },
        EMOTION_OK,
        "{}",
        last_error()
    );
    Image(img)
}

fn analyze(a: &Handle, img: &emotion_image) -> Vec<emotion_face> {
    let mut faces = vec![unsafe { std::mem::zeroed::<emotion_face>() }; 16];
    let mut n = 0;
    let s = unsafe {
        emotion_analyze(
            a.0,
            img.pixels,
            img.width,
            img.height,
            img.stride,
            img.format,
            faces.as_mut_ptr(),
            16,
            &mut n,
        )
    };
    assert_eq!(s, EMOTION_OK, "{}", last_error());
    faces.truncate(n);
    faces
}

#[test]
fn matches_emotion_core() {
    let img = load(IMAGE);
    let faces = analyze(&analyzer(None), &img.0);

    let core = emotion_core::Analyzer::new().unwrap();
    let rgb = emotion_core::load_rgb(IMAGE).unwrap();
    let expected = core
        .analyze(&emotion_core::ImageView::try_from(&rgb).unwrap())
        .unwrap();
    assert!(!expected.is_empty());
    assert_eq!(faces.len(), expected.len());
    for (f, e) in faces.iter().zip(&expected) {
        assert_eq!(*f, emotion_face::from(*e));
    }
}

#[test]
fn one_analyzer_serves_many_threads() {
    let img = load(IMAGE);
    let a = analyzer(Some(emotion_options {
        threads: 1,
        ..emotion_options_default()
    }));
    let expected = analyze(&a, &img.0);
    // Raw pointers are neither Send nor Sync: hand the threads the pixel address and sizes.
    let emotion_image {
        pixels,
        width,
        height,
        stride,
        format,
    } = img.0;
    let pixels = pixels as usize;
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (a, expected) = (&a, &expected);
            s.spawn(move || {
                let img = emotion_image {
                    pixels: pixels as *mut u8,
                    width,
                    height,
                    stride,
                    format,
                };
                for _ in 0..2 {
                    assert_eq!(&analyze(a, &img), expected);
                }
            });
        }
    });
}

#[test]
fn last_error_is_per_thread() {
    let mut count = 0;
    let s = unsafe {
        emotion_analyze(
            ptr::null(),
            ptr::null(),
            1,
            1,
            3,
            EMOTION_PIXEL_RGB8,
            ptr::null_mut(),
            0,
            &mut count,
        )
    };
    assert_eq!(s, EMOTION_ERROR_NULL_POINTER);
    assert_eq!(last_error(), "`analyzer` is NULL");
    std::thread::spawn(|| assert_eq!(last_error(), ""))
        .join()
        .unwrap();
    assert_eq!(last_error(), "`analyzer` is NULL");
}

#[test]
fn options_are_checked() {
    let mut a = ptr::null_mut();
    let bad = emotion_options {
        pyramid_scale_factor: 1.5,
        ..emotion_options_default()
    };
    assert_eq!(
        unsafe { emotion_analyzer_new(&bad, &mut a) },
        EMOTION_ERROR_INVALID_ARGUMENT
    );
    assert!(a.is_null());
    assert!(
        last_error().contains("pyramid_scale_factor"),
        "{}",
        last_error()
    );
    let bad = emotion_options {
        min_face_size: 100,
        max_face_size: 50,
        ..emotion_options_default()
    };
    assert_eq!(
        unsafe { emotion_analyzer_new(&bad, &mut a) },
        EMOTION_ERROR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("max_face_size"), "{}", last_error());
    // Non-default options reach the detector: a minimum face larger than the astronaut's finds none.
    let img = load(IMAGE);
    let big = analyzer(Some(emotion_options {
        min_face_size: 300,
        ..emotion_options_default()
    }));
    assert!(analyze(&big, &img.0).is_empty());
}
