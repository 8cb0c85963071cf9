//! Whether an image file holds more than one frame or page: an animated GIF or WebP, a TIFF with
//! several pages, an MPO (a JPEG followed by more JPEGs, as stereo and some phone cameras write).
//! The decoder reads the first frame only ([`crate::LoadedImage::more_frames`] says when there
//! are others). Each check reads the container's structure, never decodes a second frame's
//! pixels, and uses the format's own decoder crate (the ones `image` uses).

use std::io::Cursor;

use image::ImageFormat;

/// `true` when `bytes`, a file of `format`, holds a frame or page after the first. Files whose
/// structure after the first frame cannot be read count as single-frame (the first frame's
/// decoding reports any damage).
pub(crate) fn more_than_one(bytes: &[u8], format: ImageFormat) -> bool {
    match format {
        ImageFormat::Gif => gif_frames_over_one(bytes),
        ImageFormat::WebP => image_webp::WebPDecoder::new(Cursor::new(bytes)).is_ok_and(|d| d.num_frames() > 1),
        ImageFormat::Tiff => tiff::decoder::Decoder::new(Cursor::new(bytes)).is_ok_and(|d| d.more_images()),
        ImageFormat::Jpeg => jpeg_has_mpf(bytes),
        _ => false,
    }
}

/// Reads GIF frame descriptors (with LZW decoding off) until a second frame is seen.
fn gif_frames_over_one(bytes: &[u8]) -> bool {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    options.check_frame_consistency(false);
    let Ok(mut decoder) = options.read_info(Cursor::new(bytes)) else { return false };
    for _ in 0..2 {
        match decoder.read_next_frame() {
            Ok(Some(_)) => {}
            _ => return false,
        }
    }
    true
}

/// A JPEG whose header segments (before the first SOS) include the APP2 `MPF` segment of the
/// CIPA DC-007 Multi-Picture Format, which indexes the further images after the first.
fn jpeg_has_mpf(bytes: &[u8]) -> bool {
    let mut at = 2;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        if marker == 0xDA || marker == 0xD9 {
            return false;
        }
        let Some(len) = bytes.get(at + 2..at + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else {
            return false;
        };
        if marker == 0xE2 && bytes.get(at + 4..at + 8) == Some(&b"MPF\0"[..]) {
            return true;
        }
        at += 2 + len;
    }
    false
}
