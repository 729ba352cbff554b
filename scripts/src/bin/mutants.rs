#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! mutants: how often do the tests catch each planted bug? See docs/testing.md
//! ("Mutants") and `labtools::mutants`.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)] // the CLI's doc comments are clap's --help text, not rustdoc

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::Parser;
use labtools::discover::{self, TestBinary, TestCase};
use labtools::mutants::{self, Mutant};
use labtools::runner::{self, RunConfig};
use labtools::seeds::Job;

/// Applies each mutant (a patch planting one bug) to a scratch copy of the
/// workspace, builds the package's tests with the given features, runs the
/// selected tests over N seeds, and prints per mutant the fraction of seeds on
/// which some test fails (the mutant is caught), with the command that replays
/// one catching seed.
///
/// Example: scripts/mutants/run scripts/mutants/raft -n 30 -p 2 --package raft
///          --features raft/no-internal-asserts
#[derive(Parser, Debug)]
#[command(name = "mutants", version)]
struct Cli {
    /// Patch files, or directories of `*.patch` files (taken in name order).
    #[arg(required_unless_present = "baseline")]
    mutants: Vec<PathBuf>,
    /// The package whose tests run (repeatable).
    #[arg(long = "package", value_name = "PKG", required = true)]
    packages: Vec<String>,
    /// Only this integration-test target (repeatable; `cargo test --test`).
    #[arg(long = "test", value_name = "TARGET")]
    targets: Vec<String>,
    /// Cargo features for the build (comma-separated or repeated), e.g.
    /// `raft/no-internal-asserts` so the reference's own assertions are off.
    #[arg(long, value_name = "FEATURES", value_delimiter = ',')]
    features: Vec<String>,
    /// Test-name patterns (substrings, any of them, like `cargo test`'s
    /// filter; repeatable). None: every test of the package.
    #[arg(short = 't', long = "tests", value_name = "PATTERN")]
    patterns: Vec<String>,
    /// Seeds per mutant.
    #[arg(short = 'n', long = "seeds", default_value_t = 20, value_name = "N")]
    seeds: u64,
    /// Seeds are S, S+1, ..., S+N-1 (the same for every mutant).
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed_start: u64,
    /// Runs at a time.
    #[arg(short = 'p', long = "workers", default_value_t = 2, value_name = "P")]
    workers: usize,
    /// Run every selected test on every seed (default: a seed stops at its
    /// first catching test).
    #[arg(long)]
    all_tests: bool,
    /// Tests of this integration-test target (repeatable) form the "before"
    /// set: each mutant's row then shows the seeds caught by the tests
    /// outside it (before) and by all selected tests (after), from one run.
    #[arg(long = "new-target", value_name = "TARGET")]
    new_targets: Vec<String>,
    /// Also run the unpatched workspace first (its row must show 0 caught).
    #[arg(long)]
    baseline: bool,
    /// Kill a run after this many seconds and count it as catching (a hang).
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    timeout: u64,
    /// The workspace's Cargo.toml [default: the one cargo finds from here].
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Where the scratch copy, its target directory and the logs of catching
    /// runs go [default: <target>/mutants].
    #[arg(long, value_name = "DIR")]
    scratch: Option<PathBuf>,
    /// List the mutants with their descriptions and exit.
    #[arg(long)]
    list: bool,
}

/// What one mutant got.
struct Tally {
    name: String,
    description: String,
    /// None: it did not build (or not apply).
    caught: Option<u64>,
    /// With `--new-target`: the seeds caught without the new targets' tests.
    caught_before: Option<u64>,
    seeds: u64,
    /// Catching runs per test label.
    by_test: BTreeMap<String, u64>,
    /// (seed, replay command, reason) of the first catching seed.
    example: Option<(u64, String, String)>,
    error: Option<String>,
    seconds: f64,
}

fn workspace_root(cargo: &str, manifest: Option<&Path>) -> Result<PathBuf, String> {
    let mut command = Command::new(cargo);
    command.args(["locate-project", "--workspace", "--message-format", "plain"]);
    if let Some(path) = manifest {
        command.arg("--manifest-path").arg(path);
    }
    let output = command
        .output()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo locate-project failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    manifest
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("odd workspace manifest {}", manifest.display()))
}

/// Builds the tests of the copy and selects the runs.
fn build(
    cli: &Cli,
    cargo: &str,
    copy: &Path,
    target: &Path,
) -> Result<(Vec<TestBinary>, Vec<TestCase>), String> {
    let mut args = vec![
        "--manifest-path".to_string(),
        copy.join("Cargo.toml").display().to_string(),
        "--target-dir".to_string(),
        target.display().to_string(),
    ];
    for package in &cli.packages {
        args.extend(["-p".to_string(), package.clone()]);
    }
    for test in &cli.targets {
        args.extend(["--test".to_string(), test.clone()]);
    }
    if !cli.features.is_empty() {
        args.extend(["--features".to_string(), cli.features.join(",")]);
    }
    let binaries = discover::build(cargo, &args)?;
    let lists = binaries
        .iter()
        .map(discover::list)
        .collect::<Result<Vec<_>, _>>()?;
    let tests = discover::select(&binaries, &lists, &cli.patterns, false, false);
    if tests.is_empty() {
        return Err(format!(
            "no test matches {:?} in {} test binaries",
            cli.patterns,
            binaries.len()
        ));
    }
    Ok((binaries, tests))
}

/// Runs every (seed, test) job, `workers` at a time; a seed that is already
/// caught skips its remaining tests unless `all_tests`.
fn run_seeds(
    cli: &Cli,
    mutant: Option<&Mutant>,
    binaries: &[TestBinary],
    tests: &[TestCase],
    logs: &Path,
    stop: &Arc<AtomicBool>,
) -> Tally {
    let seeds: Vec<u64> = (0..cli.seeds).map(|i| cli.seed_start + i).collect();
    // Within a seed the tests of the new targets go last: an old test that
    // fails decides both counts.
    let mut order: Vec<usize> = (0..tests.len()).collect();
    order.sort_by_key(|&t| cli.new_targets.contains(&binaries[tests[t].binary].target));
    let mut jobs = VecDeque::new();
    for (iteration, &seed) in seeds.iter().enumerate() {
        for &test in &order {
            jobs.push_back(Job {
                test,
                iteration: iteration as u64,
                seed,
            });
        }
    }
    let config = RunConfig {
        log_topics: None,
        timeout: (cli.timeout > 0).then(|| Duration::from_secs(cli.timeout)),
        output_dir: logs.to_path_buf(),
        archive: false,
        release: false,
    };
    let queue = Mutex::new(jobs);
    let is_new = |test: &TestCase| cli.new_targets.contains(&binaries[test.binary].target);
    let caught_seeds: Mutex<BTreeMap<u64, (usize, String)>> = Mutex::new(BTreeMap::new());
    // Seeds caught by a test outside the new targets (only with --new-target).
    let caught_before: Mutex<BTreeMap<u64, ()>> = Mutex::new(BTreeMap::new());
    let by_test: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
    let (errors_tx, errors_rx) = mpsc::channel::<String>();
    std::thread::scope(|scope| {
        for _ in 0..cli.workers.max(1) {
            let errors_tx = errors_tx.clone();
            let (queue, caught_seeds, caught_before, by_test, config) =
                (&queue, &caught_seeds, &caught_before, &by_test, &config);
            let is_new = &is_new;
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    // A poisoned lock means another worker panicked: stop too.
                    let Some(job) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                        return;
                    };
                    let test = &tests[job.test];
                    let caught = caught_seeds
                        .lock()
                        .map(|c| c.contains_key(&job.seed))
                        .unwrap_or(true);
                    let decided = if cli.new_targets.is_empty() {
                        caught
                    } else {
                        // Both counts are decided once an old test caught the
                        // seed; a new test is moot once any test did.
                        let before = caught_before
                            .lock()
                            .map(|c| c.contains_key(&job.seed))
                            .unwrap_or(true);
                        before || (caught && is_new(test))
                    };
                    if decided && !cli.all_tests {
                        continue;
                    }
                    let binary = &binaries[test.binary];
                    match runner::run_one(binary, test, job, config, stop) {
                        Ok(result) if result.outcome.failed() => {
                            if let Ok(mut counts) = by_test.lock() {
                                *counts.entry(test.label.clone()).or_default() += 1;
                            }
                            if !is_new(test)
                                && let Ok(mut before) = caught_before.lock()
                            {
                                before.insert(job.seed, ());
                            }
                            if let Ok(mut caught) = caught_seeds.lock() {
                                let reason = result.reason().unwrap_or_else(|| "failed".into());
                                caught.entry(job.seed).or_insert((job.test, reason));
                            }
                        }
                        Ok(_) => {}
                        Err(error) => {
                            let _ = errors_tx
                                .send(format!("{} seed {}: {error}", test.label, job.seed));
                        }
                    }
                }
            });
        }
    });
    drop(errors_tx);
    let errors: Vec<String> = errors_rx.into_iter().collect();
    let caught = caught_seeds.into_inner().unwrap_or_default();
    let example = caught.iter().next().map(|(&seed, (test, reason))| {
        let test = &tests[*test];
        let binary = &binaries[test.binary];
        let replay = match mutant {
            Some(mutant) => mutants::replay_command(
                mutant,
                &binary.package,
                &binary.cargo_target_arg(),
                &test.name,
                seed,
                &cli.features,
            ),
            None => runner::replay_command(binary, test, seed, false),
        };
        let first_line = reason.lines().next().unwrap_or("").to_string();
        (seed, replay, format!("{}: {first_line}", test.label))
    });
    Tally {
        name: mutant.map_or("(none)".into(), |m| m.name.clone()),
        description: mutant.map_or("the unpatched workspace".into(), |m| m.description.clone()),
        caught: Some(caught.len() as u64),
        caught_before: (!cli.new_targets.is_empty())
            .then(|| caught_before.into_inner().map_or(0, |c| c.len() as u64)),
        seeds: cli.seeds,
        by_test: by_test.into_inner().unwrap_or_default(),
        example,
        error: (!errors.is_empty()).then(|| format!("could not run: {}", errors.join("; "))),
        seconds: 0.0,
    }
}

fn print_tally(tally: &Tally) {
    match (tally.caught, &tally.error) {
        (Some(caught), error) => {
            let before = tally.caught_before.map_or(String::new(), |b| {
                format!("before {b:>4}/{:<4} after ", tally.seeds)
            });
            println!(
                "{:<32} {before}caught {caught:>4}/{:<4} ({:5.1} %)  [{:.0} s]  {}",
                tally.name,
                tally.seeds,
                100.0 * caught as f64 / tally.seeds.max(1) as f64,
                tally.seconds,
                tally.description
            );
            if let Some(error) = error {
                println!("    error: {error}");
            }
        }
        (None, error) => println!(
            "{:<32} NOT RUN: {}",
            tally.name,
            error.as_deref().unwrap_or("?")
        ),
    }
    if !tally.by_test.is_empty() {
        let tests: Vec<String> = tally
            .by_test
            .iter()
            .map(|(test, n)| format!("{test} {n}"))
            .collect();
        println!("    failing runs by test: {}", tests.join(", "));
    }
    if let Some((seed, replay, reason)) = &tally.example {
        println!("    seed {seed}: {reason}");
        println!("    replay: {replay}");
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mutants = mutants::load(&cli.mutants).map_err(|e| e.to_string())?;
    if cli.list {
        for mutant in &mutants {
            println!("{:<32} {}", mutant.name, mutant.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let root = workspace_root(&cargo, cli.manifest_path.as_deref())?;
    let scratch = match &cli.scratch {
        Some(dir) => dir.clone(),
        None => discover::target_dir(&cargo, cli.manifest_path.as_deref())
            .unwrap_or_else(|| root.join("target"))
            .join("mutants"),
    };
    let copy = scratch.join("workspace");
    // Every mutant starts from the workspace as it is now, whatever is
    // edited while they run.
    let snapshot = mutants::Snapshot::take(&root).map_err(|e| e.to_string())?;
    let target = scratch.join("target");
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nmutants: interrupted, stopping the running tests");
        })
        .map_err(|e| format!("could not install the Ctrl-C handler: {e}"))?;
    }
    eprintln!(
        "mutants: {} mutants × {} seeds (from {}), {} at a time; {} files copied to {}",
        mutants.len(),
        cli.seeds,
        cli.seed_start,
        cli.workers,
        snapshot.len(),
        copy.display()
    );
    let mut rows: Vec<Option<&Mutant>> = Vec::new();
    if cli.baseline {
        rows.push(None);
    }
    rows.extend(mutants.iter().map(Some));
    let mut tallies = Vec::new();
    for mutant in rows {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let started = Instant::now();
        let name = mutant.map_or("(none)", |m| m.name.as_str());
        let not_run = |error: String| Tally {
            name: name.to_string(),
            description: mutant.map_or(String::new(), |m| m.description.clone()),
            caught: None,
            caught_before: None,
            seeds: cli.seeds,
            by_test: BTreeMap::new(),
            example: None,
            error: Some(error),
            seconds: 0.0,
        };
        snapshot.sync(&copy).map_err(|e| e.to_string())?;
        if let Some(mutant) = mutant
            && let Err(error) = mutants::apply(&copy, mutant)
        {
            // A patch that does not apply is the user's to fix: say so loudly.
            eprintln!("mutants: {error}");
            let tally = not_run(error.to_string());
            print_tally(&tally);
            tallies.push(tally);
            continue;
        }
        eprintln!("mutants: building {name}");
        let tally = match build(&cli, &cargo, &copy, &target) {
            Err(error) => not_run(format!("does not build: {error}")),
            Ok((binaries, tests)) => {
                eprintln!(
                    "mutants: {name}: {} tests × {} seeds",
                    tests.len(),
                    cli.seeds
                );
                let logs = scratch.join("logs").join(name);
                let _ = std::fs::remove_dir_all(&logs);
                run_seeds(&cli, mutant, &binaries, &tests, &logs, &stop)
            }
        };
        let tally = Tally {
            seconds: started.elapsed().as_secs_f64(),
            ..tally
        };
        print_tally(&tally);
        tallies.push(tally);
    }
    // Leave the copy unpatched, so nothing patched lingers.
    snapshot.sync(&copy).map_err(|e| e.to_string())?;

    println!();
    let seeds = format!(
        "seeds {}..={}",
        cli.seed_start,
        cli.seed_start + cli.seeds.saturating_sub(1)
    );
    let fraction =
        |c: u64, n: u64| format!("{c}/{n} ({:.0} %)", 100.0 * c as f64 / n.max(1) as f64);
    if cli.new_targets.is_empty() {
        println!("| mutant | caught / seeds ({seeds}) | bug |");
        println!("|---|---|---|");
    } else {
        println!(
            "| mutant | before: caught without {} ({seeds}) | after: caught by all | bug |",
            cli.new_targets.join(", ")
        );
        println!("|---|---|---|---|");
    }
    for tally in &tallies {
        let caught = match tally.caught {
            Some(c) => fraction(c, tally.seeds),
            None => "not run".into(),
        };
        match tally.caught_before {
            Some(b) => println!(
                "| {} | {} | {caught} | {} |",
                tally.name,
                fraction(b, tally.seeds),
                tally.description
            ),
            None if !cli.new_targets.is_empty() => println!(
                "| {} | not run | not run | {} |",
                tally.name, tally.description
            ),
            None => println!("| {} | {caught} | {} |", tally.name, tally.description),
        }
    }
    let failed_setup = tallies
        .iter()
        .any(|t| t.caught.is_none() || t.error.is_some());
    let baseline_caught = tallies
        .iter()
        .any(|t| t.name == "(none)" && t.caught.is_some_and(|c| c > 0));
    if baseline_caught {
        println!("The unpatched workspace failed on some seeds: the counts above overstate.");
    }
    Ok(if failed_setup || baseline_caught {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn main() -> ExitCode {
    labtools::exit_code("mutants", run(Cli::parse()))
}
