//! The command line: every flag, and how the flags become an [`Analyzer`]. Flag names are the
//! Rust builder's and Python's keyword names with dashes; values follow the library's one rule
//! for counts and limits (0 = not set: all cores, all faces, no limit).

use std::path::PathBuf;

use clap::Parser;
use emotion_core::{Analyzer, DetectorOptions, InputColor, LoadOptions, ModelOverrides};

#[derive(Parser, Debug)]
#[command(name = "emotion", version, about = "Facial expression, valence and arousal for every face in images")]
pub struct Args {
    /// Image files or folders (searched recursively for .jpg, .png, .bmp, .gif, .tiff, .webp).
    #[arg(required_unless_present = "model_info")]
    pub inputs: Vec<PathBuf>,
    /// Print the model's information (version, training data, input, labels, preprocessing) as
    /// one JSON object and exit.
    #[arg(long)]
    pub model_info: bool,
    /// ONNX emotion model meeting the model contract (default: the bundled model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Classify the whole image as one face, without detection (for tight face crops, which the
    /// detector cannot find).
    #[arg(long)]
    pub whole_image: bool,
    /// Accept truncated or damaged image files: analyse the part that decodes and mark the
    /// result `"partial": true` (default: such files are errors).
    #[arg(long)]
    pub allow_partial: bool,
    /// Write each image with boxes, labels and a valence/arousal marker into this folder (PNG).
    #[arg(long, value_name = "DIR")]
    pub annotate: Option<PathBuf>,
    /// Files analysed at once, one thread each (0: one per core, the default). Output keeps the
    /// input order; with more than one job each runs the model on 1 thread unless --threads
    /// says otherwise.
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,

    #[command(flatten)]
    pub analyzer: AnalyzerArgs,
}

/// Detector, inference and model-override settings: the Rust `AnalyzerBuilder`'s options.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Analyzer options")]
pub struct AnalyzerArgs {
    /// Smallest face side to find, pixels [10, 10000].
    #[arg(long, default_value_t = DetectorOptions::default().min_face_size)]
    pub min_face_size: u32,
    /// Largest face side to look for, pixels (>= --min-face-size; 0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub max_face_size: u32,
    /// Report at most N faces per image: the N largest, ties by detection score (0 = all).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_faces: usize,
    /// Minimum detection score (> 0).
    #[arg(long, default_value_t = DetectorOptions::default().score_threshold)]
    pub score_threshold: f32,
    /// Image pyramid ratio [0.01, 0.99].
    #[arg(long, default_value_t = DetectorOptions::default().pyramid_scale_factor)]
    pub pyramid_scale_factor: f32,
    /// Detector window step, pixels [1, 64].
    #[arg(long, default_value_t = DetectorOptions::default().window_step)]
    pub window_step: u32,
    /// Threads used to run the model over one image's faces [0, 256] (0 = all cores, or 1 per
    /// job when several --jobs run).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Average each face's prediction with that of its mirror image (two model runs per face).
    #[arg(long)]
    pub flip_average: bool,

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

impl Args {
    /// The image-file loading options.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions::default().allow_partial(self.allow_partial)
    }

    /// Builds the analyzer the flags describe, for `jobs` files at once (more than one: each
    /// runs the model on 1 thread unless `--threads` is set, since the jobs already use the cores).
    pub fn build_analyzer(&self, jobs: usize) -> emotion_core::Result<Analyzer> {
        let a = &self.analyzer;
        let threads = if a.threads == 0 && jobs > 1 { 1 } else { a.threads };
        let mut overrides = ModelOverrides::default();
        overrides.color = a.input_color;
        overrides.size = a.input_size;
        overrides.mean = a.mean.clone();
        overrides.std = a.std.clone();
        overrides.crop_scale = a.crop_scale;
        overrides.crop_shift_y = a.crop_shift_y;
        overrides.batch_size = a.batch_size;
        let detector = DetectorOptions::default()
            .with_min_face_size(a.min_face_size)
            .with_score_threshold(a.score_threshold)
            .with_pyramid_scale_factor(a.pyramid_scale_factor)
            .with_window_step(a.window_step);
        let mut builder = Analyzer::builder()
            .detector_options(detector)
            .max_face_size(a.max_face_size)
            .max_faces(a.max_faces)
            .threads(threads)
            .flip_average(a.flip_average)
            .model_overrides(overrides);
        if let Some(m) = &self.model {
            builder = builder.model_path(m);
        }
        builder.build()
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
