//! Every invalid `ImageView` returns its documented error; conversions borrow correctly.

use emotion_core::{Error, ImageView, PixelFormat};

#[test]
fn zero_width_or_height() {
    let buf = [0u8; 16];
    assert!(matches!(ImageView::rgb(&buf, 0, 4), Err(Error::EmptyImage { width: 0, height: 4 })));
    assert!(matches!(ImageView::gray(&buf, 4, 0), Err(Error::EmptyImage { width: 4, height: 0 })));
}

#[test]
fn buffer_too_small() {
    let buf = vec![0u8; 10 * 10 * 3 - 1];
    match ImageView::rgb(&buf, 10, 10) {
        Err(Error::BufferTooSmall { len, required }) => assert_eq!((len, required), (299, 300)),
        other => panic!("expected BufferTooSmall, got {other:?}"),
    }
    // With a padded stride the last row needs only its pixels, not a whole stride.
    let buf = vec![0u8; 64 * 9 + 30];
    assert!(ImageView::new(&buf, 10, 10, 64, PixelFormat::Rgb8).is_ok());
    assert!(matches!(
        ImageView::new(&buf[..buf.len() - 1], 10, 10, 64, PixelFormat::Rgb8),
        Err(Error::BufferTooSmall { required: 606, .. })
    ));
}

#[test]
fn stride_smaller_than_row() {
    let buf = vec![0u8; 1000];
    match ImageView::new(&buf, 10, 10, 29, PixelFormat::Rgb8) {
        Err(Error::StrideTooSmall { stride, row_bytes }) => assert_eq!((stride, row_bytes), (29, 30)),
        other => panic!("expected StrideTooSmall, got {other:?}"),
    }
    let v = ImageView::rgba(&buf, 5, 5).unwrap();
    assert!(matches!(v.with_stride(19), Err(Error::StrideTooSmall { stride: 19, row_bytes: 20 })));
}

#[test]
fn size_arithmetic_overflow() {
    let buf = [0u8; 16];
    let r = ImageView::with_limit(&buf, u32::MAX, u32::MAX, usize::MAX, PixelFormat::Rgba8, u64::MAX);
    assert!(matches!(r, Err(Error::SizeOverflow { .. })), "{r:?}");
}

#[test]
fn over_pixel_limit() {
    let buf = [0u8; 16];
    // 20000 x 10000 = 200 MP > the 100 MP default: rejected before the buffer is looked at.
    match ImageView::rgb(&buf, 20_000, 10_000) {
        Err(Error::ImageTooLarge { pixels, limit, .. }) => assert_eq!((pixels, limit), (200_000_000, 100_000_000)),
        other => panic!("expected ImageTooLarge, got {other:?}"),
    }
    let small = [0u8; 12];
    assert!(matches!(
        ImageView::with_limit(&small, 2, 2, 6, PixelFormat::Rgb8, 3),
        Err(Error::ImageTooLarge { pixels: 4, limit: 3, .. })
    ));
}

#[test]
fn conversions_from_image_and_ndarray() {
    let rgb = image::RgbImage::from_pixel(7, 5, image::Rgb([1, 2, 3]));
    let v = ImageView::try_from(&rgb).unwrap();
    assert_eq!((v.width(), v.height(), v.stride(), v.format()), (7, 5, 21, PixelFormat::Rgb8));

    let dynamic = image::DynamicImage::ImageRgba8(image::RgbaImage::new(3, 2));
    assert_eq!(ImageView::try_from(&dynamic).unwrap().format(), PixelFormat::Rgba8);
    let wide = image::DynamicImage::ImageRgb16(image::ImageBuffer::new(3, 2));
    assert!(matches!(ImageView::try_from(&wide), Err(Error::UnsupportedLayout(_))));

    let a = ndarray::Array3::<u8>::zeros((4, 6, 3));
    let v = ImageView::try_from(a.view()).unwrap();
    assert_eq!((v.width(), v.height(), v.format()), (6, 4, PixelFormat::Rgb8));
    let two = ndarray::Array3::<u8>::zeros((4, 6, 2));
    assert!(matches!(ImageView::try_from(two.view()), Err(Error::UnsupportedLayout(_))));
    let transposed = a.view().reversed_axes();
    assert!(matches!(ImageView::try_from(transposed), Err(Error::UnsupportedLayout(_))));
    let gray = ndarray::Array2::<u8>::zeros((3, 8));
    assert_eq!(ImageView::try_from(gray.view()).unwrap().format(), PixelFormat::Gray8);
}

#[test]
fn decode_errors_are_typed() {
    let missing = emotion_core::load_rgb("/nonexistent/face.png");
    assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");
    let dir = std::env::temp_dir().join(format!("emotion-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("not-an-image.png");
    std::fs::write(&bad, b"this is text, not a PNG").unwrap();
    let r = emotion_core::load_rgb(&bad);
    assert!(matches!(r, Err(Error::Decode { .. })), "{r:?}");
    // A 69-byte PNG declaring 100000 x 100000 pixels: rejected from its header, nothing decoded.
    match emotion_core::load_rgb(huge_path()) {
        Err(Error::ImageTooLarge { width, height, .. }) => assert_eq!((width, height), (100_000, 100_000)),
        other => panic!("expected ImageTooLarge, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn decode_from_memory_matches_the_file_loader() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/astronaut.png");
    let bytes = std::fs::read(&path).unwrap();
    let from_memory = emotion_core::decode_image(&bytes, &emotion_core::LoadOptions::default()).unwrap().image;
    assert_eq!(from_memory, emotion_core::load_rgb(&path).unwrap());
    assert_eq!(from_memory.dimensions(), (512, 512));
    for bad in [&b""[..], b"this is text, not a PNG", &bytes[..bytes.len() / 2]] {
        let r = emotion_core::decode_image(bad, &emotion_core::LoadOptions::default());
        assert!(matches!(r, Err(Error::Decode { .. })), "{} bytes: {r:?}", bad.len());
    }
    match emotion_core::decode_image(&std::fs::read(&huge_path()).unwrap(), &emotion_core::LoadOptions::default()) {
        Err(Error::ImageTooLarge { width, height, .. }) => assert_eq!((width, height), (100_000, 100_000)),
        other => panic!("expected ImageTooLarge, got {other:?}"),
    }
}

/// tests/data/oversized/declared-100000x100000.png (make_declared_size_pngs.py there): a valid
/// PNG header declaring 100000 x 100000 pixels, one byte of pixel data.
fn huge_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/oversized/declared-100000x100000.png")
}
