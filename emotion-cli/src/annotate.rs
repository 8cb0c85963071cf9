//! `--annotate`: each image with its faces drawn by `emotion_core::draw` (box, expression label,
//! valence/arousal marker), under a unique name.

use std::collections::HashSet;
use std::path::Path;

use emotion_core::Face;
use image::RgbImage;

/// Output file names, `<stem>.annotated.png` (videos: `.mp4`), made unique within one run (`<stem>-2...`) so
/// `a/photo.jpg` and `b/photo.png` do not overwrite each other.
#[derive(Default)]
pub struct Names(HashSet<String>);

impl Names {
    /// The output name for `file` with extension `ext` (`<stem>.annotated.<ext>`).
    pub fn unique_with(&mut self, file: &Path, ext: &str) -> String {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
        let mut name = format!("{stem}.annotated.{ext}");
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = format!("{stem}-{n}.annotated.{ext}");
        }
        name
    }
}

/// Writes a copy of `img` with `faces` drawn (`emotion_core::draw`) to `path` (PNG); the error
/// says what failed.
pub fn write(path: &Path, img: &RgbImage, faces: &[Face]) -> Result<(), String> {
    let mut out = img.clone();
    emotion_core::draw::draw_faces_rgb(&mut out, faces);
    out.save(path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
