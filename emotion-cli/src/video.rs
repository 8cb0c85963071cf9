//! Video files: decoded by the `ffmpeg` program into raw RGB frames on a pipe, analysed frame by
//! frame with an `emotion_core::Tracker`, one JSON line per frame; `--annotate` pipes the drawn
//! frames back into `ffmpeg` to encode `<name>.annotated.mp4` (H.264).
//!
//! Frame times: `ffprobe`'s average frame rate (`time_ms = frame * 1000 / fps`), so a variable
//! frame-rate clip gets evenly spaced times.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::Arc;

use emotion_core::{Analyzer, ImageView, TrackedFace, Tracker, TrackerOptions};
use serde::Serialize;

use crate::html::RgbView;
use crate::output::Output;
use crate::report::FaceJson;
use crate::table::FaceRecord;

/// Tracker settings for videos (see `emotion_core::TrackerOptions` for each one's range).
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Video options")]
pub struct VideoArgs {
    /// Videos: whole-frame face detection every N frames (between them faces are re-found near
    /// their last position) [1, 1000].
    #[arg(long, value_name = "N", default_value_t = TrackerOptions::default().detection_interval)]
    pub detection_interval: u32,
    /// Videos: half-life of the smoothing of probabilities, valence and arousal, ms (0 = off).
    #[arg(long, value_name = "MS", default_value_t = TrackerOptions::default().half_life_ms)]
    pub half_life_ms: f64,
    /// Videos: a face track ends after this long unseen, ms.
    #[arg(long, value_name = "MS", default_value_t = TrackerOptions::default().max_age_ms)]
    pub max_age_ms: f64,
}

impl VideoArgs {
    /// The tracker options these arguments give.
    pub fn options(&self) -> TrackerOptions {
        TrackerOptions::default()
            .with_detection_interval(self.detection_interval)
            .with_half_life_ms(self.half_life_ms)
            .with_max_age_ms(self.max_age_ms)
    }
}

/// File name extensions handled as videos.
pub const VIDEO_EXTENSIONS: [&str; 5] = ["mp4", "mkv", "avi", "mov", "webm"];

/// Whether `path` names a video by its extension.
pub fn is_video(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What went wrong with one video; frames before it were already written.
pub enum VideoError {
    /// stdout was closed (`emotion clip.mp4 | head`): stop quietly.
    BrokenPipe,
    /// Reported as `emotion: <file>: <message>`; the run's exit code becomes 1.
    Failed(String),
}

impl From<String> for VideoError {
    fn from(s: String) -> Self {
        VideoError::Failed(s)
    }
}

impl From<&str> for VideoError {
    fn from(s: &str) -> Self {
        VideoError::Failed(s.to_string())
    }
}

const MISSING_FFMPEG: &str =
    "videos need the ffmpeg and ffprobe programs on the PATH (Debian/Ubuntu: apt install ffmpeg; macOS: brew install ffmpeg)";

fn spawn(cmd: &mut Command) -> Result<Child, String> {
    cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            MISSING_FFMPEG.to_string()
        } else {
            format!("cannot run {:?}: {e}", cmd.get_program())
        }
    })
}

/// Width, height (as decoded, rotation applied), frames per second and declared frame count.
struct Probe {
    width: u32,
    height: u32,
    fps: f64,
    frames: Option<u64>,
}

/// `file:PATH` for ffmpeg and ffprobe: a local path that looks like an option (`-x.mp4`) or a
/// protocol (`a:b.mp4`, `pipe:0.mp4`) is still read as a file.
fn local(path: &Path) -> std::ffi::OsString {
    let mut arg = std::ffi::OsString::from("file:");
    arg.push(path);
    arg
}

fn probe(file: &Path) -> Result<Probe, String> {
    if !file.is_file() {
        return Err(if file.exists() { "not a file".into() } else { "no such file".into() });
    }
    let out = spawn(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-of", "json"])
            .args(["-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate,nb_frames:stream_side_data=rotation:stream_tags=rotate"])
            .arg(local(file))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?
    .wait_with_output()
    .map_err(|e| format!("ffprobe failed: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !out.status.success() {
        return Err(format!("not a readable video: {}", last_line(&stderr)));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("unexpected ffprobe output: {e}"))?;
    let Some(s) = json["streams"].get(0) else {
        return Err("not a video: no video stream".into());
    };
    let dim = |k: &str| s[k].as_u64().filter(|&v| v > 0 && v <= u64::from(u32::MAX)).map(|v| v as u32);
    let (Some(w), Some(h)) = (dim("width"), dim("height")) else {
        return Err("not a video: no frame size".into());
    };
    let rate = |k: &str| {
        let r = s[k].as_str()?;
        let (n, d) = r.split_once('/')?;
        let v = n.parse::<f64>().ok()? / d.parse::<f64>().ok()?;
        (v.is_finite() && v > 0.0).then_some(v)
    };
    let fps = rate("avg_frame_rate").or_else(|| rate("r_frame_rate")).unwrap_or(25.0);
    let frames = s["nb_frames"].as_str().and_then(|n| n.parse().ok()).filter(|&n: &u64| n > 0);
    let rotation = s["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()))
        .or_else(|| s["tags"]["rotate"].as_str().and_then(|r| r.parse().ok()))
        .unwrap_or(0);
    // ffmpeg applies the rotation when decoding: a quarter turn swaps the sides.
    let (width, height) = if rotation.rem_euclid(180) == 90 { (h, w) } else { (w, h) };
    Ok(Probe { width, height, fps, frames })
}

fn last_line(s: &str) -> &str {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("ffmpeg gave no reason").trim()
}

/// Collects a child's stderr on a thread (so a chatty child never blocks on a full pipe).
fn drain(stderr: Option<ChildStderr>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut s);
        }
        s
    })
}

/// Pipes annotated frames into `ffmpeg` writing an H.264 MP4.
struct Encoder {
    child: Child,
    errors: std::thread::JoinHandle<String>,
    path: PathBuf,
}

impl Encoder {
    fn start(path: PathBuf, p: &Probe) -> Result<Self, String> {
        let mut child = spawn(
            Command::new("ffmpeg")
                .args(["-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"])
                .args(["-s", &format!("{}x{}", p.width, p.height), "-r", &format!("{}", p.fps), "-i", "-"])
                // yuv420p (what players expect) needs even sides.
                .args(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
                .args(["-movflags", "+faststart"])
                .arg(local(&path))
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        )?;
        let errors = drain(child.stderr.take());
        Ok(Encoder { child, errors, path })
    }

    fn write(&mut self, rgb: &[u8]) -> Result<(), String> {
        let stdin = self.child.stdin.as_mut().ok_or("encoder input closed")?;
        stdin.write_all(rgb).map_err(|e| format!("cannot encode {}: {e}", self.path.display()))
    }

    fn finish(mut self) -> Result<(), String> {
        drop(self.child.stdin.take());
        let status = self.child.wait().map_err(|e| e.to_string())?;
        let errors = self.errors.join().unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            Err(format!("cannot encode {}: {}", self.path.display(), last_line(&errors)))
        }
    }
}

#[derive(Serialize)]
struct FrameJson<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_hex: Option<&'a str>,
    frame: u64,
    time_ms: f64,
    width: u32,
    height: u32,
    faces: Vec<FaceJson>,
}

/// `file_hex`: see [`crate::report::file_hex`].
fn frame_json(file: &str, file_hex: Option<&str>, frame: u64, time_ms: f64, width: u32, height: u32, faces: &[TrackedFace]) -> String {
    let faces = faces.iter().map(FaceJson::from).collect();
    let json = FrameJson { file, file_hex, frame, time_ms, width, height, faces };
    // Plain structs of numbers and strings: cannot fail.
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// Analyses every frame of `file`, writing each frame's results to `out` (then, with
/// `--summary`, the video's summary line) and, with `annotated`, an annotated MP4 there. Frames
/// decoded before an error are still written.
pub fn process(
    analyzer: &Arc<Analyzer>,
    options: TrackerOptions,
    file: &Path,
    annotated: Option<PathBuf>,
    out: &mut Output,
) -> Result<(), VideoError> {
    let result = frames(analyzer, options, file, annotated, out);
    let error = match &result {
        Ok(()) => None,
        Err(VideoError::Failed(m)) => Some(m.as_str()),
        Err(VideoError::BrokenPipe) => return result,
    };
    out.end_video(&file.to_string_lossy(), error).map_err(write_error)?;
    result
}

fn write_error(e: std::io::Error) -> VideoError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        VideoError::BrokenPipe
    } else {
        format!("cannot write the results: {e}").into()
    }
}

fn frames(
    analyzer: &Arc<Analyzer>,
    options: TrackerOptions,
    file: &Path,
    annotated: Option<PathBuf>,
    out: &mut Output,
) -> Result<(), VideoError> {
    let p = probe(file)?;
    out.begin_video(&file.to_string_lossy(), p.width, p.height);
    let frame_bytes = (p.width as usize * p.height as usize).checked_mul(3).ok_or("frame too large")?;
    let mut decoder = spawn(
        Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-xerror", "-i"])
            .arg(local(file))
            .args(["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-fps_mode", "passthrough", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let errors = drain(decoder.stderr.take());
    let mut frames_in = decoder.stdout.take().ok_or("no decoder output")?;

    let progress = match p.frames {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} frames {elapsed}<{eta} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    progress.set_message(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());

    let result = (|| -> Result<u64, VideoError> {
        let mut tracker = Tracker::new(Arc::clone(analyzer), options).map_err(|e| e.to_string())?;
        let mut encoder = annotated.map(|path| Encoder::start(path, &p)).transpose()?;
        let name = file.to_string_lossy();
        let hex = crate::report::file_hex(file);
        let mut buf = vec![0u8; frame_bytes];
        let mut frame = 0u64;
        loop {
            match read_frame(&mut frames_in, &mut buf)? {
                Filled::Full => {}
                Filled::Empty => break,
                Filled::Partial => return Err(format!("frame {frame} is cut short (truncated video?)").into()),
            }
            let time_ms = frame as f64 * 1000.0 / p.fps;
            let view = ImageView::rgb(&buf, p.width, p.height).map_err(|e| e.to_string())?;
            let faces = tracker.update(&view, time_ms).map_err(|e| format!("frame {frame}: {e}"))?;
            let line = frame_json(&name, hex.as_deref(), frame, time_ms, p.width, p.height, &faces);
            let records: Vec<FaceRecord> = faces.iter().map(FaceRecord::from).collect();
            let pixels = RgbView::from_raw(p.width, p.height, buf.as_slice()).ok_or("frame buffer size")?;
            out.frame(&name, frame, time_ms, &line, &records, &pixels, tracker.scene_cut()).map_err(write_error)?;
            if let Some(enc) = encoder.as_mut() {
                let mut img = image::RgbImage::from_raw(p.width, p.height, buf.clone()).ok_or("frame buffer size")?;
                let drawn: Vec<emotion_core::Face> = faces.iter().map(|t| t.face).collect();
                emotion_core::draw::draw_faces_rgb(&mut img, &drawn);
                enc.write(img.as_raw())?;
            }
            frame += 1;
            progress.inc(1);
        }
        if let Some(enc) = encoder {
            enc.finish()?;
        }
        Ok(frame)
    })();
    progress.finish_and_clear();
    // Stop the decoder if we quit early; then its exit status and messages tell how it ended.
    if result.is_err() {
        let _ = decoder.kill();
    }
    drop(frames_in);
    let status = decoder.wait().map_err(|e| format!("ffmpeg: {e}"))?;
    let messages = errors.join().unwrap_or_default();
    let frames = match result {
        Ok(n) => n,
        // The decoder's own reason, when it gave one, says more than "cut short".
        Err(VideoError::Failed(m)) if !messages.trim().is_empty() => {
            return Err(format!("{m}: {}", last_line(&messages)).into())
        }
        Err(e) => return Err(e),
    };
    // ffmpeg runs at `-v error`: a message means an error, even when it went on and exited 0, as
    // for a Matroska or WebM file cut short ("File ended prematurely"; these containers declare no
    // frame count to compare with).
    if !status.success() || !messages.trim().is_empty() {
        let what = if frames == 0 { "not a readable video" } else { "decoding stopped (damaged or truncated video?)" };
        return Err(format!("{what} after {frames} frame(s): {}", last_line(&messages)).into());
    }
    if frames == 0 {
        return Err("no frames decoded".to_string().into());
    }
    if let Some(n) = p.frames.filter(|&n| frames < n) {
        return Err(format!("only {frames} of {n} frames could be decoded (truncated video?)").into());
    }
    Ok(())
}

enum Filled {
    Full,
    Empty,
    Partial,
}

/// Reads one whole frame; `Empty` at a clean end of stream, `Partial` when it ends mid-frame.
fn read_frame(r: &mut impl Read, buf: &mut [u8]) -> Result<Filled, String> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => return Ok(if filled == 0 { Filled::Empty } else { Filled::Partial }),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading decoded frames: {e}")),
        }
    }
    Ok(Filled::Full)
}
