//! `mrdemo [--workers N] [--top K] [--out DIR] [FILES…]`: the "main job".
//!
//! Runs a word count end to end as real processes, one coordinator and N
//! workers on a UNIX socket, over the given files or, without files, over a
//! freshly generated corpus; then checks the output against `mrsequential`'s
//! (the check test-mr.sh makes) and prints the most frequent words, the wall
//! time, where every file went (inputs, `mr-out-*`, logs) and the commands to
//! look at and check the output by hand. The job's directory is kept. The processes are this executable re-run with hidden subcommands
//! (`mrdemo coordinator …`, `mrdemo worker …`), the same code as the
//! `mrcoordinator`/`mrworker` binaries: `cargo run --bin mrdemo` builds only
//! this binary, so that is the one guaranteed to exist and be current.
//! `--siblings` runs the `mrcoordinator`/`mrworker` binaries next to it instead.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mapreduce::N_REDUCE;
use mapreduce::apps::AppKind;
use mapreduce::output::{read_dir_outputs, top_words};
use mapreduce::real::cli::parse_duration;
use mrtools::cli::CorpusArgs;
use mrtools::corpus::write_corpus;
use mrtools::launch::{Launcher, log_tail, run_job, spawn_logged};

#[derive(clap::Args)]
struct DemoArgs {
    /// Worker processes.
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// How many of the most frequent words to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    // Without FILES: the corpus to generate.
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Write the job's files (inputs, intermediates, mr-out-*, logs) into
    /// this directory [default: a new directory under the system's temporary
    /// directory, kept after the run].
    #[arg(long, visible_alias = "keep")]
    out: Option<PathBuf>,
    /// How long the coordinator keeps answering after the job, so that idle
    /// workers are told to exit (the lab's 1 s; e.g. 300ms).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    linger: Duration,
    /// Skip the check against mrsequential's output.
    #[arg(long)]
    no_check: bool,
    /// Run the mrcoordinator and mrworker binaries found next to this
    /// executable (after `cargo build -p mapreduce --bins`) instead of this
    /// executable's own coordinator and worker subcommands.
    #[arg(long)]
    siblings: bool,
    /// Input files (default: a generated corpus).
    inputs: Vec<PathBuf>,
}

fn main() -> ExitCode {
    mrtools::cli::tool_main(
        "mrdemo",
        "Word count with MapReduce: a coordinator and N worker processes",
        demo,
    )
}

fn demo(args: DemoArgs) -> Result<(), String> {
    if args.workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    let root = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            std::path::absolute(dir).map_err(|e| e.to_string())?
        }
        None => tempfile::Builder::new()
            .prefix("mrdemo-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?
            .keep(),
    };
    let inputs = inputs(&args, &root)?;
    let job = root.join("job");
    std::fs::create_dir_all(&job).map_err(|e| format!("{}: {e}", job.display()))?;
    let socket = root.join("mr.sock");
    let bytes: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "word count over {} files ({:.1} MB) with {} workers…",
        inputs.len(),
        bytes as f64 / 1e6,
        args.workers
    );
    let launcher = if args.siblings {
        Launcher::siblings()
    } else {
        Launcher::this_executable()
    }
    .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let timing = run_job(
        &launcher,
        &job,
        &socket,
        AppKind::Wc,
        &inputs,
        args.workers,
        args.linger,
    )
    .map_err(|e| e.to_string())?;
    let wall = start.elapsed();
    let lines = read_dir_outputs(&job).map_err(|e| format!("reading output: {e}"))?;
    report(&lines, args.top, wall, args.linger, &timing);
    let sequential = if args.no_check {
        None
    } else {
        Some(check(&launcher, &root, &inputs, &lines)?)
    };
    where_it_went(&root, &job, &inputs, sequential.as_deref());
    Ok(())
}

/// Runs `mrsequential wc` into `<root>/sequential/` and compares the sorted
/// lines, as test-mr.sh does. Returns the sequential output's directory.
fn check(
    launcher: &Launcher,
    root: &Path,
    inputs: &[PathBuf],
    lines: &[String],
) -> Result<PathBuf, String> {
    let dir = root.join("sequential");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let status = spawn_logged(launcher.sequential(AppKind::Wc, inputs), &dir, "sequential")
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("mrsequential: {e}"))?;
    if !status.success() {
        return Err(format!(
            "mrsequential failed ({status}): {}",
            log_tail(&dir, "sequential")
        ));
    }
    let expected = read_dir_outputs(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    if expected != lines {
        return Err(format!(
            "the MapReduce output differs from mrsequential's ({} lines against {}); compare them:\n  {}",
            lines.len(),
            expected.len(),
            diff_command(root)
        ));
    }
    println!(
        "check: the output matches mrsequential's, line for line ({} lines)",
        lines.len()
    );
    Ok(dir)
}

/// The shell command that compares the two outputs the way test-mr.sh does.
fn diff_command(root: &Path) -> String {
    let root = root.display();
    format!(
        "diff <(sort {root}/sequential/mr-out-0 | grep .) <(sort {root}/job/mr-out-* | grep .) && echo same"
    )
}

/// Where the inputs, outputs and logs are, and how to look at them.
fn where_it_went(root: &Path, job: &Path, inputs: &[PathBuf], sequential: Option<&Path>) {
    let job_dir = job.display();
    println!(
        "output: {job_dir}/mr-out-0 … mr-out-{} (\"word count\" lines, each word in one file)",
        N_REDUCE - 1
    );
    if let Some(dir) = inputs.first().and_then(|p| p.parent()) {
        println!("inputs: {} ({} files)", dir.display(), inputs.len());
    }
    println!("logs:   {job_dir}/coordinator.log, {job_dir}/worker-*.log");
    println!("look:   sort {job_dir}/mr-out-* | grep . | sort -k2 -n -r | head");
    match sequential {
        Some(dir) => {
            println!("reference: {}/mr-out-0 (mrsequential wc)", dir.display());
            println!("compare: {}", diff_command(root));
        }
        None => println!(
            "check:  run mrsequential wc over the same inputs and compare with `sort mr-out* | grep .` (docs/lab1-mapreduce.md)"
        ),
    }
    println!("(delete {} when done)", root.display());
}

/// The user's files (made absolute: workers run in another directory), or a
/// generated corpus.
fn inputs(args: &DemoArgs, root: &Path) -> Result<Vec<PathBuf>, String> {
    if args.inputs.is_empty() {
        let config = args.corpus.config();
        return write_corpus(&root.join("input"), &config).map_err(|e| format!("corpus: {e}"));
    }
    args.inputs
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
            if !meta.is_file() {
                return Err(format!("{}: not a regular file", p.display()));
            }
            std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

fn report(
    lines: &[String],
    top: usize,
    wall: Duration,
    linger: Duration,
    timing: &mrtools::launch::JobTiming,
) {
    let total: u64 = top_words(lines, usize::MAX).iter().map(|(_, n)| n).sum();
    println!("{} distinct words, {total} in all", lines.len());
    println!("{:>4}  {:<24} {:>10}", "rank", "word", "count");
    for (rank, (word, count)) in top_words(lines, top).into_iter().enumerate() {
        println!("{:>4}  {word:<24} {count:>10}", rank + 1);
    }
    let failed = timing.workers.iter().filter(|s| !s.success()).count();
    if failed > 0 {
        println!("note: {failed} worker(s) exited with an error (see their logs below)");
    }
    println!(
        "wall time {:.2} s (output complete after {:.2} s; the coordinator lingers {:.1} s for workers)",
        wall.as_secs_f64(),
        timing.output_complete.as_secs_f64(),
        linger.as_secs_f64()
    );
}
