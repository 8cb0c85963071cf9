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

/// What kind of error an [`Error`] is: the coarse grouping each front door maps to its own error
/// vocabulary (C status codes, Python exception classes, HTTP status and code), each in one
/// table.
///
/// Deliberately *not* `#[non_exhaustive]`: a front door's table matches every kind without a
/// catch-all, so a new kind (or a new [`Error`] variant, which [`Error::kind`] must place) does
/// not compile until every table says what it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The pixels cannot be used as given: zero size, a stride smaller than a row, a buffer too
    /// short, sizes that overflow, an unsupported layout.
    InvalidImage,
    /// The image has more pixels than the limit ([`Error::ImageTooLarge`]).
    ImageTooLarge,
    /// An option outside its range, or a video frame time that is not finite or not later than
    /// the previous frame's.
    InvalidArgument,
    /// A caller-supplied face box that is empty, not finite or outside the image.
    InvalidBox,
    /// The emotion model cannot be loaded, does not meet the contract, or has bad metadata.
    Model,
    /// The face detector model cannot be loaded.
    Detector,
    /// A file cannot be read.
    Io,
    /// An image file cannot be decoded.
    Decode,
    /// Running the network failed.
    Inference,
    /// A bug: a caught panic of a third-party component.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order (for tests of the front doors' tables).
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::InvalidImage,
        ErrorKind::ImageTooLarge,
        ErrorKind::InvalidArgument,
        ErrorKind::InvalidBox,
        ErrorKind::Model,
        ErrorKind::Detector,
        ErrorKind::Io,
        ErrorKind::Decode,
        ErrorKind::Inference,
        ErrorKind::Internal,
    ];
}

impl Error {
    /// The error's [`ErrorKind`]. Matched without a catch-all: a new variant must be placed here.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::EmptyImage { .. }
            | Error::SizeOverflow { .. }
            | Error::StrideTooSmall { .. }
            | Error::BufferTooSmall { .. }
            | Error::UnsupportedLayout(_) => ErrorKind::InvalidImage,
            Error::ImageTooLarge { .. } => ErrorKind::ImageTooLarge,
            Error::InvalidOption { .. } | Error::InvalidTimestamp { .. } => ErrorKind::InvalidArgument,
            Error::InvalidBox { .. } => ErrorKind::InvalidBox,
            Error::ModelLoad(_) | Error::ModelContract(_) | Error::ModelMetadata { .. } => ErrorKind::Model,
            Error::DetectorLoad(_) => ErrorKind::Detector,
            Error::Io { .. } => ErrorKind::Io,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::Inference(_) => ErrorKind::Inference,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_kind() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let cases = [
            (Error::EmptyImage { width: 0, height: 1 }, ErrorKind::InvalidImage),
            (Error::SizeOverflow { width: 1, height: 1, stride: 1 }, ErrorKind::InvalidImage),
            (Error::ImageTooLarge { width: 1, height: 1, pixels: 1, limit: 0 }, ErrorKind::ImageTooLarge),
            (Error::StrideTooSmall { stride: 1, row_bytes: 3 }, ErrorKind::InvalidImage),
            (Error::BufferTooSmall { len: 1, required: 3 }, ErrorKind::InvalidImage),
            (Error::UnsupportedLayout("x".into()), ErrorKind::InvalidImage),
            (Error::InvalidOption { name: "threads", value: "-1".into(), expected: "" }, ErrorKind::InvalidArgument),
            (Error::InvalidTimestamp { time_ms: f64::NAN, previous_ms: None, reason: "" }, ErrorKind::InvalidArgument),
            (Error::InvalidBox { index: 0, bbox: [0.0; 4], reason: "" }, ErrorKind::InvalidBox),
            (Error::ModelLoad("x".into()), ErrorKind::Model),
            (Error::ModelContract("x".into()), ErrorKind::Model),
            (Error::ModelMetadata { key: "k".into(), value: "v".into(), reason: "r".into() }, ErrorKind::Model),
            (Error::DetectorLoad("x".into()), ErrorKind::Detector),
            (Error::Inference("x".into()), ErrorKind::Inference),
            (Error::Internal("x".into()), ErrorKind::Internal),
            (Error::Io { path: "a".into(), source: io() }, ErrorKind::Io),
            (Error::Decode { path: "a".into(), message: "m".into() }, ErrorKind::Decode),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error}");
        }
    }

    #[test]
    fn all_lists_each_kind_once() {
        for (i, a) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(ErrorKind::ALL.iter().filter(|b| *b == a).count(), 1, "{a:?} at {i}");
        }
    }
}
