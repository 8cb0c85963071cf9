//! The analyzer: `emotion_analyzer_new*`, `emotion_analyzer_free`, the default options and the
//! model's information.

use std::ffi::{c_char, CString};
use std::path::PathBuf;
use std::sync::Arc;

use emotion_core::{Analyzer, InputColor};

use crate::args::path_arg;
use crate::status::{emotion_status, guard, guard_value, Failure};
use crate::types::{
    emotion_model_info, emotion_options, EMOTION_INPUT_COLOR_GRAY, EMOTION_INPUT_COLOR_RGB, OPTIONS_SIZE,
    OPTIONS_SIZE_V0_1, OPTIONS_SIZE_V0_2,
};

/// A face detector plus emotion model, created by `emotion_analyzer_new` and released with
/// `emotion_analyzer_free`. Opaque. Thread-safe: one analyzer may serve any number of threads
/// at once (calls take it as `const`).
pub struct emotion_analyzer {
    // Shared with the trackers made from it, so either may be freed first.
    pub(crate) inner: Arc<Analyzer>,
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

/// The default options: detector YuNet (`EMOTION_DETECTOR_YUNET`), min_face_size 20, no
/// max_face_size, score_threshold 0 (the detector's own: 0.7 for YuNet), pyramid_scale_factor 0.8
/// and window_step 4 (SeetaFace only), threads 0 (all cores), max_faces 0 (all), flip_average 0
/// and align 0 (off), no model override (counts 0, `crop_scale` and
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

fn options_size_error(size: u32) -> Failure {
    Failure::invalid(format!(
        "emotion_options.struct_size is {size}, expected {OPTIONS_SIZE} (or {OPTIONS_SIZE_V0_1}, the size \
         of version 0.1.0, or {OPTIONS_SIZE_V0_2}, without detector and align): initialize the options with emotion_options_default()"
    ))
}
