//! The `emotion` binary: the shared option table, damaged files, `--whole-image`, `--max-faces`,
//! `--model-info`, `--annotate` drawing and the JSON's model version.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/astronaut.png");

fn emotion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emotion")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON lines of a successful run.
fn lines(o: &Output) -> Vec<Value> {
    assert!(o.status.success(), "{}", stderr(o));
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emotion-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn arg_value(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(arg_value).collect();
            // input_size is HxW; per-channel lists are comma-separated.
            if items.len() == 2 && items.iter().all(|x| x.is_u64()) {
                parts.join("x")
            } else {
                parts.join(",")
            }
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn the_option_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/options.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in table["cases"].as_array().unwrap() {
        let (option, value, valid) = (case["option"].as_str().unwrap(), &case["value"], case["valid"].as_bool().unwrap());
        let flag = format!("--{}", option.replace('_', "-"));
        let args = match value {
            Value::Bool(true) => vec![flag.clone()],
            Value::Bool(false) => vec![],
            v => vec![format!("{flag}={}", arg_value(v))],
        };
        let mut all = vec!["--model-info"];
        all.extend(args.iter().map(String::as_str));
        let out = emotion(&all);
        if valid {
            assert!(out.status.success(), "{option} = {value}: {}", stderr(&out));
        } else {
            assert_eq!(out.status.code(), Some(2), "{option} = {value} was accepted");
            let e = stderr(&out);
            assert!(e.contains(option) || e.contains(&flag), "{option} = {value}: {e}");
        }
    }
}

#[test]
fn landmarks_in_the_json_from_yunet_and_null_from_seeta() {
    let face = &lines(&emotion(&[SAMPLE]))[0]["faces"][0];
    let l = face["landmarks"].as_array().expect("five landmarks");
    assert_eq!(l.len(), 5);
    let (x, y) = (|i: usize| l[i][0].as_f64().unwrap(), |i: usize| l[i][1].as_f64().unwrap());
    // The subject's right eye on the image's left, eyes above the nose, nose above the mouth.
    assert!(x(0) < x(1) && x(3) < x(4), "{l:?}");
    assert!(y(0) < y(2) && y(1) < y(2) && y(2) < y(3) && y(2) < y(4), "{l:?}");
    let seeta = &lines(&emotion(&[SAMPLE, "--detector", "seeta"]))[0]["faces"][0];
    assert!(seeta["landmarks"].is_null(), "{seeta}");
    let aligned = &lines(&emotion(&[SAMPLE, "--align"]))[0]["faces"][0];
    assert_eq!(aligned["bbox"], face["bbox"]);
}

#[test]
fn csv_landmark_columns_hold_the_json_landmarks() {
    let face = &lines(&emotion(&[SAMPLE]))[0]["faces"][0];
    let out = emotion(&[SAMPLE, "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = text.lines().map(|l| l.split(',').collect::<Vec<_>>());
    let header = rows.next().unwrap();
    let row = rows.next().unwrap();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"))];
    let names = ["right_eye", "left_eye", "nose", "mouth_right", "mouth_left"];
    for (i, name) in names.iter().enumerate() {
        for (axis, a) in ["x", "y"].iter().enumerate() {
            let csv: f32 = cell(&format!("{name}_{a}")).parse().unwrap();
            assert_eq!(csv, face["landmarks"][i][axis].as_f64().unwrap() as f32, "{name}_{a}");
        }
    }
    let seeta = String::from_utf8(emotion(&[SAMPLE, "--format", "csv", "--detector", "seeta"]).stdout).unwrap();
    let seeta_row: Vec<&str> = seeta.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(seeta_row[header.iter().position(|h| *h == "right_eye_x").unwrap()], "");
}

#[test]
fn model_info_and_the_json_agree() {
    let info = lines(&emotion(&["--model-info"])).remove(0);
    let version = info["version"].as_str().unwrap();
    assert!(!version.is_empty());
    assert_eq!(info["labels"][7], "contempt");
    assert_eq!(info["input_height"], 48);
    assert_eq!(info["flip_average"], false);
    assert_eq!(info["library_version"], env!("CARGO_PKG_VERSION"));
    let with = lines(&emotion(&["--model-info", "--flip-average", "--crop-scale", "1.5"])).remove(0);
    assert_eq!((with["flip_average"].as_bool(), with["crop_scale"].as_f64()), (Some(true), Some(1.5)));
    let image = lines(&emotion(&[SAMPLE])).remove(0);
    assert_eq!(image["model_version"], version);
    assert_eq!(image["partial"], false);
}

#[test]
fn damaged_files_are_skipped_with_exit_code_1_unless_partial_is_allowed() {
    let dir = temp_dir("damaged");
    let jpeg = dir.join("sample.jpg");
    image::open(SAMPLE).unwrap().save(&jpeg).unwrap();
    let bytes = std::fs::read(&jpeg).unwrap();
    let cut = dir.join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (jpeg, cut) = (jpeg.to_str().unwrap(), cut.to_str().unwrap());

    let out = emotion(&[cut, jpeg]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains(cut) && e.contains("truncated"), "{e}");
    let good: Vec<Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(good.len(), 1, "the intact file is still analysed");
    assert_eq!(good[0]["file"], jpeg);

    let partial = lines(&emotion(&["--allow-partial", cut])).remove(0);
    assert_eq!(partial["partial"], true);
    assert_eq!(partial["width"], 512);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn whole_image_classifies_a_tight_crop_that_detection_misses() {
    let dir = temp_dir("whole");
    let sample = image::open(SAMPLE).unwrap().into_rgb8();
    let face = lines(&emotion(&[SAMPLE])).remove(0)["faces"][0]["bbox"].clone();
    // The middle of the detector's box: eyes, nose and mouth filling the frame.
    let (bw, bh) = (face["width"].as_f64().unwrap(), face["height"].as_f64().unwrap());
    let (x, y) = ((face["x"].as_f64().unwrap() + 0.15 * bw) as u32, (face["y"].as_f64().unwrap() + 0.15 * bh) as u32);
    let (w, h) = ((0.7 * bw) as u32, (0.7 * bh) as u32);
    let crop = image::imageops::crop_imm(&sample, x, y, w, h).to_image();
    let path = dir.join("crop.png");
    crop.save(&path).unwrap();
    let path = path.to_str().unwrap();
    // SeetaFace misses it (YuNet finds such crops).
    assert_eq!(lines(&emotion(&["--detector", "seeta", path])).remove(0)["faces"].as_array().unwrap().len(), 0);
    let whole = lines(&emotion(&["--whole-image", path])).remove(0);
    let faces = whole["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0]["bbox"], serde_json::json!({"x": 0.0, "y": 0.0, "width": w as f64, "height": h as f64}));
    assert_eq!(faces[0]["detection_score"], Value::Null);
    // The same numbers as classify with the full-image box.
    let core = emotion_core::Analyzer::new().unwrap();
    let view = emotion_core::ImageView::try_from(&crop).unwrap();
    let expected = core.classify(&view, &[emotion_core::BBox::new(0.0, 0.0, w as f32, h as f32)]).unwrap();
    assert_eq!(faces[0]["valence"].as_f64().unwrap() as f32, expected[0].valence);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn max_faces_and_annotate_match_the_library() {
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/photos/misc/multiface.jpg");
    if !photo.exists() {
        println!("SKIPPED: {} not found (test photos live in ../shared)", photo.display());
        return;
    }
    let dir = temp_dir("annotate");
    let photo_s = photo.to_str().unwrap();
    let out = lines(&emotion(&["--max-faces", "2", "--annotate", dir.to_str().unwrap(), photo_s])).remove(0);
    assert_eq!(out["faces"].as_array().unwrap().len(), 2);
    let core = emotion_core::Analyzer::builder().max_faces(2).build().unwrap();
    let mut img = emotion_core::load_rgb(&photo).unwrap();
    let faces = core.analyze(&emotion_core::ImageView::try_from(&img).unwrap()).unwrap();
    emotion_core::draw::draw_faces_rgb(&mut img, &faces);
    let written = image::open(dir.join("multiface.annotated.png")).unwrap().into_rgb8();
    assert!(written == img, "--annotate differs from emotion_core::draw");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn huge_declared_sizes_are_too_large_by_name() {
    for (w, h) in [(200_000_000u32, 1u32), (100_000, 100_000)] {
        // Written by tests/data/oversized/make_declared_size_pngs.py: a valid header declaring
        // w x h, one byte of pixel data.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/data/oversized/declared-{w}x{h}.png"));
        let out = emotion(&[path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let pixels = u64::from(w) * u64::from(h);
        let expected = format!(
            "emotion: {}: image too large: {w}x{h} = {pixels} pixels exceeds the limit of 100000000\n",
            path.display()
        );
        assert!(stderr(&out).starts_with(&expected), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

#[cfg(unix)]
#[test]
fn links_inside_folders_are_followed_without_looping() {
    use std::os::unix::fs::symlink;
    // photos/ holds only links: to an image file, to a folder with an image, and back to
    // photos/ itself (a loop). The two images are analysed once each; the loop is reported.
    let dir = temp_dir("links");
    let real = dir.join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::copy(SAMPLE, real.join("face.png")).unwrap();
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    symlink(real.join("face.png"), photos.join("a-link.png")).unwrap();
    symlink(&real, photos.join("b-folder")).unwrap();
    symlink(&photos, photos.join("c-loop")).unwrap();
    let out = emotion(&[photos.to_str().unwrap()]);
    let got = lines(&out);
    let files: Vec<&str> = got.iter().map(|l| l["file"].as_str().unwrap()).collect();
    let want = [photos.join("a-link.png"), photos.join("b-folder/face.png")];
    assert_eq!(files, want.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>(), "{}", stderr(&out));
    assert!(got.iter().all(|l| l["faces"].as_array().unwrap().len() == 1));
    assert!(stderr(&out).contains("link loop"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_round_trips_through_file_hex() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir("non-utf8");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.png");
    let path = dir.join(name);
    if std::fs::copy(SAMPLE, &path).is_err() {
        // Some file systems refuse names that are not UTF-8.
        eprintln!("SKIP: this file system refuses the name caf\\xe9.png");
        return;
    }
    let got = lines(&emotion(&[dir.to_str().unwrap()])).remove(0);
    let file = got["file"].as_str().unwrap();
    assert!(file.ends_with("caf\u{FFFD}.png"), "{file}");
    let hex = got["file_hex"].as_str().unwrap();
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    assert_eq!(bytes, path.as_os_str().as_bytes());
    assert_eq!(got["faces"].as_array().unwrap().len(), 1);
    // A UTF-8 name has no file_hex.
    let plain = lines(&emotion(&[SAMPLE])).remove(0);
    assert!(plain.get("file_hex").is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn multi_frame_files_say_more_frames() {
    let gif = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/multiframe/two-frames.gif");
    let got = lines(&emotion(&[gif])).remove(0);
    assert_eq!((got["more_frames"].as_bool(), got["width"].as_u64()), (Some(true), Some(64)));
    assert!(lines(&emotion(&[SAMPLE])).remove(0).get("more_frames").is_none());
}
