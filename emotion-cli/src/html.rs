//! `--report FILE.html`: one self-contained HTML file (no network: data, pictures, styles and
//! script inline) a person can open from disk.
//!
//! - Videos: per person (track) a thumbnail cut from the frame where the detector was surest of
//!   the face, valence, arousal and expression-probability timelines on one time axis per video
//!   with the scene cuts marked, and the `--summary` figures as a table; hovering a timeline
//!   shows the values at that time.
//! - Images and folders: a gallery with the faces' boxes and labels (click to enlarge), the
//!   distribution of top expressions, a valence x arousal scatter of all faces, and a table.
//! - Files that failed (and those decoded only partly) are listed with the reason.
//!
//! Bounded whatever the input's length, in time linear in the frames: the timelines keep at most
//! [`MAX_BUCKETS`] time buckets per video (each bucket's mean, and the min/max band of valence and
//! arousal; the bucket width doubles, merging neighbours, as the video gets longer), thumbnails
//! are at most [`THUMB_SIDE`] pixels, the gallery shows the first [`MAX_GALLERY`] images and the
//! table and scatter the first [`MAX_FACES`] faces (the report says how many were left out).
//! The page itself is `report.html` (its script draws everything from the JSON embedded in it).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use emotion_core::Expression;
use image::{ImageBuffer, Rgb, RgbImage};
use serde::Serialize;

use crate::summary::{TrackSummary, VideoSummary};
use crate::table::FaceRecord;

/// Most time buckets kept per video timeline (per track at most this many points).
pub const MAX_BUCKETS: u64 = 2000;
/// Longest side of a person's thumbnail, pixels.
pub const THUMB_SIDE: u32 = 96;
/// Longest side of a gallery picture (shown small, enlarged on click), pixels.
pub const GALLERY_SIDE: u32 = 640;
/// Images shown in the gallery; the rest are in the table and scatter only.
pub const MAX_GALLERY: usize = 48;
/// Faces listed in the table and drawn in the scatter.
pub const MAX_FACES: usize = 5000;
/// Scene cuts marked per video.
pub const MAX_CUTS: usize = 2000;

const TEMPLATE: &str = include_str!("report.html");
const DATA_MARK: &str = "/*DATA*/null";

/// An RGB picture borrowed from a frame buffer or an image.
pub type RgbView<'a> = ImageBuffer<Rgb<u8>, &'a [u8]>;

/// One time bucket of one track: the frames seen in `[key * width, (key + 1) * width)` ms.
#[derive(Clone, Copy)]
struct Bucket {
    key: u64,
    n: u32,
    /// Sums of valence, arousal and the 8 probabilities.
    sum: [f64; 10],
    /// Min and max of valence and arousal.
    min: [f32; 2],
    max: [f32; 2],
}

impl Bucket {
    fn new(key: u64) -> Self {
        Bucket { key, n: 0, sum: [0.0; 10], min: [f32::INFINITY; 2], max: [f32::NEG_INFINITY; 2] }
    }

    fn add(&mut self, f: &FaceRecord) {
        self.n += 1;
        let va = [f.face.valence, f.face.arousal];
        for i in 0..2 {
            self.sum[i] += f64::from(va[i]);
            self.min[i] = self.min[i].min(va[i]);
            self.max[i] = self.max[i].max(va[i]);
        }
        for (s, p) in self.sum[2..].iter_mut().zip(f.face.probabilities) {
            *s += f64::from(p);
        }
    }

    fn merge(&mut self, o: &Bucket) {
        self.n += o.n;
        for (s, t) in self.sum.iter_mut().zip(o.sum) {
            *s += t;
        }
        for i in 0..2 {
            self.min[i] = self.min[i].min(o.min[i]);
            self.max[i] = self.max[i].max(o.max[i]);
        }
    }
}

/// A person's picture: the crop from the frame with the highest detection score so far.
struct Thumb {
    score: f32,
    image: RgbImage,
}

/// The face crop shown for a person: the box enlarged by half, clamped, scaled to `side`.
fn crop(frame: &RgbView<'_>, f: &FaceRecord, side: u32) -> Option<RgbImage> {
    let b = f.face.bbox;
    let (cx, cy, half) = (b.x + b.width / 2.0, b.y + b.height / 2.0, b.width.max(b.height) * 0.75);
    let x0 = (cx - half).max(0.0) as u32;
    let y0 = (cy - half).max(0.0) as u32;
    let x1 = ((cx + half).max(0.0) as u32).min(frame.width());
    let y1 = ((cy + half).max(0.0) as u32).min(frame.height());
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let part = RgbImage::from_fn(x1 - x0, y1 - y0, |x, y| *frame.get_pixel(x0 + x, y0 + y));
    Some(fit(&part, side))
}

/// `img` scaled down (never up) so its longer side is at most `side`.
fn fit(img: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w.max(h) <= side {
        return img.clone();
    }
    let s = f64::from(side) / f64::from(w.max(h));
    let (nw, nh) = (((f64::from(w) * s).round() as u32).max(1), ((f64::from(h) * s).round() as u32).max(1));
    image::imageops::thumbnail(img, nw, nh)
}

/// `data:image/jpeg;base64,...` of `img`.
fn jpeg_data_url(img: &RgbImage, quality: u8) -> String {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    if img.write_with_encoder(encoder).is_err() {
        return String::new();
    }
    format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// What the report gathers about one video, frame by frame.
pub struct VideoPart {
    file: String,
    width: u32,
    height: u32,
    last_ms: f64,
    /// Bucket width, ms (a power of two).
    width_ms: f64,
    buckets: BTreeMap<u64, Vec<Bucket>>,
    thumbs: BTreeMap<u64, Thumb>,
    cuts: Vec<f64>,
    cut_count: u64,
    summary: VideoSummary,
    error: Option<String>,
}

impl VideoPart {
    /// A video of `width` x `height` frames named `file`.
    pub fn new(file: &str, width: u32, height: u32) -> Self {
        VideoPart {
            file: file.to_string(),
            width,
            height,
            last_ms: 0.0,
            width_ms: 1.0,
            buckets: BTreeMap::new(),
            thumbs: BTreeMap::new(),
            cuts: Vec::new(),
            cut_count: 0,
            summary: VideoSummary::default(),
            error: None,
        }
    }

    /// Adds one frame: its index and time (ms), its faces, its pixels (for the thumbnails; `None`
    /// gives none), and whether it began a new scene. Time O(faces), plus a crop when a face is
    /// its track's best so far.
    pub fn frame(&mut self, frame: u64, time_ms: f64, faces: &[FaceRecord], pixels: Option<&RgbView<'_>>, scene_cut: bool) {
        self.summary.add(frame, time_ms, faces);
        self.last_ms = self.last_ms.max(time_ms);
        if scene_cut {
            self.cut_count += 1;
            if self.cuts.len() < MAX_CUTS {
                self.cuts.push(time_ms);
            }
        }
        let t = time_ms.max(0.0);
        while t / self.width_ms >= MAX_BUCKETS as f64 {
            self.coarsen();
        }
        let key = (t / self.width_ms) as u64;
        for f in faces {
            let Some(id) = f.track_id else { continue };
            let line = self.buckets.entry(id).or_default();
            if line.last().is_none_or(|b| b.key != key) {
                line.push(Bucket::new(key));
            }
            if let Some(b) = line.last_mut() {
                b.add(f);
            }
            let score = f.face.detection_score.unwrap_or(0.0);
            let better = self.thumbs.get(&id).is_none_or(|t| score > t.score);
            if let (true, Some(frame)) = (better, pixels) {
                if let Some(image) = crop(frame, f, THUMB_SIDE) {
                    self.thumbs.insert(id, Thumb { score, image });
                }
            }
        }
    }

    /// Doubles the bucket width, merging neighbouring buckets of every track.
    fn coarsen(&mut self) {
        self.width_ms *= 2.0;
        for line in self.buckets.values_mut() {
            let mut merged: Vec<Bucket> = Vec::with_capacity(line.len() / 2 + 1);
            for b in line.iter() {
                let key = b.key / 2;
                match merged.last_mut() {
                    Some(m) if m.key == key => m.merge(b),
                    _ => merged.push(Bucket { key, ..*b }),
                }
            }
            *line = merged;
        }
    }

    /// Marks the video as stopped by `error` (its frames so far stay in the report).
    pub fn fail(&mut self, error: &str) {
        self.error = Some(error.to_string());
    }

    /// The figures of `--summary`.
    pub fn summary(&self) -> &VideoSummary {
        &self.summary
    }

    fn json(&self) -> VideoJson {
        let q = |x: f64| (x * 1000.0).round() as i32;
        let tracks = self
            .summary
            .tracks
            .values()
            .map(|s| {
                let line = self.buckets.get(&s.track_id).map(Vec::as_slice).unwrap_or_default();
                let mean = |i: usize| line.iter().map(|b| q(b.sum[i] / f64::from(b.n.max(1)))).collect();
                TrackJson {
                    id: s.track_id,
                    thumb: self.thumbs.get(&s.track_id).map(|t| jpeg_data_url(&t.image, 85)),
                    summary: SummaryJson::from(s),
                    k: line.iter().map(|b| b.key).collect(),
                    v: mean(0),
                    a: mean(1),
                    vmin: line.iter().map(|b| q(b.min[0].into())).collect(),
                    vmax: line.iter().map(|b| q(b.max[0].into())).collect(),
                    amin: line.iter().map(|b| q(b.min[1].into())).collect(),
                    amax: line.iter().map(|b| q(b.max[1].into())).collect(),
                    p: (2..10).map(mean).collect(),
                }
            })
            .collect();
        VideoJson {
            file: self.file.clone(),
            width: self.width,
            height: self.height,
            frames: self.summary.frames,
            duration_ms: self.last_ms,
            bucket_ms: self.width_ms,
            frame_ms: if self.summary.frames > 1 { self.last_ms / (self.summary.frames - 1) as f64 } else { self.width_ms },
            cuts: self.cuts.clone(),
            cut_count: self.cut_count,
            tracks,
            error: self.error.clone(),
        }
    }
}

/// Everything one run's report shows, gathered as the files are analysed.
#[derive(Default)]
pub struct Report {
    videos: Vec<VideoJson>,
    images: Vec<ImageJson>,
    faces_total: usize,
    faces: Vec<FaceJson>,
    expression_counts: [u64; 8],
    failures: Vec<Failure>,
}

impl Report {
    /// Adds a finished video (one stopped by an error shows it; list it with
    /// [`Report::failure`] too).
    pub fn video(&mut self, video: &VideoPart) {
        self.videos.push(video.json());
    }

    /// Adds an analysed image: its pixels (only the first [`MAX_GALLERY`] are kept, scaled) and
    /// faces; `partial` when it was decoded only partly (`--allow-partial`).
    pub fn image(&mut self, file: &str, pixels: &RgbImage, faces: &[FaceRecord], partial: bool) {
        let index = self.images.len();
        let picture = (index < MAX_GALLERY).then(|| jpeg_data_url(&fit(pixels, GALLERY_SIDE), 80));
        let boxes = faces.iter().map(|f| BoxJson::from(f)).collect();
        self.images.push(ImageJson { file: file.to_string(), width: pixels.width(), height: pixels.height(), partial, picture, faces: boxes });
        if partial {
            self.failures.push(Failure { file: file.to_string(), error: "damaged: only part of the image could be decoded".into() });
        }
        for (i, f) in faces.iter().enumerate() {
            self.expression_counts[f.face.expression as usize] += 1;
            self.faces_total += 1;
            if self.faces.len() < MAX_FACES {
                self.faces.push(FaceJson { image: index, face: i, detail: BoxJson::from(f) });
            }
        }
    }

    /// Adds a file that could not be analysed, with the reason.
    pub fn failure(&mut self, file: &str, error: &str) {
        self.failures.push(Failure { file: file.to_string(), error: error.to_string() });
    }

    /// The page, as one string.
    pub fn html(&self, model_version: &str) -> String {
        let data = PageJson {
            library_version: emotion_core::VERSION,
            model_version,
            expressions: Expression::ALL.map(Expression::name),
            videos: &self.videos,
            images: &self.images,
            images_in_gallery: self.images.len().min(MAX_GALLERY),
            faces: &self.faces,
            faces_total: self.faces_total,
            expression_counts: self.expression_counts,
            failures: &self.failures,
        };
        // `<` only occurs inside JSON strings, where \u003c is the same character: the data can
        // then never end the <script> element that holds it.
        let json = serde_json::to_string(&data).unwrap_or_else(|_| "null".into()).replace('<', "\\u003c");
        TEMPLATE.replacen(DATA_MARK, &json, 1)
    }

    /// Writes the page to `path`.
    ///
    /// # Errors
    /// The file cannot be written; the message names it.
    pub fn write(&self, path: &Path, model_version: &str) -> Result<(), String> {
        let write = || -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            f.write_all(self.html(model_version).as_bytes())?;
            f.flush()
        };
        write().map_err(|e| format!("cannot write the report {}: {e}", path.display()))
    }
}

#[derive(Serialize)]
struct PageJson<'a> {
    library_version: &'a str,
    model_version: &'a str,
    expressions: [&'static str; 8],
    videos: &'a [VideoJson],
    images: &'a [ImageJson],
    images_in_gallery: usize,
    faces: &'a [FaceJson],
    faces_total: usize,
    expression_counts: [u64; 8],
    failures: &'a [Failure],
}

#[derive(Serialize)]
struct Failure {
    file: String,
    error: String,
}

#[derive(Serialize)]
struct VideoJson {
    file: String,
    width: u32,
    height: u32,
    frames: u64,
    duration_ms: f64,
    /// Width of the timeline buckets, ms: bucket `k` covers `[k * bucket_ms, (k + 1) * bucket_ms)`.
    bucket_ms: f64,
    /// The mean time between frames, ms: buckets further apart than about this (or than one
    /// bucket) are a gap, where the person was not seen.
    frame_ms: f64,
    cuts: Vec<f64>,
    cut_count: u64,
    tracks: Vec<TrackJson>,
    error: Option<String>,
}

/// One track's timeline: per bucket `k`, the means of valence `v`, arousal `a` and the 8
/// probabilities `p[e]`, and the ranges of valence and arousal, each as thousandths (integers).
#[derive(Serialize)]
struct TrackJson {
    id: u64,
    thumb: Option<String>,
    summary: SummaryJson,
    k: Vec<u64>,
    v: Vec<i32>,
    a: Vec<i32>,
    vmin: Vec<i32>,
    vmax: Vec<i32>,
    amin: Vec<i32>,
    amax: Vec<i32>,
    p: Vec<Vec<i32>>,
}

#[derive(Serialize)]
struct SummaryJson {
    first_ms: f64,
    last_ms: f64,
    frames_seen: u64,
    main_expression: &'static str,
    shares: [f64; 8],
    valence_mean: f64,
    valence_std: f64,
    arousal_mean: f64,
    arousal_std: f64,
    /// Peak time (ms) and probability of each expression.
    peaks: Vec<(f64, f32)>,
}

impl From<&TrackSummary> for SummaryJson {
    fn from(s: &TrackSummary) -> Self {
        SummaryJson {
            first_ms: s.first.1,
            last_ms: s.last.1,
            frames_seen: s.frames_seen,
            main_expression: s.main_expression().name(),
            shares: s.shares(),
            valence_mean: s.valence.mean(),
            valence_std: s.valence.std(),
            arousal_mean: s.arousal.mean(),
            arousal_std: s.arousal.std(),
            peaks: s.peaks.iter().map(|p| (p.time_ms, p.probability)).collect(),
        }
    }
}

#[derive(Serialize)]
struct ImageJson {
    file: String,
    width: u32,
    height: u32,
    partial: bool,
    /// A JPEG data URL (the first [`MAX_GALLERY`] images only).
    picture: Option<String>,
    faces: Vec<BoxJson>,
}

#[derive(Serialize)]
struct BoxJson {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
    score: Option<f32>,
    expression: &'static str,
    probabilities: [f32; 8],
    valence: f32,
    arousal: f32,
}

impl From<&FaceRecord> for BoxJson {
    fn from(r: &FaceRecord) -> Self {
        let f = &r.face;
        BoxJson {
            x: f.bbox.x,
            y: f.bbox.y,
            width: f.bbox.width,
            height: f.bbox.height,
            score: f.detection_score,
            expression: f.expression.name(),
            probabilities: f.probabilities,
            valence: f.valence,
            arousal: f.arousal,
        }
    }
}

#[derive(Serialize)]
struct FaceJson {
    image: usize,
    face: usize,
    #[serde(flatten)]
    detail: BoxJson,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::synthetic_hour;

    fn data(html: &str) -> serde_json::Value {
        let start = html.find("<script id=\"data\" type=\"application/json\">").unwrap();
        let rest = &html[start..];
        let rest = &rest[rest.find('>').unwrap() + 1..];
        serde_json::from_str(&rest[..rest.find("</script>").unwrap()]).unwrap()
    }

    #[test]
    fn timelines_stay_bounded_and_keep_every_frame_in_the_means() {
        let mut v = VideoPart::new("long.mp4", 640, 480);
        let frame: Vec<u8> = vec![128; 640 * 480 * 3];
        let pixels = RgbView::from_raw(640, 480, frame.as_slice()).unwrap();
        let mut seen = 0u64;
        synthetic_hour(30.0, 600.0, |frame, time_ms, faces, cut| {
            seen += faces.len() as u64;
            v.frame(frame, time_ms, faces, Some(&pixels), cut);
        });
        let total: u64 = v.buckets.values().flatten().map(|b| u64::from(b.n)).sum();
        assert_eq!(total, seen);
        let max_key = v.buckets.values().flatten().map(|b| b.key).max().unwrap();
        assert!(max_key < MAX_BUCKETS, "{max_key}");
        assert!(v.buckets.values().all(|l| l.windows(2).all(|w| w[0].key < w[1].key)));
        assert_eq!(v.thumbs.len(), v.summary.tracks.len());
        assert!(v.thumbs.values().all(|t| t.image.width() <= THUMB_SIDE && t.image.height() <= THUMB_SIDE));
    }

    /// The bound: a 1-hour 30 fps stream (3 people, a cut every 5 minutes) gives a report
    /// of at most 5 MB. Time is printed, not asserted (`--nocapture`); the page is kept under
    /// `target/report-bench/hour.html` for a look.
    #[test]
    fn a_one_hour_stream_gives_a_report_of_at_most_5_mb() {
        let t0 = std::time::Instant::now();
        let frame: Vec<u8> = vec![128; 640 * 480 * 3];
        let pixels = RgbView::from_raw(640, 480, frame.as_slice()).unwrap();
        let mut v = VideoPart::new("hour.mp4", 640, 480);
        synthetic_hour(30.0, 3600.0, |frame, time_ms, faces, cut| v.frame(frame, time_ms, faces, Some(&pixels), cut));
        let mut r = Report::default();
        r.video(&v);
        let html = r.html("test");
        let elapsed = t0.elapsed();
        // The workspace's target folder: the first folder above the crate with a Cargo.lock.
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = crate_dir.ancestors().find(|d| d.join("Cargo.lock").exists()).unwrap_or(crate_dir);
        let dir = root.join("target/report-bench");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join("hour.html"), &html);
        }
        println!("1-hour 30 fps stream (108000 frames, {} tracks): report {} bytes in {elapsed:?}", v.summary.tracks.len(), html.len());
        assert!(html.len() <= 5 << 20, "{} bytes", html.len());
        let d = data(&html);
        assert_eq!(d["videos"][0]["frames"], 108_000);
        assert_eq!(d["videos"][0]["cut_count"], 11);
        assert_eq!(d["videos"][0]["tracks"].as_array().unwrap().len(), 36);
        assert!(d["videos"][0]["tracks"][0]["k"].as_array().unwrap().len() as u64 <= MAX_BUCKETS);
    }

    #[test]
    fn the_data_in_the_page_reads_back_and_cannot_close_its_script() {
        let mut r = Report::default();
        r.failure("bad</script><b>.png", "not an image");
        let img = RgbImage::from_pixel(800, 400, Rgb([10, 20, 30]));
        r.image("a.png", &img, &[], false);
        let html = r.html("0.3.0");
        assert_eq!(html.matches("</script>").count(), TEMPLATE.matches("</script>").count());
        let d = data(&html);
        assert_eq!(d["failures"][0]["file"], "bad</script><b>.png");
        assert_eq!(d["images"][0]["width"], 800);
        assert!(d["images"][0]["picture"].as_str().unwrap().starts_with("data:image/jpeg;base64,"));
        assert!(!html.contains("http://") && !html.contains("https://"), "the page must not reach the network");
    }
}
