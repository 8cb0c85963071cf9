//! The default face detector: libfacedetection's YuNet CNN (Wu et al., "YuNet: A Tiny
//! Millisecond-level Face Detector", Machine Intelligence Research 2023), run by the pure-Rust
//! `libfacedetection_rs` port vendored as `emotion-yunet` (fed BGR, thresholds settable, one
//! detection spread over threads with identical results). It gives a box, a score in [0, 1] and
//! five landmarks per face.
//!
//! Cost is bounded for any input: the network runs on the image scaled so that a face of
//! `min_face_size` pixels measures [`SMALLEST_FACE`] pixels, with the longest side at most
//! [`MAX_SIDE`]; YuNet scores faces over about 450 of its pixels lower and leaves partial boxes
//! on them, so when that scaled image is larger than [`LARGE_PASS_SIDE`] a second, reduced pass
//! (longest side [`LARGE_PASS_SIDE`]) finds the large faces. The two passes' faces are merged by
//! one suppression.
//!
//! Dark or flat images (under-exposed photos, night frames, fog) are contrast-stretched before
//! the network sees them ([`stretch_dim`]): on the labelled VOC photos scaled to a brightest
//! level of 13, YuNet found 3 of 43 faces as they are and 43 of 43 stretched. Only the
//! detector's input changes; the emotion model reads the original pixels.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{Detection, DetectorKind, DetectorOptions, FaceDetector};
use crate::error::{Error, Result};
use crate::pixels::{BBox, ImageView};

/// Face side, in the network's input pixels, that a face of `min_face_size` image pixels is
/// scaled to: YuNet finds about 70 % of faces of 12-16 px and none under 12.
pub const SMALLEST_FACE: f32 = 20.0;
/// Longest side of the image the main pass runs on, pixels: bounds its time (~60 ms on one
/// core at 1280x960) and memory (~100 MB of layer buffers). On larger photos faces under about
/// `longest side / MAX_SIDE * SMALLEST_FACE` pixels are not found.
pub const MAX_SIDE: u32 = 1280;
/// Longest side of the reduced pass for large faces, pixels (faces of 991 close-up photos:
/// 984 found at 320 px, 951 with 152 partial boxes at 640 px).
pub const LARGE_PASS_SIDE: u32 = 320;
/// Faces longer than this in the main pass's pixels are taken from the reduced pass instead.
const LARGE_FACE: f32 = 240.0;
/// The reduced pass keeps faces down to this fraction of [`LARGE_FACE`] (an overlap band, so a
/// face near the boundary measured a little differently by each pass is kept by one of them;
/// the suppression removes the duplicate).
const LARGE_FACE_OVERLAP: f32 = 0.8;
/// A box covered by a better-scoring box over more than this fraction of its own area is
/// dropped (partial boxes on large faces; faces do not contain faces).
const CONTAINED: f32 = 0.7;

/// The YuNet face detector. The network weights are compiled in and shared; one
/// `YuNetDetector` serves any number of threads (each call uses its own layer buffers, freed
/// when it returns: nothing is kept between calls).
#[derive(Clone)]
pub struct YuNetDetector {
    template: emotion_yunet::Detector,
    options: DetectorOptions,
}

impl std::fmt::Debug for YuNetDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YuNetDetector").field("options", &self.options).finish_non_exhaustive()
    }
}


/// Score threshold used when [`DetectorOptions::score_threshold`] is 0. Measured on the 9
/// labelled VOC photos (43 faces) at min_face_size 20: all 43 found at 0.5-0.8, with 3, 1, 0, 0
/// extra boxes at 0.5, 0.6, 0.7, 0.8; at 0.8 one 128x128 photo loses a 10-25 px face.
pub const DEFAULT_SCORE_THRESHOLD: f32 = 0.7;
/// SeetaFace's box side as a fraction of YuNet's longer box side (its height), and the
/// vertical offset of SeetaFace's box centre from YuNet's in YuNet box heights: medians over the
/// 74 faces both detectors found on the labelled photos of `../shared/photos` (VOC, the bald
/// guys collage, multiface, astronaut), from `tests/yunet.rs`'s `measure_crop_geometry_against_seeta`:
/// with the bundled model's crop_scale 1.11 and crop_shift_y -0.008 on SeetaFace's box, the
/// crop is 0.944 x YuNet's box height, centred 0.0138 box heights above YuNet's centre
/// (YuNet's boxes there: 0.872 x SeetaFace's width, height 1.315 x their width).
const SEETA_SIDE: f32 = 0.944 / 1.11;
const SEETA_SHIFT: f32 = -0.0138 + 0.008 * SEETA_SIDE;

/// Non-maximum suppression overlap (intersection over union), upstream's.
const OVERLAP: f32 = 0.45;

impl YuNetDetector {
    /// The detector with `options` (its [`DetectorOptions::detector`] is ignored; the other
    /// fields keep their meaning; `pyramid_scale_factor` and `window_step` are SeetaFace's and
    /// unused here).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for options out of range.
    pub fn new(options: DetectorOptions) -> Result<Self> {
        let options = DetectorOptions { detector: DetectorKind::Yunet, ..options };
        options.validate()?;
        let mut template = emotion_yunet::Detector::new();
        let params = emotion_yunet::DetectionOutputParams {
            overlap_threshold: OVERLAP,
            confidence_threshold: options.effective_score_threshold(),
            top_k: 5000,
            keep_top_k: -1,
        };
        template
            .set_params(params)
            .map_err(|e| Error::InvalidOption { name: "score_threshold", value: e.to_string(), expected: "must be in [0, 1] for yunet" })?;
        Ok(YuNetDetector { template, options })
    }

    /// The options in force.
    pub fn options(&self) -> &DetectorOptions {
        &self.options
    }

    /// The same network with other options (e.g. a per-request score threshold); cheap: the
    /// packed weights are shared.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for options out of range.
    pub fn with_options(&self, options: DetectorOptions) -> Result<Self> {
        let options = DetectorOptions { detector: DetectorKind::Yunet, ..options };
        options.validate()?;
        let mut template = self.template.clone();
        let params = emotion_yunet::DetectionOutputParams { confidence_threshold: options.effective_score_threshold(), ..template.params() };
        template
            .set_params(params)
            .map_err(|e| Error::InvalidOption { name: "score_threshold", value: e.to_string(), expected: "must be in [0, 1] for yunet" })?;
        Ok(YuNetDetector { template, options })
    }

    /// One network run over `region` (x, y, width, height in image pixels, inside the image)
    /// scaled to `out_w` x `out_h`, on up to `threads` threads; faces in image pixels, unclamped.
    fn run(&self, image: &ImageView<'_>, region: (u32, u32, u32, u32), out_w: u32, out_h: u32, threads: usize) -> Result<Vec<Detection>> {
        let mut bgr = image.bgr_region_resized(region, out_w, out_h, threads)?;
        stretch_dim(&mut bgr);
        let mut det = self.template.clone();
        det.set_num_threads(threads);
        let (w, h) = (out_w as usize, out_h as usize);
        let found = catch_unwind(AssertUnwindSafe(|| det.detect_bgr(&bgr, w, h, w * 3)))
            .map_err(|_| Error::Internal("the YuNet detector panicked".into()))?
            .map_err(|e| Error::Internal(format!("YuNet: {e}")))?;
        let (sx, sy) = (region.2 as f32 / out_w as f32, region.3 as f32 / out_h as f32);
        let (ox, oy) = (region.0 as f32, region.1 as f32);
        Ok(found
            .faces()
            .iter()
            .map(|f| {
                let mut landmarks = [[0f32; 2]; 5];
                for (p, xy) in landmarks.iter_mut().zip(f.landmarks.chunks_exact(2)) {
                    *p = [xy[0] * sx + ox, xy[1] * sy + oy];
                }
                Detection {
                    bbox: BBox::new(f.x * sx + ox, f.y * sy + oy, f.width * sx, f.height * sy),
                    detection_score: f.score,
                    landmarks: Some(landmarks),
                }
            })
            .collect())
    }

    /// Faces in `region` of the image (pixels, inside it) from `min_face` to `max_face` pixels
    /// (longer box side), best score first, boxes clamped to the image.
    fn detect_region(&self, image: &ImageView<'_>, region: (u32, u32, u32, u32), min_face: f32, max_face: f32, threads: usize) -> Result<Vec<Detection>> {
        let (rw, rh) = (region.2 as f32, region.3 as f32);
        let longest = rw.max(rh);
        let scale = (SMALLEST_FACE / min_face).min(MAX_SIDE as f32 / longest);
        let size = |s: f32| (((rw * s).round() as u32).max(1), ((rh * s).round() as u32).max(1));
        let (bw, bh) = size(scale);
        let mut faces = self.run(image, region, bw, bh, threads)?;
        let large_pass = bw.max(bh) > LARGE_PASS_SIDE && max_face * scale > LARGE_FACE * LARGE_FACE_OVERLAP;
        if large_pass {
            // Faces this large in the main pass come from the reduced pass.
            faces.retain(|d| side(&d.bbox) * scale <= LARGE_FACE);
            let small = LARGE_PASS_SIDE as f32 / longest;
            let (lw, lh) = size(small);
            let mut large = self.run(image, region, lw, lh, threads)?;
            large.retain(|d| side(&d.bbox) * scale > LARGE_FACE * LARGE_FACE_OVERLAP);
            faces.extend(large);
        }
        faces.retain(|d| side(&d.bbox) <= max_face);
        let faces = suppress_with_containment(faces);
        let (w, h) = (image.width(), image.height());
        Ok(faces
            .into_iter()
            .filter_map(|d| d.bbox.clamp_to(w, h).map(|bbox| Detection { bbox, ..d }))
            .collect())
    }
}

/// Images whose luma spans fewer levels than this (between the 0.5th and 99.5th percentiles)
/// are stretched before detection. Ordinary photos span 110 or more (818 photos and wild faces
/// of `../shared`: 1st percentile 132, lowest 110); a photo darkened to a brightest level of 26,
/// or at 10 % contrast, spans about 25.
const DIM_SPAN: u32 = 64;

/// Stretches the luma span of `bgr` (packed B, G, R bytes) to the full range when it is under
/// [`DIM_SPAN`] levels: each channel value v becomes (v - lo) x 255 / (hi - lo), clamped, with
/// lo and hi the 0.5th and 99.5th percentiles of luma (BT.601 weights, every 4th pixel). Leaves
/// other images untouched. A function of the bytes only, so any thread count gives the same.
fn stretch_dim(bgr: &mut [u8]) {
    let mut histogram = [0u32; 256];
    let mut count = 0u32;
    for px in bgr.chunks_exact(3).step_by(4) {
        let luma = (29 * u32::from(px[0]) + 150 * u32::from(px[1]) + 77 * u32::from(px[2]) + 128) >> 8;
        histogram[luma as usize] += 1;
        count += 1;
    }
    if count == 0 {
        return;
    }
    let percentile = |share: f64| -> u32 {
        let rank = (share * f64::from(count)) as u32;
        let mut seen = 0;
        for (level, &n) in histogram.iter().enumerate() {
            seen += n;
            if seen > rank {
                return level as u32;
            }
        }
        255
    };
    let (lo, hi) = (percentile(0.005), percentile(0.995));
    if hi.saturating_sub(lo) >= DIM_SPAN || hi <= lo {
        return;
    }
    let mut table = [0u8; 256];
    for (v, t) in table.iter_mut().enumerate() {
        let stretched = (v as i64 - i64::from(lo)) * 255 / i64::from(hi - lo);
        *t = stretched.clamp(0, 255) as u8;
    }
    for b in bgr.iter_mut() {
        *b = table[*b as usize];
    }
}

/// The longer side of a box.
fn side(b: &BBox) -> f32 {
    b.width.max(b.height)
}

/// Greedy suppression over both passes: best score first (ties in input order), dropping a box
/// that overlaps a kept one by more than [`OVERLAP`] (intersection over union) or lies inside
/// one over more than [`CONTAINED`] of its own area.
fn suppress_with_containment(mut dets: Vec<Detection>) -> Vec<Detection> {
    dets.sort_by(|a, b| b.detection_score.total_cmp(&a.detection_score));
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len());
    for d in dets {
        let clear = kept.iter().all(|k| {
            let inter = intersection(&k.bbox, &d.bbox);
            let own = d.bbox.width * d.bbox.height;
            k.bbox.iou(&d.bbox) <= OVERLAP && !(own > 0.0 && inter / own > CONTAINED)
        });
        if clear {
            kept.push(d);
        }
    }
    kept
}

fn intersection(a: &BBox, b: &BBox) -> f32 {
    let ix = (a.x + a.width).min(b.x + b.width) - a.x.max(b.x);
    let iy = (a.y + a.height).min(b.y + b.height) - a.y.max(b.y);
    if ix <= 0.0 || iy <= 0.0 {
        0.0
    } else {
        ix * iy
    }
}

impl FaceDetector for YuNetDetector {
    /// [`FaceDetector::detect_with_threads`] on the calling thread.
    fn detect(&self, image: &ImageView<'_>) -> Result<Vec<Detection>> {
        self.detect_with_threads(image, 1)
    }

    /// The main pass and, for images whose scaled size exceeds [`LARGE_PASS_SIDE`], the reduced
    /// pass for large faces, each spread over up to `threads` threads by bands of rows (the
    /// same faces on any count), merged by one suppression. Faces best score first, boxes and
    /// landmarks in image pixels (boxes clamped to the image; landmarks may lie outside it).
    fn detect_with_threads(&self, image: &ImageView<'_>, threads: usize) -> Result<Vec<Detection>> {
        let o = &self.options;
        let max_face = o.max_face_size.filter(|&m| m != 0).map_or(f32::INFINITY, |m| m as f32);
        self.detect_region(image, (0, 0, image.width(), image.height()), o.min_face_size as f32, max_face, threads.max(1))
    }

    /// Scans only `region` (clamped to the image), scaled so that `min_face` measures
    /// [`SMALLEST_FACE`] pixels, keeping faces up to `max_face` whose centre lies in it: for the
    /// [`crate::Tracker`]'s re-detection around a known face. On the calling thread.
    fn detect_in_region(&self, image: &ImageView<'_>, region: BBox, min_face: f32, max_face: f32) -> Result<Vec<Detection>> {
        let (w, h) = (image.width(), image.height());
        let Some(r) = region.clamp_to(w, h) else { return Ok(Vec::new()) };
        if !(min_face.is_finite() && max_face.is_finite() && min_face > 0.0) {
            return Ok(Vec::new());
        }
        let (x0, y0) = (r.x.floor() as u32, r.y.floor() as u32);
        let (x1, y1) = (((r.x + r.width).ceil() as u32).min(w), ((r.y + r.height).ceil() as u32).min(h));
        if x1 <= x0 || y1 <= y0 {
            return Ok(Vec::new());
        }
        let found = self.detect_region(image, (x0, y0, x1 - x0, y1 - y0), min_face.max(1.0), max_face.max(min_face), 1)?;
        Ok(found
            .into_iter()
            .filter(|d| {
                let (cx, cy) = (d.bbox.x + d.bbox.width / 2.0, d.bbox.y + d.bbox.height / 2.0);
                cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height && side(&d.bbox) >= min_face * 0.5
            })
            .collect())
    }

    /// The SeetaFace-equivalent box ([`FaceDetector::crop_box`]): a square of `SEETA_SIDE` x the
    /// longer side, centred on the box shifted by `SEETA_SHIFT` box heights.
    fn crop_box(&self, bbox: &BBox) -> BBox {
        let s = side(bbox) * SEETA_SIDE;
        let cx = bbox.x + bbox.width / 2.0;
        let cy = bbox.y + bbox.height / 2.0 + SEETA_SHIFT * bbox.height;
        BBox::new(cx - s / 2.0, cy - s / 2.0, s, s)
    }
}

#[cfg(test)]
mod tests {
    use super::stretch_dim;

    #[test]
    fn stretch_dim_leaves_ordinary_images_and_stretches_dim_ones() {
        // A ramp over the full range: untouched.
        let ramp: Vec<u8> = (0..=255u8).flat_map(|v| [v, v, v]).collect();
        let mut same = ramp.clone();
        stretch_dim(&mut same);
        assert_eq!(same, ramp);
        // The same ramp squeezed into 10..=35: back to about the full range, order kept.
        let mut dim: Vec<u8> = (0..=255u32).flat_map(|v| [(10 + v * 25 / 255) as u8; 3]).collect();
        stretch_dim(&mut dim);
        assert!(dim.windows(2).all(|w| w[0] <= w[1]));
        assert!(dim[0] <= 10 && dim[dim.len() - 1] == 255, "{} {}", dim[0], dim[dim.len() - 1]);
        // Flat and empty images: nothing to stretch, no panic.
        let mut flat = vec![7u8; 300];
        stretch_dim(&mut flat);
        assert!(flat.iter().all(|&v| v == 7));
        stretch_dim(&mut []);
    }
}
