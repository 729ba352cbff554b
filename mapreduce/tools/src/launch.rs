//! Starting a job as real processes: one coordinator, N workers.
//!
//! Used by `mrdemo` and `mrbench` (and shaped like what the integration tests
//! do by hand). The programs come from a [`Launcher`]: either this very
//! executable run with a hidden subcommand (`mrdemo coordinator …`), which is
//! always the current build, or named binaries such as the siblings next to
//! the running executable.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use mapreduce::N_REDUCE;
use mapreduce::apps::AppKind;
use mapreduce::worker::output_name;

/// How to start one of the three programs.
#[derive(Clone, Debug)]
enum Program {
    Binary(PathBuf),
    Subcommand(PathBuf, &'static str),
}

impl Program {
    fn command(&self) -> Command {
        match self {
            Program::Binary(path) => Command::new(path),
            Program::Subcommand(exe, sub) => {
                let mut command = Command::new(exe);
                command.arg(sub);
                command
            }
        }
    }
}

/// Where the coordinator, worker and sequential programs are.
#[derive(Clone, Debug)]
pub struct Launcher {
    coordinator: Program,
    worker: Program,
    sequential: Program,
}

impl Launcher {
    /// The running executable, with subcommands `coordinator`, `worker`,
    /// `sequential`.
    pub fn this_executable() -> io::Result<Launcher> {
        let exe = std::env::current_exe()?;
        Ok(Launcher {
            coordinator: Program::Subcommand(exe.clone(), "coordinator"),
            worker: Program::Subcommand(exe.clone(), "worker"),
            sequential: Program::Subcommand(exe, "sequential"),
        })
    }

    /// `mrcoordinator`, `mrworker`, `mrsequential` next to the running
    /// executable (as `cargo build --bins` leaves them).
    pub fn siblings() -> io::Result<Launcher> {
        let exe = std::env::current_exe()?;
        let dir = exe.parent().unwrap_or(Path::new("."));
        let find = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(Program::Binary(path))
            } else {
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} not found; build it with `cargo build -p mapreduce --bins`",
                        path.display()
                    ),
                ))
            }
        };
        Ok(Launcher {
            coordinator: find("mrcoordinator")?,
            worker: find("mrworker")?,
            sequential: find("mrsequential")?,
        })
    }

    /// The coordinator of a job over `files`, lingering `linger` after it.
    pub fn coordinator(&self, socket: &Path, files: &[PathBuf], linger: Duration) -> Command {
        let mut c = self.coordinator.command();
        c.arg("--socket")
            .arg(socket)
            .arg("--linger")
            .arg(format!("{}ms", linger.as_millis().max(1)))
            .args(files);
        c
    }

    pub fn worker(&self, socket: &Path, app: AppKind) -> Command {
        let mut c = self.worker.command();
        c.arg("--socket").arg(socket).arg(app.name());
        c
    }

    pub fn sequential(&self, app: AppKind, files: &[PathBuf]) -> Command {
        let mut c = self.sequential.command();
        c.arg(app.name()).args(files);
        c
    }
}

/// Timings of one distributed run.
#[derive(Clone, Debug)]
pub struct JobTiming {
    /// Until every `mr-out-*` file existed (the answer was complete).
    pub output_complete: Duration,
    /// Until the coordinator exited (includes its linger).
    pub coordinator_exit: Duration,
    /// Exit statuses of the workers, in start order.
    pub workers: Vec<ExitStatus>,
}

/// Runs a whole job in `dir` with `workers` worker processes and waits for
/// it; the coordinator lingers `linger` after the job (the lab's:
/// [`mapreduce::coordinator::LINGER`]). Process stderr goes to
/// `<dir>/<name>.log`.
pub fn run_job(
    launcher: &Launcher,
    dir: &Path,
    socket: &Path,
    app: AppKind,
    files: &[PathBuf],
    workers: usize,
    linger: Duration,
) -> io::Result<JobTiming> {
    let start = Instant::now();
    let mut coordinator = spawn_logged(
        launcher.coordinator(socket, files, linger),
        dir,
        "coordinator",
    )?;
    wait_for_socket(socket, &mut coordinator, Duration::from_secs(10))?;
    let mut children = Vec::new();
    for i in 0..workers {
        children.push(spawn_logged(
            launcher.worker(socket, app),
            dir,
            &format!("worker-{i}"),
        )?);
    }
    let mut output_complete = None;
    let status = loop {
        if output_complete.is_none() && outputs_complete(dir) {
            output_complete = Some(start.elapsed());
        }
        if let Some(status) = coordinator.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let coordinator_exit = start.elapsed();
    let statuses = children
        .iter_mut()
        .map(Child::wait)
        .collect::<io::Result<Vec<_>>>()?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "coordinator failed ({status}): {}",
            log_tail(dir, "coordinator")
        )));
    }
    Ok(JobTiming {
        output_complete: output_complete.unwrap_or(coordinator_exit),
        coordinator_exit,
        workers: statuses,
    })
}

fn outputs_complete(dir: &Path) -> bool {
    (0..N_REDUCE).all(|r| dir.join(output_name(r)).exists())
}

/// Starts `command` in `dir` with stderr to `<dir>/<name>.log`, stdout dropped.
pub fn spawn_logged(mut command: Command, dir: &Path, name: &str) -> io::Result<Child> {
    let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
}

/// The last lines a process logged, for error messages.
pub fn log_tail(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Waits until the coordinator listens, so that workers do not start too
/// early and find nobody (Go's test script sleeps 1 s instead).
pub fn wait_for_socket(socket: &Path, coordinator: &mut Child, limit: Duration) -> io::Result<()> {
    let start = Instant::now();
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        if let Some(status) = coordinator.try_wait()? {
            return Err(io::Error::other(format!(
                "coordinator exited before listening ({status})"
            )));
        }
        if start.elapsed() > limit {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("coordinator not listening on {}", socket.display()),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
