//! `emotion`: faces, expressions, valence and arousal for image files, folders and videos.
//!
//! One JSON object per image (per frame for videos) on stdout, or with `--format csv` one row per
//! face, or to `-o FILE`; progress on stderr; `--annotate DIR` writes each image with its faces
//! drawn; `--summary` adds per-person figures after each video; `--report FILE.html` writes a
//! page with pictures and plots. Unreadable or damaged files are reported and skipped; the exit
//! code is 1 if any file failed, 2 for bad arguments or models. Flags: `options.rs` and
//! `analyzer_args.rs` (shared with `emotion-server`); JSON: `report.rs`; CSV: `table.rs`;
//! summaries: `summary.rs`; the HTML report: `html.rs`; where results go: `output.rs`; parallel
//! files: `jobs.rs`; videos: `video.rs`.

mod analyzer_args;
mod annotate;
mod html;
mod jobs;
mod options;
mod output;
mod report;
mod summary;
mod table;
#[cfg(test)]
mod testing;
mod video;

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use emotion_core::{Analyzer, BBox, ImageView, LoadOptions};

use options::Args;
use output::{Format, ImageResult, Output};
use table::FaceRecord;

/// File name extensions treated as images when walking folders.
const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp"];

fn main() -> ExitCode {
    let args = Args::parse();
    let jobs = jobs::resolve(args.jobs);
    let analyzer = match args.build_analyzer(jobs) {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("emotion: {e}");
            return ExitCode::from(2);
        }
    };
    if args.model_info {
        println!("{}", report::model_info_json(&analyzer));
        return ExitCode::SUCCESS;
    }
    // Video options are bad arguments like any other (exit 2), even when no input is a video.
    if let Err(e) = args.video.options().validate() {
        eprintln!("emotion: {e}");
        return ExitCode::from(2);
    }
    if let Some(dir) = &args.annotate {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("emotion: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let mut output = match open_output(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("emotion: {e}");
            return ExitCode::from(2);
        }
    };

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
    let mut names = annotate::Names::default();
    let annotated: Vec<Option<PathBuf>> = files
        .iter()
        .map(|f| {
            let ext = if video::is_video(f) { "mp4" } else { "png" };
            args.annotate.as_ref().map(|dir| dir.join(names.unique_with(f, ext)))
        })
        .collect();
    let mut exit = None;
    let load = args.load_options();
    // Videos are analysed one at a time, each frame on all the cores (`--jobs` splits files,
    // and a video's frames must go in order through one tracker): with several jobs the image
    // analyzer runs 1 thread per file, so videos get an analyzer of their own.
    let mut video_analyzer: Option<Arc<Analyzer>> = None;
    let mut start = 0;
    while start < files.len() && exit.is_none() {
        if video::is_video(&files[start]) {
            let analyzer = match &video_analyzer {
                Some(a) => Arc::clone(a),
                None if jobs == 1 => Arc::clone(&analyzer),
                None => match args.build_analyzer(1) {
                    Ok(a) => Arc::clone(video_analyzer.insert(Arc::new(a))),
                    Err(e) => {
                        eprintln!("emotion: {e}");
                        return ExitCode::from(2);
                    }
                },
            };
            let file = &files[start];
            let out = annotated[start].clone();
            match progress.suspend(|| video::process(&analyzer, args.video.options(), file, out, &mut output)) {
                Ok(()) => {}
                Err(video::VideoError::BrokenPipe) => {
                    exit = Some(ExitCode::SUCCESS);
                    break;
                }
                Err(video::VideoError::Failed(e)) => {
                    eprintln!("emotion: {}: {e}", file.display());
                    output.failure(file, &e);
                    failed += 1;
                }
            }
            progress.inc(1);
            start += 1;
            continue;
        }
        // The images up to the next video, `--jobs` at a time, in input order.
        let end = files[start..].iter().position(|f| video::is_video(f)).map_or(files.len(), |n| start + n);
        let keep_pixels = output.wants_pixels();
        let work = |i: usize| process(&analyzer, &files[start + i], &load, args.whole_image, annotated[start + i].as_deref(), keep_pixels);
        run_images(end - start, jobs, work, &progress, &mut output, &mut failed, &mut exit, |i| &files[start + i]);
        start = end;
    }
    progress.finish_and_clear();
    // The report covers what was analysed, even when a closed pipe stopped the run.
    if let Err(e) = output.finish(&analyzer.model().info().version) {
        eprintln!("emotion: {e}");
        return ExitCode::from(1);
    }
    if let Some(code) = exit {
        return code;
    }
    if failed > 0 {
        eprintln!("emotion: {failed} input(s) failed");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Where results go, from `--format`, `-o`, `--summary` and `--report`; the error says which
/// flag or file is wrong (a bad argument: exit 2).
fn open_output(args: &Args) -> Result<Output, String> {
    if args.summary && args.format != Format::Jsonl {
        return Err("--summary writes a JSON object: it needs --format jsonl".into());
    }
    if let Some(report) = &args.report {
        // Fail now rather than after hours of video.
        std::fs::File::create(report).map_err(|e| format!("cannot write the report {}: {e}", report.display()))?;
    }
    let out: Box<dyn Write> = match &args.output {
        Some(path) => {
            let f = std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Box::new(std::io::BufWriter::new(f))
        }
        None => Box::new(std::io::stdout().lock()),
    };
    Output::new(args.format, out, args.summary, args.report.clone()).map_err(|e| format!("cannot write the results: {e}"))
}

/// One analysed image: its JSON line, faces, pixels (for the report) and the outcome of
/// writing the annotated copy.
struct Analysed {
    json: String,
    faces: Vec<FaceRecord>,
    pixels: Option<image::RgbImage>,
    partial: bool,
    annotate_result: Result<(), String>,
}

/// Analyses `count` images with `work` on `jobs` threads, writing their results in order.
/// A failed write sets `exit`; failed images are reported and counted in `failed`.
#[allow(clippy::too_many_arguments)]
fn run_images<'a>(
    count: usize,
    jobs: usize,
    work: impl Fn(usize) -> emotion_core::Result<Analysed> + Sync,
    progress: &indicatif::ProgressBar,
    output: &mut Output,
    failed: &mut usize,
    exit: &mut Option<ExitCode>,
    file: impl Fn(usize) -> &'a Path,
) {
    jobs::run_ordered(count, jobs, work, || progress.inc(1), |i, outcome| {
        match outcome {
            Ok(a) => {
                let result = ImageResult { file: file(i), json: &a.json, faces: &a.faces, pixels: a.pixels.as_ref(), partial: a.partial };
                if let Err(e) = output.image(&result) {
                    // A closed pipe (`emotion dir/ | head`) ends the run quietly, like other tools.
                    *exit = Some(if e.kind() == std::io::ErrorKind::BrokenPipe {
                        ExitCode::SUCCESS
                    } else {
                        progress.suspend(|| eprintln!("emotion: cannot write the results: {e}"));
                        ExitCode::from(1)
                    });
                    return ControlFlow::Break(());
                }
                if let Err(e) = a.annotate_result {
                    progress.suspend(|| eprintln!("emotion: {e}"));
                    *failed += 1;
                }
            }
            Err(e) => {
                progress.suspend(|| eprintln!("emotion: {}: {e}", file(i).display()));
                output.failure(file(i), &e.to_string());
                *failed += 1;
            }
        }
        ControlFlow::Continue(())
    });
}

/// Expands folders into their image files (sorted, recursive). Symbolic links inside a folder
/// are followed, to files and to folders, as a link named on the command line is; a link to a
/// folder that contains it (a loop) is reported on stderr and not entered, and is no failure.
/// A link whose target is missing counts as an unreadable input when its name is an image's.
/// Returns the files and how many inputs could not be read at all.
fn collect_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, usize) {
    let mut files = Vec::new();
    let mut failed = 0;
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(input)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_map(|entry| match entry {
                    Ok(e) => Some(e),
                    Err(err) if err.loop_ancestor().is_some() => {
                        eprintln!("emotion: skipping a link loop: {err}");
                        None
                    }
                    Err(err) if err.path().is_some_and(|p| !is_image_name(p) && p.symlink_metadata().is_ok_and(|m| m.is_symlink())) => {
                        None // a broken link to something that is not an image
                    }
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

/// Decodes and analyses one file: its JSON line and faces, its pixels when `keep_pixels`, and
/// the outcome of writing the annotated copy to `annotated` when asked. With `whole_image` the
/// whole picture is classified as one face (no detection).
fn process(
    analyzer: &Analyzer,
    file: &Path,
    load: &LoadOptions,
    whole_image: bool,
    annotated: Option<&Path>,
    keep_pixels: bool,
) -> emotion_core::Result<Analysed> {
    let t0 = Instant::now();
    let loaded = emotion_core::load_image(file, load)?;
    let img = loaded.image;
    let view = ImageView::try_from(&img)?;
    let t1 = Instant::now();
    let (faces, t2) = if whole_image {
        let whole = BBox::new(0.0, 0.0, img.width() as f32, img.height() as f32);
        let t2 = Instant::now();
        (analyzer.classify(&view, &[whole])?, t2)
    } else {
        let detections = analyzer.detect(&view)?;
        let t2 = Instant::now();
        (analyzer.classify_detections(&view, &detections)?, t2)
    };
    let t3 = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    let timings = report::Timings {
        decode_ms: ms(t0, t1),
        detect_ms: Some(ms(t1, t2)),
        classify_ms: Some(ms(t2, t3)),
        track_ms: None,
        total_ms: ms(t0, t3),
    };
    let image = report::ImageMeta { width: img.width(), height: img.height(), partial: loaded.partial, more_frames: loaded.more_frames };
    let json = report::image_json(file, &image, analyzer, &faces, &timings);
    let annotate_result = annotated.map_or(Ok(()), |out| annotate::write(out, &img, &faces));
    let records = faces.iter().map(FaceRecord::from).collect();
    Ok(Analysed { json, faces: records, pixels: keep_pixels.then_some(img), partial: loaded.partial, annotate_result })
}
