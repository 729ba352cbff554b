//! `mrsequential APP FILES…`: the reference run, writing ./mr-out-0.

use clap::Parser;
use mapreduce::real::cli::{SequentialArgs, sequential_main};

#[derive(Parser)]
#[command(about = "Sequential MapReduce: the reference output in ./mr-out-0")]
struct Cli {
    #[command(flatten)]
    args: SequentialArgs,
}

fn main() -> std::process::ExitCode {
    sequential_main(Cli::parse().args)
}
