#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! dstest end to end, against the tiny package in tests/fixture (built once
//! into this target's tmp dir, a few seconds).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/Cargo.toml")
}

fn dstest(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dstest"));
    command
        .arg("--manifest-path")
        .arg(fixture_manifest())
        .arg("--no-progress")
        .args(args)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("dstest-fixture"),
        )
        .env_remove("LAB_LOG")
        .env("NO_COLOR", "1");
    command
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn row<'a>(stdout: &'a str, test: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{test} ")))
        .unwrap_or_else(|| panic!("no row for {test} in\n{stdout}"))
        .split_whitespace()
        .collect()
}

#[test]
fn runs_with_seeds_and_keeps_failed_logs_only() {
    let out = tempfile::tempdir().unwrap();
    let output = dstest(&["-n", "6", "-p", "3", "--seed-start", "0"])
        .args(["--log", "vote,leader", "-o"])
        .arg(out.path())
        .args(["passes", "multiples", "ignored"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(output.status.code(), Some(1), "{all}");

    // Seeds 0..6: 0 and 3 fail. The ignored test is not selected.
    // Columns: failed, unknown, total.
    assert_eq!(row(&stdout, "passes")[1..4], ["0", "0", "6"], "{all}");
    assert_eq!(
        row(&stdout, "fails_on_multiples_of_three")[1..4],
        ["2", "0", "6"],
        "{all}"
    );
    assert!(!stdout.contains("ignored_passes"), "{all}");
    assert!(stdout.contains(
        "replay: LAB_SEED=3 cargo test -p dstest-fixture --test fixture -- --exact fails_on_multiples_of_three"
    ), "{all}");
    assert!(
        stderr.contains("FAILED fails_on_multiples_of_three seed 0"),
        "{all}"
    );
    assert!(stderr.contains("seed 0 is a multiple of three"), "{all}");

    let mut kept: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "fails_on_multiples_of_three-seed0.log",
            "fails_on_multiples_of_three-seed0.trace.log",
            "fails_on_multiples_of_three-seed3.log",
            "fails_on_multiples_of_three-seed3.trace.log",
        ],
        "{all}"
    );
    let log =
        std::fs::read_to_string(out.path().join("fails_on_multiples_of_three-seed3.log")).unwrap();
    assert!(log.starts_with("# dstest: fails_on_multiples_of_three seed 3 FAILED"));
    assert!(log.contains("simulation failed: seed 3 is a multiple of three"));
    assert!(log.contains("panicked at"));
    let trace = std::fs::read_to_string(
        out.path()
            .join("fails_on_multiples_of_three-seed3.trace.log"),
    )
    .unwrap();
    assert!(trace.contains("topics=vote,leader"), "{trace}");
    // The two files say what they are: the test's output, and its structured log.
    assert!(
        log.lines()
            .next()
            .unwrap()
            .ends_with("below is the test's output"),
        "{log}"
    );
    assert!(log.contains("# structured log: "), "{log}");
    assert!(!log.contains("# trace:"), "{log}");
    assert!(
        trace.starts_with(
            "# dstest: structured log (LAB_LOG=vote,leader) of fails_on_multiples_of_three seed 3"
        ),
        "{trace}"
    );
    // The run's `log: <path>` line points at the kept copy.
    let kept_trace = out
        .path()
        .join("fails_on_multiples_of_three-seed3.trace.log");
    assert!(
        log.contains(&format!("log: {}", kept_trace.display())),
        "{log}"
    );
}

#[test]
fn lists_tests_and_rejects_no_match() {
    let output = dstest(&["--list", "--include-ignored"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let names: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "check_undecided_on_even_seeds",
            "fails_on_multiples_of_three",
            "ignored_passes",
            "passes",
            "sleeps"
        ]
    );

    let output = dstest(&["no_such_test"]).output().unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no test matches"), "{stderr}");
}

#[test]
fn undecided_linearizability_checks_are_counted_and_kept_but_pass() {
    let out = tempfile::tempdir().unwrap();
    let output = dstest(&["-n", "4", "-p", "2", "--seed-start", "0", "--log", "off"])
        .arg("-o")
        .arg(out.path())
        .arg("check_undecided_on_even_seeds")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(output.status.code(), Some(0), "undecided runs pass: {all}");
    // Seeds 0..4: 0 and 2 are undecided.
    assert_eq!(
        row(&stdout, "check_undecided_on_even_seeds")[1..4],
        ["0", "2", "4"],
        "{all}"
    );
    assert!(
        stderr.contains("UNKNOWN check_undecided_on_even_seeds seed 2"),
        "{all}"
    );
    assert!(
        stdout.contains("2 runs passed with an undecided linearizability check"),
        "{all}"
    );
    assert!(stdout.contains(
        "replay: LAB_SEED=2 cargo test -p dstest-fixture --test fixture -- --exact check_undecided_on_even_seeds"
    ), "{all}");
    // Their logs and histories are kept (and only theirs: no --archive).
    let log = out.path().join("check_undecided_on_even_seeds-seed2.log");
    let log = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{e}: {all}"));
    assert!(
        log.starts_with(
            "# dstest: check_undecided_on_even_seeds seed 2 passed, linearizability check UNKNOWN"
        ),
        "{log}"
    );
    let history = out
        .path()
        .join("check_undecided_on_even_seeds-seed2.history.txt");
    assert_eq!(
        std::fs::read_to_string(&history).unwrap(),
        "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n"
    );
    assert!(log.contains("# history: "), "{log}");
    assert!(
        !out.path()
            .join("check_undecided_on_even_seeds-seed1.log")
            .exists()
    );
}

#[test]
fn timeouts_count_as_failures_and_ctrl_c_stops() {
    let out = tempfile::tempdir().unwrap();
    let output = dstest(&["-n", "1", "--timeout", "0.3", "sleeps", "-o"])
        .arg(out.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(row(&stdout, "sleeps")[1..4], ["1", "0", "1"], "{stdout}");
    assert!(stdout.contains("timed out after"), "{stdout}");

    // Ctrl-C (SIGINT to dstest) while two runs sleep: the running tests are
    // killed, the table is printed, the exit status is 130 (nothing failed).
    let started = tempfile::tempdir().unwrap();
    let child = dstest(&["-n", "4", "-p", "2", "sleeps", "-o"])
        .arg(out.path())
        .env("FIXTURE_STARTED_DIR", started.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until both runs have started: each leaves a file named after its
    // process id (the Ctrl-C handler is installed before the first run).
    let sleepers = wait_for_files(started.path(), 2);
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    // Had dstest waited for its runs instead of killing them, they would
    // have passed after their 30 s and been counted.
    assert_eq!(row(&stdout, "sleeps")[1..4], ["0", "0", "0"], "{stdout}");
    assert!(stdout.contains("Interrupted"), "{stdout}");
    for pid in sleepers {
        let alive = Command::new("kill")
            .args(["-0", &pid])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!alive.success(), "run {pid} still runs after dstest ended");
    }
}

/// The names of the first `n` files to appear in `dir` (polled every 10 ms).
/// A hang guard, not a time check: after 120 s (a cold build of the fixture
/// included) it fails saying the runs never started.
fn wait_for_files(dir: &Path, n: usize) -> Vec<String> {
    let guard = Instant::now();
    loop {
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        if names.len() >= n {
            return names;
        }
        assert!(
            guard.elapsed() < Duration::from_secs(120),
            "hung: {n} runs never started ({} did)",
            names.len()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
