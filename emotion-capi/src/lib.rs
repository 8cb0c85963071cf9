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

// cbindgen writes include/emotion.h's items in the order of these declarations (status codes,
// types, then the functions in the order a C reader meets them), so rustfmt must not sort them.
mod args;
#[rustfmt::skip]
mod status;
#[rustfmt::skip]
mod types;
#[rustfmt::skip]
mod analyzer;
#[rustfmt::skip]
mod analyze;
#[rustfmt::skip]
mod image;
#[rustfmt::skip]
mod draw;
#[rustfmt::skip]
mod tracker;

use std::ffi::{c_char, CStr};

pub use analyze::*;
pub use analyzer::*;
pub use draw::*;
pub use self::image::*; // `self::`: the `image` crate is a dev-dependency
pub use status::*;
pub use tracker::*;
pub use types::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_crate_version() {
        let v = unsafe { CStr::from_ptr(emotion_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
