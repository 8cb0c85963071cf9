//! Image files: damaged data is refused by default and accepted, marked partial, on request;
//! strict JPEG decoding gives the same pixels as the `image` crate on intact photos.

mod common;

use std::path::{Path, PathBuf};

use emotion_core::{load_image, load_rgb, Error, LoadOptions};
use image::ImageFormat;

/// A fresh folder for this test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emotion-decode-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The sample encoded in `format`, whole and cut at half its bytes.
fn encoded(format: ImageFormat, dir: &Path) -> (PathBuf, PathBuf) {
    let img = image::DynamicImage::ImageRgb8(common::sample());
    let ext = format.extensions_str()[0];
    let whole = dir.join(format!("whole.{ext}"));
    img.save_with_format(&whole, format).unwrap();
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.join(format!("cut.{ext}"));
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    (whole, cut)
}

#[test]
fn truncated_files_are_errors_by_default_and_partial_on_request() {
    let dir = temp_dir("truncated");
    let partial = LoadOptions::default().allow_partial(true);
    for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Gif, ImageFormat::WebP, ImageFormat::Bmp] {
        let (whole, cut) = encoded(format, &dir);
        let full = load_image(&whole, &LoadOptions::default()).unwrap();
        assert!(!full.partial && full.decode_error.is_none(), "{format:?}");
        assert_eq!(full.image.dimensions(), (512, 512));

        match load_image(&cut, &LoadOptions::default()) {
            Err(Error::Decode { path, message }) => {
                assert_eq!(path, cut);
                assert!(!message.is_empty());
            }
            other => panic!("{format:?}: a file cut in half must be a decode error, got {other:?}"),
        }
        assert!(matches!(load_rgb(&cut), Err(Error::Decode { .. })), "{format:?}");

        let got = load_image(&cut, &partial).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert!(got.partial, "{format:?}");
        assert!(got.decode_error.is_some(), "{format:?}");
        assert_eq!(got.image.dimensions(), (512, 512), "{format:?}");
        // Row-by-row formats keep the rows before the cut exactly.
        if matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Bmp) {
            let row = 512 * 3;
            let first = if format == ImageFormat::Bmp { 511 } else { 0 }; // BMP stores rows bottom-up
            let at = first * row;
            assert_eq!(got.image.as_raw()[at..at + row], full.image.as_raw()[at..at + row], "{format:?}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unreadable_and_non_image_files() {
    let dir = temp_dir("bad");
    assert!(matches!(load_rgb(dir.join("missing.png")), Err(Error::Io { .. })));
    let text = dir.join("text.jpg");
    std::fs::write(&text, b"not an image at all").unwrap();
    assert!(matches!(load_rgb(&text), Err(Error::Decode { .. })));
    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(load_image(&empty, &LoadOptions::default().allow_partial(true)), Err(Error::Decode { .. })));
    // A header only: the partial opt-in still needs a readable header.
    let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/astronaut.png")).unwrap();
    let head = dir.join("head.png");
    std::fs::write(&head, &png[..20]).unwrap();
    assert!(load_image(&head, &LoadOptions::default().allow_partial(true)).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn strict_jpeg_decoding_matches_the_image_crate_on_intact_photos() {
    let Some(dir) = common::shared_or_skip("photos/voc-faces") else { return };
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jpg") {
            let ours = load_rgb(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let theirs = image::open(&path).unwrap().into_rgb8();
            assert_eq!(ours, theirs, "{}", path.display());
            n += 1;
        }
    }
    let multiface = common::shared().join("photos/misc/multiface.jpg");
    assert_eq!(load_rgb(&multiface).unwrap(), image::open(&multiface).unwrap().into_rgb8());
    assert!(n >= 10, "{n} photos");
}
