//! `mrbench`: wc on a generated corpus, sequential versus 1, 2, 3 workers.
//!
//! Generates the corpus once (default: 8 files of about 500 KB), times
//! `mrsequential wc` and then distributed runs with each worker count, in the
//! same invocation so the ratios compare like with like, checks that every run
//! produced the sequential output, and prints a table. Use a release build:
//! `cargo run --release -p mrtools --bin mrbench`. Like `mrdemo`, it runs
//! itself as coordinator, worker and sequential program.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mapreduce::apps::AppKind;
use mapreduce::coordinator::LINGER;
use mapreduce::output::read_dir_outputs;
use mrtools::cli::CorpusArgs;
use mrtools::corpus::write_corpus;
use mrtools::launch::{Launcher, log_tail, run_job, spawn_logged};

#[derive(clap::Args)]
struct BenchArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Worker counts to try.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    workers: Vec<usize>,
    /// Runs per configuration; the best (shortest) is reported.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

fn main() -> ExitCode {
    mrtools::cli::tool_main(
        "mrbench",
        "Time wc: mrsequential against 1..N MapReduce workers",
        |args| bench(&args),
    )
}

fn bench(args: &BenchArgs) -> Result<(), String> {
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = args.corpus.config();
    let inputs = write_corpus(&root.path().join("input"), &config).map_err(|e| e.to_string())?;
    let launcher = Launcher::this_executable().map_err(|e| e.to_string())?;
    let mut runs = 0;
    let mut fresh_dir = || {
        runs += 1;
        let dir = root.path().join(format!("run-{runs}"));
        std::fs::create_dir_all(&dir).map(|()| dir)
    };
    println!(
        "wc over {} files x {} bytes (seed {}), best of {}",
        config.files, config.bytes_per_file, config.seed, args.repeat
    );
    let mut expected = Vec::new();
    let mut sequential = Duration::MAX;
    for _ in 0..args.repeat {
        let dir = fresh_dir().map_err(|e| e.to_string())?;
        sequential = sequential.min(time_sequential(&launcher, &dir, &inputs)?);
        expected = read_dir_outputs(&dir).map_err(|e| e.to_string())?;
    }
    println!(
        "{:<12} {:>10} {:>14} {:>14}",
        "run", "wall s", "output s", "output/seq"
    );
    println!(
        "{:<12} {:>10.2} {:>14.2} {:>14.2}",
        "sequential",
        sequential.as_secs_f64(),
        sequential.as_secs_f64(),
        1.0
    );
    for &workers in &args.workers {
        let (mut wall, mut complete) = (Duration::MAX, Duration::MAX);
        for _ in 0..args.repeat {
            let dir = fresh_dir().map_err(|e| e.to_string())?;
            let socket = dir.join("mr.sock");
            let timing = run_job(
                &launcher,
                &dir,
                &socket,
                AppKind::Wc,
                &inputs,
                workers,
                LINGER,
            )
            .map_err(|e| e.to_string())?;
            if read_dir_outputs(&dir).map_err(|e| e.to_string())? != expected {
                return Err(format!("{workers} workers: output differs from sequential"));
            }
            wall = wall.min(timing.coordinator_exit);
            complete = complete.min(timing.output_complete);
        }
        println!(
            "{:<12} {:>10.2} {:>14.2} {:>14.2}",
            format!("{workers} worker{}", if workers == 1 { "" } else { "s" }),
            wall.as_secs_f64(),
            complete.as_secs_f64(),
            complete.as_secs_f64() / sequential.as_secs_f64()
        );
    }
    println!(
        "wall = until the coordinator exits (includes its 1 s linger); output = until all mr-out-* exist"
    );
    Ok(())
}

fn time_sequential(
    launcher: &Launcher,
    dir: &Path,
    inputs: &[PathBuf],
) -> Result<Duration, String> {
    let start = Instant::now();
    let status = spawn_logged(launcher.sequential(AppKind::Wc, inputs), dir, "sequential")
        .and_then(|mut child| child.wait())
        .map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!(
            "mrsequential failed: {}",
            log_tail(dir, "sequential")
        ));
    }
    Ok(elapsed)
}
