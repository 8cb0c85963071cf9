//! Image file bytes through the library's decoder (`load_image` reads the file, then decodes
//! these bytes), strict and partial: any input gives an image or a typed error, never a panic,
//! a hang or unbounded memory; a strict success is never partial.
#![no_main]

use emotion_core::{decode_image, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let strict = decode_image(bytes, &LoadOptions::default());
    if let Ok(img) = &strict {
        assert!(!img.partial && img.decode_error.is_none());
        assert!(img.image.width() > 0 && img.image.height() > 0, "a decoded image of zero size");
    }
    let partial = decode_image(bytes, &LoadOptions::default().allow_partial(true));
    match (&strict, &partial) {
        // What decodes strictly decodes the same with the partial opt-in.
        (Ok(a), Ok(b)) => assert_eq!(a.image, b.image),
        (Ok(_), Err(e)) => panic!("strict decoding succeeded, partial failed: {e}"),
        _ => {}
    }
    if let Ok(img) = &partial {
        assert_eq!(img.partial, img.decode_error.is_some());
    }
});
