//! The analyzer's flags (detector, inference, model overrides), shared by the `emotion` CLI and
//! `emotion-server`. Flag names are the Rust builder's and Python's keyword names with dashes;
//! values follow the library's one rule for counts and limits (0 = not set: all cores, all
//! faces, no limit).

use emotion_core::{DetectorKind, DetectorOptions, InputColor, ModelOverrides};

/// Detector, inference and model-override settings: the Rust `AnalyzerBuilder`'s options.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Analyzer options")]
pub struct AnalyzerArgs {
    /// Face detector: `yunet` (a CNN with 5 landmarks per face) or `seeta` (the SeetaFace
    /// frontal cascade of earlier versions, no landmarks).
    #[arg(long, default_value = "yunet", value_parser = parse_detector)]
    pub detector: DetectorKind,
    /// Smallest face side to find, pixels [10, 10000]. For `seeta` it is the scale the cascade
    /// runs at: boxes down to ~0.65x can be found and faces just above it missed.
    #[arg(long, default_value_t = DetectorOptions::default().min_face_size)]
    pub min_face_size: u32,
    /// Largest face side to look for, pixels (>= --min-face-size; 0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub max_face_size: u32,
    /// Report at most N faces per image: the N largest, ties by detection score (0 = all).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_faces: usize,
    /// Minimum detection score (0 = the detector's default: yunet 0.7, in [0, 1]; seeta 2.0).
    #[arg(long, default_value_t = DetectorOptions::default().score_threshold)]
    pub score_threshold: f32,
    /// Image pyramid ratio [0.01, 0.99].
    #[arg(long, default_value_t = DetectorOptions::default().pyramid_scale_factor)]
    pub pyramid_scale_factor: f32,
    /// Detector window step, pixels [1, 64].
    #[arg(long, default_value_t = DetectorOptions::default().window_step)]
    pub window_step: u32,
    /// Threads used to detect one image's faces and run the model over them (videos: also to
    /// re-find several tracked faces at once) [0, 256] (0 = all cores, or 1 each when several images are analysed
    /// at once: the CLI's --jobs, the server's --workers; videos get all cores when 0).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Average each face's prediction with that of its mirror image (two model runs per face).
    #[arg(long)]
    pub flip_average: bool,
    /// Turn each face's crop so the eyes are level before the model (faces with landmarks:
    /// detector yunet). Off by default (no accuracy difference measured on held-out faces).
    #[arg(long)]
    pub align: bool,

    /// Model override: input colour, `gray` or `rgb`.
    #[arg(long, value_parser = parse_color, help_heading = "Model overrides (for models without metadata)")]
    pub input_color: Option<InputColor>,
    /// Model override: input size, `HxW` pixels, each side in [8, 1024].
    #[arg(long, value_name = "HxW", value_parser = parse_size, help_heading = "Model overrides (for models without metadata)")]
    pub input_size: Option<(usize, usize)>,
    /// Model override: per-channel mean subtracted from pixel/255, comma-separated.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, help_heading = "Model overrides (for models without metadata)")]
    pub mean: Option<Vec<f32>>,
    /// Model override: per-channel divisor (> 0), comma-separated.
    #[arg(long, value_delimiter = ',', help_heading = "Model overrides (for models without metadata)")]
    pub std: Option<Vec<f32>>,
    /// Model override: crop side as a multiple of the face box's longer side [0.1, 10].
    #[arg(long, help_heading = "Model overrides (for models without metadata)")]
    pub crop_scale: Option<f32>,
    /// Model override: crop centre shift down, fraction of the box height [-1, 1].
    #[arg(long, allow_hyphen_values = true, help_heading = "Model overrides (for models without metadata)")]
    pub crop_shift_y: Option<f32>,
    /// Model override: batch size the plan is optimized for [0, 64] (0 = 1).
    #[arg(long, help_heading = "Model overrides (for models without metadata)")]
    pub batch_size: Option<usize>,
}

impl AnalyzerArgs {
    /// The detector settings of the flags (range checks are the library's, when building).
    pub fn detector_options(&self) -> DetectorOptions {
        DetectorOptions::default()
            .with_detector(self.detector)
            .with_min_face_size(self.min_face_size)
            .with_max_face_size((self.max_face_size != 0).then_some(self.max_face_size))
            .with_score_threshold(self.score_threshold)
            .with_pyramid_scale_factor(self.pyramid_scale_factor)
            .with_window_step(self.window_step)
    }

    /// The model overrides of the flags (unset ones keep the model's metadata).
    pub fn model_overrides(&self) -> ModelOverrides {
        let mut overrides = ModelOverrides::default();
        overrides.color = self.input_color;
        overrides.size = self.input_size;
        overrides.mean = self.mean.clone();
        overrides.std = self.std.clone();
        overrides.crop_scale = self.crop_scale;
        overrides.crop_shift_y = self.crop_shift_y;
        overrides.batch_size = self.batch_size;
        overrides
    }
}

fn parse_color(s: &str) -> Result<InputColor, String> {
    match s {
        "gray" => Ok(InputColor::Gray),
        "rgb" => Ok(InputColor::Rgb),
        other => Err(format!("expected `gray` or `rgb`, got `{other}`")),
    }
}

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    s.split_once('x')
        .and_then(|(h, w)| Some((h.trim().parse().ok()?, w.trim().parse().ok()?)))
        .ok_or_else(|| format!("expected HxW, e.g. 64x64, got `{s}`"))
}

/// `--detector`: the library's names, and its error naming the option for anything else.
fn parse_detector(s: &str) -> Result<DetectorKind, String> {
    s.parse::<DetectorKind>().map_err(|e| e.to_string())
}
