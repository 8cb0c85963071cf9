//! Still images: `emotion_analyze`, `emotion_detect` and `emotion_classify`.

use emotion_core::Analyzer;

use crate::analyzer::emotion_analyzer;
use crate::args::{slice_arg, too_small, write_out};
use crate::image::image_view;
use crate::status::{emotion_status, guard, Failure, EMOTION_ERROR_NULL_POINTER};
use crate::types::{emotion_bbox, emotion_detection, emotion_face, emotion_pixel_format};

/// Detects the faces in an image and classifies each: up to `capacity` faces written to `out`,
/// best detection score first; `*count` = number of faces found.
///
/// The image: `height` rows of `width` pixels in `format`, row `r` starting at byte
/// `r * stride_bytes` of `pixels`. The library reads `stride_bytes * (height - 1) + width *
/// bytes_per_pixel` bytes; padding at the end of rows is never read. `stride_bytes` must be at
/// least `width * bytes_per_pixel` (3 for RGB8).
///
/// When more faces are found than `capacity`, returns `EMOTION_ERROR_BUFFER_TOO_SMALL` with
/// `*count` = the number needed and `out` untouched: call again with a larger array (this runs
/// the analysis again; a capacity of 32 or more avoids it for ordinary photos). `out` may be NULL
/// when `capacity` is 0, to ask for the count. On any other error `*count` is 0 and `out` is
/// untouched.
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`analyzer`, `pixels` or `count` NULL, or `out` NULL with
/// `capacity` > 0), `EMOTION_ERROR_INVALID_ARGUMENT` (unknown `format`),
/// `EMOTION_ERROR_INVALID_IMAGE` (zero `width`/`height`, stride smaller than a row, more than 100
/// million pixels, byte size overflow), `EMOTION_ERROR_BUFFER_TOO_SMALL`,
/// `EMOTION_ERROR_INFERENCE`, `EMOTION_ERROR_INTERNAL`.
///
/// # Safety
/// `analyzer` is NULL or a live analyzer; `pixels` is NULL or readable for the byte count above;
/// `out` is NULL or writable for `capacity` faces; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn emotion_analyze(
    analyzer: *const emotion_analyzer,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride_bytes: usize,
    format: emotion_pixel_format,
    out: *mut emotion_face,
    capacity: usize,
    count: *mut usize,
) -> emotion_status {
    guard("emotion_analyze", || unsafe {
        let (analyzer, count) = call_args(analyzer, out, capacity, count)?;
        let image = image_view(pixels, width, height, stride_bytes, format)?;
        let faces = analyzer.analyze(&image)?;
        write_out(
            faces.into_iter().map(emotion_face::from),
            out,
            capacity,
            count,
        )
    })
}

/// Detection only: up to `capacity` face boxes written to `out`, best score first; `*count` =
/// number found. Image arguments, `out`/`capacity`/`count` handling and errors as
/// `emotion_analyze` (no `EMOTION_ERROR_INFERENCE`).
///
/// # Safety
/// As `emotion_analyze`, with `out` writable for `capacity` detections.
#[no_mangle]
pub unsafe extern "C" fn emotion_detect(
    analyzer: *const emotion_analyzer,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride_bytes: usize,
    format: emotion_pixel_format,
    out: *mut emotion_detection,
    capacity: usize,
    count: *mut usize,
) -> emotion_status {
    guard("emotion_detect", || unsafe {
        let (analyzer, count) = call_args(analyzer, out, capacity, count)?;
        let image = image_view(pixels, width, height, stride_bytes, format)?;
        let detections = analyzer.detect(&image)?;
        write_out(
            detections.into_iter().map(emotion_detection::from),
            out,
            capacity,
            count,
        )
    })
}

/// Classifies caller-supplied face boxes (pixels; e.g. from another detector): `out[i]` is the
/// face in `boxes[i]`, with the box clamped to the image and `detection_score` NaN. `*count` =
/// `box_count` on success. `boxes` may be NULL when `box_count` is 0 (nothing to do).
///
/// When `capacity < box_count`, returns `EMOTION_ERROR_BUFFER_TOO_SMALL` with `*count` =
/// `box_count` before running anything. Image arguments and other errors as `emotion_analyze`,
/// plus `EMOTION_ERROR_INVALID_ARGUMENT` for a box with a non-finite coordinate, a width or
/// height <= 0, or nothing inside the image (the message gives its index).
///
/// # Safety
/// As `emotion_analyze`, with `boxes` NULL or readable for `box_count` boxes.
#[no_mangle]
pub unsafe extern "C" fn emotion_classify(
    analyzer: *const emotion_analyzer,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride_bytes: usize,
    format: emotion_pixel_format,
    boxes: *const emotion_bbox,
    box_count: usize,
    out: *mut emotion_face,
    capacity: usize,
    count: *mut usize,
) -> emotion_status {
    guard("emotion_classify", || unsafe {
        let (analyzer, count) = call_args(analyzer, out, capacity, count)?;
        let boxes: Vec<emotion_core::BBox> = slice_arg(boxes, box_count, "boxes")?
            .iter()
            .map(|&b| b.into())
            .collect();
        let image = image_view(pixels, width, height, stride_bytes, format)?;
        if boxes.len() > capacity {
            *count = boxes.len();
            return Err(too_small(capacity, boxes.len(), "faces (one per box)"));
        }
        let faces = analyzer.classify(&image, &boxes)?;
        write_out(
            faces.into_iter().map(emotion_face::from),
            out,
            capacity,
            count,
        )
    })
}

/// Checks the arguments every analysis call shares, in order: `analyzer`, `count` (then set to
/// 0), and `out` (NULL only when `capacity` is 0).
unsafe fn call_args<'a, T>(
    analyzer: *const emotion_analyzer,
    out: *mut T,
    capacity: usize,
    count: *mut usize,
) -> Result<(&'a Analyzer, &'a mut usize), Failure> {
    if count.is_null() {
        return Err(Failure::null("count"));
    }
    let count = &mut *count;
    *count = 0;
    if analyzer.is_null() {
        return Err(Failure::null("analyzer"));
    }
    if out.is_null() && capacity > 0 {
        return Err(Failure::new(
            EMOTION_ERROR_NULL_POINTER,
            "`out` is NULL but `capacity` is not 0",
        ));
    }
    Ok((&*(*analyzer).inner, count))
}
