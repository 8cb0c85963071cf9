//! `emotion_draw`: faces drawn into the caller's pixels.

use crate::args::slice_arg;
use crate::image::required_len;
use crate::status::{emotion_status, guard, Failure};
use crate::types::{emotion_face, emotion_pixel_format, pixel_format};

/// Draws `faces` into the caller's image, in place: each face's box, its expression label with
/// the probability, and a small valence (x) / arousal (y, up) plane with a dot at the face's
/// values (the same drawing as the command line's `--annotate` and Python's `emotion.draw`).
/// Everything is clipped to the image. Image arguments as `emotion_analyze`; `faces` may be
/// NULL when `count` is 0.
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`pixels` NULL, or `faces` NULL with `count` > 0),
/// `EMOTION_ERROR_INVALID_ARGUMENT` (unknown `format`, or a face whose `expression` is not
/// 0-7), `EMOTION_ERROR_INVALID_IMAGE` (as `emotion_analyze`). Nothing is drawn on error.
///
/// # Safety
/// `pixels` is NULL or writable for `stride_bytes * (height - 1) + width * bytes_per_pixel`
/// bytes; `faces` is NULL or readable for `count` faces.
#[no_mangle]
pub unsafe extern "C" fn emotion_draw(
    pixels: *mut u8,
    width: u32,
    height: u32,
    stride_bytes: usize,
    format: emotion_pixel_format,
    faces: *const emotion_face,
    count: usize,
) -> emotion_status {
    guard("emotion_draw", || unsafe {
        let faces = slice_arg(faces, count, "faces")?
            .iter()
            .enumerate()
            .map(|(i, f)| f.to_core(i))
            .collect::<Result<Vec<_>, _>>()?;
        if pixels.is_null() {
            return Err(Failure::null("pixels"));
        }
        let format = pixel_format(format)?;
        let len = required_len(width, height, stride_bytes, format)?;
        let data = std::slice::from_raw_parts_mut(pixels, len);
        emotion_core::draw::draw_faces(data, width, height, stride_bytes, format, &faces)?;
        Ok(())
    })
}
