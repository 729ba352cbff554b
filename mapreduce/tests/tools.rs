//! The helper binaries: mrgen is deterministic, mrdemo runs the main job.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

mod common;

use std::process::Command;

use common::{MRDEMO, MRGEN};

#[test]
fn mrgen_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let generate = |out: &str, seed: &str| {
        let status = Command::new(MRGEN)
            .args(["--files", "3", "--size", "10KB", "--seed", seed])
            .arg(dir.path().join(out))
            .status()
            .unwrap();
        assert!(status.success());
        let mut files: Vec<_> = std::fs::read_dir(dir.path().join(out))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect::<Vec<_>>()
    };
    let a = generate("a", "5");
    assert_eq!(a.len(), 3);
    assert_eq!(a, generate("b", "5"));
    assert_ne!(a, generate("c", "6"));
}

#[test]
fn mrdemo_prints_the_top_words() {
    let output = Command::new(MRDEMO)
        .args([
            "--workers",
            "2",
            "--top",
            "5",
            "--files",
            "3",
            "--size",
            "30KB",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("   1  the "), "{stdout}");
    assert!(stdout.contains("wall time"), "{stdout}");
}

#[test]
fn mrdemo_can_run_the_sibling_binaries() {
    // Cargo puts mrcoordinator and mrworker next to mrdemo for the tests.
    let output = Command::new(MRDEMO)
        .args([
            "--siblings",
            "--workers",
            "1",
            "--top",
            "3",
            "--files",
            "2",
            "--size",
            "10KB",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("   1  the "), "{stdout}");
}
