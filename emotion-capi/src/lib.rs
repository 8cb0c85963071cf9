//! # emotion-capi
//!
//! The C API of `emotion-core`, built as `libemotion.so` / `libemotion.a` and declared in
//! `include/emotion.h` (generated from this crate by cbindgen; `tests/header.rs` fails when the
//! checked-in header is stale). A thin layer: argument checks, conversions, status codes and the
//! thread-local last-error message; every result comes from `emotion_core`.
//!
//! The conventions (ownership, threads, NULL handling, pixel order, errors) are stated once, at
//! the top of the header (`cbindgen.toml`, `header`). Every exported function runs its body
//! through [`status::guard`], so no panic crosses the C boundary.

#![allow(non_camel_case_types)] // C names: emotion_face, emotion_status, ...

mod status;
mod track;
mod types;

use std::ffi::{c_char, c_int, CStr, CString};
use std::path::PathBuf;
use std::sync::Arc;

use emotion_core::{Analyzer, Error, ImageView, InputColor, LoadOptions, PixelFormat, DEFAULT_MAX_PIXELS};

pub use status::*;
pub use track::*;
use status::{guard, guard_value, Failure};
pub use types::*;

/// A face detector plus emotion model, created by `emotion_analyzer_new` and released with
/// `emotion_analyzer_free`. Opaque. Thread-safe: one analyzer may serve any number of threads
/// at once (calls take it as `const`).
pub struct emotion_analyzer {
    // Shared with the trackers made from it, so either may be freed first.
    inner: Arc<Analyzer>,
    /// The model's descriptive strings as C strings, for `emotion_analyzer_model_info`.
    version: CString,
    training_data: CString,
    description: CString,
}

// The header promises one analyzer may be shared between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Analyzer>()
};

/// The library version as `"MAJOR.MINOR.PATCH"`: a static string, never NULL, never freed.
/// Compare with `EMOTION_VERSION_MAJOR` etc. to check that the header matches the library.
#[no_mangle]
pub extern "C" fn emotion_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("the version contains a NUL byte"),
        };
    VERSION.as_ptr()
}

/// The message of the last failed call on the calling thread, e.g. `"stride 10 bytes is smaller
/// than a row (30 bytes)"`; `""` when the last call succeeded. Never NULL. The string belongs to
/// the library and stays valid until the next call on this thread of a function that returns
/// `emotion_status`; copy it to keep it. Functions that do not return a status leave it as is.
#[no_mangle]
pub extern "C" fn emotion_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), status::last_error_ptr)
}

/// The name of a status code, e.g. `"EMOTION_ERROR_IO"`: a static string. NULL for a value that
/// is not an `EMOTION_*` status.
#[no_mangle]
pub extern "C" fn emotion_status_name(status: emotion_status) -> *const c_char {
    guard_value(std::ptr::null(), || {
        status::status_name(status).map_or(std::ptr::null(), CStr::as_ptr)
    })
}

/// The lower-case English name of an expression (`"neutral"`, `"happy"`, `"sad"`, `"surprise"`,
/// `"fear"`, `"disgust"`, `"anger"`, `"contempt"`): a static string. NULL when
/// `expression >= EMOTION_EXPRESSION_COUNT`.
#[no_mangle]
pub extern "C" fn emotion_expression_name(expression: emotion_expression) -> *const c_char {
    const NAMES: [&CStr; EMOTION_EXPRESSION_COUNT] = [
        c"neutral",
        c"happy",
        c"sad",
        c"surprise",
        c"fear",
        c"disgust",
        c"anger",
        c"contempt",
    ];
    guard_value(std::ptr::null(), || {
        NAMES
            .get(expression as usize)
            .map_or(std::ptr::null(), |n| n.as_ptr())
    })
}

/// The default options: bundled-model detector defaults (min_face_size 40, no max_face_size,
/// score_threshold 2.0, pyramid_scale_factor 0.8, window_step 4), threads 0 (all cores),
/// max_faces 0 (all), flip_average 0 (off), no model override (counts 0, `crop_scale` and
/// `crop_shift_y` NaN), and `struct_size = sizeof(emotion_options)`.
#[no_mangle]
pub extern "C" fn emotion_options_default() -> emotion_options {
    emotion_options::default()
}

/// Creates an analyzer with the bundled face detector and emotion model (compiled into the
/// library: no files needed). `options` may be NULL for the defaults.
///
/// On success `*out` is a new analyzer to release with `emotion_analyzer_free`; on failure
/// `*out` is set to NULL (when `out` is not NULL).
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`out` is NULL), `EMOTION_ERROR_INVALID_ARGUMENT` (an
/// option out of range, or `struct_size` wrong), `EMOTION_ERROR_MODEL` (the bundled model is
/// damaged).
///
/// # Safety
/// `options` is NULL or points to an `emotion_options`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn emotion_analyzer_new(
    options: *const emotion_options,
    out: *mut *mut emotion_analyzer,
) -> emotion_status {
    guard("emotion_analyzer_new", || unsafe {
        new_analyzer(None, options, out)
    })
}

/// As `emotion_analyzer_new`, with the ONNX emotion model at `model_path` (a NUL-terminated
/// path, bytes passed to the OS as they are) instead of the bundled one. The model must meet the
/// model contract (see the README); the face detector is still the bundled one.
///
/// Errors: as `emotion_analyzer_new`, plus `EMOTION_ERROR_NULL_POINTER` (`model_path` is NULL),
/// `EMOTION_ERROR_IO` (the file cannot be read), `EMOTION_ERROR_MODEL` (not ONNX, or the model
/// does not meet the contract: the message says what differs).
///
/// # Safety
/// `model_path` is NULL or a NUL-terminated string; otherwise as `emotion_analyzer_new`.
#[no_mangle]
pub unsafe extern "C" fn emotion_analyzer_new_with_model(
    model_path: *const c_char,
    options: *const emotion_options,
    out: *mut *mut emotion_analyzer,
) -> emotion_status {
    guard("emotion_analyzer_new_with_model", || unsafe {
        if !out.is_null() {
            *out = std::ptr::null_mut();
        }
        let path = path_arg(model_path, "model_path")?;
        new_analyzer(Some(path), options, out)
    })
}

/// Releases an analyzer. NULL is ignored. The analyzer must not be in use by another thread, and
/// must not be used afterwards.
///
/// # Safety
/// `analyzer` is NULL or a pointer returned by `emotion_analyzer_new*` and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn emotion_analyzer_free(analyzer: *mut emotion_analyzer) {
    if !analyzer.is_null() {
        // SAFETY: created by Box::into_raw in new_analyzer; the caller gives up the pointer.
        guard_value((), || drop(unsafe { Box::from_raw(analyzer) }));
    }
}

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

/// Fills `*out` with the model's information and the preprocessing in force. The strings
/// belong to the analyzer (valid until `emotion_analyzer_free`).
///
/// Errors: `EMOTION_ERROR_NULL_POINTER` (`analyzer` or `out` NULL).
///
/// # Safety
/// `analyzer` is NULL or a live analyzer; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn emotion_analyzer_model_info(
    analyzer: *const emotion_analyzer,
    out: *mut emotion_model_info,
) -> emotion_status {
    guard("emotion_analyzer_model_info", || unsafe {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        if analyzer.is_null() {
            return Err(Failure::null("analyzer"));
        }
        let a = &*analyzer;
        let model = a.inner.model();
        let pre = model.preprocessing();
        let per_channel = |v: &[f32], unused: f32| {
            let mut out = [unused; 3];
            out[..v.len().min(3)].copy_from_slice(&v[..v.len().min(3)]);
            out
        };
        *out = emotion_model_info {
            version: a.version.as_ptr(),
            training_data: a.training_data.as_ptr(),
            description: a.description.as_ptr(),
            input_color: if pre.color == InputColor::Gray { EMOTION_INPUT_COLOR_GRAY } else { EMOTION_INPUT_COLOR_RGB },
            input_height: pre.height as u32,
            input_width: pre.width as u32,
            input_channels: pre.color.channels() as u32,
            mean: per_channel(&pre.mean, 0.0),
            std: per_channel(&pre.std, 1.0),
            crop_scale: pre.crop_scale,
            crop_shift_y: pre.crop_shift_y,
            batch_size: model.batch_size() as u32,
            flip_average: u32::from(a.inner.flip_average()),
        };
        Ok(())
    })
}

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

// ---------------------------------------------------------------------------------------------
// Helpers

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

/// Builds the analyzer and stores it in `*out`.
unsafe fn new_analyzer(
    model: Option<PathBuf>,
    options: *const emotion_options,
    out: *mut *mut emotion_analyzer,
) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    *out = std::ptr::null_mut();
    let options = if options.is_null() {
        emotion_options::default()
    } else {
        // Read struct_size alone first: a caller with another layout may have a smaller struct.
        let size = std::ptr::addr_of!((*options).struct_size).read_unaligned();
        if size != OPTIONS_SIZE && size != OPTIONS_SIZE_V0_1 && size != OPTIONS_SIZE_V0_2 {
            return Err(options_size_error(size));
        }
        // The caller's fields over the defaults: an older, shorter struct keeps the defaults of
        // the fields it lacks.
        let mut merged = emotion_options::default();
        std::ptr::copy_nonoverlapping(
            options.cast::<u8>(),
            std::ptr::addr_of_mut!(merged).cast::<u8>(),
            size as usize,
        );
        merged.struct_size = OPTIONS_SIZE;
        merged
    };
    let o = options.to_core()?;
    let mut builder = Analyzer::builder()
        .detector_options(o.detector)
        .threads(o.threads)
        .max_faces(o.max_faces)
        .flip_average(o.flip_average)
        .align(o.align)
        .model_overrides(o.overrides);
    if let Some(path) = model {
        builder = builder.model_path(path);
    }
    let analyzer = builder.build()?;
    let info = analyzer.model().info();
    let c_string = |s: &str| CString::new(s.replace('\0', "")).unwrap_or_default();
    *out = Box::into_raw(Box::new(emotion_analyzer {
        version: c_string(&info.version),
        training_data: c_string(&info.training_data),
        description: c_string(&info.description),
        inner: Arc::new(analyzer),
    }));
    Ok(())
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
fn required_len(
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

/// A slice of `len` items from a caller pointer that may be NULL only when `len` is 0.
unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::new(
            EMOTION_ERROR_NULL_POINTER,
            format!("`{name}` is NULL but its count is {len}"),
        ));
    }
    if len
        .checked_mul(std::mem::size_of::<T>())
        .map_or(true, |bytes| bytes > isize::MAX as usize)
    {
        return Err(Failure::invalid(format!(
            "`{name}` count {len} is too large"
        )));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// Sets `*count` to the number of items and copies them to `out`, or fails with
/// `EMOTION_ERROR_BUFFER_TOO_SMALL` (out untouched) when they do not fit in `capacity`.
unsafe fn write_out<T>(
    items: impl ExactSizeIterator<Item = T>,
    out: *mut T,
    capacity: usize,
    count: &mut usize,
) -> Result<(), Failure> {
    let n = items.len();
    *count = n;
    if n > capacity {
        return Err(too_small(capacity, n, "results"));
    }
    for (i, item) in items.enumerate() {
        out.add(i).write(item);
    }
    Ok(())
}

pub(crate) fn too_small(capacity: usize, needed: usize, what: &str) -> Failure {
    Failure::new(
        EMOTION_ERROR_BUFFER_TOO_SMALL,
        format!("output capacity {capacity} is too small for {needed} {what}: *count holds the number needed"),
    )
}

fn options_size_error(size: u32) -> Failure {
    Failure::invalid(format!(
        "emotion_options.struct_size is {size}, expected {OPTIONS_SIZE} (or {OPTIONS_SIZE_V0_1}, the size \
         of version 0.1.0, or {OPTIONS_SIZE_V0_2}, without detector and align): initialize the options with emotion_options_default()"
    ))
}

/// A path from a NUL-terminated C string: the bytes as they are on Unix, UTF-8 elsewhere.
unsafe fn path_arg(ptr: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    let bytes = CStr::from_ptr(ptr).to_bytes();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| Failure::invalid(format!("`{name}` is not valid UTF-8")))
    }
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

    #[test]
    fn expression_names_match_the_core() {
        for e in emotion_core::Expression::ALL {
            let name = unsafe { CStr::from_ptr(emotion_expression_name(e as emotion_expression)) };
            assert_eq!(name.to_str().unwrap(), e.name());
        }
        assert!(emotion_expression_name(EMOTION_EXPRESSION_COUNT as emotion_expression).is_null());
    }

    #[test]
    fn version_is_the_crate_version() {
        let v = unsafe { CStr::from_ptr(emotion_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
