//! The command line: every flag, and how the flags become an [`Analyzer`]. The analyzer's own
//! flags are in `analyzer_args.rs` (shared with `emotion-server`).

use std::path::PathBuf;

use clap::Parser;
use emotion_core::{Analyzer, LoadOptions};

use crate::analyzer_args::AnalyzerArgs;
use crate::output::Format;

use crate::video::VideoArgs;

#[derive(Parser, Debug)]
#[command(name = "emotion", version, about = "Facial expression, valence and arousal for every face in images")]
pub struct Args {
    /// Image files or folders (searched recursively for .jpg, .png, .bmp, .gif, .tiff, .webp), or
    /// video files (.mp4, .mkv, .avi, .mov, .webm: one JSON line per frame, needs ffmpeg).
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
    /// Write each image with boxes, labels and a valence/arousal marker into this folder (PNG;
    /// videos: `<name>.annotated.mp4`).
    #[arg(long, value_name = "DIR")]
    pub annotate: Option<PathBuf>,
    /// Output: `jsonl`, one JSON object per image or video frame; `csv`, one row per face per
    /// image or frame (an empty-face row where there is none), columns file, frame, time_ms,
    /// track_id, bbox_x/y/width/height, 10 landmark columns, detection_score, expression, the 8
    /// probabilities (AffectNet order), valence, arousal, raw_* (tracked faces' unsmoothed values).
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Write the results (JSON lines or CSV) to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Videos: after each video's frame lines, one JSON line `{"file", "summary"}` with per
    /// person (track) figures: first/last time, frames seen, share of time per top expression,
    /// valence and arousal mean and standard deviation, each expression's peak frame (JSON lines
    /// only).
    #[arg(long)]
    pub summary: bool,
    /// Also write a self-contained HTML report (opens from disk, no network): per video a
    /// thumbnail, timelines and the summary of each person; for images a gallery with boxes, the
    /// expression distribution, a valence x arousal scatter and a table; failed files listed.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Files analysed at once, one thread each (0: one per core, the default). Output keeps the
    /// input order; with more than one job each runs the model on 1 thread unless --threads
    /// says otherwise.
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,

    #[command(flatten)]
    pub analyzer: AnalyzerArgs,
    #[command(flatten)]
    pub video: VideoArgs,
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
        let mut builder = Analyzer::builder()
            .detector_options(a.detector_options())
            .max_faces(a.max_faces)
            .threads(threads)
            .flip_average(a.flip_average)
            .align(a.align)
            .model_overrides(a.model_overrides());
        if let Some(m) = &self.model {
            builder = builder.model_path(m);
        }
        builder.build()
    }
}
