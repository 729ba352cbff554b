#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! grade: runs each part's tests K times on distinct seeds and scores them
//! with the points table (scripts/grading.txt); prints a table with the
//! replay command of every failure and, with `--json`, writes Gradescope's
//! results.json. See docs/instructors.md.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)] // the CLI's doc comments are clap's --help text, not rustdoc

use std::collections::{BTreeMap, VecDeque};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use labtools::discover::{self, TestBinary, TestCase};
use labtools::grade::{self, Failure, TestResult};
use labtools::runner::{self, RunConfig};
use labtools::seeds::{self, Job, SeedSource};

/// Grades labs: each test of each chosen part runs K times on distinct
/// seeds (LAB_SEED) and earns its share of the part's points only if every
/// run passes.
#[derive(Parser, Debug)]
#[command(name = "grade", version)]
struct Cli {
    /// Labs (package names: `raft`) or parts (`2A`, any case); none: every
    /// part in the grading table.
    names: Vec<String>,
    /// Runs per test, each with its own seed.
    #[arg(long, default_value_t = 3, value_name = "K")]
    runs: u64,
    /// Also write Gradescope's results.json here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Runs at a time [default: the number of CPUs].
    #[arg(short = 'p', long = "workers", value_name = "P")]
    workers: Option<usize>,
    /// Seeds start, start+1, ... (a reproducible grading) instead of random.
    #[arg(long, value_name = "S")]
    seed_start: Option<u64>,
    /// Kill a run after this many seconds; it counts as failed.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    timeout: u64,
    /// The grading table [default: scripts/grading.txt as built in].
    #[arg(long, value_name = "FILE")]
    table: Option<PathBuf>,
    /// Path to the workspace's Cargo.toml [default: the one this tool is in].
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Exit with status 1 unless every chosen test passed (for CI).
    #[arg(long)]
    require_full: bool,
    /// Keep the logs of failed runs here [default: <target>/grade].
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("grade: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// One test to grade.
struct Graded {
    part: String,
    binary: usize,
    case: TestCase,
}

fn run(cli: &Cli) -> Result<bool, String> {
    if cli.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let table = match &cli.table {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?
        }
        None => grade::TABLE.to_string(),
    };
    let parts = grade::parse_table(&table)?;
    let chosen = grade::choose(&parts, &cli.names)?;
    let manifest = cli.manifest_path.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new("."))
            .join("Cargo.toml")
    });
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();

    // Build the chosen packages' tests once.
    let mut args = vec![
        "--manifest-path".to_string(),
        manifest.display().to_string(),
    ];
    let mut packages: Vec<&str> = chosen.iter().map(|p| p.package.as_str()).collect();
    packages.sort_unstable();
    packages.dedup();
    // The whole workspace, as `cargo test` builds it: the same feature
    // resolution, so a warm build compiles nothing again.
    args.push("--workspace".into());
    eprintln!("grade: building the tests (for {})", packages.join(", "));
    let binaries: Vec<_> = discover::build(&cargo, &args)?
        .into_iter()
        .filter(|b| packages.contains(&b.package.as_str()))
        .collect();
    let mut graded: Vec<Graded> = Vec::new();
    for (index, binary) in binaries.iter().enumerate() {
        let (all, ignored) = discover::list(binary)?;
        for name in &all {
            let is_ignored = ignored.contains(name);
            // An ignored test is graded only where a `+` selector names it.
            if let Some(part) = chosen.iter().find(|p| p.grades(binary, name, is_ignored)) {
                graded.push(Graded {
                    part: part.name.clone(),
                    binary: index,
                    case: TestCase {
                        binary: index,
                        name: name.clone(),
                        ignored: is_ignored,
                        label: format!("{}/{name}", binary.target),
                    },
                });
            }
        }
    }
    for part in &chosen {
        if !graded.iter().any(|g| g.part == part.name) {
            eprintln!(
                "grade: warning: part {} matches no test of package {}",
                part.name, part.package
            );
        }
    }

    let seed_source = match cli.seed_start {
        Some(start) => SeedSource::Sequential { start },
        None => SeedSource::Random,
    };
    let jobs = seeds::plan(graded.len(), cli.runs, false, seed_source, &mut rand::rng());
    let output_dir = cli.output.clone().unwrap_or_else(|| {
        discover::target_dir(&cargo, Some(&manifest))
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("grade")
    });
    let config = RunConfig {
        log_topics: None,
        timeout: Some(Duration::from_secs(cli.timeout)),
        output_dir,
        archive: false,
        release: false,
    };
    let results = run_all(cli, &binaries, &graded, jobs, &config);
    let scores = grade::score(&chosen, &results);
    println!("{}", grade::render(&scores, &results, cli.runs));
    if let Some(path) = &cli.json {
        let value = grade::gradescope(&chosen, &results, started.elapsed().as_secs_f64());
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let full = results.iter().all(TestResult::ok);
    Ok(full || !cli.require_full)
}

/// Runs the jobs on `workers` threads; a test's remaining runs are skipped
/// once one has failed (it has lost its points).
fn run_all(
    cli: &Cli,
    binaries: &[TestBinary],
    graded: &[Graded],
    jobs: Vec<Job>,
    config: &RunConfig,
) -> Vec<TestResult> {
    let mut results: Vec<TestResult> = graded
        .iter()
        .map(|g| TestResult {
            part: g.part.clone(),
            name: g.case.label.clone(),
            runs: cli.runs,
            passed: 0,
            skipped: 0,
            failure: None,
            seconds: 0.0,
        })
        .collect();
    let total = jobs.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let failed: Arc<Mutex<Vec<bool>>> = Arc::new(Mutex::new(vec![false; graded.len()]));
    let stop = Arc::new(AtomicBool::new(false));
    let workers = cli
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let terminal = std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(total as u64),
        if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {elapsed}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let queue = queue.clone();
            let failed = failed.clone();
            let stop = stop.clone();
            scope.spawn(move || {
                loop {
                    // The queue lock is held only to pop a job.
                    let Some(job) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
                    else {
                        return;
                    };
                    if failed.lock().unwrap_or_else(|e| e.into_inner())[job.test] {
                        let _ = tx.send((job, None));
                        continue;
                    }
                    let g = &graded[job.test];
                    let result = runner::run_one(&binaries[g.binary], &g.case, job, config, &stop);
                    if let Ok(r) = &result
                        && r.outcome.failed()
                    {
                        failed.lock().unwrap_or_else(|e| e.into_inner())[job.test] = true;
                    }
                    let _ = tx.send((job, Some(result)));
                }
            });
        }
        drop(tx);
        let mut done_runs: BTreeMap<usize, u64> = BTreeMap::new();
        for (job, result) in rx {
            bar.inc(1);
            let r = &mut results[job.test];
            let g = &graded[job.test];
            match result {
                None => r.skipped += 1,
                Some(Err(e)) => {
                    r.failure.get_or_insert(Failure {
                        seed: job.seed,
                        reason: format!("could not run: {e}"),
                        replay: String::new(),
                    });
                }
                Some(Ok(run)) => {
                    r.seconds += run.seconds;
                    if run.outcome.failed() {
                        if r.failure.is_none() {
                            r.failure = Some(Failure {
                                seed: job.seed,
                                reason: run.reason().unwrap_or_else(|| "failed".into()),
                                replay: runner::replay_command(
                                    &binaries[g.binary],
                                    &g.case,
                                    job.seed,
                                    false,
                                ),
                            });
                        }
                    } else if matches!(run.outcome, runner::Outcome::Passed { .. }) {
                        r.passed += 1;
                    }
                }
            }
            let finished = done_runs.entry(job.test).or_default();
            *finished += 1;
            if *finished == cli.runs {
                let line = format!(
                    "[{}] {}: {} ({}/{} runs passed, {:.1} s)",
                    r.part,
                    r.name,
                    if r.ok() { "passed" } else { "FAILED" },
                    r.passed,
                    r.runs,
                    r.seconds
                );
                if terminal {
                    bar.set_message(line);
                } else {
                    eprintln!("{line}");
                }
            }
        }
    });
    bar.finish_and_clear();
    results
}
