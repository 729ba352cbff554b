//! The command lines of `mrcoordinator`, `mrworker` and `mrsequential`.
//!
//! They live in the library so that `mrdemo` and `mrbench` can embed the very
//! same commands as hidden subcommands and run *themselves* as the
//! coordinator and the workers: `cargo run --bin mrdemo` builds only `mrdemo`,
//! so sibling binaries may be missing or stale, while the running executable
//! is always the build being tested.
//!
//! Exit status: 0 on success, 1 on any failure (with one readable line on
//! stderr), 2 for command-line errors (clap's convention).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::apps::{App, AppKind};
use crate::real::server::{check_inputs, run_coordinator};
use crate::real::{DiskStore, ProcessEnv, client::UnixClient, default_socket_path, init_logging};
use crate::worker::WorkerError;
use crate::{N_REDUCE, sequential, worker};

/// `mrcoordinator [--socket PATH] FILES…`
#[derive(Clone, Debug, clap::Args)]
pub struct CoordinatorArgs {
    /// UNIX socket to listen on [default: /var/tmp/5840-mr-<uid>].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// Input files, one map task each.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// `mrworker [--socket PATH] APP`
#[derive(Clone, Debug, clap::Args)]
pub struct WorkerArgs {
    /// UNIX socket of the coordinator [default: /var/tmp/5840-mr-<uid>].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The application: wc, indexer, mtiming, rtiming, jobcount, early_exit,
    /// crash or nocrash (Go's `wc.so` style names work too).
    pub app: AppKind,
}

/// `mrsequential APP FILES…`
#[derive(Clone, Debug, clap::Args)]
pub struct SequentialArgs {
    /// The application (see mrworker).
    pub app: AppKind,
    /// Input files; the output goes to ./mr-out-0.
    #[arg(required = true)]
    pub files: Vec<String>,
}

fn fail(program: &str, error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("{program}: {error}");
    ExitCode::FAILURE
}

pub fn coordinator_main(args: CoordinatorArgs) -> ExitCode {
    init_logging("info");
    let socket = args.socket.unwrap_or_else(default_socket_path);
    match run_coordinator(&socket, args.files, N_REDUCE) {
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
    let app = App::new(args.app);
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
