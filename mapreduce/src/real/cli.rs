//! The command lines of `mrcoordinator`, `mrworker` and `mrsequential`.
//!
//! Each is a [`clap::Parser`]: the binaries' whole `main` is
//! `coordinator_main(CoordinatorArgs::parse())` and the like.
//!
//! They live in the library so that `mrdemo` and `mrbench` (crate `mrtools`) can embed the very
//! same commands as hidden subcommands and run *themselves* as the
//! coordinator and the workers: `cargo run --bin mrdemo` builds only `mrdemo`,
//! so sibling binaries may be missing or stale, while the running executable
//! is always the build being tested.
//!
//! Exit status: 0 on success, 1 on any failure (with one readable line on
//! stderr), 2 for command-line errors (clap's convention).
#![allow(rustdoc::invalid_html_tags)] // the doc comments below are clap's --help text, not rustdoc

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::apps::{App, AppKind, MAX_SPEEDUP};
use crate::real::server::{check_inputs, run_coordinator};
use crate::real::{DiskStore, ProcessEnv, client::UnixClient, default_socket_path, init_logging};
use crate::worker::WorkerError;
use crate::{N_REDUCE, sequential, worker};

/// `mrcoordinator [--socket PATH] [--task-timeout 10s] [--linger 1s] FILES…`
#[derive(Clone, Debug, clap::Parser)]
#[command(about = "MapReduce coordinator: hands out tasks over a UNIX socket", long_about = None)]
pub struct CoordinatorArgs {
    /// UNIX socket to listen on [default: /var/tmp/5840-mr-<uid>].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Hand a task to another worker when it is not reported done this long
    /// after it was handed out (e.g. 10s, 1.5s, 500ms). The lab's rule is
    /// 10 s; shorter values make crash tests quicker.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub task_timeout: Duration,
    /// Keep answering this long after the job is done, so that idle workers
    /// (which ask again every 200 ms) are told to exit instead of finding
    /// the socket gone (e.g. 1s, 300ms). Go's coordinator sleeps 1 s; the
    /// tests use less, since every job of theirs would wait it out.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub linger: Duration,
    /// Input files, one map task each.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// `mrworker [--socket PATH] [--app-speedup N] APP`
#[derive(Clone, Debug, clap::Parser)]
#[command(about = "MapReduce worker: runs map and reduce tasks for the coordinator", long_about = None)]
pub struct WorkerArgs {
    /// UNIX socket of the coordinator [default: /var/tmp/5840-mr-<uid>].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Runs the test apps' sleeps N times faster: jobcount's 2–5 s maps,
    /// mtiming's and rtiming's 1 s holds, early_exit's 3 s reduces, crash's
    /// stalls of up to 10 s (wc and indexer do not sleep). The quick tests
    /// use it; the crash test divides the coordinator's --task-timeout by
    /// the same N.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SPEEDUP)))]
    pub app_speedup: u32,
    /// The application: wc, indexer, mtiming, rtiming, jobcount, early_exit,
    /// crash or nocrash (Go's `wc.so` style names work too).
    pub app: AppKind,
}

/// `mrsequential APP FILES…`
#[derive(Clone, Debug, clap::Parser)]
#[command(about = "Sequential MapReduce: the reference output in ./mr-out-0", long_about = None)]
pub struct SequentialArgs {
    /// The application (see mrworker).
    pub app: AppKind,
    /// Input files; the output goes to ./mr-out-0.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// Parses `10s`, `1.5s`, `500ms` (a unit is required: a bare number could
/// mean either).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        return Err(format!("{text:?}: give a unit, e.g. 10s or 500ms"));
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 10s or 500ms"))?;
    let secs = value * scale;
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err(format!("{text:?}: must be more than 0 and at most 1 hour"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn fail(program: &str, error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("{program}: {error}");
    ExitCode::FAILURE
}

pub fn coordinator_main(args: CoordinatorArgs) -> ExitCode {
    init_logging("info");
    let socket = args.socket.unwrap_or_else(default_socket_path);
    match run_coordinator(
        &socket,
        args.files,
        N_REDUCE,
        args.task_timeout,
        args.linger,
    ) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail("mrcoordinator", &e),
    }
}

pub fn worker_main(args: WorkerArgs) -> ExitCode {
    init_logging("warn");
    let socket = args.socket.unwrap_or_else(default_socket_path);
    let client = UnixClient::new(&socket);
    let env = ProcessEnv::new();
    let store = DiskStore::current_dir();
    let app = App::new(args.app).with_speedup(args.app_speedup);
    match futures::executor::block_on(worker::run(&client, &env, &store, &app)) {
        Ok(stats) => {
            tracing::info!(
                topic = "worker",
                maps = stats.maps,
                reduces = stats.reduces,
                "job done, exiting"
            );
            ExitCode::SUCCESS
        }
        Err(e @ WorkerError::CoordinatorGone(_)) => fail(
            "mrworker",
            &format_args!("{e} (the job finished or the coordinator crashed); exiting"),
        ),
        Err(e) => fail("mrworker", &e),
    }
}

pub fn sequential_main(args: SequentialArgs) -> ExitCode {
    init_logging("warn");
    if let Err(e) = check_inputs(&args.files) {
        return fail("mrsequential", &e);
    }
    let env = ProcessEnv::new();
    let store = DiskStore::current_dir();
    let app = App::new(args.app);
    let output = futures::executor::block_on(sequential::run(&env, &store, &app, &args.files));
    let written = output.map_err(|e| e.to_string()).and_then(|bytes| {
        store
            .write_atomic_sync(sequential::OUTPUT, &bytes)
            .map_err(|e| e.to_string())
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail("mrsequential", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit_and_a_sane_value() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        // The defaults of --task-timeout and --linger are the lab's.
        assert_eq!(parse_duration("10s"), Ok(crate::coordinator::TASK_TIMEOUT));
        assert_eq!(parse_duration("1s"), Ok(crate::coordinator::LINGER));
        for bad in ["10", "s", "-1s", "0ms", "2h", "1e9s", "fast"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
