//! Status codes, the thread-local last-error message, and [`guard`], which every exported
//! function runs its body through (panic capture, status mapping, last-error bookkeeping).

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use emotion_core::{Error, ErrorKind};

/// Result of every fallible call: `EMOTION_OK` (0) or one of the `EMOTION_ERROR_*` codes (> 0).
/// After a failure, `emotion_last_error_message()` says what went wrong. Values are stable across
/// versions; new codes may be added, so treat unknown non-zero values as errors.
pub type emotion_status = i32;

/// Success.
pub const EMOTION_OK: emotion_status = 0;
/// A required pointer argument is NULL (e.g. the analyzer, `pixels`, `count`, or `out` with
/// `capacity > 0`).
pub const EMOTION_ERROR_NULL_POINTER: emotion_status = 1;
/// An argument is out of range: an option (`emotion_options` field, `struct_size`), an unknown
/// pixel format, a caller box that is empty, not finite or outside the image, or a path that is
/// not valid for this platform.
pub const EMOTION_ERROR_INVALID_ARGUMENT: emotion_status = 2;
/// The image description is unusable: zero width or height, more than 100 million pixels, a
/// stride smaller than one row (`width * bytes per pixel`), or sizes whose byte count overflows
/// `size_t`.
pub const EMOTION_ERROR_INVALID_IMAGE: emotion_status = 3;
/// The output array is too small: `*count` holds the number of entries needed and `out` was not
/// written. Call again with at least that capacity.
pub const EMOTION_ERROR_BUFFER_TOO_SMALL: emotion_status = 4;
/// The emotion model or face detector could not be loaded: not ONNX, or it does not meet the
/// model contract, or its metadata is malformed.
pub const EMOTION_ERROR_MODEL: emotion_status = 5;
/// A file could not be read (missing, permissions, ...).
pub const EMOTION_ERROR_IO: emotion_status = 6;
/// An image file could not be decoded (not PNG, JPEG, BMP, GIF, TIFF or WebP, or corrupt).
pub const EMOTION_ERROR_DECODE: emotion_status = 7;
/// Running the network failed (not expected with a model that loaded).
pub const EMOTION_ERROR_INFERENCE: emotion_status = 8;
/// A bug: a panic inside the library was caught, or an internal invariant failed. The message
/// has details; please report it.
pub const EMOTION_ERROR_INTERNAL: emotion_status = 9;

/// Name of a status code, e.g. `"EMOTION_ERROR_IO"`, or `None` for an unknown value.
pub(crate) fn status_name(status: emotion_status) -> Option<&'static std::ffi::CStr> {
    Some(match status {
        EMOTION_OK => c"EMOTION_OK",
        EMOTION_ERROR_NULL_POINTER => c"EMOTION_ERROR_NULL_POINTER",
        EMOTION_ERROR_INVALID_ARGUMENT => c"EMOTION_ERROR_INVALID_ARGUMENT",
        EMOTION_ERROR_INVALID_IMAGE => c"EMOTION_ERROR_INVALID_IMAGE",
        EMOTION_ERROR_BUFFER_TOO_SMALL => c"EMOTION_ERROR_BUFFER_TOO_SMALL",
        EMOTION_ERROR_MODEL => c"EMOTION_ERROR_MODEL",
        EMOTION_ERROR_IO => c"EMOTION_ERROR_IO",
        EMOTION_ERROR_DECODE => c"EMOTION_ERROR_DECODE",
        EMOTION_ERROR_INFERENCE => c"EMOTION_ERROR_INFERENCE",
        EMOTION_ERROR_INTERNAL => c"EMOTION_ERROR_INTERNAL",
        _ => return None,
    })
}

/// A failed call: the status to return and the message for `emotion_last_error_message()`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: emotion_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: emotion_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// `EMOTION_ERROR_NULL_POINTER` naming the argument.
    pub fn null(argument: &str) -> Self {
        Failure::new(EMOTION_ERROR_NULL_POINTER, format!("`{argument}` is NULL"))
    }

    /// `EMOTION_ERROR_INVALID_ARGUMENT`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(EMOTION_ERROR_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    /// The status of the error's kind; the message is the core error's text.
    fn from(e: Error) -> Self {
        Failure::new(kind_status(e.kind()), e.to_string())
    }
}

/// The status of each kind of core error: the one table (no catch-all, so a new [`ErrorKind`]
/// does not compile until it is placed here).
pub(crate) fn kind_status(kind: ErrorKind) -> emotion_status {
    match kind {
        ErrorKind::InvalidImage | ErrorKind::ImageTooLarge => EMOTION_ERROR_INVALID_IMAGE,
        ErrorKind::InvalidArgument | ErrorKind::InvalidBox => EMOTION_ERROR_INVALID_ARGUMENT,
        ErrorKind::Model | ErrorKind::Detector => EMOTION_ERROR_MODEL,
        ErrorKind::Io => EMOTION_ERROR_IO,
        ErrorKind::Decode => EMOTION_ERROR_DECODE,
        ErrorKind::Inference => EMOTION_ERROR_INFERENCE,
        ErrorKind::Internal => EMOTION_ERROR_INTERNAL,
    }
}

thread_local! {
    /// The message of the last failed call on this thread; `None` after a successful call.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: Option<String>) {
    // Interior NUL bytes (possible in paths) would truncate the C string: replace them.
    let message = message.map(|m| CString::new(m.replace('\0', "\\0")).unwrap_or_default());
    // `try_with`: during thread teardown the slot may be gone; then there is nobody to tell.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
}

/// Pointer to this thread's last error message, or to `""` when the last call succeeded. The
/// pointer stays valid until the next call into the library that returns a status on this thread.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ref().map(|m| m.as_ptr()))
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}

/// The text of a panic payload (`panic!` with a string literal or a formatted message).
fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs the body of an exported function: catches panics (`EMOTION_ERROR_INTERNAL`), records the
/// last error message (set on failure, cleared on success) and returns the status.
///
/// `AssertUnwindSafe` is sound here: the analyzer is only used through `&self` (no state a panic
/// could leave half-updated), and output arrays are written only after all work has succeeded.
pub(crate) fn guard(function: &str, body: impl FnOnce() -> Result<(), Failure>) -> emotion_status {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error(None);
            return EMOTION_OK;
        }
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(
            EMOTION_ERROR_INTERNAL,
            format!(
                "internal error: panic in {function}: {}",
                panic_text(payload.as_ref())
            ),
        ),
    };
    set_last_error(Some(failure.message));
    failure.status
}

/// For the functions that return a value instead of a status: runs `body`, returning `fallback`
/// if it panics. The last error message is left unchanged.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The message of the last failed call on the calling thread, e.g. `"stride 10 bytes is smaller
/// than a row (30 bytes)"`; `""` when the last call succeeded. Never NULL. The string belongs to
/// the library and stays valid until the next call on this thread of a function that returns
/// `emotion_status`; copy it to keep it. Functions that do not return a status leave it as is.
#[no_mangle]
pub extern "C" fn emotion_last_error_message() -> *const c_char {
    guard_value(c"".as_ptr(), last_error_ptr)
}

/// The name of a status code, e.g. `"EMOTION_ERROR_IO"`: a static string. NULL for a value that
/// is not an `EMOTION_*` status.
#[no_mangle]
pub extern "C" fn emotion_status_name(status: emotion_status) -> *const c_char {
    guard_value(std::ptr::null(), || {
        status_name(status).map_or(std::ptr::null(), CStr::as_ptr)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_error() -> String {
        unsafe { CStr::from_ptr(last_error_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn each_error_kind_has_its_status() {
        let expected = [
            (ErrorKind::InvalidImage, EMOTION_ERROR_INVALID_IMAGE),
            (ErrorKind::ImageTooLarge, EMOTION_ERROR_INVALID_IMAGE),
            (ErrorKind::InvalidArgument, EMOTION_ERROR_INVALID_ARGUMENT),
            (ErrorKind::InvalidBox, EMOTION_ERROR_INVALID_ARGUMENT),
            (ErrorKind::Model, EMOTION_ERROR_MODEL),
            (ErrorKind::Detector, EMOTION_ERROR_MODEL),
            (ErrorKind::Io, EMOTION_ERROR_IO),
            (ErrorKind::Decode, EMOTION_ERROR_DECODE),
            (ErrorKind::Inference, EMOTION_ERROR_INFERENCE),
            (ErrorKind::Internal, EMOTION_ERROR_INTERNAL),
        ];
        assert_eq!(expected.len(), ErrorKind::ALL.len());
        for (kind, status) in expected {
            assert_eq!(kind_status(kind), status, "{kind:?}");
        }
        let late = Error::InvalidTimestamp { time_ms: 1.0, previous_ms: Some(2.0), reason: "not later" };
        let failure = Failure::from(late);
        assert_eq!(failure.status, EMOTION_ERROR_INVALID_ARGUMENT);
        assert_eq!(failure.message, "invalid frame time 1 ms: not later (previous frame at 2 ms)");
    }

    #[test]
    fn panics_become_internal_errors() {
        let status = guard("test_fn", || panic!("boom {}", 42));
        assert_eq!(status, EMOTION_ERROR_INTERNAL);
        assert_eq!(last_error(), "internal error: panic in test_fn: boom 42");
        assert_eq!(guard("test_fn", || Ok(())), EMOTION_OK);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn failures_set_the_message_and_nul_bytes_are_escaped() {
        let status = guard("test_fn", || Err(Failure::invalid("bad\0path")));
        assert_eq!(status, EMOTION_ERROR_INVALID_ARGUMENT);
        assert_eq!(last_error(), "bad\\0path");
    }

    #[test]
    fn every_status_has_a_name() {
        for s in EMOTION_OK..=EMOTION_ERROR_INTERNAL {
            assert!(status_name(s).is_some(), "{s}");
        }
        assert!(status_name(EMOTION_ERROR_INTERNAL + 1).is_none());
    }
}
