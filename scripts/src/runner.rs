//! Running one test once with one seed, and keeping its logs if it failed.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::discover::{self, TestBinary, TestCase};
use crate::seeds::Job;

/// The signal number of SIGINT (Ctrl-C) on Linux and macOS.
const SIGINT: i32 = 2;

/// How a lab test reports a linearizability check that ran out of its step
/// budget (labtest's `history::UNKNOWN_MARKER`; the test passes, as in Go).
/// A line starting with it marks the run as undecided.
pub const UNKNOWN_MARKER: &str = "linearizability check UNKNOWN";

/// True if the run's output reports an undecided linearizability check.
pub fn is_undecided(output: &str) -> bool {
    output
        .lines()
        .any(|line| line.trim_start().starts_with(UNKNOWN_MARKER))
}

/// What every run shares.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// `LAB_LOG` for the runs; `None` leaves logging off.
    pub log_topics: Option<String>,
    /// Kill a run after this long (counts as a failure).
    pub timeout: Option<Duration>,
    /// Where kept logs go (created when the first one is kept).
    pub output_dir: PathBuf,
    /// Keep the logs of passing runs too.
    pub archive: bool,
    /// The binaries were built with `--release` (for the replay command).
    pub release: bool,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exited successfully. `undecided`: its linearizability check was
    /// undecided (`Unknown`, see [`UNKNOWN_MARKER`]); such a run passes but
    /// its logs are kept.
    Passed { undecided: bool },
    /// Exited unsuccessfully: the exit code if it had one (`None`: a
    /// signal), and the failure's reason, from the output, if it gave one.
    Failed {
        code: Option<i32>,
        reason: Option<String>,
    },
    /// Killed after [`RunConfig::timeout`].
    TimedOut,
    /// Stopped by Ctrl-C; not counted.
    Interrupted,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. } | Outcome::TimedOut)
    }
}

/// One finished run.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub job: Job,
    pub outcome: Outcome,
    /// Wall seconds.
    pub seconds: f64,
    /// Kept files: the run's output, then its structured logs.
    pub kept: Vec<PathBuf>,
}

impl RunResult {
    /// Why the run failed: the reason its output gave, or how long it ran
    /// before it was killed; `None` if it did not fail or gave no reason.
    pub fn reason(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Failed { reason, .. } => reason.clone(),
            Outcome::TimedOut => Some(format!("timed out after {:.1} s", self.seconds)),
            Outcome::Passed { .. } | Outcome::Interrupted => None,
        }
    }
}

/// A file-name-safe stem for a test's logs: `<label>-seed<seed>`.
pub fn log_stem(label: &str, seed: u64) -> String {
    let label = label.replace("::", "-");
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{safe}-seed{seed}")
}

/// The command that replays one run with cargo.
pub fn replay_command(binary: &TestBinary, test: &TestCase, seed: u64, release: bool) -> String {
    format!(
        "LAB_SEED={seed} cargo test{} -p {} {} -- --exact {}{}",
        if release { " --release" } else { "" },
        binary.package,
        binary.cargo_target_arg(),
        test.name,
        if test.ignored {
            " --include-ignored"
        } else {
            ""
        },
    )
}

/// Failure messages longer than this many lines are cut, with a note (the
/// whole message is in the kept log).
const MAX_REASON_LINES: usize = 60;

/// The reason for a failure, every line of it: the simulation's message
/// (`simulation failed: ...` up to the `  seed:` line of its block), else the
/// panic message (the lines after `panicked at <place>:` up to the backtrace
/// note or a blank line), else nothing. Multi-line messages (an `assert_eq!`'s
/// left and right, a harness's explanation) are kept whole.
pub fn failure_reason(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(at) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("simulation failed: "))
    {
        let first = lines[at]
            .trim_start()
            .trim_start_matches("simulation failed: ");
        let mut message = vec![first];
        message.extend(
            lines[at + 1..]
                .iter()
                .take_while(|l| !l.starts_with("  seed:") && !l.is_empty()),
        );
        return Some(join_reason(&message));
    }
    let at = lines.iter().position(|l| l.contains("panicked at"))?;
    let line = lines[at];
    match line.split_once("panicked at ").map(|(_, rest)| rest) {
        // Since Rust 1.73 the message is on the lines after `panicked at <place>:`.
        Some(rest) if rest.trim_end().ends_with(':') => {
            let message: Vec<&str> = lines[at + 1..]
                .iter()
                .copied()
                .take_while(|l| {
                    !l.is_empty() && !l.starts_with("note: ") && !l.starts_with("stack backtrace:")
                })
                .collect();
            (!message.is_empty()).then(|| join_reason(&message))
        }
        Some(rest) => Some(rest.trim().to_string()),
        None => None,
    }
}

/// The message's lines joined by newlines, trailing blanks trimmed, cut at
/// [`MAX_REASON_LINES`].
fn join_reason(lines: &[&str]) -> String {
    let lines: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
    let mut text = lines[..lines.len().min(MAX_REASON_LINES)].join("\n");
    if lines.len() > MAX_REASON_LINES {
        text.push_str(&format!(
            "\n... ({} more lines in the log)",
            lines.len() - MAX_REASON_LINES
        ));
    }
    text
}

/// A multi-line reason laid out under a line that starts it: the first line as
/// is, the others indented by `indent`.
pub fn indent_reason(reason: &str, indent: &str) -> String {
    reason
        .lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// The args for the test binary: exactly this test, output not captured (it
/// goes to the run's log file).
pub fn test_args(test: &TestCase) -> Vec<String> {
    vec![
        test.name.clone(),
        "--exact".into(),
        "--nocapture".into(),
        "--include-ignored".into(),
    ]
}

/// Runs `test` once with `job.seed`; keeps its logs in the output directory
/// if it failed (or always, when archiving).
pub fn run_one(
    binary: &TestBinary,
    test: &TestCase,
    job: Job,
    config: &RunConfig,
    stop: &AtomicBool,
) -> io::Result<RunResult> {
    let scratch = tempfile::Builder::new().prefix("dstest-").tempdir()?;
    let output_path = scratch.path().join("output.log");
    let log_dir = scratch.path().join("logs");
    fs::create_dir(&log_dir)?;
    let output = File::create(&output_path)?;

    let mut command = Command::new(&binary.executable);
    command
        .args(test_args(test))
        .current_dir(&binary.manifest_dir)
        .envs(discover::cargo_env(binary))
        .env("LAB_SEED", job.seed.to_string())
        .env("LAB_LOG_DIR", &log_dir)
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output);
    match &config.log_topics {
        Some(topics) => command.env("LAB_LOG", topics),
        None => command.env_remove("LAB_LOG"),
    };

    let start = Instant::now();
    let mut child = command.spawn()?;
    let mut outcome = loop {
        if let Some(status) = child.try_wait()? {
            break if status.success() {
                Outcome::Passed { undecided: false }
            } else if stop.load(Ordering::SeqCst) || status.signal() == Some(SIGINT) {
                // The terminal's Ctrl-C reached the test too (maybe just
                // before our handler set `stop`).
                Outcome::Interrupted
            } else {
                Outcome::Failed {
                    code: status.code(),
                    reason: None,
                }
            };
        }
        if stop.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            break Outcome::Interrupted;
        }
        if config.timeout.is_some_and(|t| start.elapsed() > t) {
            let _ = child.kill();
            let _ = child.wait();
            break Outcome::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = start.elapsed().as_secs_f64();

    let text = String::from_utf8_lossy(&fs::read(&output_path)?).into_owned();
    // What the output says: a failure's reason, a pass's undecided check.
    let undecided = is_undecided(&text);
    match &mut outcome {
        Outcome::Passed { undecided: u } => *u = undecided,
        Outcome::Failed { reason, .. } => *reason = failure_reason(&text),
        Outcome::TimedOut | Outcome::Interrupted => {}
    }
    let mut kept = Vec::new();
    let passed = matches!(outcome, Outcome::Passed { .. });
    if outcome.failed() || undecided || (config.archive && passed) {
        fs::create_dir_all(&config.output_dir)?;
        let stem = log_stem(&test.label, job.seed);
        let status = match &outcome {
            Outcome::Passed { undecided: true } => {
                "passed, linearizability check UNKNOWN".to_string()
            }
            Outcome::Passed { undecided: false } => "passed".to_string(),
            Outcome::Failed {
                code: Some(code), ..
            } => format!("FAILED (exit {code})"),
            Outcome::Failed { code: None, .. } => "FAILED (killed by a signal)".to_string(),
            Outcome::TimedOut => "FAILED (timed out)".to_string(),
            Outcome::Interrupted => "interrupted".to_string(),
        };
        let replay = replay_command(binary, test, job.seed, config.release);
        let trace_header = format!(
            "# dstest: structured log (LAB_LOG={}) of {} seed {} {status}; the test's output is in {stem}.log\n\
             # replay: LAB_LOG={} {replay}\n",
            config.log_topics.as_deref().unwrap_or("off"),
            test.label,
            job.seed,
            config.log_topics.as_deref().unwrap_or("all"),
        );
        let traces = keep_structured_logs(&log_dir, &config.output_dir, &stem, &trace_header)?;
        // The run printed `log: <scratch path>`; point at the kept copy.
        let mut text = text;
        for (from, to) in &traces {
            text = text.replace(&from.display().to_string(), &to.display().to_string());
        }
        let path = config.output_dir.join(format!("{stem}.log"));
        let mut file = File::create(&path)?;
        writeln!(
            file,
            "# dstest: {} seed {} {status} in {seconds:.2} s; below is the test's output",
            test.label, job.seed
        )?;
        writeln!(file, "# replay: {replay}")?;
        writeln!(
            file,
            "# ran: cd {} && LAB_SEED={} {} {}",
            binary.manifest_dir.display(),
            job.seed,
            binary.executable.display(),
            test_args(test).join(" ")
        )?;
        for (_, to) in &traces {
            writeln!(file, "# {}: {}", kept_kind(to), to.display())?;
        }
        file.write_all(text.as_bytes())?;
        kept.push(path);
        kept.extend(traces.into_iter().map(|(_, to)| to));
    }
    Ok(RunResult {
        job,
        outcome,
        seconds,
        kept,
    })
}

/// What a kept file is, for the `.log`'s header: `structured log`,
/// `timeline`, `history picture`, `history` (for lincheck), `page`, or `file`.
fn kept_kind(path: &Path) -> &'static str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".timeline.html") {
        "timeline"
    } else if name.ends_with(".history.html") {
        "history picture"
    } else if name.ends_with(".history.txt") {
        "history"
    } else if name.ends_with(".html") {
        "page"
    } else if is_structured_log(name) {
        "structured log"
    } else {
        "file"
    }
}

/// A run's structured log is `<test>-<seed>.log`; every other file it writes
/// (pictures, a history) is kept as it is.
fn is_structured_log(name: &str) -> bool {
    name.ends_with(".log")
}

/// Copies what a run wrote to its log directory next to its output: the
/// structured log(s) as `<stem>.trace.log`, `<stem>.trace-2.log`, ..., each
/// starting with `header` (so it says what it is and where the test's output
/// went), and any other file (the failure timeline, a history picture, a
/// history for lincheck) as it is, named `<stem>.<its own suffix>`, e.g.
/// `<stem>.timeline.html`.
fn keep_structured_logs(
    log_dir: &Path,
    output_dir: &Path,
    stem: &str,
    header: &str,
) -> io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut files: Vec<PathBuf> = fs::read_dir(log_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut kept = Vec::new();
    let mut logs = 0;
    for file in &files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let dest_name = if !is_structured_log(name) {
            // `<test>-<seed>.timeline.html` keeps its `.timeline.html`.
            let suffix = name.split_once('.').map_or("html", |(_, rest)| rest);
            format!("{stem}.{suffix}")
        } else {
            logs += 1;
            if logs == 1 {
                format!("{stem}.trace.log")
            } else {
                format!("{stem}.trace-{logs}.log")
            }
        };
        let dest = output_dir.join(dest_name);
        if !is_structured_log(name) {
            fs::copy(file, &dest)?;
        } else {
            let mut text = header.as_bytes().to_vec();
            text.extend(fs::read(file)?);
            fs::write(&dest, text)?;
        }
        kept.push((file.clone(), dest));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary() -> TestBinary {
        TestBinary {
            package: "raft".into(),
            target: "raft_2a".into(),
            kind: "test".into(),
            executable: PathBuf::from("/t/raft_2a-abc"),
            manifest_dir: PathBuf::from("/w/raft"),
        }
    }

    fn case(name: &str) -> TestCase {
        TestCase {
            binary: 0,
            name: name.into(),
            ignored: false,
            label: name.into(),
        }
    }

    #[test]
    fn kept_files_keep_their_kind() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        fs::write(from.path().join("t-7.log"), "log").unwrap();
        fs::write(from.path().join("t-7.timeline.html"), "<html>").unwrap();
        fs::write(from.path().join("t-7.history.txt"), "{:process 0}").unwrap();
        let kept = keep_structured_logs(from.path(), to.path(), "t-seed7", "# header\n").unwrap();
        let mut names: Vec<String> = kept
            .iter()
            .map(|(_, dest)| dest.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "t-seed7.history.txt",
                "t-seed7.timeline.html",
                "t-seed7.trace.log"
            ]
        );
        let history = fs::read_to_string(to.path().join("t-seed7.history.txt")).unwrap();
        assert_eq!(history, "{:process 0}", "a history is copied as it is");
        assert_eq!(kept_kind(&to.path().join("t-seed7.history.txt")), "history");
        let trace = fs::read_to_string(to.path().join("t-seed7.trace.log")).unwrap();
        assert_eq!(trace, "# header\nlog", "the structured log says what it is");
        let page = fs::read_to_string(to.path().join("t-seed7.timeline.html")).unwrap();
        assert_eq!(page, "<html>", "pages are copied as they are");
        assert_eq!(
            kept_kind(&to.path().join("t-seed7.timeline.html")),
            "timeline"
        );
        assert_eq!(
            kept_kind(&to.path().join("t-seed7.trace.log")),
            "structured log"
        );
    }

    #[test]
    fn stems() {
        assert_eq!(log_stem("basic", 42), "basic-seed42");
        assert_eq!(
            log_stem("raft_2a/tests::initial election", 7),
            "raft_2a-tests-initial-election-seed7"
        );
    }

    #[test]
    fn replay() {
        assert_eq!(
            replay_command(&binary(), &case("initial_election_2a"), 5, false),
            "LAB_SEED=5 cargo test -p raft --test raft_2a -- --exact initial_election_2a"
        );
        let mut slow = case("slow");
        slow.ignored = true;
        assert_eq!(
            replay_command(&binary(), &slow, 5, true),
            "LAB_SEED=5 cargo test --release -p raft --test raft_2a -- --exact slow --include-ignored"
        );
    }

    #[test]
    fn reasons() {
        let sim = "running 1 test\n\nsimulation failed: two leaders in term 3\n  seed:   4\n\
                   thread 'x' panicked at labrpc/src/sim/runner.rs:152:17:\nsimulation failed (seed 4): two\n";
        assert_eq!(
            failure_reason(sim).as_deref(),
            Some("two leaders in term 3")
        );
        let panic = "thread 'x' panicked at src/lib.rs:3:5:\nassertion failed: ok\nnote: ...";
        assert_eq!(
            failure_reason(panic).as_deref(),
            Some("assertion failed: ok")
        );
        let old = "thread 'x' panicked at 'boom', src/lib.rs:3:5";
        assert_eq!(
            failure_reason(old).as_deref(),
            Some("'boom', src/lib.rs:3:5")
        );
        assert_eq!(failure_reason("test x ... ok"), None);
    }

    #[test]
    fn multi_line_reasons_are_kept_whole() {
        let sim = "simulation failed: apply error: commit index=2 server=0 1 != server=1 2\n\
                   conflicting entry: S0 has T1 at index 2, S1 has T2\n  seed:   4\n  at:     1.0 s\n";
        assert_eq!(
            failure_reason(sim).as_deref(),
            Some(
                "apply error: commit index=2 server=0 1 != server=1 2\nconflicting entry: S0 has T1 at index 2, S1 has T2"
            )
        );
        let panic = "thread 'x' panicked at src/lib.rs:3:5:\nassertion `left == right` failed: lost\n  left: 1\n right: 2\n\
                     note: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            failure_reason(panic).as_deref(),
            Some("assertion `left == right` failed: lost\n  left: 1\n right: 2")
        );
        assert_eq!(indent_reason("a\nb\nc", "    "), "a\n    b\n    c");
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let cut = failure_reason(&format!("thread 'x' panicked at a.rs:1:1:\n{long}")).unwrap();
        assert_eq!(cut.lines().count(), MAX_REASON_LINES + 1);
        assert!(cut.ends_with("(40 more lines in the log)"), "{cut}");
    }

    #[test]
    fn undecided_runs_are_recognised_by_the_marker_line() {
        let output = "info: linearizability check Ok: 3 operations\n\
                      linearizability check UNKNOWN (seed 4): 1 of 2 partitions used ...\n  replay: x\n";
        assert!(is_undecided(output));
        assert!(!is_undecided(
            "info: linearizability check Ok: 3 operations\ntest x ... ok\n"
        ));
    }

    #[test]
    fn outcomes() {
        let failed = Outcome::Failed {
            code: Some(101),
            reason: None,
        };
        assert!(failed.failed());
        assert!(Outcome::TimedOut.failed());
        assert!(!Outcome::Passed { undecided: true }.failed());
        assert!(!Outcome::Interrupted.failed());
    }
}
