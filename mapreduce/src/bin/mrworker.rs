//! `mrworker [--socket PATH] APP`: asks the coordinator for tasks and runs
//! them in the current directory until the job is done.

use clap::Parser;
use mapreduce::real::cli::{WorkerArgs, worker_main};

fn main() -> std::process::ExitCode {
    worker_main(WorkerArgs::parse())
}
