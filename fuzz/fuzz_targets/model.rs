//! Model file bytes through the model loader (ONNX parsing, the contract check, the metadata):
//! a model or a typed error, never a panic; a loaded model runs on a zero input.
#![no_main]

use emotion_core::{EmotionModel, ModelOverrides};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(model) = EmotionModel::from_bytes(bytes, &ModelOverrides::default()) {
        let input = vec![0.0f32; model.input_len()];
        let _ = model.predict(&input, 1);
    }
});
