//! `--summary`: per person (per track) figures for a video, written as one JSON line after the
//! video's frames, `{"file": ..., "summary": {...}}`, and shown in the `--report`.
//!
//! Computed in one pass, constant memory per track, from the values the frame lines report (for
//! tracked faces the smoothed ones): the first and last frame and time the track was seen, the
//! frames it was seen on, the share of those frames on which each expression was the top one, the
//! mean and standard deviation (population, over the frames seen) of valence and arousal, and for
//! each expression the frame where its probability peaked (the first such frame on ties).

use std::collections::BTreeMap;

use emotion_core::Expression;
use serde::Serialize;

use crate::table::FaceRecord;

/// Running mean and variance (Welford's method).
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds one value.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// The mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The population standard deviation (0 when empty).
    pub fn std(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.m2 / self.n as f64).max(0.0).sqrt()
        }
    }
}

/// Where one expression's probability was highest on a track.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Peak {
    /// Frame index (from 0).
    pub frame: u64,
    /// Frame time, ms.
    pub time_ms: f64,
    /// The probability there, [0, 1].
    pub probability: f32,
}

/// One track's figures so far.
#[derive(Debug, Clone)]
pub struct TrackSummary {
    /// The track's id.
    pub track_id: u64,
    /// First frame seen (index) and its time, ms.
    pub first: (u64, f64),
    /// Last frame seen and its time, ms.
    pub last: (u64, f64),
    /// Frames the track was seen on.
    pub frames_seen: u64,
    /// Frames on which each expression (AffectNet order) was the top one.
    pub top_counts: [u64; 8],
    /// Valence over the frames seen.
    pub valence: Moments,
    /// Arousal over the frames seen.
    pub arousal: Moments,
    /// Each expression's peak (AffectNet order).
    pub peaks: [Peak; 8],
}

impl TrackSummary {
    fn new(track_id: u64, frame: u64, time_ms: f64) -> Self {
        TrackSummary {
            track_id,
            first: (frame, time_ms),
            last: (frame, time_ms),
            frames_seen: 0,
            top_counts: [0; 8],
            valence: Moments::default(),
            arousal: Moments::default(),
            peaks: [Peak { frame, time_ms, probability: f32::NEG_INFINITY }; 8],
        }
    }

    fn add(&mut self, frame: u64, time_ms: f64, f: &FaceRecord) {
        self.last = (frame, time_ms);
        self.frames_seen += 1;
        self.top_counts[f.face.expression as usize] += 1;
        self.valence.add(f.face.valence.into());
        self.arousal.add(f.face.arousal.into());
        for (peak, &p) in self.peaks.iter_mut().zip(&f.face.probabilities) {
            if p > peak.probability {
                *peak = Peak { frame, time_ms, probability: p };
            }
        }
    }

    /// The share of the frames seen on which each expression was the top one (sums to 1).
    pub fn shares(&self) -> [f64; 8] {
        self.top_counts.map(|c| c as f64 / self.frames_seen.max(1) as f64)
    }

    /// The expression that was on top most often (ties in AffectNet order).
    pub fn main_expression(&self) -> Expression {
        let mut best = 0;
        for (i, &c) in self.top_counts.iter().enumerate() {
            if c > self.top_counts[best] {
                best = i;
            }
        }
        Expression::ALL[best]
    }
}

/// The figures of one video, fed frame by frame.
#[derive(Debug, Clone, Default)]
pub struct VideoSummary {
    /// Frames fed.
    pub frames: u64,
    /// Frames with at least one face.
    pub frames_with_faces: u64,
    /// Per track, by id.
    pub tracks: BTreeMap<u64, TrackSummary>,
}

impl VideoSummary {
    /// Adds one frame's faces (faces without a `track_id` are not counted in any track).
    pub fn add(&mut self, frame: u64, time_ms: f64, faces: &[FaceRecord]) {
        self.frames += 1;
        if !faces.is_empty() {
            self.frames_with_faces += 1;
        }
        for f in faces {
            let Some(id) = f.track_id else { continue };
            self.tracks.entry(id).or_insert_with(|| TrackSummary::new(id, frame, time_ms)).add(frame, time_ms, f);
        }
    }

    /// The summary line: `{"file": ..., "summary": {"frames", "frames_with_faces", "tracks":
    /// [{"track_id", "first_frame", "first_ms", "last_frame", "last_ms", "frames_seen",
    /// "expression_share": {name: share}, "valence": {"mean", "std"}, "arousal": {"mean",
    /// "std"}, "peaks": {name: {"frame", "time_ms", "probability"}}}]}}`.
    pub fn json(&self, file: &str) -> String {
        let tracks = self.tracks.values().map(TrackJson::from).collect();
        let line = Line { file, summary: SummaryJson { frames: self.frames, frames_with_faces: self.frames_with_faces, tracks } };
        serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    summary: SummaryJson,
}

#[derive(Serialize)]
struct SummaryJson {
    frames: u64,
    frames_with_faces: u64,
    tracks: Vec<TrackJson>,
}

#[derive(Serialize)]
struct Stats {
    mean: f64,
    std: f64,
}

impl From<&Moments> for Stats {
    fn from(m: &Moments) -> Self {
        Stats { mean: m.mean(), std: m.std() }
    }
}

#[derive(Serialize)]
struct TrackJson {
    track_id: u64,
    first_frame: u64,
    first_ms: f64,
    last_frame: u64,
    last_ms: f64,
    frames_seen: u64,
    expression_share: BTreeMapInOrder<f64>,
    valence: Stats,
    arousal: Stats,
    peaks: BTreeMapInOrder<Peak>,
}

impl From<&TrackSummary> for TrackJson {
    fn from(t: &TrackSummary) -> Self {
        TrackJson {
            track_id: t.track_id,
            first_frame: t.first.0,
            first_ms: t.first.1,
            last_frame: t.last.0,
            last_ms: t.last.1,
            frames_seen: t.frames_seen,
            expression_share: BTreeMapInOrder(t.shares()),
            valence: (&t.valence).into(),
            arousal: (&t.arousal).into(),
            peaks: BTreeMapInOrder(t.peaks),
        }
    }
}

/// Expression name -> value, written in AffectNet order.
struct BTreeMapInOrder<T>([T; 8]);

impl<T: Serialize> Serialize for BTreeMapInOrder<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(8))?;
        for (e, v) in Expression::ALL.iter().zip(&self.0) {
            map.serialize_entry(e.name(), v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emotion_core::{BBox, Face};

    fn face(track: u64, p: [f32; 8], valence: f32, arousal: f32) -> FaceRecord {
        let f = Face::new(BBox::new(0.0, 0.0, 10.0, 10.0), Some(1.0), p, Expression::argmax(&p), valence, arousal);
        FaceRecord { track_id: Some(track), face: f, landmarks: None, raw: None }
    }

    fn probs(neutral: f32, happy: f32, sad: f32) -> [f32; 8] {
        [neutral, happy, sad, 0.0, 0.0, 0.0, 0.0, 1.0 - neutral - happy - sad]
    }

    /// Two people over 6 frames at 40 ms: track 1 on frames 0-3 (neutral, happy, happy, sad),
    /// track 2 on frames 2 and 5, frame 4 empty.
    #[test]
    fn figures_match_hand_computed_values() {
        let mut s = VideoSummary::default();
        let frames: Vec<Vec<FaceRecord>> = vec![
            vec![face(1, probs(0.6, 0.3, 0.1), 0.0, 0.2)],
            vec![face(1, probs(0.2, 0.7, 0.1), 0.5, 0.4)],
            vec![face(1, probs(0.1, 0.8, 0.1), 0.6, 0.6), face(2, probs(0.5, 0.25, 0.25), -0.2, 0.0)],
            vec![face(1, probs(0.2, 0.1, 0.7), -0.3, -0.2)],
            vec![],
            vec![face(2, probs(0.1, 0.2, 0.6), -0.6, 0.5)],
        ];
        for (i, faces) in frames.iter().enumerate() {
            s.add(i as u64, i as f64 * 40.0, faces);
        }
        assert_eq!((s.frames, s.frames_with_faces), (6, 5));
        let t1 = &s.tracks[&1];
        assert_eq!((t1.first, t1.last, t1.frames_seen), ((0, 0.0), (3, 120.0), 4));
        assert_eq!(t1.shares()[..3], [0.25, 0.5, 0.25]);
        assert_eq!(t1.main_expression(), Expression::Happy);
        // valence 0, 0.5, 0.6, -0.3: mean 0.2, deviations -0.2, 0.3, 0.4, -0.5, variance 0.135.
        assert!((t1.valence.mean() - 0.2).abs() < 1e-7, "{}", t1.valence.mean());
        assert!((t1.valence.std() - 0.135f64.sqrt()).abs() < 1e-7, "{}", t1.valence.std());
        // arousal 0.2, 0.4, 0.6, -0.2: mean 0.25, deviations -0.05, 0.15, 0.35, -0.45, variance 0.0875.
        assert!((t1.arousal.mean() - 0.25).abs() < 1e-7);
        assert!((t1.arousal.std() - 0.0875f64.sqrt()).abs() < 1e-7);
        assert_eq!(t1.peaks[1], Peak { frame: 2, time_ms: 80.0, probability: 0.8 });
        assert_eq!(t1.peaks[0], Peak { frame: 0, time_ms: 0.0, probability: 0.6 });
        assert_eq!(t1.peaks[2], Peak { frame: 3, time_ms: 120.0, probability: 0.7 });
        // Ties: the first frame (fear is 0 throughout).
        assert_eq!(t1.peaks[4].frame, 0);

        let t2 = &s.tracks[&2];
        assert_eq!((t2.first, t2.last, t2.frames_seen), ((2, 80.0), (5, 200.0), 2));
        assert_eq!(t2.shares()[..3], [0.5, 0.0, 0.5]);
        assert!((t2.valence.mean() + 0.4).abs() < 1e-7 && (t2.valence.std() - 0.2).abs() < 1e-7);
        assert!((t2.arousal.mean() - 0.25).abs() < 1e-7 && (t2.arousal.std() - 0.25).abs() < 1e-7);

        let text = s.json("clip.mp4");
        let at = |name: &str| text.find(&format!("\"{name}\":")).unwrap();
        assert!(Expression::ALL.windows(2).all(|w| at(w[0].name()) < at(w[1].name())), "AffectNet order: {text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["file"], "clip.mp4");
        let j1 = &json["summary"]["tracks"][0];
        assert_eq!(json["summary"]["frames"], 6);
        assert_eq!(j1["track_id"], 1);
        assert_eq!(j1["last_ms"], 120.0);
        assert_eq!(j1["expression_share"]["happy"], 0.5);
        assert_eq!(j1["peaks"]["sad"]["frame"], 3);
        assert!((j1["valence"]["std"].as_f64().unwrap() - 0.135f64.sqrt()).abs() < 1e-7);
        assert_eq!(json["summary"]["tracks"][1]["first_frame"], 2);
    }

    #[test]
    fn untracked_faces_and_empty_videos() {
        let mut s = VideoSummary::default();
        let mut f = face(1, probs(1.0, 0.0, 0.0), 0.0, 0.0);
        f.track_id = None;
        s.add(0, 0.0, &[f]);
        assert_eq!((s.frames, s.frames_with_faces, s.tracks.len()), (1, 1, 0));
        let json: serde_json::Value = serde_json::from_str(&VideoSummary::default().json("x")).unwrap();
        assert_eq!(json["summary"]["tracks"], serde_json::json!([]));
    }
}
