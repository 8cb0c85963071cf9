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

use std::cmp::Ordering::*;
use std::cmp::Reverse;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::{cmp, ptr};

use crate::feat::LabBoostedFeatureMap;
use crate::feat::SurfMlpFeatureMap;
use crate::feat::FeatureMap;
use crate::classifier::{Classifier, Score, SurfMlpBuffers};
use crate::common::{resize_image, resize_image_rows, FaceInfo, ImageData, ImagePyramid, Rectangle};
use crate::model::Model;
use crate::Detector;

const FUST_MIN_WINDOW_SIZE: u32 = 20;

impl Detector for FuStDetector {
    fn detect(&mut self, image: &ImageData) -> Vec<FaceInfo> {
        if !is_legal_image(image) {
            panic!("Illegal image: {:?}", image);
        }

        let mut min_img_size = cmp::min(image.height(), image.width());
        if self.max_face_size > 0 {
            min_img_size = cmp::min(self.max_face_size as u32, min_img_size);
        }

        const K_WND_SIZE: f32 = 40.0;

        let mut image_pyramid = ImagePyramid::new();
        image_pyramid.set_image_1x(image.data(), image.width(), image.height());
        // TODO: uncomment (expect perf hit)
        //        image_pyramid.set_max_scale(K_WND_SIZE / self.min_face_size as f32);
        image_pyramid.set_min_scale(K_WND_SIZE / min_img_size as f32);
        image_pyramid.set_scale_step(self.image_pyramid_scale_factor);
        self.set_window_size(K_WND_SIZE as u32);

        self.detect_impl(&image_pyramid)
            .into_iter()
            .filter(|x| x.score() >= self.cls_thresh)
            .collect()
    }

    fn set_window_size(&mut self, wnd_size: u32) {
        if wnd_size < FUST_MIN_WINDOW_SIZE {
            panic!("Illegal window size: {}", wnd_size);
        }
        self.wnd_size = wnd_size;
    }

    fn set_slide_window_step(&mut self, step_x: u32, step_y: u32) {
        if step_x <= 0 {
            panic!("Illegal horizontal step: {}", step_x);
        }
        if step_y <= 0 {
            panic!("Illegal vertical step: {}", step_y);
        }
        self.slide_wnd_step_x = step_x;
        self.slide_wnd_step_y = step_y;
    }

    fn set_min_face_size(&mut self, min_face_size: u32) {
        if min_face_size < FUST_MIN_WINDOW_SIZE {
            panic!("Illegal min face size: {}", min_face_size);
        }
        self.min_face_size = min_face_size as i32;
    }

    #[inline]
    fn set_max_face_size(&mut self, max_face_size: u32) {
        self.max_face_size = max_face_size as i32;
    }

    fn set_pyramid_scale_factor(&mut self, scale_factor: f32) {
        if scale_factor < 0.01 || scale_factor > 0.99 {
            panic!("Illegal scale factor: {}", scale_factor);
        }
        self.image_pyramid_scale_factor = scale_factor;
    }

    fn set_score_thresh(&mut self, thresh: f64) {
        if thresh <= 0.0 {
            panic!("Illegal threshold: {}", thresh);
        }
        self.cls_thresh = thresh;
    }

    fn set_num_threads(&mut self, num_threads: usize) {
        self.num_threads = num_threads.max(1);
    }
}

#[inline]
fn is_legal_image(image: &ImageData) -> bool {
    image.num_channels() == 1 && image.width() > 0 && image.height() > 0
}

pub struct FuStDetector {
    model: Arc<Model>,
    // Working memory of each thread of a `detect` call; the first is the calling thread's.
    scratches: Vec<Scratch>,
    wnd_size: u32,
    slide_wnd_step_x: u32,
    slide_wnd_step_y: u32,
    min_face_size: i32,
    max_face_size: i32,
    cls_thresh: f64,
    image_pyramid_scale_factor: f32,
    num_threads: usize,
}

struct FeatureMaps {
    lab_boosted: LabBoostedFeatureMap,
    surf_mlp: SurfMlpFeatureMap,
    surf_buf: SurfMlpBuffers,
}

/// One thread's working memory (emotion-rustface): feature maps and window buffers, which were
/// fields of `FuStDetector` in rustface 0.1.7. Nothing in it carries over from one window to the
/// next, so a window scored with any thread's `Scratch` gets the same score.
struct Scratch {
    feature_maps: FeatureMaps,
    wnd_data_buf: Vec<u8>,
    wnd_data: Vec<u8>,
    mlp_predicts: Vec<f32>,
    // Rows of one pyramid level (stage 1).
    level: Vec<u8>,
}

impl Scratch {
    fn new(wnd_size: u32) -> Self {
        Scratch {
            feature_maps: FeatureMaps {
                lab_boosted: LabBoostedFeatureMap::new(),
                surf_mlp: SurfMlpFeatureMap::new(),
                surf_buf: SurfMlpBuffers::new(),
            },
            wnd_data_buf: vec![0; (wnd_size * wnd_size) as usize],
            wnd_data: vec![0; (wnd_size * wnd_size) as usize],
            mlp_predicts: vec![0.0; 4],
            level: Vec::new(),
        }
    }
}

/// Window rows `rows` (window tops at `row * step_y`) of the pyramid level of scale factor
/// `scale` and size `width` x `height`: the unit of work of stage 1.
struct Band {
    scale: f32,
    width: u32,
    height: u32,
    rows: Range<u32>,
}

impl Band {
    /// Image rows the band's windows cover.
    fn image_rows(&self, wnd_size: u32, step_y: u32) -> Range<u32> {
        self.rows.start * step_y..(self.rows.end - 1) * step_y + wnd_size
    }
}

/// Runs `work(scratch, i)` for every `i` in `0..n` on up to `threads` threads, the calling
/// thread being one of them, and returns the results in the order of `i` (emotion-rustface).
/// Threads take the next `i` from a shared counter, so put the largest items first. With one
/// thread or fewer than two items nothing is spawned. A panic in `work` is resumed on the
/// calling thread.
fn run_parallel<T: Send>(
    scratches: &mut Vec<Scratch>,
    wnd_size: u32,
    threads: usize,
    n: usize,
    work: impl Fn(&mut Scratch, usize) -> T + Sync,
) -> Vec<T> {
    let workers = threads.min(n).max(1);
    while scratches.len() < workers {
        scratches.push(Scratch::new(wnd_size));
    }
    let (mine, theirs) = scratches[..workers].split_first_mut().expect("at least one scratch");
    if theirs.is_empty() {
        return (0..n).map(|i| work(mine, i)).collect();
    }
    let next = AtomicUsize::new(0);
    let run = |scratch: &mut Scratch| {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, AtomicOrdering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, work(scratch, i)));
        }
    };
    let run = &run;
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = theirs.iter_mut().map(|scratch| scope.spawn(move || run(scratch))).collect();
        let mut done = run(mine);
        for helper in helpers {
            done.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        for (i, result) in done {
            slots[i] = Some(result);
        }
    });
    slots.into_iter().map(|slot| slot.expect("every item was run")).collect()
}

impl FuStDetector {
    pub fn new(model: Arc<Model>) -> Self {
        let wnd_size = 40;
        let slide_wnd_step_x = 4;
        let slide_wnd_step_y = 4;

        FuStDetector {
            model,
            scratches: vec![Scratch::new(wnd_size)],
            wnd_size,
            slide_wnd_step_x,
            slide_wnd_step_y,
            min_face_size: 20,
            max_face_size: -1,
            cls_thresh: 3.85,
            image_pyramid_scale_factor: 0.8,
            num_threads: 1,
        }
    }

    fn feature_map_for_classifier<'a>(classifier: &Classifier, maps: &'a mut FeatureMaps) -> &'a mut dyn FeatureMap {
        match classifier {
            Classifier::LabBoosted(_) => &mut maps.lab_boosted,
            Classifier::SurfMlp(_) => &mut maps.surf_mlp,
        }
    }

    fn classify_with_classifier(classifier: &Classifier, output: Option<&mut Vec<f32>>, maps: &mut FeatureMaps, roi: Rectangle) -> Score {
        match classifier {
            Classifier::SurfMlp(c) => c.classify(output, &mut maps.surf_buf, &mut maps.surf_mlp, roi),
            Classifier::LabBoosted(c) => c.classify(&mut maps.lab_boosted, roi),
        }
    }

    /// Stage 1 work items: every pyramid level with room for a window, in the serial scan order.
    /// With several threads and a LAB first stage, levels larger than a (2 x threads)-th of the
    /// pyramid are cut into row bands, so that the largest level does not keep one thread busy
    /// while the others wait; each band is computed with the overlap its windows need (a LAB
    /// feature only looks at its own 9x9 pixels, so a band's features equal the whole level's).
    fn stage1_bands(&self, levels: &[(f32, u32, u32)], threads: usize) -> Vec<Band> {
        let (wnd, step_y) = (self.wnd_size, self.slide_wnd_step_y);
        let split = threads > 1 && matches!(self.model.get_classifiers().first(), Some(Classifier::LabBoosted(_)));
        let total: u64 = levels.iter().map(|&(_, w, h)| u64::from(w) * u64::from(h)).sum();
        let max_band = (total / (2 * threads as u64)).max(1);
        let mut bands = Vec::new();
        for &(scale, width, height) in levels {
            // rustface 0.1.7 underflows (and panics) on a level smaller than the window.
            if width < wnd || height < wnd {
                continue;
            }
            let rows = (height - wnd) / step_y + 1;
            let parts = if split {
                let area = u64::from(width) * u64::from(height);
                ((area + max_band - 1) / max_band).clamp(1, u64::from(rows)) as u32
            } else {
                1
            };
            for part in 0..parts {
                let start = (u64::from(rows) * u64::from(part) / u64::from(parts)) as u32;
                let end = (u64::from(rows) * u64::from(part + 1) / u64::from(parts)) as u32;
                bands.push(Band { scale, width, height, rows: start..end });
            }
        }
        bands
    }

    /// Stage 1 on one band: the first hierarchy's classifiers at every window position, row by
    /// row, left to right. Proposals per classifier, boxes in 1x image pixels.
    fn scan_band(model: &Model, wnd_size: u32, step_x: u32, step_y: u32, image1x: &ImageData, band: &Band, scratch: &mut Scratch) -> Vec<Vec<FaceInfo>> {
        let first_hierarchy_size = model.get_hierarchy_size(0) as usize;
        let mut proposals = vec![Vec::new(); first_hierarchy_size];
        let image_rows = band.image_rows(wnd_size, step_y);
        resize_image_rows(image1x, &mut scratch.level, band.width, band.height, image_rows.clone());
        let image_scaled = ImageData::new(&scratch.level, band.width, image_rows.len() as u32);
        Self::feature_map_for_classifier(&model.get_classifiers()[0], &mut scratch.feature_maps).compute(&image_scaled);

        let scale_factor = band.scale;
        let max_x = band.width - wnd_size;
        for y in band.rows.clone().map(|row| row * step_y) {
            for x in (0..=max_x).step_by(step_x as usize) {
                // Window position within the band's rows.
                let rect = Rectangle::new(x as i32, (y - image_rows.start) as i32, wnd_size, wnd_size);
                for (classifier, proposal) in model.get_classifiers().iter().zip(proposals.iter_mut()).take(first_hierarchy_size) {
                    let score = Self::classify_with_classifier(classifier, None, &mut scratch.feature_maps, rect);
                    if score.is_positive() {
                        let mut wnd_info = FaceInfo::new();
                        let bbox = wnd_info.bbox_mut();
                        bbox.set_x((x as f32 / scale_factor + 0.5) as i32);
                        bbox.set_y((y as f32 / scale_factor + 0.5) as i32);
                        let width = (wnd_size as f32 / scale_factor + 0.5) as u32;
                        bbox.set_width(width);
                        bbox.set_height(width);
                        wnd_info.set_score(f64::from(score.score()));
                        proposal.push(wnd_info);
                    }
                }
            }
        }
        proposals
    }

    fn get_window_data(scratch: &mut Scratch, wnd_size: u32, img: &ImageData, wnd: &mut Rectangle) {
        let roi = wnd;

        let roi_width = roi.width() as i32;
        let roi_height = roi.height() as i32;
        let img_width = img.width() as i32;
        let img_height = img.height() as i32;

        let pad_right = cmp::max(roi.x() + roi_width - img_width, 0);
        let pad_left = if roi.x() >= 0 {
            0
        } else {
            let t = roi.x();
            roi.set_x(0);
            -t
        };
        let pad_bottom = cmp::max(roi.y() + roi_height - img_height, 0);
        let pad_top = if roi.y() >= 0 {
            0
        } else {
            let t = roi.y();
            roi.set_y(0);
            -t
        };

        scratch.wnd_data_buf
            .resize((roi_width * roi_height) as usize, 0);
        let mut src;
        unsafe {
            src = img.data().as_ptr().offset((roi.y() * img_width + roi.x()) as isize);
        }
        let mut dest = scratch.wnd_data_buf.as_mut_ptr();
        let len = roi_width as usize;
        let len2 = (roi_width - pad_left - pad_right) as usize;

        if pad_top > 0 {
            unsafe {
                ptr::write_bytes(dest, 0, len * pad_top as usize);
                dest = dest.offset((roi_width * pad_top) as isize);
            }
        }

        match (pad_left, pad_right) {
            (0, 0) => {
                for _y in pad_top..(roi_height - pad_bottom) {
                    unsafe {
                        ptr::copy_nonoverlapping(src, dest, len);
                        src = src.offset(img_width as isize);
                        dest = dest.offset(roi_width as isize);
                    }
                }
            }
            (0, _) => {
                for _y in pad_top..(roi_height - pad_bottom) {
                    unsafe {
                        ptr::copy_nonoverlapping(src, dest, len2);
                        src = src.offset(img_width as isize);
                        dest = dest.offset(roi_width as isize);
                        ptr::write_bytes(dest.offset(-pad_right as isize), 0, pad_right as usize);
                    }
                }
            }
            (_, 0) => {
                for _y in pad_top..(roi_height - pad_bottom) {
                    unsafe {
                        ptr::write_bytes(dest, 0, pad_left as usize);
                        ptr::copy_nonoverlapping(src, dest.offset(pad_left as isize), len2);
                        src = src.offset(img_width as isize);
                        dest = dest.offset(roi_width as isize);
                    }
                }
            }
            (_, _) => {
                for _y in pad_top..(roi_height - pad_bottom) {
                    unsafe {
                        ptr::write_bytes(dest, 0, pad_left as usize);
                        ptr::copy_nonoverlapping(src, dest.offset(pad_left as isize), len2);
                        src = src.offset(img_width as isize);
                        dest = dest.offset(roi_width as isize);
                        ptr::write_bytes(dest.offset(-pad_right as isize), 0, pad_right as usize);
                    }
                }
            }
        }

        if pad_bottom > 0 {
            unsafe {
                ptr::write_bytes(dest, 0, len * pad_bottom as usize);
            }
        }

        let src_img = ImageData::new(&scratch.wnd_data_buf, roi.width(), roi.height());
        resize_image(
            &src_img,
            &mut scratch.wnd_data,
            wnd_size,
            wnd_size,
        );
    }

    /// A later stage on one proposal: its window of the 1x image scored by `classifier`;
    /// `None` when rejected, else the proposal with the refined box and the new score.
    fn classify_window(classifier: &Classifier, wnd_size: u32, image1x: &ImageData, proposal: &FaceInfo, scratch: &mut Scratch) -> Option<FaceInfo> {
        let mut proposal = proposal.clone();
        if proposal.bbox().x() + proposal.bbox().width() as i32 <= 0
            || proposal.bbox().y() + proposal.bbox().height() as i32 <= 0
        {
            return None;
        }

        // Moves the box inside the image when it starts left of or above it, as in rustface.
        Self::get_window_data(scratch, wnd_size, image1x, proposal.bbox_mut());
        let img_temp = ImageData::new(&scratch.wnd_data, wnd_size, wnd_size);
        Self::feature_map_for_classifier(classifier, &mut scratch.feature_maps).compute(&img_temp);
        let rect = Rectangle::new(0, 0, wnd_size, wnd_size);

        let new_score = Self::classify_with_classifier(classifier, Some(&mut scratch.mlp_predicts), &mut scratch.feature_maps, rect);
        if !new_score.is_positive() {
            return None;
        }
        let mlp_predicts = &scratch.mlp_predicts;
        let x = proposal.bbox().x() as f32;
        let y = proposal.bbox().y() as f32;
        let w = proposal.bbox().width() as f32;
        let h = proposal.bbox().height() as f32;

        let bbox_w = ((mlp_predicts[3] * 2.0 - 1.0) * w + w + 0.5).floor();
        proposal.bbox_mut().set_width(bbox_w as u32);
        proposal.bbox_mut().set_height(bbox_w as u32);

        proposal.bbox_mut().set_x(
            ((mlp_predicts[1] * 2.0 - 1.0) * w
                + x
                + (w - bbox_w) * 0.5
                + 0.5)
                .floor() as i32,
        );

        proposal.bbox_mut().set_y(
            ((mlp_predicts[2] * 2.0 - 1.0) * h
                + y
                + (h - bbox_w) * 0.5
                + 0.5)
                .floor() as i32,
        );

        proposal.set_score(f64::from(new_score.score()));
        Some(proposal)
    }

    // emotion-rustface: the two loops that take nearly all the time run on `num_threads`
    // threads, with results in rustface 0.1.7's order: stage 1 over (level, row band) items,
    // the later stages over the proposals of each stage. The suppressions between them, and
    // everything else, are rustface's serial code.
    fn detect_impl(&mut self, image: &ImagePyramid) -> Vec<FaceInfo> {
        let threads = self.num_threads.max(1);
        let (wnd_size, step_x, step_y) = (self.wnd_size, self.slide_wnd_step_x, self.slide_wnd_step_y);
        let first_hierarchy_size = self.model.get_hierarchy_size(0) as usize;
        let mut proposals = vec![Vec::new(); first_hierarchy_size];
        let mut proposals_nms = vec![Vec::new(); first_hierarchy_size];
        let image1x = image.get_image_1x();

        // Stage 1: bands started largest first, their proposals then concatenated in scan order
        // (level, y, x), the order the stable sort of the suppression below depends on.
        let bands = self.stage1_bands(&image.levels(), threads);
        let mut order: Vec<usize> = (0..bands.len()).collect();
        order.sort_by_key(|&i| Reverse(u64::from(bands[i].width) * bands[i].image_rows(wnd_size, step_y).len() as u64));
        let model = &self.model;
        let found = run_parallel(&mut self.scratches, wnd_size, threads, order.len(), |scratch, k| {
            Self::scan_band(model, wnd_size, step_x, step_y, &image1x, &bands[order[k]], scratch)
        });
        let mut by_band: Vec<Option<Vec<Vec<FaceInfo>>>> = (0..bands.len()).map(|_| None).collect();
        for (k, band_proposals) in found.into_iter().enumerate() {
            by_band[order[k]] = Some(band_proposals);
        }
        for band_proposals in by_band.into_iter().flatten() {
            for (proposal, mut found) in proposals.iter_mut().zip(band_proposals) {
                proposal.append(&mut found);
            }
        }

        // The first hierarchy's suppressions are independent of each other (one per classifier:
        // three views in the frontal model, ~1 ms of a 640x480 detection between them), so they
        // run in parallel too, the longest first.
        let mut order: Vec<usize> = (0..first_hierarchy_size).collect();
        order.sort_by_key(|&i| Reverse(proposals[i].len()));
        let lists = &proposals;
        let suppressed = run_parallel(&mut self.scratches, wnd_size, threads, order.len(), |_, k| {
            let mut boxes = lists[order[k]].clone();
            let mut kept = Vec::new();
            non_maximum_suppression(&mut boxes, &mut kept, 0.8);
            kept
        });
        for (k, kept) in suppressed.into_iter().enumerate() {
            proposals_nms[order[k]] = kept;
        }
        proposals.iter_mut().for_each(Vec::clear);

        let mut cls_idx = first_hierarchy_size;
        let mut model_idx = first_hierarchy_size;
        let mut buf_idx: Vec<i32> = Vec::new();

        for i in 1..self.model.get_hierarchy_count() {
            let hierarchy_size_i = self.model.get_hierarchy_size(i) as usize;
            if buf_idx.len() < hierarchy_size_i {
                buf_idx.resize(hierarchy_size_i, 0);
            }

            for r in buf_idx.iter_mut().take(hierarchy_size_i as usize) {
                {
                    let wnd_src = self.model.get_wnd_src(cls_idx);
                    *r = wnd_src[0];
                    let num_wnd_src = wnd_src.len();
                    let r = *r as usize;
                    proposals[r].clear();

                    for k in wnd_src.iter().take(num_wnd_src) {
                        for item in &proposals_nms[*k as usize] {
                            let last_index = proposals[r].len();
                            proposals[r].insert(last_index, item.clone());
                        }
                    }
                }
                let r = *r as usize;

                let k_max = self.model.get_num_stage(cls_idx);
                for k in 0..k_max {
                    // The proposals that pass, in their order, refined.
                    let classifier = &self.model.get_classifiers()[model_idx];
                    let bboxes = &proposals[r];
                    let kept = run_parallel(&mut self.scratches, wnd_size, threads, bboxes.len(), |scratch, m| {
                        Self::classify_window(classifier, wnd_size, &image1x, &bboxes[m], scratch)
                    });
                    proposals[r] = kept.into_iter().flatten().collect();

                    if k < (k_max - 1) {
                        non_maximum_suppression(&mut proposals[r], &mut proposals_nms[r], 0.8);
                        proposals[r] = proposals_nms[r].clone();
                    } else if i == (self.model.get_hierarchy_count() - 1) {
                        non_maximum_suppression(&mut proposals[r], &mut proposals_nms[r], 0.3);
                        proposals[r] = proposals_nms[r].clone();
                    }

                    model_idx += 1;
                }

                cls_idx += 1;
            }

            for j in 0..hierarchy_size_i {
                proposals_nms[j] = proposals[buf_idx[j] as usize].clone();
            }
        }

        proposals_nms[0].clone()
    }
}

/// Below this many boxes, testing all pairs is faster than building a grid (emotion-rustface).
const NMS_GRID_MIN_BOXES: usize = 1000;

fn non_maximum_suppression(
    bboxes: &mut Vec<FaceInfo>,
    bboxes_nms: &mut Vec<FaceInfo>,
    iou_thresh: f32,
) {
    let use_grid = bboxes.len() >= NMS_GRID_MIN_BOXES;
    non_maximum_suppression_with(bboxes, bboxes_nms, iou_thresh, use_grid);
}

fn non_maximum_suppression_with(
    bboxes: &mut Vec<FaceInfo>,
    bboxes_nms: &mut Vec<FaceInfo>,
    iou_thresh: f32,
    use_grid: bool,
) {
    bboxes_nms.clear();
    bboxes.sort_by(|x, y| {
        let x_score = x.score();
        let y_score = y.score();
        if x_score > y_score {
            // x goes before y
            Less
        } else if x_score < y_score {
            Greater
        } else {
            Equal
        }
    });

    let mut select_idx = 0;
    let mut mask_merged = vec![false; bboxes.len()];
    let mut grid = if use_grid { Some(Grid::new(bboxes)) } else { None };
    let mut candidates = Vec::new();

    loop {
        while select_idx < bboxes.len() && mask_merged[select_idx] {
            select_idx += 1;
        }

        if select_idx == bboxes.len() {
            break;
        }

        bboxes_nms.push(bboxes[select_idx].clone());
        mask_merged[select_idx] = true;

        let mut score;
        {
            score = bboxes_nms.last().unwrap().score();
        }

        let area1;
        let x1;
        let y1;
        let x2;
        let y2;
        {
            area1 = (bboxes[select_idx].bbox().width() * bboxes[select_idx].bbox().height()) as f32;
            x1 = bboxes[select_idx].bbox().x();
            y1 = bboxes[select_idx].bbox().y();
            x2 = bboxes[select_idx].bbox().x() + bboxes[select_idx].bbox().width() as i32 - 1;
            y2 = bboxes[select_idx].bbox().y() + bboxes[select_idx].bbox().height() as i32 - 1;
        }

        // emotion-rustface: rustface tests every later box; with many boxes, only those sharing
        // a grid cell with the selected one, which are the only ones that can overlap it,
        // visited in the same (index) order, so the same boxes are merged and their scores
        // added in the same order. The all-pairs test took over a tenth of a detection on
        // large photos (thousands of proposals), on one thread.
        {
            let mut merge = |i: usize| {
                if mask_merged[i] {
                    return;
                }

                let x = cmp::max(x1, bboxes[i].bbox().x());
                let y = cmp::max(y1, bboxes[i].bbox().y());
                let w = cmp::min(
                    x2,
                    bboxes[i].bbox().x() + bboxes[i].bbox().width() as i32 - 1,
                ) - x + 1;
                let h = cmp::min(
                    y2,
                    bboxes[i].bbox().y() + bboxes[i].bbox().height() as i32 - 1,
                ) - y + 1;

                if w <= 0 || h <= 0 {
                    return;
                }

                let area2 = (bboxes[i].bbox().width() * bboxes[i].bbox().height()) as f32;
                let area_intersect = (w * h) as f32;
                let area_union = area1 + area2 - area_intersect;
                if area_intersect / area_union > iou_thresh {
                    mask_merged[i] = true;
                    let bbox_i_score = bboxes[i].score();
                    score += bbox_i_score;
                }
            };
            match grid.as_mut() {
                Some(grid) => {
                    grid.later_boxes_touching(bboxes[select_idx].bbox(), select_idx, &mut candidates);
                    candidates.iter().for_each(|&i| merge(i));
                }
                None => (select_idx + 1..bboxes.len()).for_each(merge),
            }
        }
        select_idx += 1;

        bboxes_nms.last_mut().unwrap().set_score(score);
    }
}

/// The first and last column and row of a box's pixels (last < first when it is empty), widened
/// so that no sum overflows.
fn pixel_span(r: &Rectangle) -> (i64, i64, i64, i64) {
    let (x, y) = (i64::from(r.x()), i64::from(r.y()));
    (x, y, x + i64::from(r.width()) - 1, y + i64::from(r.height()) - 1)
}

/// Square cells of `size` pixels from (`x0`, `y0`), `cols` a row.
#[derive(Clone, Copy)]
struct Cells {
    x0: i64,
    y0: i64,
    size: i64,
    cols: usize,
}

impl Cells {
    /// The indices of the cells a pixel span (inside the grid, or empty) touches.
    fn touched(self, (x0, y0, x1, y1): (i64, i64, i64, i64)) -> impl Iterator<Item = usize> {
        let (c0, c1, r0, r1) = if x1 < x0 || y1 < y0 {
            (1, 0, 1, 0)
        } else {
            let col = |x: i64| ((x - self.x0) / self.size) as usize;
            let row = |y: i64| ((y - self.y0) / self.size) as usize;
            (col(x0), col(x1), row(y0), row(y1))
        };
        (r0..=r1).flat_map(move |r| (c0..=c1).map(move |c| r * self.cols + c))
    }
}

/// The indices of a list of boxes by the grid cells their pixels touch (emotion-rustface), to
/// find the boxes that may overlap one without testing all of them.
struct Grid {
    cells: Cells,
    // The boxes touching cell c: items[start[c]..start[c + 1]], ascending.
    start: Vec<usize>,
    items: Vec<usize>,
    // seen[i] == q + 1: box i was already gathered for box q.
    seen: Vec<usize>,
}

impl Grid {
    fn new(bboxes: &[FaceInfo]) -> Self {
        let spans: Vec<_> = bboxes.iter().map(|b| pixel_span(b.bbox())).collect();
        let nonempty = || spans.iter().filter(|s| s.2 >= s.0 && s.3 >= s.1);
        let x0 = nonempty().map(|s| s.0).min().unwrap_or(0);
        let y0 = nonempty().map(|s| s.1).min().unwrap_or(0);
        let x1 = nonempty().map(|s| s.2).max().unwrap_or(0);
        let y1 = nonempty().map(|s| s.3).max().unwrap_or(0);
        // 32-pixel cells (a 40-pixel window touches 4 to 9), at most 1024 a side.
        let size = cmp::max(32, cmp::max(x1 - x0, y1 - y0) / 1024 + 1);
        let cols = ((x1 - x0) / size + 1) as usize;
        let rows = ((y1 - y0) / size + 1) as usize;
        let cells = Cells { x0, y0, size, cols };

        let mut start = vec![0; cols * rows + 1];
        for &span in &spans {
            for c in cells.touched(span) {
                start[c + 1] += 1;
            }
        }
        for c in 0..cols * rows {
            start[c + 1] += start[c];
        }
        let mut items = vec![0; start[cols * rows]];
        let mut next = start.clone();
        for (i, &span) in spans.iter().enumerate() {
            for c in cells.touched(span) {
                items[next[c]] = i;
                next[c] += 1;
            }
        }
        Grid { cells, start, items, seen: vec![0; bboxes.len()] }
    }

    /// Into `out`, ascending: the boxes after `index` that touch a cell `bbox` touches (every
    /// later box that shares a pixel with `bbox`, and some that do not).
    fn later_boxes_touching(&mut self, bbox: &Rectangle, index: usize, out: &mut Vec<usize>) {
        out.clear();
        for c in self.cells.touched(pixel_span(bbox)) {
            for &i in &self.items[self.start[c]..self.start[c + 1]] {
                if i > index && self.seen[i] != index + 1 {
                    self.seen[i] = index + 1;
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rustface 0.1.7's suppression: every later box tested against each selected one.
    fn all_pairs_nms(bboxes: &mut Vec<FaceInfo>, iou_thresh: f32) -> Vec<FaceInfo> {
        bboxes.sort_by(|x, y| y.score().partial_cmp(&x.score()).unwrap_or(Equal));
        let mut merged = vec![false; bboxes.len()];
        let mut out = Vec::new();
        for s in 0..bboxes.len() {
            if merged[s] {
                continue;
            }
            let b = *bboxes[s].bbox();
            let (x1, y1) = (b.x(), b.y());
            let (x2, y2) = (b.x() + b.width() as i32 - 1, b.y() + b.height() as i32 - 1);
            let area1 = (b.width() * b.height()) as f32;
            let mut score = bboxes[s].score();
            for i in s + 1..bboxes.len() {
                let o = *bboxes[i].bbox();
                let w = cmp::min(x2, o.x() + o.width() as i32 - 1) - cmp::max(x1, o.x()) + 1;
                let h = cmp::min(y2, o.y() + o.height() as i32 - 1) - cmp::max(y1, o.y()) + 1;
                if merged[i] || w <= 0 || h <= 0 {
                    continue;
                }
                let inter = (w * h) as f32;
                if inter / (area1 + (o.width() * o.height()) as f32 - inter) > iou_thresh {
                    merged[i] = true;
                    score += bboxes[i].score();
                }
            }
            let mut kept = bboxes[s].clone();
            kept.set_score(score);
            out.push(kept);
        }
        out
    }

    #[test]
    fn grid_suppression_equals_all_pairs() {
        // Boxes of 0 to 299 pixels, partly at negative coordinates, with repeated scores (ties).
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for round in 0..200 {
            let count = next(400) as usize;
            let spread = [100, 1000, 5000][round % 3];
            let boxes: Vec<FaceInfo> = (0..count)
                .map(|_| {
                    let mut f = FaceInfo::new();
                    let side = next(300) as u32;
                    *f.bbox_mut() = Rectangle::new(next(spread) as i32 - 50, next(spread) as i32 - 50, side, side);
                    f.set_score(next(20) as f64 * 0.25);
                    f
                })
                .collect();
            for &iou in &[0.3, 0.8] {
                let expected = all_pairs_nms(&mut boxes.clone(), iou);
                for &use_grid in &[false, true] {
                    let mut got = Vec::new();
                    non_maximum_suppression_with(&mut boxes.clone(), &mut got, iou, use_grid);
                    let key = |f: &FaceInfo| (f.bbox().x(), f.bbox().y(), f.bbox().width(), f.bbox().height(), f.score().to_bits());
                    assert_eq!(got.iter().map(key).collect::<Vec<_>>(), expected.iter().map(key).collect::<Vec<_>>(), "round {}, grid {}", round, use_grid);
                }
            }
        }
    }
}
