//! The emotion network: ONNX loading with tract, the model contract, the preprocessing a model
//! declares in its `metadata_props`, and batched inference.
//!
//! Contract: one float32 NCHW input `[N, C, H, W]` (C = 1 gray or 3 RGB); outputs named
//! `valence` `[N, 1]`, `arousal` `[N, 1]` and `expression` `[N, 8]` (probabilities in AffectNet
//! order). The plan is optimized once for a concrete batch size (tract runs a symbolic batch
//! dimension 4-6x slower) and shared by all threads.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;
use tract_onnx::tract_hir::internal::DimLike;

use crate::error::{Error, Result};
use crate::expression::{Expression, EXPRESSION_COUNT};

/// Colour of the model input. `#[non_exhaustive]`: later versions may accept more layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputColor {
    /// One channel: BT.601 luma.
    Gray,
    /// Three channels: R, G, B.
    Rgb,
}

impl InputColor {
    /// Channels of the input tensor: 1 or 3.
    pub const fn channels(self) -> usize {
        match self {
            InputColor::Gray => 1,
            InputColor::Rgb => 3,
        }
    }

    /// `gray` or `rgb`, as in the `emotion.input_color` metadata.
    pub const fn name(self) -> &'static str {
        match self {
            InputColor::Gray => "gray",
            InputColor::Rgb => "rgb",
        }
    }
}

/// How a face is turned into the model input, as declared by the model's `metadata_props`
/// (keys `emotion.*`, written by `training/export.py`) or overridden by the caller.
/// `#[non_exhaustive]`: later versions may add steps; read it from [`EmotionModel::preprocessing`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Preprocessing {
    /// `emotion.input_color`: `gray` or `rgb`. Must match the input's channel count.
    pub color: InputColor,
    /// Input height and width in pixels (`emotion.input_size` = `HxW`; else the input shape).
    pub height: usize,
    /// See `height`.
    pub width: usize,
    /// `emotion.mean`: per-channel mean subtracted from pixel / 255 (one value per channel).
    pub mean: Vec<f32>,
    /// `emotion.std`: per-channel divisor applied after the mean (one value per channel, > 0).
    pub std: Vec<f32>,
    /// `emotion.crop_scale`: side of the crop cut around a detector box, as a multiple of the
    /// box's longer side, so the crop frames the face like the training images did. > 0.
    pub crop_scale: f32,
    /// `emotion.crop_shift_y`: vertical shift of the crop centre, as a fraction of the box height
    /// (positive = down).
    pub crop_shift_y: f32,
}

/// Caller overrides for models without (or with wrong) metadata: every `Some` field replaces the
/// model's own value (the [`Preprocessing`] field of the same name, with the same range).
/// Python (`Analyzer(input_color=..., ...)`), C (`emotion_options`) and the CLI (`--input-color`
/// ...) expose the same fields.
///
/// `#[non_exhaustive]`: later versions may add overrides. Start from [`Default`] (nothing
/// overridden) and set fields with the `with_*` methods (or assign them on a `mut` value):
///
/// ```
/// let overrides = emotion_core::ModelOverrides::default().with_crop_scale(1.2).with_batch_size(4);
/// assert_eq!(overrides.batch_size, Some(4));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ModelOverrides {
    /// Input colour (`emotion.input_color`); must match the input's channel count.
    pub color: Option<InputColor>,
    /// Input `(height, width)` in pixels, each in [8, 1024] (`emotion.input_size`).
    pub size: Option<(usize, usize)>,
    /// Per-channel mean subtracted from pixel / 255, one finite value per channel.
    pub mean: Option<Vec<f32>>,
    /// Per-channel divisor applied after the mean, one finite value > 0 per channel.
    pub std: Option<Vec<f32>>,
    /// Crop side as a multiple of the face box's longer side, in [0.1, 10].
    pub crop_scale: Option<f32>,
    /// Crop centre shift down, as a fraction of the box height, in [-1, 1].
    pub crop_shift_y: Option<f32>,
    /// Batch size the plan is optimized for, in [0, 64]; 0 or `None` = 1 (see the README's
    /// batch benchmark).
    pub batch_size: Option<usize>,
}

impl ModelOverrides {
    /// Overrides the input colour.
    pub fn with_color(mut self, color: InputColor) -> Self {
        self.color = Some(color);
        self
    }

    /// Overrides the input size, `(height, width)` in pixels.
    pub fn with_size(mut self, height: usize, width: usize) -> Self {
        self.size = Some((height, width));
        self
    }

    /// Overrides the per-channel mean.
    pub fn with_mean(mut self, mean: impl Into<Vec<f32>>) -> Self {
        self.mean = Some(mean.into());
        self
    }

    /// Overrides the per-channel standard deviation.
    pub fn with_std(mut self, std: impl Into<Vec<f32>>) -> Self {
        self.std = Some(std.into());
        self
    }

    /// Overrides the crop scale.
    pub fn with_crop_scale(mut self, scale: f32) -> Self {
        self.crop_scale = Some(scale);
        self
    }

    /// Overrides the vertical crop shift.
    pub fn with_crop_shift_y(mut self, shift: f32) -> Self {
        self.crop_shift_y = Some(shift);
        self
    }

    /// Sets the batch size the plan is optimized for.
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch_size = Some(batch);
        self
    }
}

/// Descriptive metadata of a model (`emotion.version`, `emotion.training_data`,
/// `emotion.description`); empty strings when absent. `#[non_exhaustive]`: later versions may
/// report more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// `emotion.version`, e.g. `0.1.0+ferplus.20261129`.
    pub version: String,
    /// `emotion.training_data`: the data sets the model learnt from.
    pub training_data: String,
    /// `emotion.description`: free text.
    pub description: String,
}

/// What the network says about one face. `#[non_exhaustive]`: later versions may add outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Prediction {
    /// Expression probabilities in AffectNet order, each in [0, 1], summing to 1.
    pub probabilities: [f32; EXPRESSION_COUNT],
    /// Valence (negative to positive), clamped to [-1, 1].
    pub valence: f32,
    /// Arousal (calm to excited), clamped to [-1, 1].
    pub arousal: f32,
}

/// A loaded, checked and optimized emotion model. Cheap to share: clone it or put the
/// [`crate::Analyzer`] in an `Arc`; `predict` takes `&self` and runs on any thread.
#[derive(Debug, Clone)]
pub struct EmotionModel {
    plan: Arc<TypedSimplePlan>,
    batch: usize,
    pre: Preprocessing,
    info: ModelInfo,
}

const OUTPUTS: [&str; 3] = ["valence", "arousal", "expression"];

impl EmotionModel {
    /// Loads an ONNX model file. See [`EmotionModel::from_bytes`].
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read or has more than [`crate::files::MAX_FILE_BYTES`]
    /// bytes; otherwise as [`EmotionModel::from_bytes`].
    pub fn from_path(path: impl AsRef<Path>, overrides: &ModelOverrides) -> Result<Self> {
        let path = path.as_ref();
        let bytes = crate::files::read_limited(path, crate::files::MAX_FILE_BYTES)?;
        Self::from_bytes(&bytes, overrides)
    }

    /// Parses, checks and optimizes an ONNX model.
    ///
    /// # Errors
    /// - [`Error::ModelLoad`]: not a parseable ONNX protobuf, or an operator tract cannot load;
    /// - [`Error::ModelMetadata`]: an `emotion.*` metadata value (or override) is malformed;
    /// - [`Error::ModelContract`]: input or outputs differ from the contract (the message names
    ///   what differs), or the `expression` output of a blank face is not a probability
    ///   distribution (e.g. logits were exported).
    pub fn from_bytes(bytes: &[u8], overrides: &ModelOverrides) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::ModelLoad("the model is empty (0 bytes)".into()));
        }
        let onnx = tract_onnx::onnx().with_ignore_value_info(true);
        let proto: ModelProto = guard(|| onnx.proto_model_for_read(&mut &bytes[..]))
            .map_err(|e| Error::ModelLoad(format!("not an ONNX model: {e}")))?;
        if proto.graph.is_none() {
            return Err(Error::ModelLoad("not an ONNX model: no graph".into()));
        }
        let meta: Vec<(String, String)> =
            proto.metadata_props.iter().map(|p| (p.key.clone(), p.value.clone())).collect();
        let mut model = guard(|| onnx.model_for_proto_model(&proto)).map_err(|e| Error::ModelLoad(format!("{e:#}")))?;

        let (channels, shape_hw) = check_input(&model)?;
        let pre = preprocessing(&meta, channels, shape_hw, overrides)?;
        let info = ModelInfo {
            version: lookup(&meta, "emotion.version").unwrap_or_default().to_string(),
            training_data: lookup(&meta, "emotion.training_data").unwrap_or_default().to_string(),
            description: lookup(&meta, "emotion.description").unwrap_or_default().to_string(),
        };
        select_outputs(&mut model)?;

        let batch = overrides.batch_size.filter(|&b| b != 0).unwrap_or(1);
        if batch > 64 {
            return Err(Error::InvalidOption {
                name: "batch_size",
                value: batch.to_string(),
                expected: "must be in [0, 64] (0 = 1)",
            });
        }
        let fact = f32::fact([batch, pre.color.channels(), pre.height, pre.width]);
        let plan = guard(|| -> TractResult<_> {
            let typed = model.with_input_fact(0, fact.clone().into())?.into_typed()?.into_decluttered()?;
            check_output_shapes(&typed, batch).map_err(TractError::from)?;
            typed.into_optimized()?.into_runnable()
        })
        .map_err(|e| match e.downcast::<ContractError>() {
            Ok(c) => Error::ModelContract(c.0),
            Err(e) => Error::ModelContract(format!("cannot build a plan for input {fact:?}: {e:#}")),
        })?;

        let model = EmotionModel { plan, batch, pre, info };
        model.check_probabilities()?;
        Ok(model)
    }

    /// The preprocessing in force (model metadata merged with overrides).
    pub fn preprocessing(&self) -> &Preprocessing {
        &self.pre
    }

    /// The model's descriptive metadata.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Batch size of the optimized plan.
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Number of floats in one face's input: `C * H * W`.
    pub fn input_len(&self) -> usize {
        self.pre.color.channels() * self.pre.height * self.pre.width
    }

    /// Runs the network on `n` faces given as one NCHW float buffer of `n * C * H * W` values,
    /// already normalized. Faces run in chunks of the plan's batch size (the last chunk padded),
    /// spread over up to `threads` threads; each face's numbers do not depend on its neighbours.
    ///
    /// # Errors
    /// [`Error::Inference`] when `input.len()` is not a multiple of [`EmotionModel::input_len`] or
    /// tract fails.
    pub fn predict(&self, input: &[f32], threads: usize) -> Result<Vec<Prediction>> {
        let face_len = self.input_len();
        if input.len() % face_len != 0 {
            return Err(Error::Inference(format!("input of {} floats is not a multiple of {face_len}", input.len())));
        }
        let chunk = self.batch * face_len;
        let chunks: Vec<&[f32]> = input.chunks(chunk).collect();
        let threads = threads.clamp(1, chunks.len().max(1));
        if threads == 1 {
            let mut out = Vec::with_capacity(input.len() / face_len);
            for c in chunks {
                out.extend(self.run_chunk(c)?);
            }
            return Ok(out);
        }
        // Contiguous runs of chunks per thread, results concatenated in order.
        let per_thread = chunks.len().div_ceil(threads);
        let results: Vec<Result<Vec<Prediction>>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .chunks(per_thread)
                .map(|group| {
                    s.spawn(move || -> Result<Vec<Prediction>> {
                        let mut out = Vec::new();
                        for c in group {
                            out.extend(self.run_chunk(c)?);
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(Error::Internal("inference thread panicked".into()))))
                .collect()
        });
        let mut out = Vec::with_capacity(input.len() / face_len);
        for r in results {
            out.extend(r?);
        }
        Ok(out)
    }

    /// One plan run on up to `batch` faces (zero-padded to `batch`).
    fn run_chunk(&self, faces: &[f32]) -> Result<Vec<Prediction>> {
        let face_len = self.input_len();
        let n = faces.len() / face_len;
        let shape = [self.batch, self.pre.color.channels(), self.pre.height, self.pre.width];
        let tensor = if n == self.batch {
            Tensor::from_shape(&shape, faces)
        } else {
            let mut padded = vec![0f32; self.batch * face_len];
            padded[..faces.len()].copy_from_slice(faces);
            Tensor::from_shape(&shape, &padded)
        }
        .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let outputs = guard(|| self.plan.run(tvec!(tensor.into())))
            .map_err(|e| Error::Inference(format!("{e:#}")))?;
        let view = |i: usize| -> Result<Vec<f32>> {
            let t = outputs[i].cast_to::<f32>().map_err(|e| Error::Inference(format!("{e:#}")))?;
            let v = t.try_as_plain_ram().and_then(|p| p.as_slice::<f32>().map(|s| s.to_vec()));
            v.map_err(|e| Error::Inference(format!("{e:#}")))
        };
        let (val, aro, expr) = (view(0)?, view(1)?, view(2)?);
        Ok((0..n)
            .map(|i| {
                let mut probabilities = [0f32; EXPRESSION_COUNT];
                probabilities.copy_from_slice(&expr[i * EXPRESSION_COUNT..(i + 1) * EXPRESSION_COUNT]);
                Prediction { probabilities, valence: val[i].clamp(-1.0, 1.0), arousal: aro[i].clamp(-1.0, 1.0) }
            })
            .collect())
    }

    /// Runs a mid-gray face and checks the `expression` output is a distribution: catches
    /// exports of logits instead of softmax probabilities.
    fn check_probabilities(&self) -> Result<()> {
        let input = vec![0.0f32; self.input_len()];
        let p = self.predict(&input, 1)?;
        let probs = p[0].probabilities;
        let sum: f32 = probs.iter().sum();
        if probs.iter().any(|&x| !(0.0..=1.0 + 1e-4).contains(&x)) || (sum - 1.0).abs() > 1e-3 {
            return Err(Error::ModelContract(format!(
                "output `expression` must be probabilities summing to 1 (softmax), got {probs:?} (sum {sum})"
            )));
        }
        Ok(())
    }
}

/// A contract violation found inside a tract closure, carried out through `anyhow`.
#[derive(Debug)]
struct ContractError(String);
impl std::fmt::Display for ContractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ContractError {}

/// Runs tract code, turning a panic inside tract into an error (malformed graphs can trip
/// tract's internal asserts).
fn guard<T>(f: impl FnOnce() -> TractResult<T>) -> TractResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(TractError::msg("tract panicked while processing the model")))
}

/// Checks there is exactly one rank-4 input with 1 or 3 channels; returns its channel count and
/// (H, W) when the shape states them.
/// Channel count and (height, width) of the input, each when the ONNX shape states it.
type InputShape = (Option<usize>, Option<(usize, usize)>);

fn check_input(model: &InferenceModel) -> Result<InputShape> {
    let n = model.input_outlets().map(|o| o.len()).unwrap_or(0);
    if n != 1 {
        return Err(Error::ModelContract(format!("expected exactly 1 input (NCHW image batch), found {n}")));
    }
    let fact = model.input_fact(0).map_err(|e| Error::ModelContract(format!("{e:#}")))?;
    if let Some(dt) = fact.datum_type.concretize() {
        if dt != f32::datum_type() {
            return Err(Error::ModelContract(format!("input must be float32, found {dt:?}")));
        }
    }
    let dims: Vec<Option<usize>> = fact.shape.dims().map(|d| d.concretize().and_then(|d| d.to_usize().ok())).collect();
    if fact.shape.rank().concretize().is_none() {
        return Ok((None, None));
    }
    if dims.len() != 4 {
        return Err(Error::ModelContract(format!("input must be rank 4 (NCHW), found rank {}", dims.len())));
    }
    if let Some(c) = dims[1] {
        if c != 1 && c != 3 {
            return Err(Error::ModelContract(format!(
                "input must be NCHW with C = 1 or 3, found dimension 1 = {c} (is it NHWC?)"
            )));
        }
    }
    let hw = match (dims[2], dims[3]) {
        (Some(h), Some(w)) => Some((h, w)),
        _ => None,
    };
    Ok((dims[1], hw))
}

/// Requires graph outputs named `valence`, `arousal`, `expression` and selects them in that order.
fn select_outputs(model: &mut InferenceModel) -> Result<()> {
    let outlets = model.output_outlets().map_err(|e| Error::ModelContract(format!("{e:#}")))?.to_vec();
    let names: Vec<String> = outlets
        .iter()
        .map(|o| model.outlet_label(*o).map(str::to_string).unwrap_or_else(|| model.node(o.node).name.clone()))
        .collect();
    let missing: Vec<&str> = OUTPUTS.iter().copied().filter(|n| !names.iter().any(|m| m == n)).collect();
    if !missing.is_empty() {
        return Err(Error::ModelContract(format!(
            "missing output(s) {missing:?}; the model's outputs are {names:?}, expected {OUTPUTS:?}"
        )));
    }
    let picked: Vec<OutletId> =
        OUTPUTS.iter().map(|n| outlets[names.iter().position(|m| m == n).unwrap_or_default()]).collect();
    model.select_output_outlets(&picked).map_err(|e| Error::ModelContract(format!("{e:#}")))
}

/// Output shapes must be `[batch, 1]`, `[batch, 1]`, `[batch, 8]`.
fn check_output_shapes(model: &TypedModel, batch: usize) -> std::result::Result<(), ContractError> {
    for (i, (name, width)) in OUTPUTS.iter().zip([1, 1, EXPRESSION_COUNT]).enumerate() {
        let fact = model.output_fact(i).map_err(|e| ContractError(format!("{e:#}")))?;
        let shape: Option<Vec<usize>> = fact.shape.as_concrete().map(|s| s.to_vec());
        if shape.as_deref() != Some(&[batch, width][..]) {
            return Err(ContractError(format!(
                "output `{name}` must have shape [N, {width}], found {:?}",
                fact.shape
            )));
        }
    }
    Ok(())
}

fn lookup<'a>(meta: &'a [(String, String)], key: &str) -> Option<&'a str> {
    meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn meta_err(key: &str, value: &str, reason: impl Into<String>) -> Error {
    Error::ModelMetadata { key: key.into(), value: value.into(), reason: reason.into() }
}

fn parse_floats(key: &str, value: &str) -> Result<Vec<f32>> {
    value
        .split(',')
        .map(|s| s.trim().parse::<f32>().ok().filter(|x| x.is_finite()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| meta_err(key, value, "expected comma-separated finite numbers"))
}

fn parse_float(key: &str, value: &str) -> Result<f32> {
    match parse_floats(key, value)?.as_slice() {
        [x] => Ok(*x),
        _ => Err(meta_err(key, value, "expected one number")),
    }
}

/// Range checks of the caller's overrides, as [`Error::InvalidOption`] naming the field (the
/// same ranges are checked again, as metadata errors, on the merged values).
fn check_overrides(o: &ModelOverrides) -> Result<()> {
    let bad = |name, value: String, expected| Err(Error::InvalidOption { name, value, expected });
    if let Some((h, w)) = o.size {
        if !(8..=1024).contains(&h) || !(8..=1024).contains(&w) {
            return bad("input_size", format!("{h}x{w}"), "each side must be in [8, 1024] pixels");
        }
    }
    if let Some(m) = &o.mean {
        if !matches!(m.len(), 1 | 3) || m.iter().any(|x| !x.is_finite()) {
            return bad("mean", format!("{m:?}"), "must be 1 or 3 finite values (one per input channel)");
        }
    }
    if let Some(s) = &o.std {
        if !matches!(s.len(), 1 | 3) || s.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return bad("std", format!("{s:?}"), "must be 1 or 3 finite values > 0 (one per input channel)");
        }
    }
    if let Some(c) = o.crop_scale {
        if !(0.1..=10.0).contains(&c) {
            return bad("crop_scale", c.to_string(), "must be in [0.1, 10]");
        }
    }
    if let Some(c) = o.crop_shift_y {
        if !(-1.0..=1.0).contains(&c) {
            return bad("crop_shift_y", c.to_string(), "must be in [-1, 1]");
        }
    }
    Ok(())
}

/// Merges metadata, the input shape and overrides into [`Preprocessing`], checking consistency.
fn preprocessing(
    meta: &[(String, String)],
    channels: Option<usize>,
    shape_hw: Option<(usize, usize)>,
    o: &ModelOverrides,
) -> Result<Preprocessing> {
    check_overrides(o)?;
    let color = match (o.color, lookup(meta, "emotion.input_color")) {
        (Some(c), _) => c,
        (None, Some("gray")) => InputColor::Gray,
        (None, Some("rgb")) => InputColor::Rgb,
        (None, Some(v)) => return Err(meta_err("emotion.input_color", v, "expected `gray` or `rgb`")),
        (None, None) => match channels {
            Some(1) => InputColor::Gray,
            Some(3) => InputColor::Rgb,
            _ => return Err(Error::ModelContract("input channels unknown: set the `color` override".into())),
        },
    };
    if let Some(c) = channels.filter(|&c| c != color.channels()) {
        if o.color.is_some() {
            return Err(Error::InvalidOption {
                name: "input_color",
                value: color.name().into(),
                expected: "the colour of the model's input: gray for 1 channel, rgb for 3",
            });
        }
        return Err(Error::ModelContract(format!("input has {c} channel(s) but the colour is {color:?}")));
    }
    let meta_size = match lookup(meta, "emotion.input_size") {
        Some(v) => {
            let parsed = v.split_once('x').and_then(|(h, w)| Some((h.trim().parse().ok()?, w.trim().parse().ok()?)));
            Some(parsed.ok_or_else(|| meta_err("emotion.input_size", v, "expected `HxW`, e.g. `64x64`"))?)
        }
        None => None,
    };
    let (height, width) = o
        .size
        .or(shape_hw)
        .or(meta_size)
        .ok_or_else(|| Error::ModelContract("input height and width unknown: set the `size` override".into()))?;
    if let (Some(over), Some(fixed)) = (o.size, shape_hw) {
        if over != fixed {
            return Err(Error::InvalidOption {
                name: "input_size",
                value: format!("{}x{}", over.0, over.1),
                expected: "the size fixed by the model's input shape (only a model with a free height and width takes another)",
            });
        }
    }
    if let (Some(s), Some(m)) = (shape_hw, meta_size) {
        if s != m && o.size.is_none() {
            return Err(meta_err("emotion.input_size", &format!("{}x{}", m.0, m.1), format!("the input shape says {}x{}", s.0, s.1)));
        }
    }
    if !(8..=1024).contains(&height) || !(8..=1024).contains(&width) {
        return Err(Error::InvalidOption { name: "size", value: format!("{height}x{width}"), expected: "each side in [8, 1024]" });
    }
    let per_channel = |key: &str, name: &'static str, over: &Option<Vec<f32>>, default: f32| -> Result<Vec<f32>> {
        if let Some(v) = over.as_ref().filter(|v| v.len() != color.channels()) {
            return Err(Error::InvalidOption {
                name,
                value: format!("{v:?}"),
                expected: "one value per input channel: 1 for a gray model, 3 for an rgb one",
            });
        }
        let v = match (over, lookup(meta, key)) {
            (Some(v), _) => v.clone(),
            (None, Some(s)) => parse_floats(key, s)?,
            (None, None) => vec![default; color.channels()],
        };
        if v.len() != color.channels() || v.iter().any(|x| !x.is_finite()) {
            return Err(meta_err(key, &format!("{v:?}"), format!("expected {} finite value(s)", color.channels())));
        }
        Ok(v)
    };
    let mean = per_channel("emotion.mean", "mean", &o.mean, 0.0)?;
    let std = per_channel("emotion.std", "std", &o.std, 1.0)?;
    if std.iter().any(|&s| s <= 0.0) {
        return Err(meta_err("emotion.std", &format!("{std:?}"), "must be > 0"));
    }
    let scalar = |key: &str, over: Option<f32>, default: f32| -> Result<f32> {
        match (over, lookup(meta, key)) {
            (Some(v), _) if v.is_finite() => Ok(v),
            (Some(v), _) => Err(meta_err(key, &v.to_string(), "must be finite")),
            (None, Some(s)) => parse_float(key, s),
            (None, None) => Ok(default),
        }
    };
    let crop_scale = scalar("emotion.crop_scale", o.crop_scale, 1.0)?;
    if !(0.1..=10.0).contains(&crop_scale) {
        return Err(meta_err("emotion.crop_scale", &crop_scale.to_string(), "must be in [0.1, 10]"));
    }
    let crop_shift_y = scalar("emotion.crop_shift_y", o.crop_shift_y, 0.0)?;
    if !(-1.0..=1.0).contains(&crop_shift_y) {
        return Err(meta_err("emotion.crop_shift_y", &crop_shift_y.to_string(), "must be in [-1, 1]"));
    }
    if let Some(labels) = lookup(meta, "emotion.labels") {
        let names: Vec<&str> = labels.split(',').map(str::trim).collect();
        if names != Expression::ALL.map(Expression::name) {
            return Err(meta_err("emotion.labels", labels, "the library expects AffectNet order: neutral,happy,sad,surprise,fear,disgust,anger,contempt"));
        }
    }
    Ok(Preprocessing { color, height, width, mean, std, crop_scale, crop_shift_y })
}
