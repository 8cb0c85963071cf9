//! # emotion-core
//!
//! Facial emotion recognition: find the faces in an image and, for each, predict the
//! probabilities of 8 expressions (AffectNet order: neutral, happy, sad, surprise, fear,
//! disgust, anger, contempt) and continuous valence and arousal in [-1, 1].
//!
//! ```no_run
//! use emotion_core::{Analyzer, ImageView};
//! let img = emotion_core::load_rgb("face.jpg")?;
//! let analyzer = Analyzer::new()?;                        // bundled detector + model
//! for face in analyzer.analyze(&ImageView::try_from(&img)?)? {
//!     println!("{:?} {} v={:.2} a={:.2}", face.bbox, face.expression, face.valence, face.arousal);
//! }
//! # Ok::<(), emotion_core::Error>(())
//! ```
//!
//! Modules by concern: [`pixels`] (pixel buffers, crop/resize), [`decode`] (image files),
//! [`files`] (reading files with a size limit),
//! [`detect`] (face detection), [`model`] (ONNX model contract and inference), [`analyzer`]
//! (the pipeline for stills), [`track`] (video: face tracks with smoothed emotions), `draw`
//! (boxes, labels and valence/arousal markers on images; default feature `draw`), [`error`].

pub mod analyzer;
#[cfg(feature = "bundled-models")]
mod bundled;
pub mod decode;
pub mod detect;
#[cfg(feature = "draw")]
pub mod draw;
pub mod error;
pub mod expression;
pub mod files;
mod frames;
pub mod model;
mod parallel;
pub mod pixels;
pub mod track;

pub use analyzer::{Analyzer, AnalyzerBuilder, Face};
pub use detect::{
    Detection, DetectorKind, DetectorOptions, FaceDetector, Landmarks, SeetaDetector, YuNetDetector,
};
pub use error::{Error, ErrorKind, Result};
pub use expression::{Expression, EXPRESSION_COUNT};
pub use decode::{decode_image, load_image, load_rgb, LoadOptions, LoadedImage};
pub use track::{RawValues, TrackedFace, Tracker, TrackerOptions};
pub use model::{EmotionModel, InputColor, ModelInfo, ModelOverrides, Prediction, Preprocessing};
pub use pixels::{BBox, ImageView, PixelFormat, DEFAULT_MAX_PIXELS};

/// The `image` crate, re-exported: [`load_rgb`] returns its `RgbImage` and [`ImageView`]
/// converts from its buffers, so `emotion_core::image::RgbImage` is always the matching version.
pub use image;
/// The `ndarray` crate, re-exported: [`ImageView`] converts from its `ArrayView3<u8>` (H, W, C)
/// and `ArrayView2<u8>` (H, W) views.
pub use ndarray;

/// The crate version, `MAJOR.MINOR.PATCH`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
