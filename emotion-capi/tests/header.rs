//! `include/emotion.h` must be exactly what cbindgen generates from this crate (with
//! `cbindgen.toml` and the version macros below). Regenerate it with
//! `EMOTION_UPDATE_HEADER=1 cargo test --release -p emotion-capi --test header`.

use std::path::Path;

/// The header cbindgen generates now, with `EMOTION_VERSION_*` taken from the crate version (the
/// one source of truth; `emotion_version()` returns the same string).
fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("read cbindgen.toml");
    config.after_includes = Some(format!(
        "\n/** Version of this header: compare with emotion_version() (the library's). */\n\
         #define EMOTION_VERSION \"{}\"\n\
         #define EMOTION_VERSION_MAJOR {}\n\
         #define EMOTION_VERSION_MINOR {}\n\
         #define EMOTION_VERSION_PATCH {}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    ));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen failed");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen wrote UTF-8")
}

#[test]
fn header_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/emotion.h");
    let fresh = generate();
    if std::env::var_os("EMOTION_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/emotion.h");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != fresh {
        let line = current
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || current.lines().count().min(fresh.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "include/emotion.h is stale (first difference at line {line}).\n\
             Regenerate it with:\n    EMOTION_UPDATE_HEADER=1 cargo test --release -p emotion-capi --test header\n\
             and commit the result."
        );
    }
}
