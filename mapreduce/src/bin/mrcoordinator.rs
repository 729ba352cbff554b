//! `mrcoordinator [--socket PATH] FILES…`: runs one MapReduce job's
//! coordinator, one map task per file and 10 reduce tasks, and exits when the
//! job is done. See docs/lab1-mapreduce.md.

use clap::Parser;
use mapreduce::real::cli::{CoordinatorArgs, coordinator_main};

fn main() -> std::process::ExitCode {
    coordinator_main(CoordinatorArgs::parse())
}
