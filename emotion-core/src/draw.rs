//! Results drawn into images: each face's box, its five landmarks when it has them (small
//! squares), its expression label with the probability, and a small valence (x, left negative) /
//! arousal (y, up positive) plane with a dot at the face's values. The CLI's `--annotate`, Python's `emotion.draw` and C's `emotion_draw` all draw with
//! this module, so a picture looks the same from every front door.
//!
//! Only axis-aligned rectangles and an 8x8 bitmap font (`font8x8`, public domain glyphs) are
//! drawn, straight into the caller's pixels in any [`PixelFormat`]; everything is clipped to the
//! image, so boxes partly or wholly outside it are fine.

use crate::analyzer::Face;
use crate::error::Result;
use crate::pixels::{ImageView, PixelFormat};

/// Box outline colour (RGB).
pub const BOX_COLOR: [u8; 3] = [0, 230, 118];
/// Label and marker background (RGB).
pub const BACKGROUND_COLOR: [u8; 3] = [0, 0, 0];
/// Label text and marker axes (RGB).
pub const TEXT_COLOR: [u8; 3] = [255, 255, 255];
/// The valence/arousal dot (RGB).
pub const MARKER_COLOR: [u8; 3] = [255, 64, 64];
/// Landmark dots (RGB): the eyes, nose tip and mouth corners, when the face has them.
pub const LANDMARK_COLOR: [u8; 3] = [255, 214, 0];

/// Draws `faces` into an 8-bit RGB image.
pub fn draw_faces_rgb(image: &mut image::RgbImage, faces: &[Face]) {
    let (width, height) = image.dimensions();
    let mut canvas = Canvas { data: image.as_mut(), width, height, stride: width as usize * 3, format: PixelFormat::Rgb8 };
    for face in faces {
        canvas.face(face);
    }
}

/// Draws `faces` into a caller's pixel buffer, laid out as for [`ImageView::new`] (`height` rows
/// of `width` pixels in `format`, row `r` at byte `r * stride`). Colours are converted to the
/// format (BGR order, BT.601 luma for gray); drawn pixels get alpha 255 in RGBA/BGRA images.
///
/// # Errors
/// As [`ImageView::new`] for sizes, stride and buffer length; nothing is drawn then.
pub fn draw_faces(
    pixels: &mut [u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
    faces: &[Face],
) -> Result<()> {
    ImageView::new(pixels, width, height, stride, format)?;
    let mut canvas = Canvas { data: pixels, width, height, stride, format };
    for face in faces {
        canvas.face(face);
    }
    Ok(())
}

/// A validated, writable pixel buffer.
struct Canvas<'a> {
    data: &'a mut [u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
}

impl Canvas<'_> {
    fn face(&mut self, face: &Face) {
        let b = face.bbox;
        if !b.to_array().iter().all(|v| v.is_finite()) {
            return;
        }
        let (x, y) = (round(b.x), round(b.y));
        let (w, h) = (round(b.width).max(1), round(b.height).max(1));
        for t in 0..2 {
            self.hollow_rect(x - t, y - t, w + 2 * t, h + 2 * t, BOX_COLOR);
        }
        if let Some(points) = face.landmarks {
            let r = (w.min(h) / 40).clamp(1, 4);
            for [px, py] in points.into_iter().filter(|p| p.iter().all(|v| v.is_finite())) {
                self.fill_rect(round(px) - r, round(py) - r, 2 * r + 1, 2 * r + 1, LANDMARK_COLOR);
            }
        }
        let label = format!("{} {:.0}%", face.expression, 100.0 * face.probability(face.expression));
        let scale = if w >= 120 { 2 } else { 1 };
        let text_h = 8 * scale + 4;
        let ty = if y >= text_h { y - text_h } else { y.saturating_add(h) };
        self.fill_rect(x, ty, label.len() as i64 * 8 * scale + 4, text_h, BACKGROUND_COLOR);
        self.text(x + 2, ty + 2, scale, &label);
        self.va_marker(x.saturating_add(w).saturating_add(4), y, (h / 3).clamp(24, 96), face.valence, face.arousal);
    }

    /// A square valence (x) / arousal (y, up) plane with axes and a dot, side `size`.
    fn va_marker(&mut self, x: i64, y: i64, size: i64, valence: f32, arousal: f32) {
        self.fill_rect(x, y, size, size, BACKGROUND_COLOR);
        self.hollow_rect(x, y, size, size, TEXT_COLOR);
        let (cx, cy) = (x + size / 2, y + size / 2);
        self.fill_rect(x, cy, size, 1, TEXT_COLOR);
        self.fill_rect(cx, y, 1, size, TEXT_COLOR);
        let half = size as f32 / 2.0;
        let px = cx + round(valence.clamp(-1.0, 1.0) * half);
        let py = cy - round(arousal.clamp(-1.0, 1.0) * half);
        self.fill_rect(px - 2, py - 2, 5, 5, MARKER_COLOR);
    }

    /// ASCII text in the 8x8 bitmap font, each font pixel `scale` x `scale`.
    fn text(&mut self, x: i64, y: i64, scale: i64, text: &str) {
        use font8x8::UnicodeFonts;
        for (i, ch) in text.chars().enumerate() {
            let Some(glyph) = font8x8::BASIC_FONTS.get(ch) else { continue };
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        let px = x + (i as i64 * 8 + col) * scale;
                        self.fill_rect(px, y + row as i64 * scale, scale, scale, TEXT_COLOR);
                    }
                }
            }
        }
    }

    /// A one-pixel outline.
    fn hollow_rect(&mut self, x: i64, y: i64, w: i64, h: i64, color: [u8; 3]) {
        self.fill_rect(x, y, w, 1, color);
        self.fill_rect(x, y + h - 1, w, 1, color);
        self.fill_rect(x, y, 1, h, color);
        self.fill_rect(x + w - 1, y, 1, h, color);
    }

    /// Fills the part of the rectangle inside the image.
    fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, [r, g, b]: [u8; 3]) {
        let x0 = x.clamp(0, i64::from(self.width)) as usize;
        let x1 = x.saturating_add(w).clamp(0, i64::from(self.width)) as usize;
        let y0 = y.clamp(0, i64::from(self.height)) as usize;
        let y1 = y.saturating_add(h).clamp(0, i64::from(self.height)) as usize;
        if x1 <= x0 || y1 <= y0 {
            return;
        }
        let bpp = self.format.bytes_per_pixel();
        let pixel: &[u8] = match self.format {
            PixelFormat::Rgb8 => &[r, g, b],
            PixelFormat::Bgr8 => &[b, g, r],
            PixelFormat::Rgba8 => &[r, g, b, 255],
            PixelFormat::Bgra8 => &[b, g, r, 255],
            PixelFormat::Gray8 => &[((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8],
        };
        for row in y0..y1 {
            let start = row * self.stride;
            // In bounds: the buffer was validated for `height` rows of `width` pixels.
            for px in self.data[start + x0 * bpp..start + x1 * bpp].chunks_exact_mut(bpp) {
                px.copy_from_slice(pixel);
            }
        }
    }
}

/// Rounds to the nearest integer, clamped to +-2^31 (NaN gives 0) so that sums of a few
/// coordinates cannot overflow: huge boxes are drawn clipped, never wrapped around.
fn round(v: f32) -> i64 {
    (v.round() as i64).clamp(-(1 << 31), 1 << 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BBox, Expression};

    fn face(bbox: BBox) -> Face {
        let mut probabilities = [0.0; 8];
        probabilities[1] = 1.0;
        Face { bbox, detection_score: None, probabilities, expression: Expression::Happy, valence: 0.5, arousal: -0.5, landmarks: None }
    }

    #[test]
    fn draws_the_box_outline_and_leaves_the_inside() {
        let mut img = image::RgbImage::new(200, 200);
        draw_faces_rgb(&mut img, &[face(BBox::new(50.0, 60.0, 40.0, 40.0))]);
        assert_eq!(img.get_pixel(50, 80).0, BOX_COLOR);
        assert_eq!(img.get_pixel(89, 80).0, BOX_COLOR);
        assert_eq!(img.get_pixel(70, 80).0, [0, 0, 0]);
        // The label sits above the box; the marker right of it, with its red dot.
        assert!((0..200).any(|x| img.get_pixel(x, 50).0 == TEXT_COLOR));
        assert!(img.pixels().any(|p| p.0 == MARKER_COLOR));
    }

    #[test]
    fn landmarks_are_drawn_when_present() {
        let mut img = image::RgbImage::new(200, 200);
        let points = [[60.0, 70.0], [80.0, 70.0], [70.0, 80.0], [62.0, 90.0], [78.0, 90.0]];
        draw_faces_rgb(&mut img, &[face(BBox::new(50.0, 60.0, 40.0, 40.0)).with_landmarks(Some(points))]);
        for [x, y] in points {
            assert_eq!(img.get_pixel(x as u32, y as u32).0, LANDMARK_COLOR);
        }
        let mut plain = image::RgbImage::new(200, 200);
        draw_faces_rgb(&mut plain, &[face(BBox::new(50.0, 60.0, 40.0, 40.0))]);
        assert!(!plain.pixels().any(|p| p.0 == LANDMARK_COLOR));
    }

    #[test]
    fn gray_and_bgr_buffers_and_boxes_outside_the_image() {
        let faces = [face(BBox::new(-30.0, 190.0, 500.0, 40.0)), face(BBox::new(1e9, -1e9, 1e9, 1e9))];
        let mut gray = vec![0u8; 100 * 200];
        draw_faces(&mut gray, 100, 200, 100, PixelFormat::Gray8, &faces).unwrap();
        assert!(gray.iter().any(|&v| v == 148)); // BT.601 luma of BOX_COLOR
        let mut bgr = vec![0u8; 303 * 200];
        draw_faces(&mut bgr, 100, 200, 303, PixelFormat::Bgr8, &faces).unwrap();
        assert!(bgr.chunks(3).any(|p| p == [118, 230, 0]));
        assert!(draw_faces(&mut bgr, 100, 200, 299, PixelFormat::Bgr8, &faces).is_err());
    }
}
