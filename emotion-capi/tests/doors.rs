//! The C API's share of the front doors' contract: the shared option table
//! (`tests/options.json`), model information, damaged image files, drawing, max_faces and flip
//! averaging, each compared with `emotion-core`.

use std::ffi::{CStr, CString};
use std::ptr;

use emotion::*;
use serde_json::Value;

const IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/astronaut.png");

fn last_error() -> String {
    unsafe { CStr::from_ptr(emotion_last_error_message()) }.to_string_lossy().into_owned()
}

struct Handle(*mut emotion_analyzer);
impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { emotion_analyzer_free(self.0) };
    }
}

fn analyzer(options: &emotion_options) -> Result<Handle, (emotion_status, String)> {
    let mut a = ptr::null_mut();
    match unsafe { emotion_analyzer_new(options, &mut a) } {
        EMOTION_OK => Ok(Handle(a)),
        s => {
            assert!(a.is_null());
            Err((s, last_error()))
        }
    }
}

fn zeroed_image() -> emotion_image {
    emotion_image { pixels: ptr::null_mut(), width: 0, height: 0, stride: 0, format: 0 }
}

/// Loads with `flags`: (status, image, partial).
fn load(path: &str, flags: u32) -> (emotion_status, emotion_image, i32) {
    let c = CString::new(path).unwrap();
    let (mut img, mut partial) = (zeroed_image(), -1);
    let s = unsafe { emotion_image_load_with_options(c.as_ptr(), flags, &mut img, &mut partial) };
    (s, img, partial)
}

fn analyze(a: &Handle, img: &emotion_image) -> Vec<emotion_face> {
    let mut faces = vec![unsafe { std::mem::zeroed::<emotion_face>() }; 32];
    let mut n = 0;
    let s = unsafe {
        emotion_analyze(a.0, img.pixels, img.width, img.height, img.stride, img.format, faces.as_mut_ptr(), 32, &mut n)
    };
    assert_eq!(s, EMOTION_OK, "{}", last_error());
    faces.truncate(n);
    faces
}

fn float(v: &Value) -> f32 {
    match v.as_str() {
        Some("nan") => f32::NAN,
        Some("inf") => f32::INFINITY,
        Some("-inf") => f32::NEG_INFINITY,
        _ => v.as_f64().unwrap() as f32,
    }
}

/// The options with one field set from the table; `None` when C's unsigned fields cannot hold it.
fn with_option(option: &str, v: &Value) -> Option<emotion_options> {
    let mut o = emotion_options_default();
    let uint = || v.as_u64().and_then(|x| u32::try_from(x).ok());
    let channels = |v: &Value| -> (u32, [f32; 3]) {
        let vals: Vec<f32> = v.as_array().unwrap().iter().map(float).collect();
        let mut out = [0.0; 3];
        for (o, x) in out.iter_mut().zip(&vals) {
            *o = *x;
        }
        (vals.len() as u32, out)
    };
    match option {
        "min_face_size" => o.min_face_size = uint()?,
        "max_face_size" => o.max_face_size = uint()?,
        "max_faces" => o.max_faces = uint()?,
        "score_threshold" => o.score_threshold = float(v),
        "pyramid_scale_factor" => o.pyramid_scale_factor = float(v),
        "window_step" => o.window_step = uint()?,
        "threads" => o.threads = uint()?,
        "flip_average" => o.flip_average = u32::from(v.as_bool().unwrap()),
        "detector" => {
            o.detector = match v.as_str().unwrap() {
                "yunet" => EMOTION_DETECTOR_YUNET,
                "seeta" => EMOTION_DETECTOR_SEETA,
                _ => 7, // no such EMOTION_DETECTOR_*
            }
        }
        "input_color" => {
            o.input_color = match v.as_str().unwrap() {
                "gray" => EMOTION_INPUT_COLOR_GRAY,
                "rgb" => EMOTION_INPUT_COLOR_RGB,
                _ => 7, // no such EMOTION_INPUT_COLOR_*
            }
        }
        "input_size" => {
            let s = v.as_array().unwrap();
            o.input_height = s[0].as_u64().unwrap() as u32;
            o.input_width = s[1].as_u64().unwrap() as u32;
        }
        "mean" => (o.mean_count, o.mean) = channels(v),
        "std" => (o.std_count, o.std) = channels(v),
        "crop_scale" => o.crop_scale = float(v),
        "crop_shift_y" => o.crop_shift_y = float(v),
        "batch_size" => o.batch_size = uint()?,
        other => panic!("option {other} is not handled by this test"),
    }
    Some(o)
}

#[test]
fn the_option_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/options.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for case in table["cases"].as_array().unwrap() {
        let (option, value, valid) = (case["option"].as_str().unwrap(), &case["value"], case["valid"].as_bool().unwrap());
        let Some(options) = with_option(option, value) else { continue };
        match (analyzer(&options), valid) {
            (Ok(_), true) => {}
            (Err((status, message)), false) => {
                assert_eq!(status, EMOTION_ERROR_INVALID_ARGUMENT, "{option} = {value}: {message}");
                assert!(message.contains(option), "{option} = {value}: {message}");
            }
            (Ok(_), false) => panic!("{option} = {value} was accepted"),
            (Err((_, m)), true) => panic!("{option} = {value} was rejected: {m}"),
        }
        checked += 1;
    }
    assert!(checked >= 50, "{checked}");
    // C only: flags and counts that other languages express with types.
    for (o, name) in [
        (emotion_options { flip_average: 2, ..emotion_options_default() }, "flip_average"),
        (emotion_options { mean_count: 2, ..emotion_options_default() }, "mean_count"),
        (emotion_options { input_height: 64, ..emotion_options_default() }, "input_size"),
    ] {
        let (s, m) = analyzer(&o).err().unwrap();
        assert_eq!(s, EMOTION_ERROR_INVALID_ARGUMENT);
        assert!(m.contains(name), "{m}");
    }
}

#[test]
fn landmarks_from_yunet_and_none_from_seeta() {
    let img = emotion_core::load_rgb(IMAGE).unwrap();
    let core = emotion_core::Analyzer::new().unwrap();
    let expected = core.analyze(&emotion_core::ImageView::try_from(&img).unwrap()).unwrap();
    for (detector, with) in [(EMOTION_DETECTOR_YUNET, true), (EMOTION_DETECTOR_SEETA, false)] {
        let a = analyzer(&emotion_options { detector, ..emotion_options_default() }).unwrap();
        let mut faces = vec![unsafe { std::mem::zeroed::<emotion_face>() }; 8];
        let mut count = 0usize;
        let s = unsafe {
            emotion_analyze(a.0, img.as_ptr(), img.width(), img.height(), img.width() as usize * 3, EMOTION_PIXEL_RGB8, faces.as_mut_ptr(), faces.len(), &mut count)
        };
        assert_eq!(s, EMOTION_OK, "{}", last_error());
        assert_eq!(count, 1);
        let f = &faces[0];
        assert_eq!(f.has_landmarks, u32::from(with));
        if with {
            let l = expected[0].landmarks.unwrap();
            let flat: Vec<f32> = l.iter().flatten().copied().collect();
            assert_eq!(&f.landmarks[..], &flat[..]);
            assert!(f.landmarks[0] < f.landmarks[2], "the subject's right eye on the image's left");
        } else {
            assert!(f.landmarks.iter().all(|v| v.is_nan()));
        }
    }
}

#[test]
fn version_0_1_options_are_still_accepted() {
    // The 0.1.0 layout: the first 7 fields, struct_size 28.
    let mut old = [0u32; 7];
    let d = emotion_options_default();
    old[0] = 28;
    old[1] = 80; // min_face_size
    old[3] = d.score_threshold.to_bits();
    old[4] = d.pyramid_scale_factor.to_bits();
    old[5] = d.window_step;
    let mut a = ptr::null_mut();
    let s = unsafe { emotion_analyzer_new(old.as_ptr().cast(), &mut a) };
    assert_eq!(s, EMOTION_OK, "{}", last_error());
    let a = Handle(a);
    let mut info: emotion_model_info = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { emotion_analyzer_model_info(a.0, &mut info) }, EMOTION_OK);
    assert_eq!(info.flip_average, 0);
    old[0] = 30;
    let mut b = ptr::null_mut();
    assert_eq!(unsafe { emotion_analyzer_new(old.as_ptr().cast(), &mut b) }, EMOTION_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("struct_size"));
}

#[test]
fn model_info_matches_the_core() {
    let a = analyzer(&emotion_options_default()).unwrap();
    let mut info: emotion_model_info = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { emotion_analyzer_model_info(a.0, &mut info) }, EMOTION_OK);
    let core = emotion_core::Analyzer::new().unwrap();
    let (ci, pre) = (core.model().info(), core.model().preprocessing());
    let text = |p: *const std::ffi::c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
    assert_eq!(text(info.version), ci.version);
    assert!(!ci.version.is_empty());
    assert_eq!(text(info.training_data), ci.training_data);
    assert_eq!(text(info.description), ci.description);
    assert_eq!((info.input_height as usize, info.input_width as usize), (pre.height, pre.width));
    assert_eq!(info.input_channels as usize, pre.color.channels());
    assert_eq!(info.mean[..pre.mean.len()], pre.mean[..]);
    assert_eq!(info.std[..pre.std.len()], pre.std[..]);
    assert_eq!((info.crop_scale, info.crop_shift_y), (pre.crop_scale, pre.crop_shift_y));
    assert_eq!(info.batch_size, 1);
    assert_eq!(unsafe { emotion_analyzer_model_info(ptr::null(), &mut info) }, EMOTION_ERROR_NULL_POINTER);
    assert_eq!(unsafe { emotion_analyzer_model_info(a.0, ptr::null_mut()) }, EMOTION_ERROR_NULL_POINTER);
    // Overrides show in the information.
    let o = emotion_options { crop_scale: 1.5, batch_size: 4, flip_average: 1, ..emotion_options_default() };
    let b = analyzer(&o).unwrap();
    assert_eq!(unsafe { emotion_analyzer_model_info(b.0, &mut info) }, EMOTION_OK);
    assert_eq!((info.crop_scale, info.batch_size, info.flip_average), (1.5, 4, 1));
}

#[test]
fn damaged_files_fail_unless_partial_is_allowed() {
    let dir = std::env::temp_dir().join(format!("emotion-capi-doors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sample = image::open(IMAGE).unwrap();
    let jpeg = dir.join("sample.jpg");
    sample.save(&jpeg).unwrap();
    let bytes = std::fs::read(&jpeg).unwrap();
    let cut = dir.join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let cut = cut.to_str().unwrap();

    let c = CString::new(cut).unwrap();
    let mut img = zeroed_image();
    assert_eq!(unsafe { emotion_image_load(c.as_ptr(), &mut img) }, EMOTION_ERROR_DECODE);
    assert!(img.pixels.is_null());
    assert!(last_error().contains("truncated"), "{}", last_error());
    let (s, _, partial) = load(cut, 0);
    assert_eq!((s, partial), (EMOTION_ERROR_DECODE, 0));
    let (s, mut img, partial) = load(cut, EMOTION_LOAD_ALLOW_PARTIAL);
    assert_eq!((s, partial), (EMOTION_OK, 1), "{}", last_error());
    assert_eq!((img.width, img.height), (512, 512));
    unsafe { emotion_image_free(&mut img) };
    let (s, mut img, partial) = load(jpeg.to_str().unwrap(), EMOTION_LOAD_ALLOW_PARTIAL);
    assert_eq!((s, partial), (EMOTION_OK, 0));
    unsafe { emotion_image_free(&mut img) };
    let (s, _, _) = load(cut, 6);
    assert_eq!(s, EMOTION_ERROR_INVALID_ARGUMENT);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn drawing_matches_the_core_in_every_format() {
    let (s, mut img, _) = load(IMAGE, 0);
    assert_eq!(s, EMOTION_OK);
    let a = analyzer(&emotion_options_default()).unwrap();
    let faces = analyze(&a, &img);
    assert_eq!(faces.len(), 1);
    let rgb = unsafe { std::slice::from_raw_parts(img.pixels, img.stride * img.height as usize) }.to_vec();
    let mut expected = image::RgbImage::from_raw(img.width, img.height, rgb.clone()).unwrap();
    let core_faces: Vec<emotion_core::Face> = {
        let core = emotion_core::Analyzer::new().unwrap();
        core.analyze(&emotion_core::ImageView::try_from(&expected).unwrap()).unwrap()
    };
    emotion_core::draw::draw_faces_rgb(&mut expected, &core_faces);
    let mut drawn = rgb.clone();
    let s = unsafe {
        emotion_draw(drawn.as_mut_ptr(), img.width, img.height, img.stride, EMOTION_PIXEL_RGB8, faces.as_ptr(), faces.len())
    };
    assert_eq!(s, EMOTION_OK, "{}", last_error());
    assert_eq!(drawn, expected.into_raw());
    assert_ne!(drawn, rgb);
    // BGRA with a padded stride: the same picture, channels swapped, padding untouched.
    let stride = img.width as usize * 4 + 8;
    let mut bgra = vec![7u8; stride * img.height as usize];
    let s = unsafe {
        emotion_draw(bgra.as_mut_ptr(), img.width, img.height, stride, EMOTION_PIXEL_BGRA8, faces.as_ptr(), faces.len())
    };
    assert_eq!(s, EMOTION_OK);
    assert!(bgra.chunks(stride).all(|row| row[stride - 8..] == [7; 8]));
    let mut bad = faces.clone();
    bad[0].expression = 8;
    let s = unsafe {
        emotion_draw(drawn.as_mut_ptr(), img.width, img.height, img.stride, EMOTION_PIXEL_RGB8, bad.as_ptr(), 1)
    };
    assert_eq!(s, EMOTION_ERROR_INVALID_ARGUMENT);
    assert!(last_error().contains("faces[0].expression"), "{}", last_error());
    let s = unsafe { emotion_draw(ptr::null_mut(), 1, 1, 3, EMOTION_PIXEL_RGB8, ptr::null(), 0) };
    assert_eq!(s, EMOTION_ERROR_NULL_POINTER);
    unsafe { emotion_image_free(&mut img) };
}

#[test]
fn max_faces_and_flip_average_reach_the_core() {
    let photo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/photos/misc/multiface.jpg");
    if !std::path::Path::new(photo).exists() {
        println!("SKIPPED: {photo} not found (test photos live in ../shared)");
        return;
    }
    let (s, mut img, _) = load(photo, 0);
    assert_eq!(s, EMOTION_OK);
    let o = emotion_options { max_faces: 2, flip_average: 1, threads: 1, ..emotion_options_default() };
    let faces = analyze(&analyzer(&o).unwrap(), &img);
    let core = emotion_core::Analyzer::builder().max_faces(2).flip_average(true).threads(1).build().unwrap();
    let rgb = emotion_core::load_rgb(photo).unwrap();
    let expected = core.analyze(&emotion_core::ImageView::try_from(&rgb).unwrap()).unwrap();
    assert_eq!(faces.len(), 2);
    for (f, e) in faces.iter().zip(&expected) {
        assert_eq!(*f, emotion_face::from(*e));
    }
    unsafe { emotion_image_free(&mut img) };
}
