//! The JSON written for each image, each video frame, and for `--model-info`. One definition of
//! a face's JSON for the CLI and `emotion-server`: still faces, and tracked faces (`track_id`
//! first, smoothed values in the usual fields, this frame's own values under `raw`).

use std::path::Path;

use emotion_core::{Analyzer, Expression, Face, TrackedFace};
use serde::Serialize;

/// Wall time of each stage, milliseconds.
#[derive(Serialize)]
pub struct Timings {
    pub decode_ms: f64,
    /// Stills: face detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detect_ms: Option<f64>,
    /// Stills: the model on every face.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classify_ms: Option<f64>,
    /// Tracked frames (the server's stream): the tracker's update, detection and model together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_ms: Option<f64>,
    pub total_ms: f64,
}

#[derive(Serialize)]
struct BBoxJson {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
}

/// One face. `track_id` and `raw` only for tracked faces (videos, the server's stream).
#[derive(Serialize)]
pub struct FaceJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    track_id: Option<u64>,
    bbox: BBoxJson,
    detection_score: Option<f32>,
    /// Five `[x, y]` points in image pixels: the subject's right eye, left eye, nose tip, right
    /// and left mouth corners; null when the detector gives none (seeta, --whole-image).
    landmarks: Option<[[f32; 2]; 5]>,
    expression: &'static str,
    probabilities: Probabilities,
    valence: f32,
    arousal: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<RawJson>,
}

/// A tracked face's values on this frame alone, before smoothing.
#[derive(Serialize)]
struct RawJson {
    probabilities: Probabilities,
    valence: f32,
    arousal: f32,
}

impl From<&Face> for FaceJson {
    fn from(f: &Face) -> Self {
        FaceJson {
            track_id: None,
            bbox: BBoxJson { x: f.bbox.x, y: f.bbox.y, width: f.bbox.width, height: f.bbox.height },
            detection_score: f.detection_score,
            landmarks: f.landmarks,
            expression: f.expression.name(),
            probabilities: Probabilities(f.probabilities),
            valence: f.valence,
            arousal: f.arousal,
            raw: None,
        }
    }
}

impl From<&TrackedFace> for FaceJson {
    fn from(t: &TrackedFace) -> Self {
        let raw = RawJson { probabilities: Probabilities(t.raw.probabilities), valence: t.raw.valence, arousal: t.raw.arousal };
        FaceJson { track_id: Some(t.track_id), raw: Some(raw), ..FaceJson::from(&t.face) }
    }
}

/// Expression name -> probability, written in AffectNet order.
struct Probabilities([f32; 8]);

impl Serialize for Probabilities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (e, p) in Expression::ALL.iter().zip(self.0) {
            map.serialize_entry(e.name(), &p)?;
        }
        map.end()
    }
}

/// What the JSON says about the decoded image itself.
pub struct ImageMeta {
    pub width: u32,
    pub height: u32,
    /// The file was truncated or damaged and decoded partially (`--allow-partial`).
    pub partial: bool,
    /// The file holds frames or pages after the first, which alone was analysed
    /// ([`emotion_core::LoadedImage::more_frames`]).
    pub more_frames: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Serialize)]
struct ImageJson<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_hex: Option<String>,
    width: u32,
    height: u32,
    partial: bool,
    /// Only when true: `"more_frames": true` (the first frame or page alone was analysed).
    #[serde(skip_serializing_if = "is_false")]
    more_frames: bool,
    model_version: &'a str,
    faces: Vec<FaceJson>,
    timings: &'a Timings,
}

/// One compact JSON object (no newlines) describing `faces` found in `file`: `Face`s of a still,
/// or `TrackedFace`s (the server's stream).
pub fn image_json<'f, F>(file: &Path, image: &ImageMeta, analyzer: &Analyzer, faces: &'f [F], timings: &Timings) -> String
where
    FaceJson: From<&'f F>,
{
    let file_hex = file_hex(file);
    let file = file.to_string_lossy();
    let json = ImageJson {
        file: &file,
        file_hex,
        width: image.width,
        height: image.height,
        partial: image.partial,
        more_frames: image.more_frames,
        model_version: &analyzer.model().info().version,
        faces: faces.iter().map(FaceJson::from).collect(),
        timings,
    };
    // Serializing plain structs of numbers and strings cannot fail.
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// `file_hex`, for a path that is not valid UTF-8: the path's bytes as lower-case hex (on Unix
/// its exact bytes, `bytes.fromhex(...)` in Python; elsewhere Rust's `OsStr` encoding), since
/// `file` then carries U+FFFD in place of the bytes that are not UTF-8 and cannot be mapped
/// back. `None` (no field) for every UTF-8 path.
pub fn file_hex(path: &Path) -> Option<String> {
    use std::fmt::Write;
    let os = path.as_os_str();
    if os.to_str().is_some() {
        return None;
    }
    let mut hex = String::with_capacity(2 * os.len());
    for b in os.as_encoded_bytes() {
        let _ = write!(hex, "{b:02x}");
    }
    Some(hex)
}

#[derive(Serialize)]
struct ModelInfoJson<'a> {
    version: &'a str,
    training_data: &'a str,
    description: &'a str,
    input_color: &'static str,
    input_height: usize,
    input_width: usize,
    labels: [&'static str; 8],
    mean: &'a [f32],
    std: &'a [f32],
    crop_scale: f32,
    crop_shift_y: f32,
    batch_size: usize,
    flip_average: bool,
    align: bool,
    library_version: &'static str,
}

/// `--model-info`: the model's metadata and the preprocessing in force, keys as Python's
/// `Analyzer.model_info.to_dict()`.
pub fn model_info_json(analyzer: &Analyzer) -> String {
    let model = analyzer.model();
    let (info, pre) = (model.info(), model.preprocessing());
    let json = ModelInfoJson {
        version: &info.version,
        training_data: &info.training_data,
        description: &info.description,
        input_color: pre.color.name(),
        input_height: pre.height,
        input_width: pre.width,
        labels: Expression::ALL.map(Expression::name),
        mean: &pre.mean,
        std: &pre.std,
        crop_scale: pre.crop_scale,
        crop_shift_y: pre.crop_shift_y,
        batch_size: model.batch_size(),
        flip_average: analyzer.flip_average(),
        align: analyzer.align(),
        library_version: emotion_core::VERSION,
    };
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
