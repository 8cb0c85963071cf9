//! Where results go: `--format jsonl|csv` to stdout or `-o FILE`, `--summary` lines after each
//! video, and the `--report` page gathered along the way. One place that every image and video
//! frame passes through, in input order.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::html::{Report, RgbView, VideoPart};
use crate::table::{CsvWriter, FaceRecord, Place};

/// `--format`: the shape of the per-image / per-frame output.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One JSON object per image or video frame, one per line.
    #[default]
    Jsonl,
    /// One row per face per image or frame (columns: see the README), a header first.
    Csv,
}

enum Writer {
    Jsonl(Box<dyn Write>),
    Csv(CsvWriter<Box<dyn Write>>),
}

/// Everything written about the run's results. Write errors come back as `io::Error`s (a
/// closed pipe as `BrokenPipe`).
pub struct Output {
    writer: Writer,
    summary: bool,
    report: Option<(PathBuf, Report)>,
    video: Option<VideoPart>,
}

/// One analysed image, as the outputs need it.
pub struct ImageResult<'a> {
    /// The file, as named or found.
    pub file: &'a Path,
    /// Its JSON line (without newline).
    pub json: &'a str,
    /// Its faces.
    pub faces: &'a [FaceRecord],
    /// Its pixels (kept only when a report is written).
    pub pixels: Option<&'a image::RgbImage>,
    /// Decoded only partly (`--allow-partial`).
    pub partial: bool,
}

impl Output {
    /// Results in `format` to `out` (stdout or the `-o` file); with `summary` a summary line
    /// after each video (JSON lines only); with `report` the page written by [`Output::finish`].
    ///
    /// # Errors
    /// Writing the CSV header failed.
    pub fn new(format: Format, out: Box<dyn Write>, summary: bool, report: Option<PathBuf>) -> std::io::Result<Self> {
        let writer = match format {
            Format::Jsonl => Writer::Jsonl(out),
            Format::Csv => Writer::Csv(CsvWriter::new(out)?),
        };
        Ok(Output { writer, summary, report: report.map(|p| (p, Report::default())), video: None })
    }

    /// Whether a report is gathered (then images must come with their pixels).
    pub fn wants_pixels(&self) -> bool {
        self.report.is_some()
    }

    /// One analysed image.
    pub fn image(&mut self, r: &ImageResult<'_>) -> std::io::Result<()> {
        let file = r.file.to_string_lossy();
        match &mut self.writer {
            Writer::Jsonl(out) => writeln!(out, "{}", r.json)?,
            Writer::Csv(csv) => csv.write(Place { file: &file, frame: None, time_ms: None }, r.faces)?,
        }
        if let (Some((_, report)), Some(pixels)) = (&mut self.report, r.pixels) {
            report.image(&file, pixels, r.faces, r.partial);
        }
        Ok(())
    }

    /// A file that could not be analysed (already reported on stderr).
    pub fn failure(&mut self, file: &Path, error: &str) {
        if let Some((_, report)) = &mut self.report {
            report.failure(&file.to_string_lossy(), error);
        }
    }

    /// A video starts: its frames follow ([`Output::frame`]), then [`Output::end_video`].
    pub fn begin_video(&mut self, file: &str, width: u32, height: u32) {
        self.video = Some(VideoPart::new(file, width, height));
    }

    /// One video frame: its JSON line, faces, pixels (RGB, the video's size) and whether it
    /// began a new scene.
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        file: &str,
        frame: u64,
        time_ms: f64,
        json: &str,
        faces: &[FaceRecord],
        pixels: &RgbView<'_>,
        scene_cut: bool,
    ) -> std::io::Result<()> {
        match &mut self.writer {
            Writer::Jsonl(out) => writeln!(out, "{json}")?,
            Writer::Csv(csv) => csv.write(Place { file, frame: Some(frame), time_ms: Some(time_ms) }, faces)?,
        }
        if let Some(v) = &mut self.video {
            let pixels = self.report.is_some().then_some(pixels);
            v.frame(frame, time_ms, faces, pixels, scene_cut);
        }
        Ok(())
    }

    /// The video ended, after its last frame or on `error` (its frames so far stay): writes its
    /// summary line (`--summary`) and adds it to the report.
    pub fn end_video(&mut self, file: &str, error: Option<&str>) -> std::io::Result<()> {
        let Some(mut v) = self.video.take() else { return Ok(()) };
        if let Some(e) = error {
            v.fail(e);
        }
        if let (true, Writer::Jsonl(out)) = (self.summary, &mut self.writer) {
            writeln!(out, "{}", v.summary().json(file))?;
        }
        if let Some((_, report)) = &mut self.report {
            report.video(&v);
        }
        Ok(())
    }

    /// Flushes the results and writes the report, if any.
    ///
    /// # Errors
    /// What could not be written, as a message.
    pub fn finish(self, model_version: &str) -> Result<(), String> {
        let flushed = match self.writer {
            Writer::Jsonl(mut out) => out.flush(),
            Writer::Csv(csv) => csv.into_inner().and_then(|mut out| out.flush()),
        };
        match flushed {
            // A closed pipe was already handled where it happened.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(format!("cannot write the results: {e}")),
            _ => {}
        }
        if let Some((path, report)) = self.report {
            report.write(&path, model_version)?;
        }
        Ok(())
    }
}
