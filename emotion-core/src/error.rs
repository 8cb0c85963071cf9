//! The one error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong in `emotion-core`. Every fallible public function returns
/// [`Result<T>`]; no input, however malformed, makes the library panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Width or height is zero.
    #[error("image has zero size: {width}x{height}")]
    EmptyImage { width: u32, height: u32 },

    /// `stride * (height - 1) + row bytes` (or `width * bytes per pixel`) does not fit in `usize`.
    #[error("image size overflows: {width}x{height}, stride {stride} bytes")]
    SizeOverflow { width: u32, height: u32, stride: usize },

    /// The image has more pixels than the limit ([`crate::DEFAULT_MAX_PIXELS`] unless changed).
    #[error("image too large: {width}x{height} = {pixels} pixels exceeds the limit of {limit}")]
    ImageTooLarge { width: u32, height: u32, pixels: u64, limit: u64 },

    /// The row stride is smaller than one row of pixels.
    #[error("stride {stride} bytes is smaller than a row ({row_bytes} bytes)")]
    StrideTooSmall { stride: usize, row_bytes: usize },

    /// The buffer is shorter than `stride * (height - 1) + row bytes`.
    #[error("pixel buffer too small: {len} bytes, need at least {required}")]
    BufferTooSmall { len: usize, required: usize },

    /// An array or image type whose memory layout or channel count cannot be viewed as pixels.
    #[error("unsupported image layout: {0}")]
    UnsupportedLayout(String),

    /// An option outside its documented range (name, offending value, allowed range).
    #[error("invalid option {name} = {value}: {expected}")]
    InvalidOption { name: &'static str, value: String, expected: &'static str },

    /// A video frame's timestamp that is not finite or not later than the previous frame's.
    #[error("invalid frame time {} ms: {reason}{}", milliseconds(*time_ms), previous_frame(previous_ms))]
    InvalidTimestamp { time_ms: f64, previous_ms: Option<f64>, reason: &'static str },

    /// A caller-supplied bounding box that is empty, not finite, or entirely outside the image.
    #[error("invalid bounding box #{index} {bbox:?}: {reason}")]
    InvalidBox { index: usize, bbox: [f32; 4], reason: &'static str },

    /// The model file could not be read or parsed as ONNX.
    #[error("cannot load model: {0}")]
    ModelLoad(String),

    /// The ONNX model does not meet the model contract ([`crate::model`]); the message says what
    /// differs.
    #[error("model does not meet the contract: {0}")]
    ModelContract(String),

    /// A `metadata_props` entry (or its override) cannot be parsed.
    #[error("bad model metadata {key} = {value:?}: {reason}")]
    ModelMetadata { key: String, value: String, reason: String },

    /// The face detector model could not be loaded.
    #[error("cannot load face detector model: {0}")]
    DetectorLoad(String),

    /// Running the network failed (should not happen with a model that passed the load checks).
    #[error("inference failed: {0}")]
    Inference(String),

    /// A third-party component panicked; the panic was caught and turned into this error.
    #[error("internal error: {0}")]
    Internal(String),

    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An image file could not be decoded.
    #[error("cannot decode image {path}: {message}")]
    Decode { path: PathBuf, message: String },
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// " (previous frame at T ms)", or nothing before the first frame.
fn previous_frame(previous_ms: &Option<f64>) -> String {
    previous_ms.map(|p| format!(" (previous frame at {} ms)", milliseconds(p))).unwrap_or_default()
}

/// A time as Rust prints it (`340`, `12.5`, `NaN`), in scientific notation when its size is
/// outside [1e-6, 1e16) (`-1e308` rather than a 309-digit number).
fn milliseconds(ms: f64) -> String {
    if ms.is_finite() && ms != 0.0 && !(1e-6..1e16).contains(&ms.abs()) {
        format!("{ms:e}")
    } else {
        ms.to_string()
    }
}
