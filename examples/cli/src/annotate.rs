//! `--annotate`: draws each face's box, its expression label and a valence/arousal marker.

use std::collections::HashSet;
use std::path::Path;

use emotion_core::Face;
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;

const BOX: Rgb<u8> = Rgb([0, 230, 118]);
const TEXT_BG: Rgb<u8> = Rgb([0, 0, 0]);
const TEXT: Rgb<u8> = Rgb([255, 255, 255]);
const MARKER: Rgb<u8> = Rgb([255, 64, 64]);

/// Output file names, `<stem>.annotated.png`, made unique within one run (`<stem>-2...`) so
/// `a/photo.jpg` and `b/photo.png` do not overwrite each other.
#[derive(Default)]
pub struct Names(HashSet<String>);

impl Names {
    /// The output name for `file`.
    pub fn unique(&mut self, file: &Path) -> String {
        self.unique_with(file, "png")
    }

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

/// Writes a copy of `img` with `faces` drawn to `path` (PNG); the error says what failed.
pub fn write(path: &Path, img: &RgbImage, faces: &[Face]) -> Result<(), String> {
    let mut out = img.clone();
    for face in faces {
        draw_face(&mut out, face);
    }
    out.save(path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn draw_face(img: &mut RgbImage, face: &Face) {
    let b = face.bbox;
    let (x, y) = (b.x.round() as i32, b.y.round() as i32);
    let (w, h) = ((b.width.round() as u32).max(1), (b.height.round() as u32).max(1));
    for t in 0..2 {
        draw_hollow_rect_mut(img, Rect::at(x - t, y - t).of_size(w + 2 * t as u32, h + 2 * t as u32), BOX);
    }
    let label = format!("{} {:.0}%", face.expression, 100.0 * face.probability(face.expression));
    let scale = if w >= 120 { 2 } else { 1 };
    let text_h = 8 * scale as i32 + 4;
    let ty = if y >= text_h { y - text_h } else { y + h as i32 };
    draw_filled_rect_mut(img, Rect::at(x, ty).of_size(label.len() as u32 * 8 * scale + 4, text_h as u32), TEXT_BG);
    draw_text(img, x + 2, ty + 2, scale, &label);
    draw_va_marker(img, x + w as i32 + 4, y, (h / 3).clamp(24, 96), face.valence, face.arousal);
}

/// A square valence (x, left negative) / arousal (y, up positive) plane with a dot at the face's
/// values, drawn at (x, y) with side `size`.
fn draw_va_marker(img: &mut RgbImage, x: i32, y: i32, size: u32, valence: f32, arousal: f32) {
    let s = size as f32;
    draw_filled_rect_mut(img, Rect::at(x, y).of_size(size, size), TEXT_BG);
    draw_hollow_rect_mut(img, Rect::at(x, y).of_size(size, size), TEXT);
    let (cx, cy) = (x as f32 + s / 2.0, y as f32 + s / 2.0);
    draw_line_segment_mut(img, (x as f32, cy), (x as f32 + s, cy), TEXT);
    draw_line_segment_mut(img, (cx, y as f32), (cx, y as f32 + s), TEXT);
    let px = (cx + valence * s / 2.0).round() as i32;
    let py = (cy - arousal * s / 2.0).round() as i32;
    draw_filled_rect_mut(img, Rect::at(px - 2, py - 2).of_size(5, 5), MARKER);
}

/// Renders ASCII text with the 8x8 bitmap font, each font pixel `scale` x `scale`.
fn draw_text(img: &mut RgbImage, x: i32, y: i32, scale: u32, text: &str) {
    use font8x8::UnicodeFonts;
    for (i, ch) in text.chars().enumerate() {
        let Some(glyph) = font8x8::BASIC_FONTS.get(ch) else { continue };
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    let px = x + (i as i32 * 8 + col) * scale as i32;
                    let py = y + row as i32 * scale as i32;
                    draw_filled_rect_mut(img, Rect::at(px, py).of_size(scale, scale), TEXT);
                }
            }
        }
    }
}
