//! The `#[repr(C)]` types of the header and their conversions from and to `emotion-core` types.
//!
//! Enumerations that C passes in (pixel format, expression, status) are `typedef`s of fixed-width
//! integers with `#define`d values rather than C `enum`s: a C caller can pass any integer, and an
//! out-of-range value in a Rust enum would be undefined behaviour. The library checks the value
//! and answers `EMOTION_ERROR_INVALID_ARGUMENT` instead.

use std::ffi::{c_char, CStr};

use emotion_core::{BBox, Detection, DetectorOptions, Expression, Face, InputColor, ModelOverrides, PixelFormat};

use crate::status::{guard_value, Failure};

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
    /// Detector confidence, >= `emotion_options.score_threshold` in force: YuNet's in [0, 1]
    /// (faces typically 0.7-0.95), SeetaFace's unbounded above (typical faces 5-40). Same name
    /// as `emotion_face.detection_score`.
    pub detection_score: f32,
    /// 1 when `landmarks` holds the detector's five points (detector yunet), 0 when it has none
    /// (detector seeta, caller boxes; `landmarks` is then all NaN).
    pub has_landmarks: u32,
    /// Five landmarks in image pixels as x, y pairs: the subject's right eye, left eye, nose
    /// tip, right mouth corner, left mouth corner (the subject's right is on the image's left for
    /// a face looking at the camera).
    pub landmarks: [f32; 10],
}

/// `(has_landmarks, landmarks)` of the C structs.
fn landmarks_c(l: Option<emotion_core::Landmarks>) -> (u32, [f32; 10]) {
    match l {
        Some(points) => {
            let mut out = [0f32; 10];
            for (o, p) in out.chunks_exact_mut(2).zip(points) {
                o.copy_from_slice(&p);
            }
            (1, out)
        }
        None => (0, [f32::NAN; 10]),
    }
}

impl From<Detection> for emotion_detection {
    fn from(d: Detection) -> Self {
        emotion_detection {
            bbox: d.bbox.into(),
            detection_score: d.detection_score,
            has_landmarks: landmarks_c(d.landmarks).0,
            landmarks: landmarks_c(d.landmarks).1,
        }
    }
}

/// One analysed face (`emotion_analyze`, `emotion_classify`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_face {
    /// Face box in pixels, clamped to the image.
    pub bbox: emotion_bbox,
    /// The detector's score (see `emotion_detection.detection_score`); NaN for boxes the caller
    /// gave to `emotion_classify` (test with `isnan`). Rust and Python say `None` there.
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
    /// 1 when `landmarks` holds the detector's five points (detector yunet), 0 when it has none
    /// (detector seeta, caller boxes; `landmarks` is then all NaN).
    pub has_landmarks: u32,
    /// Five landmarks in image pixels as x, y pairs: the subject's right eye, left eye, nose
    /// tip, right mouth corner, left mouth corner (the subject's right is on the image's left for
    /// a face looking at the camera).
    pub landmarks: [f32; 10],
}

impl emotion_face {
    /// The core face, for drawing. Fails for an `expression` out of range.
    pub(crate) fn to_core(self, index: usize) -> Result<Face, Failure> {
        let expression = Expression::from_index(self.expression as usize).ok_or_else(|| {
            Failure::invalid(format!(
                "faces[{index}].expression is {}: expected 0-7 (EMOTION_EXPRESSION_*)",
                self.expression
            ))
        })?;
        Ok(Face::new(
            self.bbox.into(),
            (!self.detection_score.is_nan()).then_some(self.detection_score),
            self.probabilities,
            expression,
            self.valence,
            self.arousal,
        )
        .with_landmarks((self.has_landmarks == 1).then(|| {
            let l = &self.landmarks;
            [[l[0], l[1]], [l[2], l[3]], [l[4], l[5]], [l[6], l[7]], [l[8], l[9]]]
        })))
    }
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
            has_landmarks: landmarks_c(f.landmarks).0,
            landmarks: landmarks_c(f.landmarks).1,
        }
    }
}

/// Input colour of the model, for `emotion_options.input_color` and `emotion_model_info`.
pub type emotion_input_color = u32;
/// Not set: the model's own value (in `emotion_options`).
pub const EMOTION_INPUT_COLOR_MODEL: emotion_input_color = 0;
/// One channel: BT.601 luma.
pub const EMOTION_INPUT_COLOR_GRAY: emotion_input_color = 1;
/// Three channels: R, G, B.
pub const EMOTION_INPUT_COLOR_RGB: emotion_input_color = 2;

/// Analyzer settings. Start from `emotion_options_default()` and change the fields you need;
/// `emotion_analyzer_new` checks every field and answers `EMOTION_ERROR_INVALID_ARGUMENT`, naming
/// the field, when one is out of range.
///
/// The rule of every front door (Rust, Python, C, command line): for counts and limits
/// (`max_face_size`, `max_faces`, `threads`, `batch_size`), 0 means "not set", i.e. the default
/// (no limit, all faces, all cores, batch 1). The model overrides use 0 or NaN for "not set":
/// the model's own metadata then applies.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct emotion_options {
    /// `sizeof(emotion_options)`, set by `emotion_options_default()`. Lets later versions append
    /// fields without breaking programs built against this header; a zeroed struct is rejected.
    /// The 28-byte struct of version 0.1.0 (up to `threads`) and the struct of version 0.2 (without
    /// `detector` and `align`) are still accepted.
    pub struct_size: u32,
    /// Smallest face side to find, pixels, in [10, 10000]. Default 20. YuNet: the image is scaled
    /// so that such a face measures 20 network pixels (the scaled image's longest side is at most
    /// 1280, so on larger photos the smallest face found grows). SeetaFace: the scale its 40 px
    /// window runs at (image scaled by 40 / min_face_size); boxes down to about 0.65x this value
    /// can be found and faces a little over it missed. Larger values are faster.
    pub min_face_size: u32,
    /// Largest face side to look for, pixels, >= `min_face_size`; 0 (default) = no limit (up to
    /// the image's short side).
    pub max_face_size: u32,
    /// Minimum detector score to report a face; 0 (default) = the detector's default (yunet 0.7,
    /// range [0, 1]; seeta 2.0, finite and >= 0). Higher trades recall for fewer false positives.
    pub score_threshold: f32,
    /// Ratio between image-pyramid levels, in [0.01, 0.99]. Default 0.8; lower is faster and
    /// misses more faces between scales.
    pub pyramid_scale_factor: f32,
    /// Sliding-window step, pixels, in [1, 64]. Default 4.
    pub window_step: u32,
    /// Most threads one call may use to detect faces and to run the model over several faces
    /// (trackers: also to re-detect several tracked faces at once), in [0, 256];
    /// 0 (default) = the number of available cores.
    pub threads: u32,
    /// Report at most this many faces per image (`emotion_analyze`, `emotion_detect`): the
    /// largest, ties by detection score, in detector order. 0 (default) = all faces.
    pub max_faces: u32,
    /// 1: test-time horizontal-flip averaging (each face is classified with its mirror image and
    /// the two predictions averaged; twice the model time). 0 (default): off. Other values are
    /// rejected.
    pub flip_average: u32,
    /// Model override: `EMOTION_INPUT_COLOR_GRAY` or `_RGB`; `EMOTION_INPUT_COLOR_MODEL` (0,
    /// default) = the model's.
    pub input_color: emotion_input_color,
    /// Model override: input height, pixels, in [8, 1024]; 0 (default) = the model's. Set both
    /// `input_height` and `input_width`, or neither.
    pub input_height: u32,
    /// Model override: input width, pixels, in [8, 1024]; 0 (default) = the model's.
    pub input_width: u32,
    /// Model override: how many of `mean` are set, 1 or 3 (one per input channel); 0 (default) =
    /// the model's.
    pub mean_count: u32,
    /// Model override: per-channel mean subtracted from pixel / 255 (first `mean_count` used).
    pub mean: [f32; 3],
    /// Model override: how many of `std` are set, 1 or 3; 0 (default) = the model's.
    pub std_count: u32,
    /// Model override: per-channel divisor applied after the mean, > 0 (first `std_count` used).
    pub std: [f32; 3],
    /// Model override: crop side as a multiple of the face box's longer side, in [0.1, 10];
    /// NaN (default) = the model's.
    pub crop_scale: f32,
    /// Model override: crop centre shift down as a fraction of the box height, in [-1, 1];
    /// NaN (default) = the model's.
    pub crop_shift_y: f32,
    /// Model override: batch size the inference plan is optimized for, in [0, 64]; 0 (default)
    /// = 1.
    pub batch_size: u32,
    /// Face detector: `EMOTION_DETECTOR_YUNET` (0, default: a CNN with five landmarks per face)
    /// or `EMOTION_DETECTOR_SEETA` (the SeetaFace frontal cascade, no landmarks).
    pub detector: emotion_detector,
    /// 1: turn each face's crop so the eyes are level before the model (faces with landmarks).
    /// 0 (default): off. Other values are rejected.
    pub align: u32,
}

/// Face detector, for `emotion_options.detector`.
pub type emotion_detector = u32;
/// YuNet (libfacedetection's CNN), the default: five landmarks per face.
pub const EMOTION_DETECTOR_YUNET: emotion_detector = 0;
/// SeetaFace's frontal cascade: no landmarks.
pub const EMOTION_DETECTOR_SEETA: emotion_detector = 1;

/// `struct_size` this library expects. Future versions will accept this size and their larger
/// ones, reading appended fields only when the caller's `struct_size` includes them.
pub(crate) const OPTIONS_SIZE: u32 = std::mem::size_of::<emotion_options>() as u32;
/// `struct_size` of version 0.1.0's `emotion_options` (fields up to `threads`).
pub(crate) const OPTIONS_SIZE_V0_1: u32 = 28;
/// `struct_size` of `emotion_options` before `detector` and `align` (fields up to `batch_size`).
pub(crate) const OPTIONS_SIZE_V0_2: u32 = OPTIONS_SIZE - 8;

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
            max_faces: 0,
            flip_average: 0,
            input_color: EMOTION_INPUT_COLOR_MODEL,
            input_height: 0,
            input_width: 0,
            mean_count: 0,
            mean: [0.0; 3],
            std_count: 0,
            std: [1.0; 3],
            crop_scale: f32::NAN,
            crop_shift_y: f32::NAN,
            batch_size: 0,
            detector: EMOTION_DETECTOR_YUNET,
            align: 0,
        }
    }
}

/// The options converted for the core's builder.
pub(crate) struct CoreOptions {
    pub detector: DetectorOptions,
    pub threads: usize,
    pub max_faces: usize,
    pub flip_average: bool,
    pub align: bool,
    pub overrides: ModelOverrides,
}

impl emotion_options {
    /// Converts to the core's settings. The caller checked `struct_size`; fields with no core
    /// check of their own (enumerations, counts, pairs) are checked here, the ranges by the core
    /// when building.
    pub(crate) fn to_core(self) -> Result<CoreOptions, Failure> {
        let kind = match self.detector {
            EMOTION_DETECTOR_YUNET => emotion_core::DetectorKind::Yunet,
            EMOTION_DETECTOR_SEETA => emotion_core::DetectorKind::Seeta,
            v => return Err(Failure::invalid(format!("invalid option detector = {v}: expected 0-1 (EMOTION_DETECTOR_*)"))),
        };
        let align = match self.align {
            0 => false,
            1 => true,
            v => return Err(Failure::invalid(format!("invalid option align = {v}: must be 0 or 1"))),
        };
        let detector = DetectorOptions::default()
            .with_detector(kind)
            .with_min_face_size(self.min_face_size)
            .with_max_face_size((self.max_face_size != 0).then_some(self.max_face_size))
            .with_score_threshold(self.score_threshold)
            .with_pyramid_scale_factor(self.pyramid_scale_factor)
            .with_window_step(self.window_step);
        let flip_average = match self.flip_average {
            0 => false,
            1 => true,
            v => return Err(Failure::invalid(format!("invalid option flip_average = {v}: must be 0 or 1"))),
        };
        let color = match self.input_color {
            EMOTION_INPUT_COLOR_MODEL => None,
            EMOTION_INPUT_COLOR_GRAY => Some(InputColor::Gray),
            EMOTION_INPUT_COLOR_RGB => Some(InputColor::Rgb),
            v => {
                return Err(Failure::invalid(format!(
                    "invalid option input_color = {v}: expected 0-2 (EMOTION_INPUT_COLOR_*)"
                )))
            }
        };
        let size = match (self.input_height, self.input_width) {
            (0, 0) => None,
            (0, _) | (_, 0) => {
                return Err(Failure::invalid(format!(
                    "invalid option input_size = {}x{}: set input_height and input_width together",
                    self.input_height, self.input_width
                )))
            }
            (h, w) => Some((h as usize, w as usize)),
        };
        let channels = |name: &str, count: u32, values: [f32; 3]| match count {
            0 => Ok(None),
            1 | 3 => Ok(Some(values[..count as usize].to_vec())),
            n => Err(Failure::invalid(format!("invalid option {name}_count = {n}: must be 0, 1 or 3"))),
        };
        let unset_nan = |v: f32| (!v.is_nan()).then_some(v);
        let mut overrides = ModelOverrides::default().with_batch_size(self.batch_size as usize);
        overrides.color = color;
        overrides.size = size;
        overrides.mean = channels("mean", self.mean_count, self.mean)?;
        overrides.std = channels("std", self.std_count, self.std)?;
        overrides.crop_scale = unset_nan(self.crop_scale);
        overrides.crop_shift_y = unset_nan(self.crop_shift_y);
        Ok(CoreOptions {
            detector,
            threads: self.threads as usize,
            max_faces: self.max_faces as usize,
            flip_average,
            align,
            overrides,
        })
    }
}

/// Flags of `emotion_image_load_with_options`.
pub type emotion_load_flags = u32;
/// Accept a truncated or damaged file: the pixels that decode are kept (the rest are black, or
/// grey for JPEG) and `*partial` is set to 1. Without it such files give `EMOTION_ERROR_DECODE`.
pub const EMOTION_LOAD_ALLOW_PARTIAL: emotion_load_flags = 1;

/// What `emotion_analyzer_model_info` reports: the model's metadata and the preprocessing in
/// force (metadata merged with the `emotion_options` overrides). The labels are the
/// `emotion_expression` names in AffectNet order (`emotion_expression_name(0..7)`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct emotion_model_info {
    /// `emotion.version` of the model, e.g. `"0.1.0+ferplus.20261129"`; `""` when absent.
    /// Owned by the analyzer: valid until `emotion_analyzer_free`.
    pub version: *const std::ffi::c_char,
    /// `emotion.training_data`: what the model learnt from; `""` when absent. Owned by the
    /// analyzer.
    pub training_data: *const std::ffi::c_char,
    /// `emotion.description`; `""` when absent. Owned by the analyzer.
    pub description: *const std::ffi::c_char,
    /// `EMOTION_INPUT_COLOR_GRAY` (1 channel) or `EMOTION_INPUT_COLOR_RGB` (3 channels).
    pub input_color: emotion_input_color,
    /// Model input height, pixels.
    pub input_height: u32,
    /// Model input width, pixels.
    pub input_width: u32,
    /// Input channels: 1 or 3 (the number of valid `mean` and `std` entries).
    pub input_channels: u32,
    /// Per-channel mean subtracted from pixel / 255.
    pub mean: [f32; 3],
    /// Per-channel divisor applied after the mean.
    pub std: [f32; 3],
    /// Crop side as a multiple of the face box's longer side.
    pub crop_scale: f32,
    /// Crop centre shift down, as a fraction of the box height.
    pub crop_shift_y: f32,
    /// Batch size of the optimized inference plan.
    pub batch_size: u32,
    /// 1 when flip averaging is on, else 0.
    pub flip_average: u32,
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

/// The lower-case English name of an expression (`"neutral"`, `"happy"`, `"sad"`, `"surprise"`,
/// `"fear"`, `"disgust"`, `"anger"`, `"contempt"`): a static string. NULL when
/// `expression >= EMOTION_EXPRESSION_COUNT`.
#[no_mangle]
pub extern "C" fn emotion_expression_name(expression: emotion_expression) -> *const c_char {
    const NAMES: [&CStr; EMOTION_EXPRESSION_COUNT] = [
        c"neutral",
        c"happy",
        c"sad",
        c"surprise",
        c"fear",
        c"disgust",
        c"anger",
        c"contempt",
    ];
    guard_value(std::ptr::null(), || {
        NAMES
            .get(expression as usize)
            .map_or(std::ptr::null(), |n| n.as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_names_match_the_core() {
        for e in emotion_core::Expression::ALL {
            let name = unsafe { CStr::from_ptr(emotion_expression_name(e as emotion_expression)) };
            assert_eq!(name.to_str().unwrap(), e.name());
        }
        assert!(emotion_expression_name(EMOTION_EXPRESSION_COUNT as emotion_expression).is_null());
    }
}
