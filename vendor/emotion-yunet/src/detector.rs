use crate::error::DetectError;
use crate::input::PixelFormat;
use crate::model::{Model, load_static_model};
use crate::network::{
    BackboneOutputs, HeadOutputs, NetworkWorkspace, PixelInput, forward_network_from_pixels_to,
};
use crate::postprocess::{
    DEFAULT_DETECTION_OUTPUT_PARAMS, DecodedOutputs, DetectionOutputParams, DetectionOutputWorkspace,
    decode_and_concat_to, detection_output_to,
};
use crate::result::{Detection, DetectionSummary, ResultBuffer, write_faces_to_result_buffer};

use std::sync::Arc;

/// Reusable detector instance.
///
/// Create one detector and reuse it for repeated calls: it owns the buffers of the network's
/// layers, so a call on an image of the same size allocates nothing. The parsed model is shared
/// (`Arc`): [`Clone`] gives a detector with the same model and settings and its own buffers,
/// cheaply, e.g. one per thread.
#[derive(Debug)]
pub struct Detector {
    model: Arc<Model>,
    params: DetectionOutputParams,
    threads: usize,
    workspace: Workspace,
}

impl Clone for Detector {
    fn clone(&self) -> Self {
        Self {
            model: Arc::clone(&self.model),
            params: self.params,
            threads: self.threads,
            workspace: Workspace::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Workspace {
    network: NetworkWorkspace,
    backbone_outputs: BackboneOutputs,
    head_outputs: HeadOutputs,
    decoded_outputs: DecodedOutputs,
    detection_output: DetectionOutputWorkspace,
    rgb_to_bgr: Vec<u8>,
}

impl Detector {
    /// Creates a detector with the built-in model and
    /// [`DEFAULT_DETECTION_OUTPUT_PARAMS`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The score threshold, suppression overlap and candidate limits in force.
    pub fn params(&self) -> DetectionOutputParams {
        self.params
    }

    /// Threads one detection may use, the calling thread included (0 counts as 1; default 1:
    /// nothing is spawned). The larger layers are split into bands of output rows computed on
    /// scoped threads; every value is computed by the same code from the same inputs, so faces,
    /// scores, boxes and landmarks are identical on any thread count.
    pub fn set_num_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// The thread count set by [`Detector::set_num_threads`].
    pub fn num_threads(&self) -> usize {
        self.threads
    }

    /// Sets the score threshold, suppression overlap and candidate limits.
    ///
    /// # Errors
    /// [`DetectError::InvalidParam`] as [`DetectionOutputParams::validate`]; the settings in force
    /// are then left unchanged.
    pub fn set_params(&mut self, params: DetectionOutputParams) -> Result<(), DetectError> {
        params.validate()?;
        self.params = params;
        Ok(())
    }

    /// Faces in a tightly packed or strided RGB image (`step` bytes from one row to the next,
    /// at least `width * 3`). The network was trained on BGR: the bytes are swapped to BGR in a
    /// copy first (upstream passed them on as given, whatever the format), so this gives
    /// exactly [`Detector::detect_bgr`]'s answer on the same image.
    ///
    /// # Errors
    /// [`DetectError`] for a zero dimension, a step under `width * 3` or a slice shorter than
    /// `step * height`.
    pub fn detect_rgb(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
        step: usize,
    ) -> Result<Detection, DetectError> {
        validate_image(rgb, width, height, step)?;
        let mut bgr = core::mem::take(&mut self.workspace.rgb_to_bgr);
        bgr.clear();
        for row in rgb.chunks(step).take(height) {
            for px in row[..width * 3].chunks_exact(3) {
                bgr.extend_from_slice(&[px[2], px[1], px[0]]);
            }
        }
        let mut result = ResultBuffer::new();
        let summary = self.detect_pixels(
            &bgr,
            width,
            height,
            width * 3,
            PixelFormat::Bgr,
            result.as_mut_bytes(),
        );
        self.workspace.rgb_to_bgr = bgr;
        let summary = summary?;
        let faces = self.workspace.detection_output.faces().to_vec();
        debug_assert_eq!(faces.len(), summary.face_count());
        Ok(Detection::new(result, faces))
    }

    /// Faces in a tightly packed or strided BGR image (`step` bytes from one row to the next,
    /// at least `width * 3`), best score first, boxes and landmarks in its pixels.
    ///
    /// # Errors
    /// [`DetectError`] for a zero dimension, a step under `width * 3` or a slice shorter than
    /// `step * height`.
    pub fn detect_bgr(
        &mut self,
        bgr: &[u8],
        width: usize,
        height: usize,
        step: usize,
    ) -> Result<Detection, DetectError> {
        let mut result = ResultBuffer::new();
        let summary = self.detect_pixels(
            bgr,
            width,
            height,
            step,
            PixelFormat::Bgr,
            result.as_mut_bytes(),
        )?;
        let faces = self.workspace.detection_output.faces().to_vec();
        debug_assert_eq!(faces.len(), summary.face_count());
        Ok(Detection::new(result, faces))
    }

    /// Compatibility API: writes the C-compatible result buffer supplied by the
    /// caller (BGR input).
    ///
    /// # Errors
    /// As [`Detector::detect_bgr`], and [`DetectError::ResultBufferTooSmall`].
    pub fn detect_into(
        &mut self,
        bgr: &[u8],
        width: usize,
        height: usize,
        step: usize,
        result_buffer: &mut [u8],
    ) -> Result<DetectionSummary, DetectError> {
        self.detect_pixels(bgr, width, height, step, PixelFormat::Bgr, result_buffer)
    }

    fn detect_pixels(
        &mut self,
        pixels: &[u8],
        width: usize,
        height: usize,
        step: usize,
        pixel_format: PixelFormat,
        result_buffer: &mut [u8],
    ) -> Result<DetectionSummary, DetectError> {
        validate_image(pixels, width, height, step)?;
        ResultBuffer::validate_len(result_buffer.len())?;

        self.run_pipeline(pixels, width, height, step, pixel_format, result_buffer)
    }

    fn run_pipeline(
        &mut self,
        pixels: &[u8],
        width: usize,
        height: usize,
        step: usize,
        pixel_format: PixelFormat,
        result_buffer: &mut [u8],
    ) -> Result<DetectionSummary, DetectError> {
        let Workspace {
            network,
            backbone_outputs,
            head_outputs,
            decoded_outputs,
            detection_output,
            rgb_to_bgr: _,
        } = &mut self.workspace;

        crate::threads::with_threads(self.threads, || {
            forward_network_from_pixels_to(
                PixelInput {
                    pixels,
                    width,
                    height,
                    step,
                    pixel_format,
                },
                &self.model,
                network,
                backbone_outputs,
                head_outputs,
            )
        });
        decode_and_concat_to(head_outputs, decoded_outputs);
        let faces = detection_output_to(decoded_outputs, self.params, detection_output);
        let face_count = write_faces_to_result_buffer(faces, result_buffer);
        Ok(DetectionSummary::new(face_count))
    }
}

impl Default for Detector {
    fn default() -> Self {
        Self {
            model: Arc::new(load_static_model()),
            params: DEFAULT_DETECTION_OUTPUT_PARAMS,
            threads: 1,
            workspace: Workspace::default(),
        }
    }
}

fn validate_image(
    pixels: &[u8],
    width: usize,
    height: usize,
    step: usize,
) -> Result<(), DetectError> {
    if width == 0 {
        return Err(DetectError::InvalidDimension {
            name: "width",
            value: 0,
        });
    }
    if height == 0 {
        return Err(DetectError::InvalidDimension {
            name: "height",
            value: 0,
        });
    }

    let min_step = width.checked_mul(3).ok_or(DetectError::DimensionOverflow)?;
    if step < min_step {
        return Err(DetectError::StepTooSmall { step, min_step });
    }

    let required_len = step
        .checked_mul(height)
        .ok_or(DetectError::DimensionOverflow)?;
    if pixels.len() < required_len {
        return Err(DetectError::ImageTooSmall {
            actual: pixels.len(),
            required: required_len,
        });
    }

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::FACEDETECTION_RESULT_BUFFER_SIZE;

    #[test]
    fn rejects_short_step() {
        let mut detector = Detector::new();
        let mut result = vec![0_u8; FACEDETECTION_RESULT_BUFFER_SIZE];
        let err = detector
            .detect_into(&[0; 12], 4, 1, 11, &mut result)
            .expect_err("step must hold width * 3 bytes");

        assert_eq!(
            err,
            DetectError::StepTooSmall {
                step: 11,
                min_step: 12
            }
        );
    }

    #[test]
    fn rejects_short_image_slice() {
        let mut detector = Detector::new();
        let mut result = vec![0_u8; FACEDETECTION_RESULT_BUFFER_SIZE];
        let err = detector
            .detect_into(&[0; 5], 2, 2, 6, &mut result)
            .expect_err("image slice must contain all rows");

        assert_eq!(
            err,
            DetectError::ImageTooSmall {
                actual: 5,
                required: 12
            }
        );
    }

    #[test]
    fn detect_rgb_accepts_strided_image() {
        let rgb = vec![0_u8; 2 * 12];
        let mut detector = Detector::new();
        let detection = detector.detect_rgb(&rgb, 3, 2, 12).expect("valid image should run");

        assert_eq!(detection.face_count(), detection.faces().len());
        let mut count_bytes = [0_u8; 4];
        count_bytes.copy_from_slice(&detection.result_buffer()[..4]);
        assert_eq!(
            detection.face_count(),
            i32::from_ne_bytes(count_bytes) as usize
        );
    }

    #[test]
    fn detector_owns_static_model() {
        let detector = Detector::new();

        assert_eq!(detector.model.len(), crate::model::CONV_LAYER_COUNT);
    }
}
