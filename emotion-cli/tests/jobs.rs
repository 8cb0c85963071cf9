//! `--jobs`: several files at once give the same lines, in the same order, as one at a time;
//! a damaged file is reported by name and the others still come out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLI: &str = env!("CARGO_BIN_EXE_emotion");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str], inputs: &[&Path]) -> Output {
    Command::new(CLI).args(args).args(inputs).output().expect("the emotion binary runs")
}

/// The JSON lines without their `timings` (wall times differ from run to run).
fn results(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
            v.as_object_mut().expect("an object").remove("timings").expect("a timings field");
            v
        })
        .collect()
}

/// The test-only photos: `$EMOTION_SHARED/photos`, else `../shared/photos` beside the repository.
fn shared_photos() -> PathBuf {
    std::env::var_os("EMOTION_SHARED").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared")).join("photos")
}

/// A folder of real photos: the repository's test images (always), plus the test-only photos
/// beside the repository when present (else a visible SKIP line, or a failure under
/// `EMOTION_REQUIRE_SHARED=1` as on CI).
fn photo_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy_images = |from: &Path, prefix: &str| {
        let Ok(entries) = std::fs::read_dir(from) else { return 0 };
        let mut copied = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".jpg") || name.ends_with(".png") {
                std::fs::copy(entry.path(), dir.path().join(format!("{prefix}{name}"))).unwrap();
                copied += 1;
            }
        }
        copied
    };
    copy_images(&repo_root().join("tests/data"), "repo-");
    copy_images(&repo_root().join("examples/data"), "repo-");
    let shared = shared_photos();
    if copy_images(&shared.join("misc"), "misc-") + copy_images(&shared.join("voc-faces"), "voc-") == 0 {
        let message = format!("needs {} (test-only photos beside the repository), absent", shared.display());
        if std::env::var_os("EMOTION_REQUIRE_SHARED").is_some_and(|v| v == "1") {
            panic!("{message} and EMOTION_REQUIRE_SHARED=1");
        }
        let _ = writeln!(std::io::stderr(), "SKIP part of two_jobs_give_the_lines_of_one_in_the_same_order: {message}");
    }
    dir
}

#[test]
fn two_jobs_give_the_lines_of_one_in_the_same_order() {
    let dir = photo_folder();
    let one = run(&["--jobs", "1"], &[dir.path()]);
    let two = run(&["--jobs", "2"], &[dir.path()]);
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    assert!(two.status.success(), "{}", String::from_utf8_lossy(&two.stderr));
    let (one, two) = (results(&one.stdout), results(&two.stdout));
    assert_eq!(one, two);

    let mut expected: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    expected.sort();
    let files: Vec<PathBuf> = one.iter().map(|v| PathBuf::from(v["file"].as_str().unwrap())).collect();
    assert_eq!(files, expected, "one line per file, in the folder's sorted order");
    let faces = |name: &str| one.iter().find(|v| v["file"].as_str().unwrap().ends_with(name)).map(|v| v["faces"].as_array().unwrap().len());
    assert_eq!(faces("repo-astronaut.png"), Some(1));
    assert_eq!(faces("repo-astronaut-grid.png"), Some(4));
    assert_eq!(faces("repo-chelsea.png"), Some(0));
    if let Some(n) = faces("misc-multiface.jpg") {
        assert_eq!(n, 6);
    }
}

#[test]
fn a_damaged_file_is_reported_and_the_others_come_out() {
    let dir = tempfile::tempdir().unwrap();
    let sample = repo_root().join("examples/data/astronaut.png");
    for name in ["a.png", "c.png", "d.png", "e.png"] {
        std::fs::copy(&sample, dir.path().join(name)).unwrap();
    }
    let damaged = dir.path().join("b.jpg");
    std::fs::write(&damaged, b"\xff\xd8 this is not a JPEG").unwrap();
    for jobs in ["1", "2", "3"] {
        let out = run(&["--jobs", jobs], &[dir.path()]);
        assert_eq!(out.status.code(), Some(1), "jobs {jobs}");
        let files: Vec<String> =
            results(&out.stdout).iter().map(|v| v["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string()).collect();
        assert_eq!(files, ["a.png", "c.png", "d.png", "e.png"], "jobs {jobs}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("emotion: {}: ", damaged.display())), "jobs {jobs}: {stderr}");
        assert!(stderr.contains("1 input(s) failed"), "jobs {jobs}: {stderr}");
    }
}

#[test]
fn zero_jobs_means_every_core_and_bad_values_are_refused() {
    let sample = repo_root().join("examples/data/astronaut.png");
    let out = run(&["--jobs", "0"], &[&sample]);
    assert!(out.status.success());
    assert_eq!(results(&out.stdout).len(), 1);
    let out = run(&["--jobs=-1"], &[&sample]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jobs"));
}
