//! `--format csv`: one row per face per image or video frame, in a fixed column order
//! ([`COLUMNS`]); an image or frame without faces gets one row with the face columns empty, so
//! frame counts survive. Python's `emotion.to_csv` writes the same table (a parity test holds
//! them equal).
//!
//! Numbers are written in Rust's shortest round-trip form (`f32` fields as `f32`, so reading a
//! value back as `float32` gives the exact value the library computed); empty fields are values
//! that do not apply (no `frame`/`time_ms` for images, no `track_id`/`raw_*` for untracked faces,
//! no landmarks from a detector without them, no `detection_score` for `--whole-image`).

use std::io::Write;

use emotion_core::{Expression, Face, TrackedFace};

/// The landmark points, in the detector's order (the subject's right eye first), as column-name
/// stems: `<stem>_x`, `<stem>_y`.
pub const LANDMARKS: [&str; 5] = ["right_eye", "left_eye", "nose", "mouth_right", "mouth_left"];

/// The column names in order: `file, frame, time_ms, track_id, bbox_x, bbox_y, bbox_width,
/// bbox_height`, the 10 landmark columns (`right_eye_x, right_eye_y, ... mouth_left_y`),
/// `detection_score, expression`, the 8 probabilities named by expression in AffectNet order
/// (`neutral ... contempt`), `valence, arousal`, then a tracked face's unsmoothed values on this
/// frame (`raw_neutral ... raw_contempt, raw_valence, raw_arousal`).
pub fn columns() -> Vec<String> {
    let mut c: Vec<String> = ["file", "frame", "time_ms", "track_id", "bbox_x", "bbox_y", "bbox_width", "bbox_height"]
        .map(String::from)
        .to_vec();
    for l in LANDMARKS {
        c.push(format!("{l}_x"));
        c.push(format!("{l}_y"));
    }
    c.push("detection_score".into());
    c.push("expression".into());
    c.extend(Expression::ALL.iter().map(|e| e.name().to_string()));
    c.push("valence".into());
    c.push("arousal".into());
    c.extend(Expression::ALL.iter().map(|e| format!("raw_{}", e.name())));
    c.push("raw_valence".into());
    c.push("raw_arousal".into());
    c
}

/// Number of columns.
pub const COLUMN_COUNT: usize = 8 + 10 + 2 + 8 + 2 + 8 + 2;

/// One face as the table (and the report) needs it: a still face or a tracked one.
#[derive(Debug, Clone, Copy)]
pub struct FaceRecord {
    /// The track's id (videos), `None` for stills.
    pub track_id: Option<u64>,
    /// The face: for tracked faces the smoothed values, this frame's box and score.
    pub face: Face,
    /// The 5 landmark points (x, y in pixels) in [`LANDMARKS`] order, when the detector gives
    /// them (YuNet; `None` for SeetaFace and caller boxes).
    pub landmarks: Option<[[f32; 2]; 5]>,
    /// A tracked face's own values on this frame, before smoothing.
    pub raw: Option<Raw>,
}

/// A tracked face's model outputs on one frame, before smoothing (`emotion_core::RawValues`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Raw {
    /// Expression probabilities in AffectNet order.
    pub probabilities: [f32; 8],
    /// Valence in [-1, 1].
    pub valence: f32,
    /// Arousal in [-1, 1].
    pub arousal: f32,
}

impl From<&Face> for FaceRecord {
    fn from(f: &Face) -> Self {
        FaceRecord { track_id: None, face: *f, landmarks: f.landmarks, raw: None }
    }
}

impl From<&TrackedFace> for FaceRecord {
    fn from(t: &TrackedFace) -> Self {
        let raw = Raw { probabilities: t.raw.probabilities, valence: t.raw.valence, arousal: t.raw.arousal };
        FaceRecord { track_id: Some(t.track_id), face: t.face, landmarks: t.face.landmarks, raw: Some(raw) }
    }
}

/// Where a row's face was seen: the file and, for videos, the frame number (0-based) and time.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The file as named on the command line (or found in a folder).
    pub file: &'a str,
    /// Video frame index, from 0; `None` for images.
    pub frame: Option<u64>,
    /// Video frame time, milliseconds from the start; `None` for images.
    pub time_ms: Option<f64>,
}

/// Writes the CSV table: the header first, then [`CsvWriter::write`] for each image or frame.
pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
    row: Vec<String>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer that writes the header row to `out` at once.
    ///
    /// # Errors
    /// The write error (a closed pipe is `io::ErrorKind::BrokenPipe`).
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(out);
        out.write_record(columns()).map_err(into_io)?;
        Ok(CsvWriter { out, row: Vec::with_capacity(COLUMN_COUNT) })
    }

    /// The rows of one image or frame: one per face, or one with the face columns empty when
    /// `faces` is empty. Flushed at once (a reader of a pipe sees each frame as it is done).
    ///
    /// # Errors
    /// The write error.
    pub fn write(&mut self, place: Place<'_>, faces: &[FaceRecord]) -> std::io::Result<()> {
        if faces.is_empty() {
            self.fill(place, None);
            self.out.write_record(&self.row).map_err(into_io)?;
        }
        for f in faces {
            self.fill(place, Some(f));
            self.out.write_record(&self.row).map_err(into_io)?;
        }
        self.out.flush()
    }

    fn fill(&mut self, place: Place<'_>, face: Option<&FaceRecord>) {
        let row = &mut self.row;
        row.clear();
        row.push(place.file.to_string());
        row.push(opt(place.frame));
        row.push(opt(place.time_ms));
        let Some(r) = face else {
            row.resize(COLUMN_COUNT, String::new());
            return;
        };
        let f = &r.face;
        row.push(opt(r.track_id));
        row.extend([f.bbox.x, f.bbox.y, f.bbox.width, f.bbox.height].map(|v| v.to_string()));
        match r.landmarks {
            Some(points) => row.extend(points.iter().flat_map(|p| [p[0].to_string(), p[1].to_string()])),
            None => row.extend(std::iter::repeat_n(String::new(), 10)),
        }
        row.push(opt(f.detection_score));
        row.push(f.expression.name().to_string());
        row.extend(f.probabilities.iter().map(|p| p.to_string()));
        row.push(f.valence.to_string());
        row.push(f.arousal.to_string());
        match &r.raw {
            Some(raw) => {
                row.extend(raw.probabilities.iter().map(|p| p.to_string()));
                row.push(raw.valence.to_string());
                row.push(raw.arousal.to_string());
            }
            None => row.extend(std::iter::repeat_n(String::new(), 10)),
        }
        debug_assert_eq!(row.len(), COLUMN_COUNT);
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

/// `Display` of a value (Rust's shortest round-trip form for floats), empty for `None`.
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn into_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emotion_core::BBox;

    fn face(p0: f32) -> Face {
        let mut p = [0.0f32; 8];
        p[0] = p0;
        p[1] = 1.0 - p0;
        Face::new(BBox::new(1.5, 2.0, 30.25, 31.0), Some(12.5), p, Expression::argmax(&p), 0.1, -0.3)
    }

    #[test]
    fn header_and_rows_in_the_documented_order() {
        let cols = columns();
        assert_eq!(cols.len(), COLUMN_COUNT);
        assert_eq!(&cols[..9], ["file", "frame", "time_ms", "track_id", "bbox_x", "bbox_y", "bbox_width", "bbox_height", "right_eye_x"]);
        assert_eq!(&cols[18..22], ["detection_score", "expression", "neutral", "happy"]);
        assert_eq!(&cols[28..32], ["valence", "arousal", "raw_neutral", "raw_happy"]);
        assert_eq!(cols.last().unwrap(), "raw_arousal");

        let mut w = CsvWriter::new(Vec::new()).unwrap();
        let f = face(0.7);
        w.write(Place { file: "a,\"b\".png", frame: None, time_ms: None }, &[FaceRecord::from(&f)]).unwrap();
        w.write(Place { file: "empty.png", frame: None, time_ms: None }, &[]).unwrap();
        let raw = Raw { probabilities: f.probabilities, valence: 0.2, arousal: 0.4 };
        let tracked = FaceRecord { track_id: Some(3), face: f, landmarks: None, raw: Some(raw) };
        w.write(Place { file: "v.mp4", frame: Some(2), time_ms: Some(66.66666666666667) }, &[tracked]).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], cols.join(","));
        assert_eq!(
            lines[1],
            "\"a,\"\"b\"\".png\",,,,1.5,2,30.25,31,,,,,,,,,,,12.5,neutral,0.7,0.3,0,0,0,0,0,0,0.1,-0.3,,,,,,,,,,"
        );
        assert_eq!(lines[2], format!("empty.png{}", ",".repeat(COLUMN_COUNT - 1)));
        assert!(lines[3].starts_with("v.mp4,2,66.66666666666667,3,1.5,"), "{}", lines[3]);
        assert!(lines[3].ends_with(",0.7,0.3,0,0,0,0,0,0,0.2,0.4"), "{}", lines[3]);
    }

    #[test]
    fn floats_round_trip() {
        for v in [0.1f32, 1.0 / 3.0, 1e-7, 123456.79, f32::MIN_POSITIVE] {
            assert_eq!(v.to_string().parse::<f32>().unwrap(), v);
        }
    }
}
