// This file is part of the open-source port of SeetaFace engine, which originally includes three modules:
//      SeetaFace Detection, SeetaFace Alignment, and SeetaFace Identification.
//
// This file is part of the SeetaFace Detection module, containing codes implementing the face detection method described in the following paper:
//
//      Funnel-structured cascade for multi-view face detection with alignment awareness,
//      Shuzhe Wu, Meina Kan, Zhenliang He, Shiguang Shan, Xilin Chen.
//      In Neurocomputing (under review)
//
// Copyright (C) 2016, Visual Information Processing and Learning (VIPL) group,
// Institute of Computing Technology, Chinese Academy of Sciences, Beijing, China.
//
// As an open-source face recognition engine: you can redistribute SeetaFace source codes
// and/or modify it under the terms of the BSD 2-Clause License.
//
// You should have received a copy of the BSD 2-Clause License along with the software.
// If not, see < https://opensource.org/licenses/BSD-2-Clause>.

use std::cmp;
use std::ops::Range;

#[derive(Debug)]
pub struct ImageData<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    num_channels: u32,
}

impl<'a> ImageData<'a> {
    #[inline]
    pub fn new(data: &'a [u8], width: u32, height: u32) -> Self {
        assert_eq!(data.len(), width as usize * height as usize);
        ImageData {
            data,
            width,
            height,
            num_channels: 1,
        }
    }

    #[inline]
    pub fn width(&self) -> u32 {
        self.width
    }

    #[inline]
    pub fn height(&self) -> u32 {
        self.height
    }

    #[inline]
    pub fn num_channels(&self) -> u32 {
        self.num_channels
    }

    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

pub struct ImagePyramid {
    max_scale: f32,
    min_scale: f32,
    scale_step: f32,
    width1x: u32,
    height1x: u32,
    img_buf: Vec<u8>,
}

// emotion-rustface: the pyramid no longer resizes one level at a time into its own buffer
// (`get_next_scale_image`); it lists its levels and each detector thread resizes the rows it
// scans itself (`resize_image_rows`), with the same arithmetic, so levels can be scanned in
// parallel.
impl ImagePyramid {
    pub fn new() -> Self {
        ImagePyramid {
            max_scale: 1.0,
            min_scale: 1.0,
            scale_step: 0.8,
            width1x: 0,
            height1x: 0,
            img_buf: Vec::new(),
        }
    }

    #[allow(dead_code)]
    pub fn set_max_scale(&mut self, max_scale: f32) {
        self.max_scale = max_scale;
    }

    #[inline]
    pub fn set_min_scale(&mut self, min_scale: f32) {
        self.min_scale = min_scale;
    }

    pub fn set_scale_step(&mut self, scale_step: f32) {
        if scale_step > 0.0 && scale_step <= 1.0 {
            self.scale_step = scale_step;
        }
    }

    #[inline]
    pub fn get_image_1x(&self) -> ImageData<'_> {
        ImageData::new(&self.img_buf, self.width1x, self.height1x)
    }

    pub fn set_image_1x(&mut self, img_data: &[u8], width: u32, height: u32) {
        self.width1x = width;
        self.height1x = height;

        self.img_buf.clear();
        self.img_buf.extend_from_slice(img_data);
    }

    /// The levels, largest first, as (scale factor, width, height): the scale starts at the
    /// maximum scale and is multiplied by the step while it is at least the minimum scale
    /// (rustface 0.1.7's `get_next_scale_image` sequence, computed the same way).
    pub fn levels(&self) -> Vec<(f32, u32, u32)> {
        let mut levels = Vec::new();
        let mut scale_factor = self.max_scale;
        while scale_factor >= self.min_scale {
            let width = (self.width1x as f32 * scale_factor) as u32;
            let height = (self.height1x as f32 * scale_factor) as u32;
            levels.push((scale_factor, width, height));
            scale_factor *= self.scale_step;
        }
        levels
    }
}

pub fn resize_image(src: &ImageData, dest: &mut Vec<u8>, width: u32, height: u32) {
    resize_image_rows(src, dest, width, height, 0..height);
}

/// Rows `rows` of `src` resized to `width` x `height` (bilinear), into `dest` (resized to
/// `rows.len() * width` bytes). Each pixel is computed as in a whole-image resize, so the rows
/// of a level can be made separately.
pub fn resize_image_rows(src: &ImageData, dest: &mut Vec<u8>, width: u32, height: u32, rows: Range<u32>) {
    dest.clear();

    if src.width() == width && src.height() == height {
        let row = width as usize;
        dest.extend_from_slice(&src.data()[rows.start as usize * row..rows.end as usize * row]);
        return;
    }

    dest.resize(width as usize * rows.len(), 0);

    // emotion-rustface: rustface computed every term of the bilinear formula once per output
    // pixel. Here the column terms (source column, its weight) are computed once per column, and
    // each source row's horizontal interpolation `(1 - wx) * left + wx * right` once per source
    // row (a shrinking pyramid level reads most source rows for two output rows). The values and
    // the f64 operations that combine them are rustface's, so every byte is unchanged.
    let src_width = src.width() as usize;
    let src_data = src.data();
    let lf_x_scl = f64::from(src.width()) / f64::from(width);
    let lf_y_scl = f64::from(src.height()) / f64::from(height);
    let columns: Vec<(usize, f64)> = (0..width)
        .map(|x| {
            let lf_x_s = lf_x_scl * f64::from(x);
            let n_x_s = cmp::min(lf_x_s as u32, src.width() - 2);
            (n_x_s as usize, lf_x_s - f64::from(n_x_s))
        })
        .collect();
    let horizontal = |n_y: usize, out: &mut Vec<f64>| {
        let row = &src_data[n_y * src_width..(n_y + 1) * src_width];
        out.clear();
        out.extend(columns.iter().map(|&(n_x, lf_weight_x)| {
            (1.0 - lf_weight_x) * f64::from(row[n_x]) + lf_weight_x * f64::from(row[n_x + 1])
        }));
    };

    // Horizontal interpolations of source rows `cached` and `cached + 1`.
    let (mut upper, mut lower) = (Vec::with_capacity(width as usize), Vec::with_capacity(width as usize));
    let mut cached: Option<usize> = None;
    for (y, out) in rows.zip(dest.chunks_exact_mut(width as usize)) {
        let lf_y_s = lf_y_scl * f64::from(y);
        let n_y_s = cmp::min(lf_y_s as u32, src.height() - 2);
        let lf_weight_y = lf_y_s - f64::from(n_y_s);
        let n_y = n_y_s as usize;
        match cached {
            Some(c) if c == n_y => {}
            Some(c) if c + 1 == n_y => {
                std::mem::swap(&mut upper, &mut lower);
                horizontal(n_y + 1, &mut lower);
            }
            _ => {
                horizontal(n_y, &mut upper);
                horizontal(n_y + 1, &mut lower);
            }
        }
        cached = Some(n_y);
        for ((dest_px, &top), &bottom) in out.iter_mut().zip(&upper).zip(&lower) {
            let dest_val = (1.0 - lf_weight_y) * top + lf_weight_y * bottom;
            *dest_px = dest_val as u8;
        }
    }
}
