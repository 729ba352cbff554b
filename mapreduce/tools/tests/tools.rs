//! The tools: mrgen is deterministic, mrdemo runs the main job, checks it and
//! says where everything went.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

use std::path::Path;
use std::process::{Command, Output};

const MRDEMO: &str = env!("CARGO_BIN_EXE_mrdemo");
const MRGEN: &str = env!("CARGO_BIN_EXE_mrgen");

/// `mrdemo --linger` here: the lab's 1 s linger after each job would be most
/// of these tests' time. Longer than a worker's 200 ms poll, so idle workers
/// are still told to exit (mapreduce's tests use the same value).
const QUICK_LINGER: &str = "300ms";

fn stdout_of(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

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
fn mrdemo_prints_the_top_words_checks_them_and_says_where_they_are() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(MRDEMO)
        .args([
            "--linger",
            QUICK_LINGER,
            "--workers",
            "2",
            "--top",
            "5",
            "--files",
            "3",
            "--size",
            "30KB",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    assert!(stdout.contains("   1  the "), "{stdout}");
    assert!(stdout.contains("wall time"), "{stdout}");
    assert!(
        stdout.contains("check: the output matches mrsequential's"),
        "{stdout}"
    );
    let job = out.path().join("job");
    assert!(
        stdout.contains(&format!("output: {}/mr-out-0", job.display())),
        "{stdout}"
    );
    assert!(stdout.contains("compare: diff"), "{stdout}");
    for file in ["mr-out-0", "mr-out-9", "coordinator.log", "worker-0.log"] {
        assert!(job.join(file).is_file(), "{file} is where mrdemo says");
    }
    assert!(out.path().join("sequential/mr-out-0").is_file());
    // The logs are plain text, no terminal colour codes.
    let log = std::fs::read_to_string(job.join("coordinator.log")).unwrap();
    assert!(log.contains("serving 3 map tasks"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI escape in {log:?}");
}

#[test]
fn mrdemo_keeps_its_default_directory_and_names_it() {
    let output = Command::new(MRDEMO)
        .args([
            "--linger",
            QUICK_LINGER,
            "--workers",
            "1",
            "--files",
            "1",
            "--size",
            "5KB",
            "--no-check",
        ])
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("(delete "))
        .and_then(|l| l.strip_suffix(" when done)"))
        .unwrap_or_else(|| panic!("names its directory: {stdout}"));
    assert!(Path::new(dir).join("job/mr-out-0").is_file(), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mrdemo_rejects_a_missing_file() {
    let output = Command::new(MRDEMO)
        .arg("no-such-book.txt")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-book.txt"), "{stderr}");
}

#[test]
fn mrdemo_can_run_the_sibling_binaries() {
    // mapreduce's mrcoordinator and mrworker sit next to mrdemo once they are
    // built (`cargo test --workspace` builds them for mapreduce's tests).
    let dir = Path::new(MRDEMO).parent().unwrap();
    if !["mrcoordinator", "mrworker"]
        .iter()
        .all(|b| dir.join(b).is_file())
    {
        eprintln!(
            "skipped: no mrcoordinator/mrworker next to mrdemo; run `cargo build -p mapreduce --bins` first"
        );
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(MRDEMO)
        .arg("--out")
        .arg(out.path())
        .args([
            "--siblings",
            "--linger",
            QUICK_LINGER,
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
    let stdout = stdout_of(&output);
    assert!(stdout.contains("   1  the "), "{stdout}");
}
