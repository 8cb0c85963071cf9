#![allow(dead_code)]

//! Pure Rust face detection library based on the libfacedetection CNN model.
//!
//! Vendored in the `emotion` workspace as `emotion-yunet` (see README.md for what changed).
//! Pass BGR bytes (the network was trained on BGR) to [`Detector::detect_bgr`], or RGB bytes to
//! [`Detector::detect_rgb`], which swaps them to BGR first:
//!
//! ```rust
//! use emotion_yunet::Detector;
//!
//! # fn main() -> Result<(), emotion_yunet::DetectError> {
//! let bgr = vec![0_u8; 2 * 2 * 3];
//! let mut detector = Detector::new();
//! let detection = detector.detect_bgr(&bgr, 2, 2, 6)?;
//!
//! assert_eq!(detection.face_count(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! The crate runs the imported CNN model and returns both structured faces and
//! the C-compatible result buffer behind the same public API.

mod blob;
mod detector;
mod error;
mod filter;
mod input;
mod kernels;
mod layers;
mod model;
mod network;
mod postprocess;
mod result;
mod threads;

pub use detector::Detector;
pub use error::DetectError;
pub use postprocess::{DetectionOutputParams, DEFAULT_DETECTION_OUTPUT_PARAMS};
pub use result::{
    Detection, FACEDETECTION_RESULT_BUFFER_SIZE, FACEDETECTION_RESULT_MAX_FACES,
    FACEDETECTION_RESULT_STRIDE_SHORTS, Face, ResultBuffer,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_api_returns_empty_detection_for_the_scaffold() {
        let rgb = vec![0_u8; 4 * 3 * 3];

        let mut detector = Detector::new();
        let detection = detector.detect_rgb(&rgb, 4, 3, 12).expect("valid input should run");

        assert_eq!(detection.face_count(), detection.faces().len());
        assert_eq!(
            detection.result_buffer().len(),
            FACEDETECTION_RESULT_BUFFER_SIZE
        );
    }

    #[test]
    fn detect_into_writes_a_valid_empty_result_buffer() {
        let width = 2;
        let height = 2;
        let step = width * 3;
        let bgr = vec![0_u8; step * height];
        let mut result_buffer = ResultBuffer::new();

        let mut detector = Detector::new();
        let summary = detector
            .detect_into(&bgr, width, height, step, result_buffer.as_mut_bytes())
            .expect("valid input should run");

        assert_eq!(summary.face_count(), result_buffer.face_count());
    }
}
