//! `emotion clip.mp4`: one JSON line per frame with track ids, `--annotate` writing an MP4, and
//! decode errors (missing file, not a video, truncated video, no ffmpeg). Clips are made with
//! the ffmpeg program from the repository's sample portrait; without ffmpeg those tests are
//! skipped with a message.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use image::{imageops, Rgb, RgbImage};

const BIN: &str = env!("CARGO_BIN_EXE_emotion");
const FPS: u32 = 25;

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: ffmpeg is not installed; video tests need it (apt install ffmpeg)");
    }
    ok
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("emotion-cli-video-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `n` 320x240 frames: the sample face (150 px) panning right over a gray background.
fn frames(n: u32) -> Vec<RgbImage> {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/astronaut.png");
    let face = imageops::resize(&emotion_core::load_rgb(sample).unwrap(), 150, 150, imageops::FilterType::Triangle);
    (0..n)
        .map(|i| {
            let mut f = RgbImage::from_pixel(320, 240, Rgb([80, 80, 80]));
            imageops::overlay(&mut f, &face, 20 + 8 * i64::from(i), 40);
            f
        })
        .collect()
}

/// Encodes `frames` into `path` with ffmpeg (`codec` args after the input).
fn encode(path: &Path, frames: &[RgbImage], codec: &[&str]) {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "320x240", "-r", &FPS.to_string(), "-i", "-"])
        .args(codec)
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for f in frames {
        stdin.write_all(f.as_raw()).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

fn run(args: &[&Path]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn one_line_per_frame_with_a_stable_track_and_an_annotated_mp4() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp_dir("ok");
    let clip = dir.join("pan.mp4");
    encode(&clip, &frames(20), &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12"]);
    let annotated = dir.join("out");
    let out = Command::new(BIN).arg(&clip).arg("--annotate").arg(&annotated).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = lines(&out);
    assert_eq!(lines.len(), 20);
    let mut ids = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["file"], clip.to_string_lossy().as_ref());
        assert_eq!(l["frame"], i);
        assert_eq!(l["time_ms"].as_f64().unwrap(), i as f64 * 1000.0 / f64::from(FPS));
        for f in l["faces"].as_array().unwrap() {
            ids.push(f["track_id"].as_u64().unwrap());
            for key in ["bbox", "detection_score", "expression", "probabilities", "valence", "arousal"] {
                assert!(!f[key].is_null(), "frame {i}: no {key}");
            }
            assert_eq!(f["raw"]["probabilities"].as_object().unwrap().len(), 8);
            assert!(f["raw"]["valence"].is_number() && f["raw"]["arousal"].is_number());
        }
    }
    assert!(ids.len() >= 19, "face found on {} of 20 frames", ids.len());
    assert!(ids.iter().all(|&id| id == ids[0]), "{ids:?}");

    let mp4 = annotated.join("pan.annotated.mp4");
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0"])
        .arg(&mp4)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "320,240,20", "{}", mp4.display());

    // File names that ffmpeg would read as an option or a protocol are still files.
    for odd in ["-i.mp4", "pipe:0.mp4", "a:b.mp4"] {
        std::fs::copy(&clip, dir.join(odd)).unwrap();
        let out = Command::new(BIN).current_dir(&dir).arg("--").arg(odd).output().unwrap();
        assert!(out.status.success(), "{odd}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 20, "{odd}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_video_options_are_bad_arguments_even_without_videos() {
    // Checked before any input is read: exit code 2, as for every other option.
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/astronaut.png");
    for (flag, value, name) in
        [("--detection-interval", "0", "detection_interval"), ("--half-life-ms", "nan", "half_life_ms"), ("--max-age-ms", "inf", "max_age_ms")]
    {
        let out = Command::new(BIN).arg(flag).arg(value).arg(&image).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(name), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn decode_errors_are_clear_and_keep_earlier_frames() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp_dir("errors");
    // Missing file.
    let out = run(&[&dir.join("nope.mp4")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.mp4: no such file"), "{}", String::from_utf8_lossy(&out.stderr));
    // Not a video.
    let fake = dir.join("fake.mp4");
    std::fs::write(&fake, b"this is not a video at all").unwrap();
    let out = run(&[&fake]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fake.mp4: not a readable video"), "{}", String::from_utf8_lossy(&out.stderr));
    // Truncated: an AVI (frame count in its header) cut at 60 %.
    let avi = dir.join("cut.avi");
    encode(&avi, &frames(10), &["-c:v", "mjpeg", "-q:v", "3"]);
    let bytes = std::fs::read(&avi).unwrap();
    std::fs::write(&avi, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let out = run(&[&avi]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines = lines(&out);
    assert!((3..10).contains(&lines.len()), "{} frames before the error", lines.len());
    assert_eq!(lines.last().unwrap()["frame"], lines.len() - 1);
    assert!(stderr.contains("cut.avi:") && stderr.contains("truncated"), "{stderr}");
    // Matroska and WebM declare no frame count and ffmpeg exits 0 on them cut short, after an
    // error message: still an error, after the frames that decoded.
    let clips = [("cut.mkv", &["-c:v", "mjpeg", "-q:v", "3"][..]), ("cut.webm", &["-c:v", "libvpx", "-g", "5"][..])];
    for (name, codec) in clips {
        let clip = dir.join(name);
        encode(&clip, &frames(20), codec);
        let whole = self::lines(&run(&[&clip]));
        assert_eq!(whole.len(), 20, "{name} whole");
        let bytes = std::fs::read(&clip).unwrap();
        std::fs::write(&clip, &bytes[..bytes.len() * 6 / 10]).unwrap();
        let out = run(&[&clip]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        let got = self::lines(&out);
        assert!((1..20).contains(&got.len()), "{name}: {} frames before the error", got.len());
        for (i, line) in got.iter().enumerate() {
            assert_eq!(line["frame"], i, "{name}");
            assert_eq!(line, &whole[i], "{name}: frame {i} differs from the intact clip's");
        }
        let expected = format!(
            "emotion: {}: decoding stopped (damaged or truncated video?) after {} frame(s): ",
            clip.display(),
            got.len()
        );
        assert!(stderr.contains(&expected) && stderr.contains("File ended prematurely"), "{name}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_ffmpeg_is_reported() {
    let dir = tmp_dir("noffmpeg");
    let clip = dir.join("clip.mp4");
    std::fs::write(&clip, b"whatever").unwrap();
    // An empty PATH: neither ffprobe nor ffmpeg can be found.
    let out = Command::new(BIN).arg(&clip).env("PATH", &dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("need the ffmpeg and ffprobe programs"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--summary`: one more line after the frames, whose figures are those of the frame lines
/// (recomputed here from them); `--format csv` refuses it as a bad argument.
#[test]
fn the_summary_line_agrees_with_the_frame_lines() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tmp_dir("summary");
    let clip = dir.join("pan.mp4");
    encode(&clip, &frames(12), &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "12"]);
    let out = Command::new(BIN).arg(&clip).arg("--summary").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let all = lines(&out);
    let (summary, frames) = all.split_last().unwrap();
    assert_eq!(frames.len(), 12);
    assert_eq!(summary["file"], clip.to_string_lossy().as_ref());
    let s = &summary["summary"];
    assert_eq!(s["frames"], 12);
    let tracks = s["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 1, "{s}");
    let t = &tracks[0];
    let seen: Vec<&serde_json::Value> = frames.iter().flat_map(|f| f["faces"].as_array().unwrap()).collect();
    assert!(seen.iter().all(|f| f["track_id"] == t["track_id"]));
    assert_eq!(t["frames_seen"].as_u64().unwrap(), seen.len() as u64);
    assert_eq!(s["frames_with_faces"].as_u64().unwrap(), seen.len() as u64);
    let valence: Vec<f64> = seen.iter().map(|f| f["valence"].as_f64().unwrap()).collect();
    let mean = valence.iter().sum::<f64>() / valence.len() as f64;
    let std = (valence.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / valence.len() as f64).sqrt();
    // The JSON holds float32 values; the summary averages them in float64.
    assert!((t["valence"]["mean"].as_f64().unwrap() - mean).abs() < 1e-6, "{t}");
    assert!((t["valence"]["std"].as_f64().unwrap() - std).abs() < 1e-6, "{t}");
    let happy: Vec<f64> = seen.iter().map(|f| f["probabilities"]["happy"].as_f64().unwrap()).collect();
    let peak = happy.iter().cloned().fold(f64::MIN, f64::max);
    let peak_frame = frames.iter().position(|f| f["faces"][0]["probabilities"]["happy"].as_f64() == Some(peak)).unwrap();
    assert_eq!(t["peaks"]["happy"]["frame"], peak_frame);
    let happy_share = seen.iter().filter(|f| f["expression"] == "happy").count() as f64 / seen.len() as f64;
    assert_eq!(t["expression_share"]["happy"].as_f64().unwrap(), happy_share);

    let csv = Command::new(BIN).arg(&clip).args(["--summary", "--format", "csv"]).output().unwrap();
    assert_eq!(csv.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&csv.stderr).contains("--summary"));
}
