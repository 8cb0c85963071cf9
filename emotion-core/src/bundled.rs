//! Model files compiled into the library (cargo feature `bundled-models`).

/// SeetaFace frontal face cascade v1.0 (BSD-2-Clause, `models/LICENSE-seetaface.txt`).
pub(crate) static SEETA_FRONTAL: &[u8] = include_bytes!("../models/seeta_fd_frontal_v1.0.bin");

/// The default emotion model (`models/MODEL_CARD.md`).
pub(crate) static EMOTION_MODEL: &[u8] = include_bytes!("../models/emotion.onnx");
