//! Images: the caller's pixels as a checked view, and `emotion_image_load*` / `emotion_image_free`
//! for decoded files.

use std::ffi::{c_char, c_int};

use emotion_core::{Error, ImageView, LoadOptions, PixelFormat, DEFAULT_MAX_PIXELS};

use crate::args::path_arg;
use crate::status::{emotion_status, guard, guard_value, Failure};
use crate::types::{emotion_image, emotion_load_flags, emotion_pixel_format, pixel_format, EMOTION_LOAD_ALLOW_PARTIAL, EMOTION_PIXEL_RGB8};

/// Decodes an image file (PNG, JPEG, BMP, GIF, TIFF, WebP; EXIF orientation applied) into 8-bit
/// RGB pixels owned by the library; a truncated or damaged file is an error. Same as
/// `emotion_image_load_with_options(path, 0, out, NULL)`.
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`path` or `out` NULL), `EMOTION_ERROR_IO` (cannot read
/// the file, or it has more than 1 GiB), `EMOTION_ERROR_DECODE` (not a supported image, or
/// truncated or corrupt),
/// `EMOTION_ERROR_INVALID_IMAGE` (declares more than 100 million pixels).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn emotion_image_load(
    path: *const c_char,
    out: *mut emotion_image,
) -> emotion_status {
    guard("emotion_image_load", || unsafe { load_image(path, 0, out, std::ptr::null_mut()) })
}

/// Decodes an image file as `emotion_image_load`, with `flags` (0 or `EMOTION_LOAD_ALLOW_PARTIAL`).
/// On success fills `*out` (release it with `emotion_image_free`) and, when `partial` is not
/// NULL, sets `*partial` to 1 if the file was truncated or damaged and decoded only in part
/// (possible only with `EMOTION_LOAD_ALLOW_PARTIAL`), else 0. On failure `*out` is zeroed (when
/// `out` is not NULL), so freeing it is harmless, and `*partial` is 0.
///
/// Errors: as `emotion_image_load`, plus `EMOTION_ERROR_INVALID_ARGUMENT` for unknown flags.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` and `partial` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn emotion_image_load_with_options(
    path: *const c_char,
    flags: emotion_load_flags,
    out: *mut emotion_image,
    partial: *mut c_int,
) -> emotion_status {
    guard("emotion_image_load_with_options", || unsafe { load_image(path, flags, out, partial) })
}

/// Releases the pixels of an image from `emotion_image_load` and zeroes `*image`. NULL, and an
/// image already freed or zeroed, are ignored.
///
/// # Safety
/// `image` is NULL or points to an `emotion_image` filled by `emotion_image_load` (fields not
/// modified since) or zeroed.
#[no_mangle]
pub unsafe extern "C" fn emotion_image_free(image: *mut emotion_image) {
    if image.is_null() {
        return;
    }
    guard_value((), || unsafe {
        let img = &mut *image;
        if !img.pixels.is_null() {
            // SAFETY: built from a Box<[u8]> of exactly stride * height bytes in emotion_image_load.
            let len = img.stride * img.height as usize;
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                img.pixels, len,
            )));
        }
        *img = emotion_image::EMPTY;
    });
}

/// Decodes `path` into `*out` (see `emotion_image_load_with_options`).
unsafe fn load_image(
    path: *const c_char,
    flags: emotion_load_flags,
    out: *mut emotion_image,
    partial: *mut c_int,
) -> Result<(), Failure> {
    if !partial.is_null() {
        *partial = 0;
    }
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    *out = emotion_image::EMPTY;
    let path = path_arg(path, "path")?;
    if flags & !EMOTION_LOAD_ALLOW_PARTIAL != 0 {
        return Err(Failure::invalid(format!(
            "unknown load flags {flags:#x}: expected 0 or EMOTION_LOAD_ALLOW_PARTIAL"
        )));
    }
    let options = LoadOptions::default().allow_partial(flags & EMOTION_LOAD_ALLOW_PARTIAL != 0);
    let loaded = emotion_core::load_image(&path, &options)?;
    let img = loaded.image;
    let (width, height) = img.dimensions();
    let stride = width as usize * PixelFormat::Rgb8.bytes_per_pixel();
    let pixels: Box<[u8]> = img.into_raw().into_boxed_slice();
    debug_assert_eq!(pixels.len(), stride * height as usize);
    *out = emotion_image {
        pixels: Box::into_raw(pixels).cast::<u8>(),
        width,
        height,
        stride,
        format: EMOTION_PIXEL_RGB8,
    };
    if !partial.is_null() {
        *partial = c_int::from(loaded.partial);
    }
    Ok(())
}

/// A validated view of the caller's pixels. Checks the sizes before building the slice (the
/// same checks, in the same order and with the same messages, as `ImageView::new`), so the slice
/// is exactly `stride * (height - 1) + width * bytes_per_pixel` bytes.
pub(crate) unsafe fn image_view<'a>(
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    format: emotion_pixel_format,
) -> Result<ImageView<'a>, Failure> {
    if pixels.is_null() {
        return Err(Failure::null("pixels"));
    }
    let format = pixel_format(format)?;
    let len = required_len(width, height, stride, format)?;
    let data = std::slice::from_raw_parts(pixels, len);
    Ok(ImageView::new(data, width, height, stride, format)?)
}

/// Bytes the image occupies: `stride * (height - 1) + width * bytes_per_pixel`, at most
/// `isize::MAX` (the limit of a Rust slice).
pub(crate) fn required_len(
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
) -> Result<usize, Error> {
    if width == 0 || height == 0 {
        return Err(Error::EmptyImage { width, height });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > DEFAULT_MAX_PIXELS {
        return Err(Error::ImageTooLarge {
            width,
            height,
            pixels,
            limit: DEFAULT_MAX_PIXELS,
        });
    }
    let overflow = || Error::SizeOverflow {
        width,
        height,
        stride,
    };
    let row_bytes = (width as usize)
        .checked_mul(format.bytes_per_pixel())
        .ok_or_else(overflow)?;
    if stride < row_bytes {
        return Err(Error::StrideTooSmall { stride, row_bytes });
    }
    stride
        .checked_mul(height as usize - 1)
        .and_then(|n| n.checked_add(row_bytes))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_len_checks_in_core_order() {
        let rgb = PixelFormat::Rgb8;
        assert_eq!(required_len(10, 2, 32, rgb).unwrap(), 32 + 30);
        assert!(matches!(
            required_len(0, 2, 32, rgb),
            Err(Error::EmptyImage { .. })
        ));
        assert!(matches!(
            required_len(10, 2, 29, rgb),
            Err(Error::StrideTooSmall { .. })
        ));
        assert!(matches!(
            required_len(10, 3, usize::MAX / 2, rgb),
            Err(Error::SizeOverflow { .. })
        ));
        assert!(matches!(
            required_len(u32::MAX, u32::MAX, usize::MAX, rgb),
            Err(Error::ImageTooLarge { .. })
        ));
        // Exactly the core's answer on a buffer of the computed length.
        let data = vec![0u8; 62];
        assert!(ImageView::new(&data, 10, 2, 32, rgb).is_ok());
    }
}
