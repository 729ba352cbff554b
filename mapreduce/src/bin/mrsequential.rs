//! `mrsequential APP FILES…`: the reference run, writing ./mr-out-0.

use clap::Parser;
use mapreduce::real::cli::{SequentialArgs, sequential_main};

fn main() -> std::process::ExitCode {
    sequential_main(SequentialArgs::parse())
}
