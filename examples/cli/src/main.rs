//! `emotion`: faces, expressions, valence and arousal for image files and folders.
//!
//! One JSON object per image on stdout; progress on stderr; `--annotate DIR` writes each image
//! with its faces drawn. Unreadable files are reported and skipped; the exit code is 1 if any
//! file failed, 2 for bad arguments or models.

mod annotate;
mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use emotion_core::{Analyzer, DetectorOptions, Face, ImageView};

/// File name extensions treated as images when walking folders.
const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp"];

#[derive(Parser, Debug)]
#[command(name = "emotion", version, about = "Facial expression, valence and arousal for every face in images")]
struct Args {
    /// Image files or folders (searched recursively for .jpg, .png, .bmp, .gif, .tiff, .webp).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// ONNX emotion model meeting the model contract (default: the bundled model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Smallest face side to find, pixels [10, 10000].
    #[arg(long, default_value_t = DetectorOptions::default().min_face_size)]
    min_face_size: u32,
    /// Largest face side to look for, pixels.
    #[arg(long)]
    max_face_size: Option<u32>,
    /// Minimum detection score (> 0).
    #[arg(long, default_value_t = DetectorOptions::default().score_threshold)]
    score_threshold: f32,
    /// Image pyramid ratio [0.01, 0.99].
    #[arg(long, default_value_t = DetectorOptions::default().pyramid_scale_factor)]
    pyramid_scale_factor: f32,
    /// Detector window step, pixels [1, 64].
    #[arg(long, default_value_t = DetectorOptions::default().window_step)]
    window_step: u32,
    /// Write each image with boxes, labels and a valence/arousal marker into this folder (PNG).
    #[arg(long, value_name = "DIR")]
    annotate: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = Analyzer::builder().detector_options(
        DetectorOptions::default()
            .with_min_face_size(args.min_face_size)
            .with_max_face_size(args.max_face_size)
            .with_score_threshold(args.score_threshold)
            .with_pyramid_scale_factor(args.pyramid_scale_factor)
            .with_window_step(args.window_step),
    );
    if let Some(m) = &args.model {
        builder = builder.model_path(m);
    }
    let analyzer = match builder.build() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("emotion: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.annotate {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("emotion: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }

    let (files, mut failed) = collect_files(&args.inputs);
    let progress = if args.inputs.iter().any(|p| p.is_dir()) {
        indicatif::ProgressBar::new(files.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} images {elapsed}<{eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut stdout = std::io::stdout().lock();
    let mut annotated = annotate::Names::default();
    for file in &files {
        match process(&analyzer, file) {
            Ok((json, img, faces)) => {
                if let Err(e) = writeln!(stdout, "{json}") {
                    // A closed pipe (`emotion dir/ | head`) ends the run quietly, like other tools.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return ExitCode::SUCCESS;
                    }
                    eprintln!("emotion: cannot write to stdout: {e}");
                    return ExitCode::from(1);
                }
                if let Some(dir) = &args.annotate {
                    let out = dir.join(annotated.unique(file));
                    if let Err(e) = annotate::write(&out, &img, &faces) {
                        progress.suspend(|| eprintln!("emotion: {e}"));
                        failed += 1;
                    }
                }
            }
            Err(e) => {
                progress.suspend(|| eprintln!("emotion: {}: {e}", file.display()));
                failed += 1;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if failed > 0 {
        eprintln!("emotion: {failed} input(s) failed");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Expands folders into their image files (sorted, recursive). Returns the files and how many
/// inputs could not be read at all.
fn collect_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, usize) {
    let mut files = Vec::new();
    let mut failed = 0;
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(input)
                .sort_by_file_name()
                .into_iter()
                .filter_map(|entry| match entry {
                    Ok(e) => Some(e),
                    Err(err) => {
                        eprintln!("emotion: {err}");
                        failed += 1;
                        None
                    }
                })
                .filter(|e| e.file_type().is_file() && is_image_name(e.path()))
                .map(|e| e.into_path())
                .collect();
            if found.is_empty() {
                eprintln!("emotion: no images in {}", input.display());
            }
            files.append(&mut found);
        } else {
            // Named explicitly: try it whatever its extension; errors are reported per file.
            files.push(input.clone());
        }
    }
    (files, failed)
}

fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decodes and analyses one file: its JSON line, pixels and faces.
fn process(analyzer: &Analyzer, file: &Path) -> emotion_core::Result<(String, image::RgbImage, Vec<Face>)> {
    let t0 = Instant::now();
    let img = emotion_core::load_rgb(file)?;
    let view = ImageView::try_from(&img)?;
    let t1 = Instant::now();
    let detections = analyzer.detect(&view)?;
    let t2 = Instant::now();
    let faces = analyzer.classify_detections(&view, &detections)?;
    let t3 = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    let timings = report::Timings { decode_ms: ms(t0, t1), detect_ms: ms(t1, t2), classify_ms: ms(t2, t3), total_ms: ms(t0, t3) };
    let json = report::image_json(file, img.width(), img.height(), &faces, &timings);
    Ok((json, img, faces))
}
