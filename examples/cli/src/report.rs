//! The JSON written for each image, and for `--model-info`.

use std::path::Path;

use emotion_core::{Analyzer, Expression, Face};
use serde::Serialize;

/// Wall time of each stage, milliseconds.
#[derive(Serialize)]
pub struct Timings {
    pub decode_ms: f64,
    pub detect_ms: f64,
    pub classify_ms: f64,
    pub total_ms: f64,
}

#[derive(Serialize)]
struct BBoxJson {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
}

#[derive(Serialize)]
struct FaceJson {
    bbox: BBoxJson,
    detection_score: Option<f32>,
    expression: &'static str,
    probabilities: Probabilities,
    valence: f32,
    arousal: f32,
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
}

#[derive(Serialize)]
struct ImageJson<'a> {
    file: &'a str,
    width: u32,
    height: u32,
    partial: bool,
    model_version: &'a str,
    faces: Vec<FaceJson>,
    timings: &'a Timings,
}

/// One compact JSON object (no newlines) describing `faces` found in `file`.
pub fn image_json(file: &Path, image: &ImageMeta, analyzer: &Analyzer, faces: &[Face], timings: &Timings) -> String {
    let faces = faces
        .iter()
        .map(|f| FaceJson {
            bbox: BBoxJson { x: f.bbox.x, y: f.bbox.y, width: f.bbox.width, height: f.bbox.height },
            detection_score: f.detection_score,
            expression: f.expression.name(),
            probabilities: Probabilities(f.probabilities),
            valence: f.valence,
            arousal: f.arousal,
        })
        .collect();
    let file = file.to_string_lossy();
    let json = ImageJson {
        file: &file,
        width: image.width,
        height: image.height,
        partial: image.partial,
        model_version: &analyzer.model().info().version,
        faces,
        timings,
    };
    // Serializing plain structs of numbers and strings cannot fail.
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
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
        library_version: emotion_core::VERSION,
    };
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
