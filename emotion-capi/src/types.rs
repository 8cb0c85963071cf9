//! The `#[repr(C)]` types of the header and their conversions from and to `emotion-core` types.
//!
//! Enumerations that C passes in (pixel format, expression, status) are `typedef`s of fixed-width
//! integers with `#define`d values rather than C `enum`s: a C caller can pass any integer, and an
//! out-of-range value in a Rust enum would be undefined behaviour. The library checks the value
//! and answers `EMOTION_ERROR_INVALID_ARGUMENT` instead.

use emotion_core::{BBox, Detection, DetectorOptions, Expression, Face, PixelFormat};

use crate::status::Failure;

/// Memory layout of one pixel: 8 bits per channel, channels in the order the name gives.
pub type emotion_pixel_format = u32;

/// Red, green, blue: 3 bytes per pixel (the default; what `emotion_image_load` returns).
pub const EMOTION_PIXEL_RGB8: emotion_pixel_format = 0;
/// Red, green, blue, alpha: 4 bytes per pixel; alpha is ignored.
pub const EMOTION_PIXEL_RGBA8: emotion_pixel_format = 1;
/// Blue, green, red: 3 bytes per pixel (OpenCV's `CV_8UC3` frames).
pub const EMOTION_PIXEL_BGR8: emotion_pixel_format = 2;
/// Blue, green, red, alpha: 4 bytes per pixel; alpha is ignored.
pub const EMOTION_PIXEL_BGRA8: emotion_pixel_format = 3;
/// One luma byte per pixel.
pub const EMOTION_PIXEL_GRAY8: emotion_pixel_format = 4;

/// The core pixel format for a C value.
pub(crate) fn pixel_format(format: emotion_pixel_format) -> Result<PixelFormat, Failure> {
    Ok(match format {
        EMOTION_PIXEL_RGB8 => PixelFormat::Rgb8,
        EMOTION_PIXEL_RGBA8 => PixelFormat::Rgba8,
        EMOTION_PIXEL_BGR8 => PixelFormat::Bgr8,
        EMOTION_PIXEL_BGRA8 => PixelFormat::Bgra8,
        EMOTION_PIXEL_GRAY8 => PixelFormat::Gray8,
        other => {
            return Err(Failure::invalid(format!(
                "unknown pixel format {other}: expected 0-4 (EMOTION_PIXEL_*)"
            )))
        }
    })
}

/// A facial expression class. The value is the index into `emotion_face.probabilities`
/// (AffectNet order).
pub type emotion_expression = u32;

/// Number of expression classes: the length of `emotion_face.probabilities`.
pub const EMOTION_EXPRESSION_COUNT: usize = 8;

/// Neutral (index 0).
pub const EMOTION_EXPRESSION_NEUTRAL: emotion_expression = 0;
/// Happy (index 1).
pub const EMOTION_EXPRESSION_HAPPY: emotion_expression = 1;
/// Sad (index 2).
pub const EMOTION_EXPRESSION_SAD: emotion_expression = 2;
/// Surprise (index 3).
pub const EMOTION_EXPRESSION_SURPRISE: emotion_expression = 3;
/// Fear (index 4).
pub const EMOTION_EXPRESSION_FEAR: emotion_expression = 4;
/// Disgust (index 5).
pub const EMOTION_EXPRESSION_DISGUST: emotion_expression = 5;
/// Anger (index 6).
pub const EMOTION_EXPRESSION_ANGER: emotion_expression = 6;
/// Contempt (index 7).
pub const EMOTION_EXPRESSION_CONTEMPT: emotion_expression = 7;

// The C constants above are the core's discriminants.
const _: () = assert!(EMOTION_EXPRESSION_COUNT == emotion_core::EXPRESSION_COUNT);
const _: () = assert!(Expression::Contempt as u32 == EMOTION_EXPRESSION_CONTEMPT);

/// A box in pixels: origin at the image's top-left corner, x to the right, y down.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_bbox {
    /// Left edge, pixels.
    pub x: f32,
    /// Top edge, pixels.
    pub y: f32,
    /// Width, pixels.
    pub width: f32,
    /// Height, pixels.
    pub height: f32,
}

impl From<BBox> for emotion_bbox {
    fn from(b: BBox) -> Self {
        emotion_bbox {
            x: b.x,
            y: b.y,
            width: b.width,
            height: b.height,
        }
    }
}

impl From<emotion_bbox> for BBox {
    fn from(b: emotion_bbox) -> Self {
        BBox::new(b.x, b.y, b.width, b.height)
    }
}

/// One detected face (`emotion_detect`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_detection {
    /// Face box in pixels, clamped to the image.
    pub bbox: emotion_bbox,
    /// Detector confidence: SeetaFace's cascade score, >= `emotion_options.score_threshold`,
    /// unbounded above (typical faces score 5-40).
    pub score: f32,
}

impl From<Detection> for emotion_detection {
    fn from(d: Detection) -> Self {
        emotion_detection {
            bbox: d.bbox.into(),
            score: d.score,
        }
    }
}

/// One analysed face (`emotion_analyze`, `emotion_classify`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_face {
    /// Face box in pixels, clamped to the image.
    pub bbox: emotion_bbox,
    /// The detector's score (see `emotion_detection.score`); NaN for boxes the caller gave to
    /// `emotion_classify` (test with `isnan`).
    pub detection_score: f32,
    /// Expression probabilities, each in [0, 1], summing to 1, indexed by `emotion_expression`
    /// (AffectNet order: neutral, happy, sad, surprise, fear, disgust, anger, contempt).
    pub probabilities: [f32; EMOTION_EXPRESSION_COUNT],
    /// The most probable expression (the first on ties).
    pub expression: emotion_expression,
    /// Valence in [-1, 1], negative to positive. The bundled model learnt it from AffectNet class
    /// statistics, not from human valence ratings (see the model card).
    pub valence: f32,
    /// Arousal in [-1, 1], calm to excited; same provenance as `valence`.
    pub arousal: f32,
}

impl From<Face> for emotion_face {
    fn from(f: Face) -> Self {
        emotion_face {
            bbox: f.bbox.into(),
            detection_score: f.detection_score.unwrap_or(f32::NAN),
            probabilities: f.probabilities,
            expression: f.expression as emotion_expression,
            valence: f.valence,
            arousal: f.arousal,
        }
    }
}

/// Analyzer settings. Start from `emotion_options_default()` and change the fields you need;
/// `emotion_analyzer_new` checks every field and answers `EMOTION_ERROR_INVALID_ARGUMENT`, naming
/// the field, when one is out of range.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_options {
    /// `sizeof(emotion_options)`, set by `emotion_options_default()`. Lets later versions append
    /// fields without breaking programs built against this header; a zeroed struct is rejected.
    pub struct_size: u32,
    /// Smallest face side to find, pixels, in [10, 10000]. Default 40. The detector's window is
    /// 40 px, so the image is scaled by 40 / min_face_size: 80 runs about 4x faster and misses
    /// faces under 80 px; 20 runs about 4x slower.
    pub min_face_size: u32,
    /// Largest face side to look for, pixels, >= `min_face_size`; 0 (default) = no limit (up to
    /// the image's short side).
    pub max_face_size: u32,
    /// Minimum detector score to report a face, finite and > 0. Default 2.0; higher trades recall
    /// for fewer false positives.
    pub score_threshold: f32,
    /// Ratio between image-pyramid levels, in [0.01, 0.99]. Default 0.8; lower is faster and
    /// misses more faces between scales.
    pub pyramid_scale_factor: f32,
    /// Sliding-window step, pixels, in [1, 64]. Default 4.
    pub window_step: u32,
    /// Most threads one call may use to run the model over several faces, in [1, 256];
    /// 0 (default) = the number of available cores.
    pub threads: u32,
}

/// `struct_size` this library expects. Future versions will accept this size and their larger
/// ones, reading appended fields only when the caller's `struct_size` includes them.
pub(crate) const OPTIONS_SIZE: u32 = std::mem::size_of::<emotion_options>() as u32;

impl Default for emotion_options {
    fn default() -> Self {
        let d = DetectorOptions::default();
        emotion_options {
            struct_size: OPTIONS_SIZE,
            min_face_size: d.min_face_size,
            max_face_size: d.max_face_size.unwrap_or(0),
            score_threshold: d.score_threshold,
            pyramid_scale_factor: d.pyramid_scale_factor,
            window_step: d.window_step,
            threads: 0,
        }
    }
}

impl emotion_options {
    /// Converts to the core's detector options and thread count (`None` = default). The caller
    /// checked `struct_size`; the ranges are checked by the core when building.
    pub(crate) fn to_core(self) -> (DetectorOptions, Option<usize>) {
        let detector = DetectorOptions::default()
            .with_min_face_size(self.min_face_size)
            .with_max_face_size((self.max_face_size != 0).then_some(self.max_face_size))
            .with_score_threshold(self.score_threshold)
            .with_pyramid_scale_factor(self.pyramid_scale_factor)
            .with_window_step(self.window_step);
        let threads = (self.threads != 0).then_some(self.threads as usize);
        (detector, threads)
    }
}

/// A decoded image owned by the library (`emotion_image_load`); release it with
/// `emotion_image_free`. Rows are tightly packed RGB: pass the fields straight to
/// `emotion_analyze`. Do not modify the fields: `emotion_image_free` needs them.
#[repr(C)]
#[derive(Debug)]
pub struct emotion_image {
    /// `stride * height` bytes of pixels, row-major, top row first.
    pub pixels: *mut u8,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Bytes from one row to the next (`3 * width`).
    pub stride: usize,
    /// Always `EMOTION_PIXEL_RGB8`.
    pub format: emotion_pixel_format,
}

impl emotion_image {
    /// All fields zero / NULL: the state after `emotion_image_free` or a failed load.
    pub(crate) const EMPTY: emotion_image = emotion_image {
        pixels: std::ptr::null_mut(),
        width: 0,
        height: 0,
        stride: 0,
        format: EMOTION_PIXEL_RGB8,
    };
}
