//! The option table shared by every front door (`tests/options.json`), through the Rust builder.

use emotion_core::{Analyzer, AnalyzerBuilder, Error, InputColor, ModelOverrides};
use serde_json::Value;

/// The table's cases: (option, value, valid).
pub fn cases() -> Vec<(String, Value, bool)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/options.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    table["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["option"].as_str().unwrap().to_string(), c["value"].clone(), c["valid"].as_bool().unwrap()))
        .collect()
}

fn float(v: &Value) -> f32 {
    match v.as_str() {
        Some("nan") => f32::NAN,
        Some("inf") => f32::INFINITY,
        Some("-inf") => f32::NEG_INFINITY,
        _ => v.as_f64().unwrap() as f32,
    }
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(float).collect()
}

/// The builder with the option set; `None` when Rust's types cannot hold the value (negative
/// integers, unknown colour names).
fn with_option(b: AnalyzerBuilder, option: &str, v: &Value) -> Option<AnalyzerBuilder> {
    let uint = || v.as_u64();
    let over = |o: ModelOverrides| Some(Analyzer::builder().model_overrides(o));
    Some(match option {
        "min_face_size" => b.min_face_size(uint()?.try_into().ok()?),
        "max_face_size" => b.max_face_size(uint()?.try_into().ok()?),
        "max_faces" => b.max_faces(uint()? as usize),
        "score_threshold" => b.score_threshold(float(v)),
        "detector" => b.detector_kind(v.as_str()?.parse().ok()?),
        "pyramid_scale_factor" => b.pyramid_scale_factor(float(v)),
        "window_step" => b.window_step(uint()?.try_into().ok()?),
        "threads" => b.threads(uint()? as usize),
        "flip_average" => b.flip_average(v.as_bool().unwrap()),
        "input_color" => {
            let color = match v.as_str().unwrap() {
                "gray" => InputColor::Gray,
                "rgb" => InputColor::Rgb,
                _ => return None,
            };
            return over(ModelOverrides::default().with_color(color));
        }
        "input_size" => {
            let s = v.as_array().unwrap();
            let size = (s[0].as_u64().unwrap() as usize, s[1].as_u64().unwrap() as usize);
            return over(ModelOverrides::default().with_size(size.0, size.1));
        }
        "mean" => return over(ModelOverrides::default().with_mean(floats(v))),
        "std" => return over(ModelOverrides::default().with_std(floats(v))),
        "crop_scale" => return over(ModelOverrides::default().with_crop_scale(float(v))),
        "crop_shift_y" => return over(ModelOverrides::default().with_crop_shift_y(float(v))),
        "batch_size" => return over(ModelOverrides::default().with_batch_size(uint()? as usize)),
        other => panic!("option {other} is not handled by this test"),
    })
}

#[test]
fn every_value_of_the_table_is_accepted_or_rejected_by_name() {
    let (mut checked, mut skipped) = (0, 0);
    for (option, value, valid) in cases() {
        let Some(builder) = with_option(Analyzer::builder(), &option, &value) else {
            skipped += 1;
            continue;
        };
        match (builder.build(), valid) {
            (Ok(_), true) => {}
            (Err(Error::InvalidOption { name, .. }), false) => assert_eq!(name, option, "{option} = {value}"),
            (got, _) => panic!("{option} = {value}: expected valid = {valid}, got {got:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 50 && skipped <= 10, "{checked} checked, {skipped} skipped");
}

#[test]
fn zero_means_the_default_for_counts_and_limits() {
    let a = Analyzer::builder().threads(0).max_faces(0).max_face_size(0).build().unwrap();
    assert_eq!(a.threads(), std::thread::available_parallelism().unwrap().get());
    assert_eq!(a.max_faces(), None);
    let b = Analyzer::builder()
        .model_overrides(ModelOverrides::default().with_batch_size(0))
        .build()
        .unwrap();
    assert_eq!(b.model().batch_size(), 1);
}
