//! Shared harness of the real-process tests: a sandbox per test (its own
//! temp directory, inputs and socket, so tests run in parallel), processes
//! with deadlines that are killed when a test ends or fails, and the
//! `sort mr-out* | grep .` comparison.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mapreduce::output::read_dir_outputs;
use mrtools::corpus::{CorpusConfig, write_corpus};

pub const MRCOORDINATOR: &str = env!("CARGO_BIN_EXE_mrcoordinator");
pub const MRWORKER: &str = env!("CARGO_BIN_EXE_mrworker");
pub const MRSEQUENTIAL: &str = env!("CARGO_BIN_EXE_mrsequential");

/// test-mr.sh's `timeout 45s` for every process… (a hang guard: no job here
/// takes more than a few seconds, and a process still running at its limit
/// is reported as hung; no test asserts how long anything took)
pub const PROCESS_LIMIT: Duration = Duration::from_secs(45);
/// …and `timeout 120s` in the crash test.
pub const CRASH_LIMIT: Duration = Duration::from_secs(120);

/// The tests' `mrcoordinator --linger` (Go's coordinator lingers 1 s after
/// the job, and every test would wait that out). Still longer than a
/// worker's 200 ms poll, so idle workers are told to exit; one that polls
/// too late finds the socket gone and exits with "coordinator gone", which
/// the tests accept, as test-mr.sh ignores the workers' exit status. The
/// tests on Go's clock keep the 1 s.
pub const QUICK_LINGER: &str = "300ms";

/// Whether [`Sandbox::report`] prints its `TIMING` line (the runner sets it
/// from `--nocapture`, since it does not capture output).
pub static SHOW_TIMING: AtomicBool = AtomicBool::new(false);

/// Size of each of the 8 generated input files.
const INPUT_BYTES: usize = 150_000;

/// One test's world: `<tmp>/input` (the corpus), `<tmp>/work` (the job's
/// current directory), `<tmp>/seq` (mrsequential's), `<tmp>/mr.sock`.
pub struct Sandbox {
    temp: tempfile::TempDir,
    pub work: PathBuf,
    pub socket: PathBuf,
    pub inputs: Vec<PathBuf>,
    started: Instant,
    name: String,
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        Sandbox::with_inputs(name, 8, INPUT_BYTES)
    }

    pub fn with_inputs(name: &str, files: usize, bytes: usize) -> Sandbox {
        let temp = tempfile::Builder::new()
            .prefix(&format!("mr-{name}-"))
            .tempdir()
            .expect("temp dir");
        let config = CorpusConfig {
            files,
            bytes_per_file: bytes,
            seed: 1,
        };
        let inputs = write_corpus(&temp.path().join("input"), &config).expect("corpus");
        let work = temp.path().join("work");
        std::fs::create_dir(&work).expect("work dir");
        Sandbox {
            socket: temp.path().join("mr.sock"),
            work,
            inputs,
            temp,
            started: Instant::now(),
            name: name.to_string(),
        }
    }

    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    /// `mrsequential APP inputs` in its own directory: the expected lines.
    pub fn sequential(&self, app: &str) -> Vec<String> {
        let dir = self.root().join(format!("seq-{app}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut p = Proc::spawn(
            "mrsequential",
            Command::new(MRSEQUENTIAL).arg(app).args(&self.inputs),
            &dir,
            PROCESS_LIMIT,
        );
        let status = p.wait();
        assert!(status.success(), "mrsequential {app} failed: {}", p.log());
        read_dir_outputs(&dir).unwrap()
    }

    /// A coordinator that lingers [`QUICK_LINGER`] after the job.
    pub fn coordinator(&self, limit: Duration) -> Proc {
        self.coordinator_with(limit, &["--linger", QUICK_LINGER])
    }

    /// `program --socket <this sandbox's socket>`: a coordinator or a worker
    /// of this sandbox's job, to which the caller adds the rest.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.arg("--socket").arg(&self.socket);
        command
    }

    /// A coordinator with these options only (e.g. `--task-timeout 2s`;
    /// without `--linger` it lingers Go's 1 s).
    pub fn coordinator_with<S: AsRef<OsStr>>(&self, limit: Duration, options: &[S]) -> Proc {
        let mut command = self.command(MRCOORDINATOR);
        command.args(options).args(&self.inputs);
        let mut p = Proc::spawn("mrcoordinator", &mut command, &self.work, limit);
        p.wait_listening(&self.socket);
        p
    }

    pub fn worker(&self, app: &str, limit: Duration) -> Proc {
        self.worker_with::<&str>(app, limit, &[])
    }

    /// A worker with extra options (e.g. `--app-speedup 10`).
    pub fn worker_with<S: AsRef<OsStr>>(&self, app: &str, limit: Duration, options: &[S]) -> Proc {
        let mut command = self.command(MRWORKER);
        command.args(options).arg(app);
        Proc::spawn("mrworker", &mut command, &self.work, limit)
    }

    /// `sort mr-out* | grep .` of the job's directory.
    pub fn output(&self) -> Vec<String> {
        read_dir_outputs(&self.work).unwrap()
    }

    /// The logs (stderr) of the processes this sandbox ran that wrote
    /// anything, each cut to its first lines: what a failure shows.
    pub fn logs(&self) -> String {
        let mut logs: Vec<PathBuf> = std::fs::read_dir(self.root())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
        logs.sort();
        let mut out = String::new();
        for path in logs {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.trim().is_empty() {
                continue;
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            out.push_str(&format!("--- {name}\n"));
            for line in text.lines().take(10) {
                out.push_str(line);
                out.push('\n');
            }
        }
        if out.is_empty() {
            out.push_str("(every log is empty)\n");
        }
        out
    }

    /// Prints the wall time of the test with --nocapture (the measure
    /// script collects these lines).
    pub fn report(&self) {
        if !SHOW_TIMING.load(Ordering::SeqCst) {
            return;
        }
        eprintln!(
            "TIMING {} {:.2} s",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// `RUST_BACKTRACE` for the programs the tests start: off unless
/// `LAB_CHILD_BACKTRACE` says otherwise (`LAB_CHILD_BACKTRACE=1`). A panic's
/// message and place are in the program's log either way; printing its
/// backtrace takes about a second, so a program that fails at once (a
/// handout's `todo!`) would otherwise fail its test a second late.
pub fn child_backtrace() -> String {
    std::env::var("LAB_CHILD_BACKTRACE").unwrap_or_else(|_| "0".into())
}

/// A child process with a hang guard (`timeout -k 2s LIMIT`); killed on
/// drop, so a failing test leaves nothing running.
pub struct Proc {
    name: String,
    child: Child,
    limit: Duration,
    deadline: Instant,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Proc {
    pub fn spawn(name: &str, command: &mut Command, dir: &Path, limit: Duration) -> Proc {
        let log = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .suffix(".log")
            .tempfile_in(dir.parent().unwrap_or(dir))
            .expect("log file")
            .into_temp_path()
            .keep()
            .expect("keep log");
        let child = command
            .env("RUST_BACKTRACE", child_backtrace())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            limit,
            deadline: Instant::now() + limit,
            log,
            status: None,
        }
    }

    /// What the process wrote to stderr.
    /// (Without blank lines: a panic's output starts with an empty line,
    /// which would end the failure reason the grader shows before the
    /// panic's message.)
    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        lines.join("\n")
    }

    /// The exit status if the process has exited; kills it and panics
    /// (it hung) when it is still running at its limit.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        if self.status.is_none() && Instant::now() > self.deadline {
            let _ = self.child.kill();
            panic!(
                "{} hung: still running {:?} after it started (test-mr.sh's timeout), killed; log:\n{}",
                self.name,
                self.limit,
                self.log()
            );
        }
        self.status
    }

    pub fn wait(&mut self) -> ExitStatus {
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a coordinator accepts connections on `socket`.
    pub fn wait_listening(&mut self, socket: &Path) {
        while std::os::unix::net::UnixStream::connect(socket).is_err() {
            if let Some(status) = self.try_wait() {
                panic!(
                    "{} exited ({status}) before listening:\n{}",
                    self.name,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        self.status = self.child.wait().ok();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a command to completion (with the usual limit) in `dir`; returns the
/// status and stderr.
pub fn run(command: &mut Command, dir: &Path) -> (ExitStatus, String) {
    let mut p = Proc::spawn("command", command, dir, PROCESS_LIMIT);
    let status = p.wait();
    (status, p.log())
}
