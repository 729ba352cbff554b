//! Tells the Porcupine-data tests whether the data is there.
//!
//! The histories live outside the repository, in `../shared/porcupine`. A fresh clone has no such
//! folder; its data tests must then say they were skipped rather than report `ok`, so this script
//! sets the `porcupine_data` cfg only when `EXPECTED.tsv` exists, and the tests are
//! `#[ignore]`d with a reason otherwise (the runner prints `ignored, needs ../shared/porcupine`).

use std::path::Path;

#[allow(clippy::disallowed_methods)] // allowed: a build script, reading what cargo tells it
fn main() {
    println!("cargo::rustc-check-cfg=cfg(porcupine_data)");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let data = Path::new(&manifest).join("../../shared/porcupine");
    let expected = data.join("EXPECTED.tsv");
    // Cargo treats a watched path that does not exist as changed on every
    // build, which would rebuild this crate (and everything above it) every
    // time on a clone without the data. So the file is watched only when it
    // exists; after adding the folder to a built checkout, `touch
    // linearizability/build.rs` (or `cargo clean -p linearizability`).
    println!("cargo::rerun-if-changed=build.rs");
    if expected.is_file() {
        println!("cargo::rerun-if-changed={}", expected.display());
        println!("cargo::rustc-cfg=porcupine_data");
    }
}
