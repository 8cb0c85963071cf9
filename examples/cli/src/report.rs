//! The JSON line written for each image.

use std::path::Path;

use emotion_core::{Expression, Face};
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

#[derive(Serialize)]
struct ImageJson<'a> {
    file: &'a str,
    width: u32,
    height: u32,
    faces: Vec<FaceJson>,
    timings: &'a Timings,
}

/// One compact JSON object (no newlines) describing `faces` found in `file`.
pub fn image_json(file: &Path, width: u32, height: u32, faces: &[Face], timings: &Timings) -> String {
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
    let json = ImageJson { file: &file, width, height, faces, timings };
    // Serializing plain structs of numbers and strings cannot fail.
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
