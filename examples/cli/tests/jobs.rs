//! `--jobs`: several files at once give the same lines, in the same order, as one at a time;
//! a damaged file is reported by name and the others still come out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLI: &str = env!("CARGO_BIN_EXE_emotion");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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

/// A folder of real photos: the test photos beside the repository when present, always the
/// bundled sample under several names (so the run is never empty), sorted as the CLI walks it.
fn photo_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let shared = repo_root().join("../shared/photos");
    let mut copied = 0;
    for sub in ["misc", "voc-faces"] {
        let Ok(entries) = std::fs::read_dir(shared.join(sub)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".jpg") || name.ends_with(".png") {
                std::fs::copy(entry.path(), dir.path().join(format!("{sub}-{name}"))).unwrap();
                copied += 1;
            }
        }
    }
    if copied == 0 {
        println!("SKIPPED part: ../shared/photos not found, using only the bundled sample image");
    }
    let sample = repo_root().join("examples/data/astronaut.png");
    for i in 0..4 {
        std::fs::copy(&sample, dir.path().join(format!("sample-{i}.png"))).unwrap();
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
    let faces = |v: &serde_json::Value| v["faces"].as_array().unwrap().len();
    assert!(one.iter().filter(|v| v["file"].as_str().unwrap().contains("sample-")).all(|v| faces(v) == 1));
    if let Some(multi) = one.iter().find(|v| v["file"].as_str().unwrap().ends_with("misc-multiface.jpg")) {
        assert_eq!(faces(multi), 6);
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
