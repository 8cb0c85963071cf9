//! Borrowed, validated pixel buffers ([`ImageView`]) and the pixel work the pipeline needs:
//! grayscale conversion for the detector and crop-resize-normalize into the model's NCHW input.

use crate::error::{Error, Result};
use crate::model::Preprocessing;

/// Default limit on `width * height` accepted by [`ImageView`]: 100 megapixels.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// Memory layout of one pixel: 8 bits per channel, channels in the order the name gives.
/// `#[non_exhaustive]`: later versions may add layouts, so matches need a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PixelFormat {
    /// Red, green, blue (3 bytes).
    Rgb8,
    /// Red, green, blue, alpha (4 bytes). Alpha is ignored.
    Rgba8,
    /// Blue, green, red (3 bytes), as OpenCV frames.
    Bgr8,
    /// Blue, green, red, alpha (4 bytes). Alpha is ignored.
    Bgra8,
    /// One luma byte.
    Gray8,
}

impl PixelFormat {
    /// Bytes per pixel: 1, 3 or 4.
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb8 | PixelFormat::Bgr8 => 3,
            PixelFormat::Rgba8 | PixelFormat::Bgra8 => 4,
        }
    }

    /// Byte offsets of red, green and blue inside a pixel (all 0 for gray).
    const fn rgb_offsets(self) -> [usize; 3] {
        match self {
            PixelFormat::Rgb8 | PixelFormat::Rgba8 => [0, 1, 2],
            PixelFormat::Bgr8 | PixelFormat::Bgra8 => [2, 1, 0],
            PixelFormat::Gray8 => [0, 0, 0],
        }
    }
}

/// A bounding box in pixels: origin at the image's top-left corner, x to the right, y down.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BBox {
    /// Left edge, pixels.
    pub x: f32,
    /// Top edge, pixels.
    pub y: f32,
    /// Width, pixels.
    pub width: f32,
    /// Height, pixels.
    pub height: f32,
}

impl BBox {
    /// A box from its top-left corner and size, in pixels.
    pub const fn new(x: f32, y: f32, width: f32, height: f32) -> Self {
        BBox { x, y, width, height }
    }

    /// `[x, y, width, height]`.
    pub const fn to_array(self) -> [f32; 4] {
        [self.x, self.y, self.width, self.height]
    }

    /// Intersection over union with `other`, in [0, 1] (0 for empty boxes).
    pub fn iou(&self, other: &BBox) -> f32 {
        let ix = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let iy = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        let union = self.width * self.height + other.width * other.height - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// The part of the box inside a `width` x `height` image, or `None` when nothing is inside.
    pub fn clamp_to(&self, width: u32, height: u32) -> Option<BBox> {
        let x0 = self.x.max(0.0);
        let y0 = self.y.max(0.0);
        let x1 = (self.x + self.width).min(width as f32);
        let y1 = (self.y + self.height).min(height as f32);
        (x1 > x0 && y1 > y0).then(|| BBox::new(x0, y0, x1 - x0, y1 - y0))
    }
}

/// A borrowed, validated image: `height` rows of `width` pixels, row `r` starting at byte
/// `r * stride` of `data`. Constructing one checks every size, so the pipeline can index it
/// without further checks.
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
}

impl<'a> ImageView<'a> {
    /// A view of `data` with an explicit row `stride` in bytes, checked against
    /// [`DEFAULT_MAX_PIXELS`].
    ///
    /// # Errors
    /// [`Error::EmptyImage`] (zero width or height), [`Error::SizeOverflow`],
    /// [`Error::ImageTooLarge`], [`Error::StrideTooSmall`] (stride < width x bytes per pixel),
    /// [`Error::BufferTooSmall`] (`data.len() < stride * (height - 1) + row bytes`).
    pub fn new(data: &'a [u8], width: u32, height: u32, stride: usize, format: PixelFormat) -> Result<Self> {
        Self::with_limit(data, width, height, stride, format, DEFAULT_MAX_PIXELS)
    }

    /// As [`ImageView::new`] with a caller-chosen limit on `width * height`.
    pub fn with_limit(
        data: &'a [u8],
        width: u32,
        height: u32,
        stride: usize,
        format: PixelFormat,
        max_pixels: u64,
    ) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::EmptyImage { width, height });
        }
        let pixels = u64::from(width) * u64::from(height);
        if pixels > max_pixels {
            return Err(Error::ImageTooLarge { width, height, pixels, limit: max_pixels });
        }
        let overflow = || Error::SizeOverflow { width, height, stride };
        let row_bytes = (width as usize).checked_mul(format.bytes_per_pixel()).ok_or_else(overflow)?;
        if stride < row_bytes {
            return Err(Error::StrideTooSmall { stride, row_bytes });
        }
        let required = stride
            .checked_mul(height as usize - 1)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or_else(overflow)?;
        if data.len() < required {
            return Err(Error::BufferTooSmall { len: data.len(), required });
        }
        Ok(ImageView { data, width, height, stride, format })
    }

    /// Tightly packed RGB (stride = 3 x width). Errors as [`ImageView::new`].
    pub fn rgb(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        Self::packed(data, width, height, PixelFormat::Rgb8)
    }

    /// Tightly packed RGBA (stride = 4 x width). Errors as [`ImageView::new`].
    pub fn rgba(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        Self::packed(data, width, height, PixelFormat::Rgba8)
    }

    /// Tightly packed BGR (stride = 3 x width). Errors as [`ImageView::new`].
    pub fn bgr(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        Self::packed(data, width, height, PixelFormat::Bgr8)
    }

    /// Tightly packed BGRA (stride = 4 x width). Errors as [`ImageView::new`].
    pub fn bgra(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        Self::packed(data, width, height, PixelFormat::Bgra8)
    }

    /// Tightly packed 8-bit gray (stride = width). Errors as [`ImageView::new`].
    pub fn gray(data: &'a [u8], width: u32, height: u32) -> Result<Self> {
        Self::packed(data, width, height, PixelFormat::Gray8)
    }

    fn packed(data: &'a [u8], width: u32, height: u32, format: PixelFormat) -> Result<Self> {
        let stride = (width as usize)
            .checked_mul(format.bytes_per_pixel())
            .ok_or(Error::SizeOverflow { width, height, stride: usize::MAX })?;
        Self::new(data, width, height, stride, format)
    }

    /// The same pixels with another row stride in bytes (re-validated as [`ImageView::new`]).
    pub fn with_stride(self, stride: usize) -> Result<Self> {
        Self::new(self.data, self.width, self.height, stride, self.format)
    }

    /// Width in pixels (> 0).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (> 0).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes from the start of one row to the start of the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The pixel layout.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// A copy of the pixels with rows tightly packed (stride = width x bytes per pixel), in the
    /// view's pixel format.
    pub fn to_packed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.width as usize * self.format.bytes_per_pixel() * self.height as usize);
        for y in 0..self.height as usize {
            out.extend_from_slice(self.row(y));
        }
        out
    }

    /// One row of pixels (`width x bytes per pixel` bytes). `y < height` is the caller's duty.
    #[inline]
    fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.stride;
        // In bounds: the constructor checked stride * (height - 1) + row bytes <= data.len().
        &self.data[start..start + self.width as usize * self.format.bytes_per_pixel()]
    }

    /// The image as 8-bit luma, `width * height` bytes, row-major. Colour is converted with the
    /// ITU-R BT.601 weights (0.299, 0.587, 0.114) in 8.8 fixed point, so RGB, BGR, RGBA and BGRA
    /// views of the same picture give byte-identical results.
    pub fn to_luma(&self) -> Vec<u8> {
        self.luma_region(0, 0, self.width, self.height)
    }

    /// [`ImageView::to_luma`] with the rows split into bands over up to `threads` threads;
    /// byte-identical to it. Errs only if a worker thread panicked ([`crate::Error::Internal`]).
    pub(crate) fn to_luma_threads(&self, threads: usize) -> crate::error::Result<Vec<u8>> {
        let threads = threads.clamp(1, self.height.max(1) as usize) as u32;
        if threads == 1 {
            return Ok(self.to_luma());
        }
        let rows_per = self.height.div_ceil(threads);
        let bands: Vec<u32> = (0..self.height).step_by(rows_per as usize).collect();
        let parts = crate::parallel::map(&bands, threads as usize, |&y| {
            Ok(self.luma_region(0, y, self.width, rows_per.min(self.height - y)))
        })?;
        Ok(parts.concat())
    }

    /// Luma (as [`ImageView::to_luma`]) of the `width` x `height` rectangle whose top-left pixel
    /// is (`x`, `y`), row-major. The rectangle must lie inside the image (callers clamp it).
    pub(crate) fn luma_region(&self, x: u32, y: u32, width: u32, height: u32) -> Vec<u8> {
        debug_assert!(x + width <= self.width && y + height <= self.height);
        let (x, w) = (x as usize, width as usize);
        let mut out = Vec::with_capacity(w * height as usize);
        let bpp = self.format.bytes_per_pixel();
        let [ro, go, bo] = self.format.rgb_offsets();
        for row_index in y as usize..(y + height) as usize {
            let row = &self.row(row_index)[x * bpp..(x + w) * bpp];
            if bpp == 1 {
                out.extend_from_slice(row);
            } else {
                out.extend(row.chunks_exact(bpp).map(|p| luma8(p[ro], p[go], p[bo])));
            }
        }
        out
    }

    /// The `width` x `height` rectangle whose top-left pixel is (`x`, `y`) (inside the image:
    /// callers clamp it) resized to `out_width` x `out_height`, as tightly packed BGR bytes (gray
    /// repeated in the three channels), the face detector's input. Resampling as
    /// [`ImageView::crop_resize_normalize`] (bilinear, area-averaged when shrinking more than
    /// 1.5x; at the same size an exact copy), rows in bands over up to `threads` threads with the
    /// same bytes on any count. RGB and BGR views of one picture give identical bytes.
    ///
    /// # Errors
    /// [`Error::Internal`] only if a worker thread panicked.
    pub(crate) fn bgr_region_resized(
        &self,
        (x, y, width, height): (u32, u32, u32, u32),
        out_width: u32,
        out_height: u32,
        threads: usize,
    ) -> Result<Vec<u8>> {
        debug_assert!(x + width <= self.width && y + height <= self.height && out_width > 0 && out_height > 0);
        let (ow, oh) = (out_width as usize, out_height as usize);
        let sx = width as f32 / out_width as f32;
        let sy = height as f32 / out_height as f32;
        let (kx, ky) = (sub_samples(sx), sub_samples(sy));
        let norm = 1.0 / (kx * ky) as f32;
        // Taps over the whole image, shifted to the rectangle: clamped to the image's edges.
        let columns = taps(x as f32, sx, kx, ow, self.width as usize);
        let rows = taps(y as f32, sy, ky, oh, self.height as usize);
        let bpp = self.format.bytes_per_pixel();
        let [ro, go, bo] = self.format.rgb_offsets();
        let offs = [bo, go, ro];
        let exact = kx == 1 && ky == 1 && (width, height) == (out_width, out_height);
        let band = oh.div_ceil(threads.clamp(1, oh)).max(1);
        let starts: Vec<usize> = (0..oh).step_by(band).collect();
        let parts = crate::parallel::map(&starts, threads, |&first| {
            let last = (first + band).min(oh);
            let mut out = Vec::with_capacity((last - first) * ow * 3);
            for oy in first..last {
                if exact {
                    let row = &self.row(y as usize + oy)[x as usize * bpp..(x + width) as usize * bpp];
                    out.extend(row.chunks_exact(bpp).flat_map(|p| [p[offs[0]], p[offs[1]], p[offs[2]]]));
                    continue;
                }
                let row_taps = &rows[oy * ky..(oy + 1) * ky];
                for column_taps in columns.chunks_exact(kx) {
                    let mut acc = [0f32; 3];
                    for t_row in row_taps {
                        let (r0, r1, ay) = (self.row(t_row.lo), self.row(t_row.hi), t_row.weight);
                        for t in column_taps {
                            let (x0, x1, ax) = (t.lo * bpp, t.hi * bpp, t.weight);
                            for (c, &o) in offs.iter().enumerate() {
                                let p00 = f32::from(r0[x0 + o]);
                                let p01 = f32::from(r0[x1 + o]);
                                let p10 = f32::from(r1[x0 + o]);
                                let p11 = f32::from(r1[x1 + o]);
                                let top = p00 + (p01 - p00) * ax;
                                let bottom = p10 + (p11 - p10) * ax;
                                acc[c] += top + (bottom - top) * ay;
                            }
                        }
                    }
                    out.extend(acc.map(|v| (v * norm).round().clamp(0.0, 255.0) as u8));
                }
            }
            Ok(out)
        })?;
        Ok(parts.concat())
    }

    /// Cuts `region` (pixels; may extend past the image, where edge pixels are repeated), resizes
    /// it to the model input's `width` x `height` and writes the normalized planes into `out` in CHW order:
    /// `out[c * H * W + y * W + x] = (value / 255 - mean[c]) / std[c]`, with value the luma
    /// (BT.601, as [`ImageView::to_luma`]) when `channels == 1`, else R, G, B.
    ///
    /// Resampling is bilinear; when the region is shrunk more than 1.5x, each output pixel averages
    /// a k x k grid of bilinear samples over its footprint (k = ceil(shrink factor), at most 8), an
    /// area filter that keeps small model inputs free of aliasing.
    ///
    /// `out.len()` must be `C * H * W` and the region non-empty (the analyzer guarantees both;
    /// the model module checked C is 1 or 3 with one mean and std per channel).
    pub(crate) fn crop_resize_normalize(&self, region: BBox, pre: &Preprocessing, out: &mut [f32]) {
        let (out_width, out_height, channels) = (pre.width, pre.height, pre.color.channels());
        let (mean, std) = (&pre.mean, &pre.std);
        debug_assert_eq!(out.len(), channels * out_width * out_height);
        let sx = region.width / out_width as f32;
        let sy = region.height / out_height as f32;
        let kx = sub_samples(sx);
        let ky = sub_samples(sy);
        let norm = 1.0 / (kx * ky) as f32;
        let plane = out_width * out_height;
        // The sample positions along each axis are computed once, not once per output pixel
        // (they only depend on the column or the row): a quarter of a one-face `analyze` after
        // detection went into recomputing them.
        let columns = taps(region.x, sx, kx, out_width, self.width as usize);
        let rows = taps(region.y, sy, ky, out_height, self.height as usize);
        let bpp = self.format.bytes_per_pixel();
        let offs = self.format.rgb_offsets();
        for (oy, row_taps) in rows.chunks_exact(ky).enumerate() {
            // The source rows and vertical weight of this output row's ky samples (ky <= 8).
            let mut source_rows = [(&[][..], &[][..], 0f32); 8];
            for (pair, t) in source_rows.iter_mut().zip(row_taps) {
                *pair = (self.row(t.lo), self.row(t.hi), t.weight);
            }
            let source_rows = &source_rows[..ky];
            for (ox, column_taps) in columns.chunks_exact(kx).enumerate() {
                let mut acc = [0f32; 3];
                for &(r0, r1, ay) in source_rows {
                    for t in column_taps {
                        let (x0, x1, ax) = (t.lo * bpp, t.hi * bpp, t.weight);
                        for (c, &o) in offs.iter().enumerate() {
                            let p00 = f32::from(r0[x0 + o]);
                            let p01 = f32::from(r0[x1 + o]);
                            let p10 = f32::from(r1[x0 + o]);
                            let p11 = f32::from(r1[x1 + o]);
                            let top = p00 + (p01 - p00) * ax;
                            let bottom = p10 + (p11 - p10) * ax;
                            acc[c] += top + (bottom - top) * ay;
                        }
                    }
                }
                let idx = oy * out_width + ox;
                if channels == 1 {
                    let l = (0.299 * acc[0] + 0.587 * acc[1] + 0.114 * acc[2]) * norm;
                    out[idx] = (l / 255.0 - mean[0]) / std[0];
                } else {
                    for c in 0..3 {
                        out[c * plane + idx] = (acc[c] * norm / 255.0 - mean[c]) / std[c];
                    }
                }
            }
        }
    }
}

impl ImageView<'_> {
    /// [`ImageView::crop_resize_normalize`] of `region` turned by `angle` radians about its
    /// centre: output pixel (u, v) from the centre samples the image at
    /// `centre + u * (cos, sin) + v * (-sin, cos)`, so a line at `angle` in the image (e.g. from
    /// the subject's right eye to the left eye) comes out horizontal. Bilinear samples with edge
    /// pixels repeated outside the image, `k x k` of them averaged per output pixel when
    /// shrinking (as the unrotated crop). At `angle` 0 use the unrotated crop (faster).
    pub(crate) fn crop_resize_normalize_rotated(&self, region: BBox, angle: f32, pre: &Preprocessing, out: &mut [f32]) {
        let (out_width, out_height, channels) = (pre.width, pre.height, pre.color.channels());
        let (mean, std) = (&pre.mean, &pre.std);
        debug_assert_eq!(out.len(), channels * out_width * out_height);
        let sx = region.width / out_width as f32;
        let sy = region.height / out_height as f32;
        let (kx, ky) = (sub_samples(sx), sub_samples(sy));
        let norm = 1.0 / (kx * ky) as f32;
        let plane = out_width * out_height;
        let (cx, cy) = (region.x + region.width / 2.0, region.y + region.height / 2.0);
        let (sin, cos) = angle.sin_cos();
        let bpp = self.format.bytes_per_pixel();
        let offs = self.format.rgb_offsets();
        let (max_x, max_y) = ((self.width - 1) as f32, (self.height - 1) as f32);
        for oy in 0..out_height {
            for ox in 0..out_width {
                let mut acc = [0f32; 3];
                for j in 0..ky {
                    let v = (oy as f32 + (j as f32 + 0.5) / ky as f32) * sy - region.height / 2.0;
                    for i in 0..kx {
                        let u = (ox as f32 + (i as f32 + 0.5) / kx as f32) * sx - region.width / 2.0;
                        let fx = (cx + u * cos - v * sin - 0.5).clamp(0.0, max_x);
                        let fy = (cy + u * sin + v * cos - 0.5).clamp(0.0, max_y);
                        let (x0, y0) = (fx.floor(), fy.floor());
                        let (ax, ay) = (fx - x0, fy - y0);
                        let (x0, y0) = (x0 as usize, y0 as usize);
                        let x1 = (x0 + 1).min(max_x as usize);
                        let (r0, r1) = (self.row(y0), self.row((y0 + 1).min(max_y as usize)));
                        for (c, &o) in offs.iter().enumerate() {
                            let p00 = f32::from(r0[x0 * bpp + o]);
                            let p01 = f32::from(r0[x1 * bpp + o]);
                            let p10 = f32::from(r1[x0 * bpp + o]);
                            let p11 = f32::from(r1[x1 * bpp + o]);
                            let top = p00 + (p01 - p00) * ax;
                            let bottom = p10 + (p11 - p10) * ax;
                            acc[c] += top + (bottom - top) * ay;
                        }
                    }
                }
                let idx = oy * out_width + ox;
                if channels == 1 {
                    let l = (0.299 * acc[0] + 0.587 * acc[1] + 0.114 * acc[2]) * norm;
                    out[idx] = (l / 255.0 - mean[0]) / std[0];
                } else {
                    for c in 0..3 {
                        out[c * plane + idx] = (acc[c] * norm / 255.0 - mean[c]) / std[c];
                    }
                }
            }
        }
    }
}

/// One bilinear sample position along an axis: the two source pixels it falls between (pixel
/// centres at integer + 0, clamped to the image so borders repeat) and the weight of the second.
#[derive(Clone, Copy)]
struct Tap {
    lo: usize,
    hi: usize,
    weight: f32,
}

/// The `k` sample positions of each of `out_len` output pixels along one axis, in order: output
/// pixel `o` covers source pixels `start + o * scale ..` `start + (o + 1) * scale`, sampled at
/// the centres of `k` equal parts. `len` is the image's size along the axis (>= 1).
fn taps(start: f32, scale: f32, k: usize, out_len: usize, len: usize) -> Vec<Tap> {
    let last = len - 1;
    // A plain loop: valgrind reported the `flat_map(..).collect()` form's optimised code as
    // reading uninitialised stack (a false alarm, but it would hide real ones in the C checks).
    let mut taps = Vec::with_capacity(out_len * k);
    for o in 0..out_len {
        for i in 0..k {
            let f = (start + (o as f32 + (i as f32 + 0.5) / k as f32) * scale - 0.5).clamp(0.0, last as f32);
            let lo = f.floor();
            taps.push(Tap { lo: lo as usize, hi: (lo as usize + 1).min(last), weight: f - lo });
        }
    }
    taps
}

/// Sub-samples per axis for a shrink factor: 1 up to 1.5x, then ceil(factor), at most 8.
fn sub_samples(shrink: f32) -> usize {
    if shrink <= 1.5 {
        1
    } else {
        (shrink.ceil() as usize).min(8)
    }
}

/// BT.601 luma in 8.8 fixed point: (77 R + 150 G + 29 B + 128) >> 8 (weights sum to 256).
#[inline]
fn luma8(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

impl<'a> TryFrom<&'a image::RgbImage> for ImageView<'a> {
    type Error = Error;
    fn try_from(img: &'a image::RgbImage) -> Result<Self> {
        ImageView::rgb(img.as_raw(), img.width(), img.height())
    }
}

impl<'a> TryFrom<&'a image::RgbaImage> for ImageView<'a> {
    type Error = Error;
    fn try_from(img: &'a image::RgbaImage) -> Result<Self> {
        ImageView::rgba(img.as_raw(), img.width(), img.height())
    }
}

impl<'a> TryFrom<&'a image::GrayImage> for ImageView<'a> {
    type Error = Error;
    fn try_from(img: &'a image::GrayImage) -> Result<Self> {
        ImageView::gray(img.as_raw(), img.width(), img.height())
    }
}

impl<'a> TryFrom<&'a image::DynamicImage> for ImageView<'a> {
    type Error = Error;
    /// Borrows 8-bit RGB, RGBA and gray images; other pixel types (16-bit, float, gray+alpha)
    /// give [`Error::UnsupportedLayout`]: convert them first with `to_rgb8()`.
    fn try_from(img: &'a image::DynamicImage) -> Result<Self> {
        match img {
            image::DynamicImage::ImageRgb8(i) => i.try_into(),
            image::DynamicImage::ImageRgba8(i) => i.try_into(),
            image::DynamicImage::ImageLuma8(i) => i.try_into(),
            other => Err(Error::UnsupportedLayout(format!(
                "{:?} pixels; convert with DynamicImage::to_rgb8() first",
                other.color()
            ))),
        }
    }
}

impl<'a> TryFrom<ndarray::ArrayView3<'a, u8>> for ImageView<'a> {
    type Error = Error;
    /// An `H x W x C` array with C = 1 (gray), 3 (RGB) or 4 (RGBA), in standard (C-contiguous)
    /// layout; other layouts give [`Error::UnsupportedLayout`] (copy with `as_standard_layout()`).
    fn try_from(a: ndarray::ArrayView3<'a, u8>) -> Result<Self> {
        let (h, w, c) = a.dim();
        let format = match c {
            1 => PixelFormat::Gray8,
            3 => PixelFormat::Rgb8,
            4 => PixelFormat::Rgba8,
            _ => return Err(Error::UnsupportedLayout(format!("{c} channels; expected 1, 3 or 4"))),
        };
        let data = a
            .to_slice()
            .ok_or_else(|| Error::UnsupportedLayout("array is not in standard (C-contiguous) layout".into()))?;
        let (w, h) = dims_u32(w, h)?;
        ImageView::new(data, w, h, w as usize * c, format)
    }
}

impl<'a> TryFrom<ndarray::ArrayView2<'a, u8>> for ImageView<'a> {
    type Error = Error;
    /// An `H x W` gray array in standard layout (else [`Error::UnsupportedLayout`]).
    fn try_from(a: ndarray::ArrayView2<'a, u8>) -> Result<Self> {
        let (h, w) = a.dim();
        let data = a
            .to_slice()
            .ok_or_else(|| Error::UnsupportedLayout("array is not in standard (C-contiguous) layout".into()))?;
        let (w, h) = dims_u32(w, h)?;
        ImageView::gray(data, w, h)
    }
}

fn dims_u32(w: usize, h: usize) -> Result<(u32, u32)> {
    match (u32::try_from(w), u32::try_from(h)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(Error::SizeOverflow { width: u32::MAX, height: u32::MAX, stride: w }),
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_matches_between_rgb_and_bgr() {
        let rgb = [10u8, 200, 30, 255, 0, 128];
        let bgr = [30u8, 200, 10, 128, 0, 255];
        let a = ImageView::rgb(&rgb, 2, 1).unwrap().to_luma();
        let b = ImageView::bgr(&bgr, 2, 1).unwrap().to_luma();
        assert_eq!(a, b);
        assert_eq!(a[0], luma8(10, 200, 30));
    }

    /// The crop's definition written per output pixel, every sample position computed where it
    /// is used: the tables of `crop_resize_normalize` must give the same bits.
    fn reference_crop(v: &ImageView<'_>, region: BBox, pre: &Preprocessing) -> Vec<f32> {
        let (w, h, channels) = (pre.width, pre.height, pre.color.channels());
        let (sx, sy) = (region.width / w as f32, region.height / h as f32);
        let (kx, ky) = (sub_samples(sx), sub_samples(sy));
        let sample = |fx: f32, fy: f32, c: usize| {
            let fx = fx.clamp(0.0, (v.width - 1) as f32);
            let fy = fy.clamp(0.0, (v.height - 1) as f32);
            let (x0, y0) = (fx.floor(), fy.floor());
            let (ax, ay) = (fx - x0, fy - y0);
            let (x0, y0) = (x0 as usize, y0 as usize);
            let x1 = (x0 + 1).min(v.width as usize - 1);
            let y1 = (y0 + 1).min(v.height as usize - 1);
            let (bpp, o) = (v.format.bytes_per_pixel(), v.format.rgb_offsets()[c]);
            let p = |x: usize, y: usize| f32::from(v.row(y)[x * bpp + o]);
            let top = p(x0, y0) + (p(x1, y0) - p(x0, y0)) * ax;
            let bottom = p(x0, y1) + (p(x1, y1) - p(x0, y1)) * ax;
            top + (bottom - top) * ay
        };
        let mut out = vec![0f32; channels * w * h];
        for oy in 0..h {
            for ox in 0..w {
                let mut acc = [0f32; 3];
                for j in 0..ky {
                    let fy = region.y + (oy as f32 + (j as f32 + 0.5) / ky as f32) * sy - 0.5;
                    for i in 0..kx {
                        let fx = region.x + (ox as f32 + (i as f32 + 0.5) / kx as f32) * sx - 0.5;
                        for (c, a) in acc.iter_mut().enumerate() {
                            *a += sample(fx, fy, c);
                        }
                    }
                }
                let norm = 1.0 / (kx * ky) as f32;
                if channels == 1 {
                    let l = (0.299 * acc[0] + 0.587 * acc[1] + 0.114 * acc[2]) * norm;
                    out[oy * w + ox] = (l / 255.0 - pre.mean[0]) / pre.std[0];
                } else {
                    for c in 0..3 {
                        out[c * w * h + oy * w + ox] = (acc[c] * norm / 255.0 - pre.mean[c]) / pre.std[c];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn crop_matches_its_per_pixel_definition_bit_for_bit() {
        // A pseudo-random 53 x 41 image (xorshift), 4 bytes a pixel with a 9-byte row padding.
        let (width, height, stride) = (53u32, 41u32, 53 * 4 + 9);
        let mut state = 0x9e37_79b9u32;
        let data: Vec<u8> = (0..stride * height as usize)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            })
            .collect();
        let views = [
            ImageView::new(&data, width, height, stride, PixelFormat::Rgba8).unwrap(),
            ImageView::new(&data, width, height, stride, PixelFormat::Bgr8).unwrap(),
            ImageView::new(&data, width, height, stride, PixelFormat::Gray8).unwrap(),
            ImageView::new(&data[..stride], width, 1, stride, PixelFormat::Rgb8).unwrap(),
        ];
        let regions = [
            BBox::new(3.0, 2.0, 40.0, 30.0),      // shrink 5x / 3.75x
            BBox::new(-7.5, -3.25, 70.0, 60.0),   // partly outside, 8x cap
            BBox::new(20.2, 10.7, 6.0, 5.0),      // enlarged
            BBox::new(0.0, 0.0, 53.0, 41.0),      // whole image
            BBox::new(40.0, 30.0, 500.0, 12.0),   // mostly outside, very wide
        ];
        for color in [crate::model::InputColor::Gray, crate::model::InputColor::Rgb] {
            let channels = color.channels();
            let pre = Preprocessing {
                color,
                height: 7,
                width: 9,
                mean: vec![0.5; channels],
                std: vec![0.25; channels],
                crop_scale: 1.0,
                crop_shift_y: 0.0,
            };
            for v in &views {
                for &region in &regions {
                    let mut out = vec![0f32; channels * 7 * 9];
                    v.crop_resize_normalize(region, &pre, &mut out);
                    let want = reference_crop(v, region, &pre);
                    let same = out.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{color:?} {:?} {region:?}", v.format);
                }
            }
        }
    }

    #[test]
    fn rotated_crop_at_angle_zero_matches_the_crop_and_a_quarter_turn_turns_it() {
        let (w, h) = (37u32, 29u32);
        let px: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        let v = ImageView::rgb(&px, w, h).unwrap();
        let pre = Preprocessing { color: crate::model::InputColor::Rgb, height: 8, width: 8, mean: vec![0.0; 3], std: vec![1.0; 3], crop_scale: 1.0, crop_shift_y: 0.0 };
        let region = BBox::new(5.0, 3.0, 16.0, 16.0);
        let (mut a, mut b) = (vec![0f32; 192], vec![0f32; 192]);
        v.crop_resize_normalize(region, &pre, &mut a);
        v.crop_resize_normalize_rotated(region, 0.0, &pre, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        // A quarter turn: output (u, v) samples the image at (-v, u) from the centre, so the
        // output's row r, column c is the unrotated crop's row c, column 7 - r.
        let mut q = vec![0f32; 192];
        v.crop_resize_normalize_rotated(region, std::f32::consts::FRAC_PI_2, &pre, &mut q);
        for r in 0..8 {
            for c in 0..8 {
                let (x, y) = (q[r * 8 + c], a[c * 8 + (7 - r)]);
                assert!((x - y).abs() < 1e-3, "({r}, {c}): {x} vs {y}");
            }
        }
    }

    #[test]
    fn crop_of_constant_image_is_constant() {
        let px = vec![128u8; 30 * 20 * 3];
        let v = ImageView::rgb(&px, 30, 20).unwrap();
        let mut out = vec![0f32; 3 * 8 * 8];
        let pre = Preprocessing {
            color: crate::model::InputColor::Rgb,
            height: 8,
            width: 8,
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
            crop_scale: 1.0,
            crop_shift_y: 0.0,
        };
        v.crop_resize_normalize(BBox::new(-5.0, -5.0, 40.0, 40.0), &pre, &mut out);
        assert!(out.iter().all(|&x| (x - 128.0 / 255.0).abs() < 1e-6));
    }
}
