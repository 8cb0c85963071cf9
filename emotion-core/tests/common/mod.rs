//! Helpers shared by the integration tests: the test images in the repository, and the optional
//! test-only material in `../shared` (beside the repository on the project's CI; absent from a
//! fresh clone, where the tests that need it skip with a visible line).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The test-only material: `$EMOTION_SHARED` when set, else `../shared` relative to the
/// repository root.
pub fn shared() -> PathBuf {
    std::env::var_os("EMOTION_SHARED").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared"))
}

/// A file or folder under `../shared`, or `None` when it is absent. Then it prints
/// `SKIP <test>: needs <path> ...` to stderr (visible in `cargo test` output; the caller then
/// returns), unless `EMOTION_REQUIRE_SHARED=1`, when it panics: CI sets it so
/// that the tests never skip there.
///
/// ```ignore
/// let Some(path) = common::shared_or_skip("photos/face-boxes.csv") else { return };
/// ```
pub fn shared_or_skip(rel: &str) -> Option<PathBuf> {
    let path = shared().join(rel);
    if path.exists() {
        return Some(path);
    }
    let test = std::thread::current().name().unwrap_or("test").to_string();
    let message = format!("{test}: needs {} (test-only data beside the repository), absent", path.display());
    if std::env::var_os("EMOTION_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("{message} and EMOTION_REQUIRE_SHARED=1");
    }
    // Straight to the stderr handle: libtest captures `eprintln!` of passing tests, not this.
    let _ = writeln!(std::io::stderr(), "SKIP {message}");
    None
}

fn load(path: &Path) -> image::RgbImage {
    emotion_core::load_rgb(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A photo under `../shared/photos`, or `None` (with a `SKIP` line) when it is absent.
pub fn shared_photo(rel: &str) -> Option<image::RgbImage> {
    shared_or_skip(&format!("photos/{rel}")).map(|p| load(&p))
}

/// A test image in the repository's `tests/data` (see its README for sources and licences).
pub fn test_image(name: &str) -> image::RgbImage {
    load(&repo().join("tests/data").join(name))
}

/// `tests/data/astronaut-grid.png`: 4 copies of the astronaut's head at different scales.
pub fn grid() -> image::RgbImage {
    test_image("astronaut-grid.png")
}

/// A file under `tests/fixtures`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The sample shipped with the repo: `examples/data/astronaut.png`, 512x512, one face.
pub fn sample() -> image::RgbImage {
    load(&repo().join("examples/data/astronaut.png"))
}
