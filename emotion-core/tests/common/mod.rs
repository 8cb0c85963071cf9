//! Helpers shared by the integration tests: paths to `../shared` (present in CI) and loaders.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` relative to the repository root.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// A photo under `../shared/photos`.
pub fn photo(rel: &str) -> image::RgbImage {
    let path = shared().join("photos").join(rel);
    emotion_core::load_rgb(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file under `tests/fixtures`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The sample shipped with the repo.
pub fn sample() -> image::RgbImage {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/data/astronaut.png");
    emotion_core::load_rgb(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
