//! What the tools' command lines share, written once: the corpus options and
//! the hidden roles (coordinator, worker, sequential) that `mrdemo` and
//! `mrbench` play when they re-run themselves as the job's processes.

use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use mapreduce::real::cli::{
    CoordinatorArgs, SequentialArgs, WorkerArgs, coordinator_main, sequential_main, worker_main,
};

use crate::corpus::{CorpusConfig, parse_size};

/// `--files N --size 500KB --seed S`: the generated corpus.
#[derive(clap::Args, Clone, Debug)]
pub struct CorpusArgs {
    /// How many files to generate.
    #[arg(long, default_value_t = 8)]
    pub files: usize,
    /// Approximate size of each generated file (e.g. 500KB, 2MB, 4096).
    #[arg(long, default_value = "500KB", value_parser = parse_size)]
    pub size: usize,
    /// The corpus seed: the same seed always gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl CorpusArgs {
    /// The generator's configuration for these options.
    pub fn config(&self) -> CorpusConfig {
        CorpusConfig {
            files: self.files,
            bytes_per_file: self.size,
            seed: self.seed,
        }
    }
}

/// The roles a tool's executable plays for its own job: the same code as
/// the `mrcoordinator`, `mrworker` and `mrsequential` binaries, as hidden
/// subcommands, so that the one executable cargo built is enough.
#[derive(Subcommand)]
pub enum Role {
    #[command(hide = true)]
    Coordinator(CoordinatorArgs),
    #[command(hide = true)]
    Worker(WorkerArgs),
    #[command(hide = true)]
    Sequential(SequentialArgs),
}

impl Role {
    /// Plays the role to the end; its exit code.
    pub fn run(self) -> ExitCode {
        match self {
            Role::Coordinator(args) => coordinator_main(args),
            Role::Worker(args) => worker_main(args),
            Role::Sequential(args) => sequential_main(args),
        }
    }
}

/// The command line of a tool that runs its own job's processes: the
/// tool's own arguments `A`, or one of the hidden [`Role`]s it plays.
#[derive(Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct ToolCli<A: Args> {
    #[command(subcommand)]
    role: Option<Role>,
    #[command(flatten)]
    args: A,
}

/// The `main` of `mrdemo` and `mrbench`: parses the command line (`about`
/// is the tool's one-line description for `--help`), then plays the role it
/// was started for, or does the tool's own `work` (an error is printed as
/// `tool: message`, with exit status 1).
pub fn tool_main<A: Args + FromArgMatches>(
    tool: &str,
    about: &'static str,
    work: impl FnOnce(A) -> Result<(), String>,
) -> ExitCode {
    let mut command = ToolCli::<A>::command().about(about);
    let matches = command.clone().get_matches();
    let cli =
        ToolCli::<A>::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit());
    match cli.role {
        Some(role) => role.run(),
        None => match work(cli.args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{tool}: {message}");
                ExitCode::FAILURE
            }
        },
    }
}
