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
fn files_that_never_end_are_refused_without_reading_them_whole() {
    // A path to something endless is refused from its first bytes (no image signature) rather
    // than read until memory runs out; an image model path likewise stops at the size limit.
    let zero = Path::new("/dev/zero");
    if zero.exists() {
        match load_rgb(zero) {
            Err(Error::Decode { path, message }) => {
                assert_eq!((path.as_path(), message.as_str()), (zero, "The image format could not be determined"))
            }
            other => panic!("{other:?}"),
        }
    } else {
        println!("SKIP: /dev/zero does not exist on this system");
    }
    let dir = temp_dir("limit");
    let file = dir.join("ten.bin");
    std::fs::write(&file, [7u8; 10]).unwrap();
    assert_eq!(emotion_core::files::read_limited(&file, 10).unwrap(), vec![7u8; 10]);
    match emotion_core::files::read_limited(&file, 9) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, file);
            assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge);
            assert_eq!(source.to_string(), "the file has more than 9 bytes");
        }
        other => panic!("{other:?}"),
    }
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

/// CRC-32 (ISO-HDLC, as PNG chunks use).
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// A 16 x 8 image encoded in `format` whose header then declares `w` x `h` pixels (the pixel
/// data stays that of 16 x 8). WebP is lossless (`VP8L`, sides up to 16384).
fn declaring(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::imageops::thumbnail(&common::sample(), 16, 8));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    let mut b = out.into_inner();
    let put = |b: &mut Vec<u8>, at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
    match format {
        ImageFormat::Png => {
            assert_eq!(&b[12..16], b"IHDR");
            put(&mut b, 16, &w.to_be_bytes());
            put(&mut b, 20, &h.to_be_bytes());
            let crc = crc32(&b[12..29]);
            put(&mut b, 29, &crc.to_be_bytes());
        }
        ImageFormat::Gif => {
            put(&mut b, 6, &(w as u16).to_le_bytes());
            put(&mut b, 8, &(h as u16).to_le_bytes());
        }
        ImageFormat::Jpeg => {
            let sof = b.windows(2).position(|m| m == [0xFF, 0xC0]).expect("a baseline JPEG");
            put(&mut b, sof + 5, &(h as u16).to_be_bytes());
            put(&mut b, sof + 7, &(w as u16).to_be_bytes());
        }
        ImageFormat::Bmp => {
            put(&mut b, 18, &(w as i32).to_le_bytes());
            put(&mut b, 22, &(h as i32).to_le_bytes());
        }
        ImageFormat::Tiff => {
            assert_eq!(&b[..4], b"II*\0");
            let ifd = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
            let count = u16::from_le_bytes([b[ifd], b[ifd + 1]]) as usize;
            for e in (0..count).map(|i| ifd + 2 + 12 * i) {
                let value = match u16::from_le_bytes([b[e], b[e + 1]]) {
                    256 => w,
                    257 => h,
                    _ => continue,
                };
                put(&mut b, e + 2, &4u16.to_le_bytes()); // LONG
                put(&mut b, e + 8, &value.to_le_bytes());
            }
        }
        ImageFormat::WebP => {
            assert_eq!((&b[12..16], b[20]), (&b"VP8L"[..], 0x2F));
            let bits = u32::from_le_bytes(b[21..25].try_into().unwrap());
            let bits = (bits & !0x0FFF_FFFF) | (w - 1) | ((h - 1) << 14);
            put(&mut b, 21, &bits.to_le_bytes());
        }
        other => panic!("{other:?}"),
    }
    b
}

/// `bytes` wrapped in a WebP `VP8X` header declaring a `w` x `h` canvas.
fn webp_extended(lossless: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
    out.extend_from_slice(&10u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    out.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    out.extend_from_slice(&lossless[12..]);
    let size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    out
}

#[test]
fn declared_sizes_over_the_limit_are_image_too_large_in_every_format() {
    use ImageFormat::{Bmp, Gif, Jpeg, Png, Tiff, WebP};
    let limit = emotion_core::DEFAULT_MAX_PIXELS;
    let mut cases: Vec<(&str, Vec<u8>, u32, u32)> = [
        (Png, 200_000_000, 1),
        (Png, 1, 200_000_000),
        (Png, 20_000, 10_000),
        (Png, 100_000, 100_000),
        (Png, 11_000, 10_000),
        (Gif, 65_535, 65_535),
        (Gif, 65_535, 2_000),
        (Jpeg, 65_535, 65_535),
        (Jpeg, 65_535, 2_000),
        (Bmp, 200_000_000, 1),
        (Bmp, 70_000, 70_000),
        (Bmp, 20_000, 10_000),
        (Tiff, 200_000_000, 1),
        (Tiff, 20_000, 10_000),
        (WebP, 16_384, 16_384),
        (WebP, 16_384, 7_000),
        (WebP, 16_383, 16_383),
    ]
    .into_iter()
    .map(|(f, w, h)| (f.extensions_str()[0], declaring(f, w, h), w, h))
    .collect();
    let small_webp = declaring(WebP, 16, 8);
    cases.push(("webp VP8X", webp_extended(&small_webp, 16_000_000, 16), 16_000_000, 16));
    cases.push(("webp VP8X", webp_extended(&declaring(WebP, 16_384, 16_384), 16_384, 16_384), 16_384, 16_384));
    let mut wrong = Vec::new();
    for (name, bytes, w, h) in cases {
        assert!(u64::from(w) * u64::from(h) > limit);
        for options in [LoadOptions::default(), LoadOptions::default().allow_partial(true)] {
            match emotion_core::decode_image(&bytes, &options) {
                Err(Error::ImageTooLarge { width, height, pixels, limit: l }) => {
                    assert_eq!((width, height, pixels, l), (w, h, u64::from(w) * u64::from(h), limit), "{name}")
                }
                other => wrong.push(format!("{name} declaring {w}x{h}: {other:?}")),
            }
        }
    }
    assert!(wrong.is_empty(), "expected ImageTooLarge:\n{}", wrong.join("\n"));
    // The forged headers are otherwise intact: at a size within the limit they decode as far as
    // their data goes (the partial opt-in), or fail as damaged data, never as too large.
    let partial = LoadOptions::default().allow_partial(true);
    assert!(emotion_core::decode_image(&webp_extended(&small_webp, 16, 8), &partial).is_ok());
    for f in [Png, Gif, Jpeg, Bmp, Tiff, WebP] {
        match emotion_core::decode_image(&declaring(f, 2_000, 1_000), &partial) {
            Ok(loaded) => assert_eq!(loaded.image.dimensions(), (2_000, 1_000), "{f:?}"),
            Err(e) => assert!(matches!(e, Error::Decode { .. }), "{f:?}: {e:?}"),
        }
    }
}

/// A 16 x 8 BMP in the old OS/2 form: the 12-byte BITMAPCOREHEADER, whose sides are 16-bit,
/// declaring `w` x `h` (the pixel rows stay those of 16 x 8).
fn bmp_core(w: u16, h: u16) -> Vec<u8> {
    let row = [0x40u8; 16 * 3];
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&(26 + 8 * row.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&26u32.to_le_bytes());
    out.extend_from_slice(&12u32.to_le_bytes());
    for v in [w, h, 1, 24] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    (0..8).for_each(|_| out.extend_from_slice(&row));
    out
}

/// The start of a lossy WebP (`VP8 `) whose key frame declares `w` x `h` with the 2 upscaling
/// bits above each 14-bit side set to `scale`; no frame data follows.
fn webp_lossy(w: u16, h: u16, scale: u16) -> Vec<u8> {
    let mut frame = vec![0x10, 0x00, 0x00, 0x9D, 0x01, 0x2A]; // key frame, shown; start code
    frame.extend_from_slice(&(w | scale << 14).to_le_bytes());
    frame.extend_from_slice(&(h | scale << 14).to_le_bytes());
    frame.extend_from_slice(&[0; 20]);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + 8 + frame.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WEBPVP8 ");
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame);
    out
}

/// Header forms where a side is not the plain unsigned number at its place: a BMP's negative
/// height (a top-down image), the 16-bit sides of the old BMP core header, the upscaling bits
/// of a lossy WebP. None of them makes a small image too large, and oversized ones still are.
#[test]
fn declared_sizes_are_read_as_the_format_defines_them() {
    let partial = LoadOptions::default().allow_partial(true);
    // The size refused as too large; `None` when the file decodes (as far as its data goes) or is
    // a decode error.
    let too_large = |bytes: &[u8]| match emotion_core::decode_image(bytes, &partial) {
        Err(Error::ImageTooLarge { width, height, .. }) => Some((width, height)),
        Ok(_) | Err(Error::Decode { .. }) => None,
        Err(e) => panic!("expected ImageTooLarge, Decode or Ok, got {e:?}"),
    };

    // Top-down BMP: the same rows in the opposite order.
    let bottom_up = declaring(ImageFormat::Bmp, 16, 8);
    let mut top_down = bottom_up.clone();
    top_down[22..26].copy_from_slice(&(-8i32).to_le_bytes());
    let flipped = image::imageops::flip_vertical(&emotion_core::decode_image(&bottom_up, &partial).unwrap().image);
    assert_eq!(emotion_core::decode_image(&top_down, &LoadOptions::default()).unwrap().image, flipped);
    let mut huge = declaring(ImageFormat::Bmp, 70_000, 8);
    huge[22..26].copy_from_slice(&(-70_000i32).to_le_bytes());
    assert_eq!(too_large(&huge), Some((70_000, 70_000)));

    // BMP core header: 16-bit sides; the largest it can declare is refused by the decoder's own
    // dimensions.
    let core = emotion_core::decode_image(&bmp_core(16, 8), &LoadOptions::default()).unwrap();
    assert_eq!(core.image.dimensions(), (16, 8));
    assert_eq!(too_large(&bmp_core(65_535, 65_535)), Some((65_535, 65_535)));
    assert_eq!(too_large(&bmp_core(20_000, 10_000)), Some((20_000, 10_000)));
    match emotion_core::decode_image(&bmp_core(2_000, 1_000), &partial) {
        Ok(loaded) => assert_eq!(loaded.image.dimensions(), (2_000, 1_000)),
        Err(e) => assert!(matches!(e, Error::Decode { .. }), "{e:?}"),
    }

    // Lossy WebP: the upscaling bits are no part of the size.
    for scale in 0..4 {
        assert_eq!(too_large(&webp_lossy(1_000, 1_000, scale)), None, "scale {scale}");
        assert_eq!(too_large(&webp_lossy(16_383, 16_383, scale)), Some((16_383, 16_383)), "scale {scale}");
    }
}

#[test]
fn a_jpeg_declaring_more_rows_than_its_data_is_refused_strict_and_partial_otherwise() {
    // 64 rows of data, a header declaring 128, a proper EOI (tests/data/damaged/make_damaged.py).
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/damaged/short-rows.jpg"));
    match load_image(path, &LoadOptions::default()) {
        Err(Error::Decode { message, .. }) => {
            assert!(message.contains("the data ends before the last row the header declares"), "{message}")
        }
        other => panic!("strict decoding must refuse the file, got {other:?}"),
    }
    let got = load_image(path, &LoadOptions::default().allow_partial(true)).unwrap();
    assert!(got.partial);
    assert!(got.decode_error.as_deref().is_some_and(|m| m.contains("ends before the last row")), "{:?}", got.decode_error);
    assert_eq!(got.image.dimensions(), (64, 128));
    // The rows the data holds are the astronaut's (a face-coloured, not flat, top half).
    let top = &got.image.as_raw()[..64 * 64 * 3];
    assert!(top.iter().any(|&v| v < 100) && top.iter().any(|&v| v > 150));

    // The same defect built in memory from the repository's sample at other sizes.
    for (w, h) in [(16, 8), (64, 64)] {
        let img = image::DynamicImage::ImageRgb8(image::imageops::thumbnail(&common::sample(), w, h));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        let mut b = out.into_inner();
        let sof = b.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        b[sof + 5..sof + 7].copy_from_slice(&(h as u16 * 3).to_be_bytes());
        assert!(matches!(emotion_core::decode_image(&b, &LoadOptions::default()), Err(Error::Decode { .. })), "{w}x{h}");
    }
}

#[test]
fn intact_jpegs_decode_as_the_image_crate_decodes_them() {
    // The end-of-data guard must not change a pixel of a complete file, whatever its size
    // or quality (tiny and flat images end their data within a few bytes of the EOI). Real
    // photos: strict_jpeg_decoding_matches_the_image_crate_on_intact_photos.
    let sample = common::sample();
    let flat = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 10, 10]));
    let mut cases = vec![flat];
    for (w, h) in [(1, 1), (7, 3), (16, 16), (33, 17), (512, 512)] {
        cases.push(image::imageops::thumbnail(&sample, w, h));
    }
    for img in cases {
        for quality in [10, 90] {
            let mut bytes = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&img).unwrap();
            let ours = emotion_core::decode_image(&bytes, &LoadOptions::default()).unwrap();
            assert!(!ours.partial);
            let theirs = image::load_from_memory(&bytes).unwrap().into_rgb8();
            assert_eq!(ours.image, theirs, "{}x{} q{quality}", img.width(), img.height());
        }
    }
}

#[test]
fn lossless_webp_16384_pixels_wide_or_high_keeps_its_size_and_pixels() {
    // 16384 is the largest side WebP allows; image-webp 0.2.4 reads it from a simple lossless
    // header as 0.
    for (w, h) in [(16_384u32, 2u32), (3, 16_384)] {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 7 * 30) as u8]));
        let mut bytes = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut bytes).encode(img.as_raw(), w, h, image::ExtendedColorType::Rgb8).unwrap();
        assert_eq!(&bytes[12..16], b"VP8L");
        let got = emotion_core::decode_image(&bytes, &LoadOptions::default()).unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
        assert_eq!(got.image.dimensions(), (w, h));
        assert!(got.image == img, "{w}x{h}: pixels differ");
    }
    // One pixel less is a plain file, decoded as before.
    let img = image::RgbImage::from_pixel(16_383, 1, image::Rgb([9, 99, 199]));
    let mut bytes = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut bytes).encode(img.as_raw(), 16_383, 1, image::ExtendedColorType::Rgb8).unwrap();
    assert_eq!(emotion_core::decode_image(&bytes, &LoadOptions::default()).unwrap().image, img);
}

#[test]
fn files_with_more_frames_say_so_and_give_the_first() {
    // tests/data/multiframe/make_multiframe.py: the astronaut at 64x64, then mirrored.
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/multiframe"));
    let png = image::imageops::thumbnail(&common::sample(), 64, 64);
    for name in ["two-frames.gif", "two-frames.webp", "two-pages.tiff", "two-pictures.mpo"] {
        let got = load_image(dir.join(name), &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got.more_frames && !got.partial, "{name}");
        assert_eq!(got.image.dimensions(), (64, 64), "{name}");
        // The first frame, not the mirrored second: the left half matches the unmirrored picture
        // better than the mirrored one (both within lossy coding and palette error).
        let mirrored = image::imageops::flip_horizontal(&png);
        let distance = |a: &image::RgbImage| -> u64 {
            a.pixels().zip(got.image.pixels()).map(|(p, q)| p.0.iter().zip(q.0).map(|(x, y)| u64::from(x.abs_diff(y))).sum::<u64>()).sum()
        };
        assert!(distance(&png) * 2 < distance(&mirrored), "{name}: {} vs {}", distance(&png), distance(&mirrored));
    }
    // One frame in each of those formats: no more frames.
    let img = image::DynamicImage::ImageRgb8(png);
    for format in [ImageFormat::Gif, ImageFormat::WebP, ImageFormat::Tiff, ImageFormat::Jpeg, ImageFormat::Png] {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        let got = emotion_core::decode_image(out.get_ref(), &LoadOptions::default()).unwrap();
        assert!(!got.more_frames, "{format:?}");
    }
}
