//! Test helper: a synthetic video result stream (no video decoding), to check the report and
//! summaries on inputs as long as a real hour of video.
//!
//! Three people: two present throughout, a third who comes and goes (in for 40 s, out for 20 s);
//! valence and arousal drift slowly (sine waves of different periods) with frame-to-frame noise;
//! the top expression cycles through all eight; a scene cut every 5 minutes ends every track, as
//! the tracker does, so each person gets a new `track_id` per scene. Deterministic.

use emotion_core::{BBox, Expression, Face};

use crate::table::{FaceRecord, Raw};

/// Calls `frame(index, time_ms, faces, scene_cut)` for each of `seconds * fps` frames.
pub fn synthetic_hour(fps: f64, seconds: f64, mut frame: impl FnMut(u64, f64, &[FaceRecord], bool)) {
    let frames = (seconds * fps) as u64;
    let scene_frames = (300.0 * fps) as u64;
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        (noise >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut faces = Vec::with_capacity(3);
    for i in 0..frames {
        let t = i as f64 * 1000.0 / fps;
        let scene = i / scene_frames;
        faces.clear();
        for person in 0..3u64 {
            if person == 2 && (t / 1000.0) % 60.0 >= 40.0 {
                continue;
            }
            let phase = person as f64 * 1.7;
            let valence = (0.8 * (t / 47_000.0 + phase).sin() + 0.1 * (next() - 0.5)) as f32;
            let arousal = (0.6 * (t / 31_000.0 + phase).cos() + 0.1 * (next() - 0.5)) as f32;
            let top = ((t / 20_000.0) as usize + person as usize) % 8;
            let mut p = [0.04f32; 8];
            p[top] = 0.72;
            let face = Face::new(
                BBox::new(10.0 + 150.0 * person as f32, 40.0, 100.0, 120.0),
                Some(20.0 + 10.0 * next() as f32),
                p,
                Expression::ALL[top],
                valence,
                arousal,
            );
            let raw = Raw { probabilities: p, valence, arousal };
            faces.push(FaceRecord { track_id: Some(scene * 3 + person + 1), face, landmarks: None, raw: Some(raw) });
        }
        frame(i, t, &faces, i > 0 && i % scene_frames == 0);
    }
}
