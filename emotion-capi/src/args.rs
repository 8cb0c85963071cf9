//! Caller arguments: pointers that may be NULL, arrays with their counts, output arrays with
//! their capacity, paths.

use std::ffi::{c_char, CStr};
use std::path::PathBuf;

use crate::status::{Failure, EMOTION_ERROR_BUFFER_TOO_SMALL, EMOTION_ERROR_NULL_POINTER};

/// A slice of `len` items from a caller pointer that may be NULL only when `len` is 0.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
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
pub(crate) unsafe fn write_out<T>(
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

/// A path from a NUL-terminated C string: the bytes as they are on Unix, UTF-8 elsewhere.
pub(crate) unsafe fn path_arg(ptr: *const c_char, name: &str) -> Result<PathBuf, Failure> {
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
