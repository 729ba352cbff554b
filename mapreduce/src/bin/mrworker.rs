//! `mrworker [--socket PATH] APP`: asks the coordinator for tasks and runs
//! them in the current directory until the job is done.

use clap::Parser;
use mapreduce::real::cli::{WorkerArgs, worker_main};

#[derive(Parser)]
#[command(about = "MapReduce worker: runs map and reduce tasks for the coordinator")]
struct Cli {
    #[command(flatten)]
    args: WorkerArgs,
}

fn main() -> std::process::ExitCode {
    worker_main(Cli::parse().args)
}
