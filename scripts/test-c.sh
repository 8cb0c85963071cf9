#!/usr/bin/env bash
# Tests of the C API, from the repository root:
#   1. generates target/release/pkgconfig/emotion.pc and emotion-static.pc from the templates in
#      emotion-capi/;
#   2. builds examples/c/analyze.c and test_errors.c with gcc -std=c11 -Wall -Wextra -Werror
#      against libemotion.so (via pkg-config, rpath), and analyze.c once against libemotion.a;
#   3. runs analyze (shared and static) on astronaut.png and compares its JSON with the Rust
#      CLI's at 1e-5 (timings ignored);
#   4. runs test_errors (error paths, undersized buffers with retry, strides, formats);
#   5. runs both programs under valgrind: any memory error or definite/indirect leak fails;
#   6. installs the library with cargo-c (`cargo cinstall`) under a scratch prefix, checks the
#      SONAME, links, header, emotion.pc and notices there, builds analyze.c against the installed
#      copy with pkg-config alone and compares its output with the CLI's again. Without cargo-c
#      (`cargo install cargo-c --locked`) this step prints SKIP, or fails when
#      EMOTION_REQUIRE_CARGO_C=1.
# Builds with cargo first (a no-op after `cargo build --release --workspace --exclude emotion-py`).
# That include/emotion.h is up to date is checked by `cargo test` (emotion-capi/tests/header.rs).
# Needs gcc, pkg-config, python3 and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

image=examples/data/astronaut.png
grid=tests/data/astronaut-grid.png   # 4 faces
release=$PWD/target/release
out=$release/c-test
mkdir -p "$out" "$release/pkgconfig"
cflags=(-std=c11 -Wall -Wextra -Werror -O2)

step() { printf '\n== %s\n' "$*"; }

for tool in gcc pkg-config python3 valgrind; do
    command -v "$tool" >/dev/null || { echo "test-c.sh needs $tool (e.g. apt-get install $tool)" >&2; exit 1; }
done

step "cargo build (emotion-capi, emotion-cli)"
# The same invocation as scripts/test.sh (a no-op after it): another package selection would
# resolve other dependency features and rebuild tract.
cargo build --release --workspace --exclude emotion-py

step "pkg-config files"
version=$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)
for name in emotion emotion-static; do
    sed -e "s|@LIBDIR@|$release|" -e "s|@INCLUDEDIR@|$PWD/include|" -e "s|@VERSION@|$version|" \
        "emotion-capi/$name.pc.in" >"$release/pkgconfig/$name.pc"
done
export PKG_CONFIG_PATH=$release/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
echo "emotion $(pkg-config --modversion emotion): $(pkg-config --cflags --libs emotion)"

step "compile"
read -r -a pc_shared <<<"$(pkg-config --cflags --libs emotion)"
read -r -a pc_static <<<"$(pkg-config --cflags --libs emotion-static)"
for prog in analyze test_errors; do
    gcc "${cflags[@]}" "examples/c/$prog.c" -o "$out/$prog" "${pc_shared[@]}" -Wl,-rpath,"$release" -lm
done
gcc "${cflags[@]}" examples/c/analyze.c -o "$out/analyze-static" "${pc_static[@]}"
# ldd's output is read whole before grep looks at it: `ldd | grep -q` under pipefail fails at
# random when grep exits on the first match and ldd, still writing, gets SIGPIPE.
if grep -q libemotion <<<"$(ldd "$out/analyze-static")"; then
    echo "analyze-static is linked against libemotion.so" >&2
    exit 1
fi
for prog in analyze analyze-static; do
    if grep -q "GNU_STACK.*RWE" <<<"$(readelf -lW "$out/$prog")"; then
        echo "$prog has an executable stack" >&2
        exit 1
    fi
done
ls -l "$out/analyze" "$out/analyze-static"

step "parity with the Rust CLI on $image and $grid"
"$release/emotion" "$image" "$grid" >"$out/cli.jsonl"
"$out/analyze" "$image" >"$out/c.jsonl"
"$out/analyze" "$grid" >>"$out/c.jsonl"
"$out/analyze-static" "$image" >"$out/c-static.jsonl"
"$out/analyze-static" "$grid" >>"$out/c-static.jsonl"
cat "$out/c.jsonl"
python3 scripts/compare_json.py "$out/cli.jsonl" "$out/c.jsonl" --tol 1e-5
python3 scripts/compare_json.py "$out/cli.jsonl" "$out/c-static.jsonl" --tol 1e-5

step "error paths"
"$out/test_errors" "$image" examples/c/test_errors.c

step "valgrind"
valgrind_run() {
    local log=$1
    shift
    if ! valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --log-file="$log" "$@" >/dev/null; then
        cat "$log" >&2
        echo "valgrind found errors or leaks in: $*" >&2
        return 1
    fi
    echo "$*:"
    grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks' "$log" |
        sed 's/^==[0-9]*== /    /'
}
valgrind_run "$out/valgrind-analyze.log" "$out/analyze" "$image"
valgrind_run "$out/valgrind-test_errors.log" "$out/test_errors" "$image" examples/c/test_errors.c

step "install with cargo-c and build against the installed copy"
if cargo cinstall --version >/dev/null 2>&1; then
    prefix=$out/prefix
    rm -rf "$prefix"
    # Its own target folder: cargo-c always builds for an explicit target triple, so it cannot
    # reuse target/release.
    cargo cinstall --release -p emotion-capi --prefix "$prefix" --libdir "$prefix/lib" \
        --target-dir target/cargo-c
    lib=$prefix/lib
    soname=$(readelf -dW "$lib/libemotion.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [[ "$soname" == libemotion.so.0 ]] || { echo "SONAME is '$soname', expected libemotion.so.0" >&2; exit 1; }
    [[ "$(readlink "$lib/libemotion.so.0")" == "libemotion.so.$version" ]] || { echo "bad libemotion.so.0 link" >&2; exit 1; }
    [[ "$(readlink "$lib/libemotion.so")" == "libemotion.so.$version" ]] || { echo "bad libemotion.so link" >&2; exit 1; }
    cmp include/emotion.h "$prefix/include/emotion.h"
    for doc in LICENSE-MIT LICENSE-APACHE THIRD_PARTY_NOTICES.md MODEL_CARD.md; do
        [[ -s "$prefix/share/doc/emotion/$doc" ]] || { echo "missing share/doc/emotion/$doc" >&2; exit 1; }
    done
    ls -l "$lib" "$prefix/include" "$prefix/share/doc/emotion"
    # Only the installed copy: no -I include, no target/ paths.
    read -r -a pc_installed <<<"$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --cflags --libs emotion)"
    echo "installed emotion $(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --modversion emotion): ${pc_installed[*]}"
    gcc "${cflags[@]}" examples/c/analyze.c -o "$out/analyze-installed" "${pc_installed[@]}" -Wl,-rpath,"$lib" -lm
    deps=$(ldd "$out/analyze-installed")
    grep -q "libemotion.so.0 => $lib/libemotion.so.0" <<<"$deps" ||
        { echo "$deps" >&2; echo "analyze-installed does not load the installed libemotion.so.0" >&2; exit 1; }
    { "$out/analyze-installed" "$image"; "$out/analyze-installed" "$grid"; } >"$out/c-installed.jsonl"
    python3 scripts/compare_json.py "$out/cli.jsonl" "$out/c-installed.jsonl" --tol 1e-5
elif [[ "${EMOTION_REQUIRE_CARGO_C:-}" == 1 ]]; then
    echo "cargo-c is not installed (cargo install cargo-c --locked) and EMOTION_REQUIRE_CARGO_C=1" >&2
    exit 1
else
    echo "SKIP: cargo-c install check: cargo-c is not installed (cargo install cargo-c --locked)"
fi

step "C API: all checks passed"
