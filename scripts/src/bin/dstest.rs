#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! dstest: runs lab tests many times, in parallel, each run with its own seed.
//! See scripts/README.md.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)] // the CLI's doc comments are clap's --help text, not rustdoc

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use labtools::discover::{self, TestCase};
use labtools::runner::{self, Outcome, RunConfig, RunResult};
use labtools::seeds::{self, Job, SeedSource};
use labtools::stats::{self, Row};

/// Runs the matching lab tests N times each, P at a time, every run with its
/// own LAB_SEED; keeps the logs of failed runs; prints failed / total /
/// mean ± std time per test.
#[derive(Parser, Debug)]
#[command(name = "dstest", version)]
struct Cli {
    /// Test-name patterns, matched as substrings like `cargo test`'s filter
    /// (any of them); none selects every test.
    patterns: Vec<String>,
    /// Runs per test.
    #[arg(short = 'n', long = "iter", default_value_t = 10, value_name = "N")]
    iterations: u64,
    /// Runs at a time (the same test may run in parallel with itself).
    /// Default: the number of CPUs.
    #[arg(short = 'p', long = "workers", value_name = "P")]
    workers: Option<usize>,
    /// Where to keep the logs of failed runs [default: <target>/dstest/<UTC date_time>].
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Test only this package (repeatable; default: as `cargo test` would).
    #[arg(long = "package", value_name = "PKG")]
    packages: Vec<String>,
    /// Test only this integration-test target (repeatable; `cargo test --test`).
    #[arg(long = "test", value_name = "TARGET")]
    targets: Vec<String>,
    /// Build and run the tests in release mode.
    #[arg(long)]
    release: bool,
    /// Path to the workspace's (or a package's) Cargo.toml.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Patterns must equal the whole test name.
    #[arg(long)]
    exact: bool,
    /// Also run tests marked #[ignore].
    #[arg(long)]
    include_ignored: bool,
    /// Seeds start, start+1, ... for iterations 0, 1, ... of every test
    /// (a reproducible sweep) instead of random.
    #[arg(long, value_name = "S")]
    seed_start: Option<u64>,
    /// LAB_LOG for the runs (`all`, `vote,leader`, `all,-net`); `off` runs
    /// without the structured log.
    #[arg(long = "log", default_value = "all", value_name = "TOPICS")]
    log: String,
    /// Run all iterations of one test before the next (default: round-robin).
    #[arg(short, long)]
    sequential: bool,
    /// Keep the logs of passing runs too.
    #[arg(short, long)]
    archive: bool,
    /// Kill a run after this many seconds (fractions allowed) and count it as
    /// failed (0: never).
    #[arg(long, default_value_t = 600.0, value_name = "SECS", value_parser = seconds)]
    timeout: f64,
    /// Stop starting runs after this many failures.
    #[arg(long, value_name = "N")]
    max_fail: Option<u64>,
    /// List the selected tests and exit.
    #[arg(long)]
    list: bool,
    /// No progress bars (they are off anyway when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// UTC `YYYYmmdd_HHMMSS` (no time-zone database needed).
/// `--timeout`'s value: a number of seconds, not negative (a duration of
/// more than 10 years is refused too: it would not fit a `Duration` well).
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if (0.0..=315_360_000.0).contains(&secs) => Ok(secs),
        _ => Err(format!("{text:?} is not a number of seconds (0 or more)")),
    }
}

fn timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}_{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

enum Event {
    Started(Job),
    Finished(RunResult),
    Error(Job, String),
}

/// The progress display: an overall bar and one bar per test.
struct Display {
    multi: MultiProgress,
    overall: ProgressBar,
    tests: Vec<ProgressBar>,
    name_width: usize,
}

const TEST_TEMPLATE: &str = "{prefix:<W} {bar:30.green/white} {pos:>4}/{len:<4} {msg}";
const FAILED_TEMPLATE: &str = "{prefix:<W.red.bold} {bar:30.red/white} {pos:>4}/{len:<4} {msg}";
const PASSED_TEMPLATE: &str = "{prefix:<W.green} {bar:30.green/white} {pos:>4}/{len:<4} {msg}";

impl Display {
    fn new(tests: &[TestCase], iterations: u64, jobs: u64, visible: bool) -> Display {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let name_width = tests
            .iter()
            .map(|t| t.label.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 48);
        let overall = multi.add(ProgressBar::new(jobs));
        overall.set_style(
            ProgressStyle::with_template(
                "{spinner:.cyan} [{elapsed_precise}] {bar:40.cyan/blue} {pos}/{len} runs  {msg}  eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(120));
        let mut display = Display {
            multi,
            overall,
            tests: Vec::new(),
            name_width,
        };
        for test in tests {
            let bar = display.multi.add(ProgressBar::new(iterations));
            bar.set_style(display.style(TEST_TEMPLATE));
            bar.set_prefix(test.label.clone());
            display.tests.push(bar);
        }
        display
    }

    fn style(&self, template: &str) -> ProgressStyle {
        let template = template.replace('W', &self.name_width.to_string());
        ProgressStyle::with_template(&template)
            .expect("a valid template")
            .progress_chars("=> ")
    }

    /// Prints a line above the bars (or plainly when they are hidden).
    fn println(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
}

/// Per-test bookkeeping for the display and the table.
#[derive(Default)]
struct Tally {
    row: Row,
    running: u64,
}

impl Tally {
    fn message(&self) -> String {
        let mut parts = Vec::new();
        if self.running > 0 {
            parts.push(format!("{} running", self.running));
        }
        if self.row.failed > 0 {
            parts.push(format!("{} failed", self.row.failed));
        }
        if self.row.unknown > 0 {
            parts.push(format!("{} unknown", self.row.unknown));
        }
        parts.join(", ")
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build_args = Vec::new();
    for package in &cli.packages {
        build_args.extend(["-p".to_string(), package.clone()]);
    }
    for target in &cli.targets {
        build_args.extend(["--test".to_string(), target.clone()]);
    }
    if cli.release {
        build_args.push("--release".into());
    }
    if let Some(path) = &cli.manifest_path {
        build_args.extend(["--manifest-path".to_string(), path.display().to_string()]);
    }
    let binaries = discover::build(&cargo, &build_args)?;
    let lists = binaries
        .iter()
        .map(discover::list)
        .collect::<Result<Vec<_>, _>>()?;
    let tests = discover::select(
        &binaries,
        &lists,
        &cli.patterns,
        cli.exact,
        cli.include_ignored,
    );
    if tests.is_empty() {
        return Err(format!(
            "no test matches {:?} (in {} test binaries)",
            cli.patterns,
            binaries.len()
        ));
    }
    if cli.list {
        for test in &tests {
            let binary = &binaries[test.binary];
            println!(
                "{}  (-p {} {}){}",
                test.name,
                binary.package,
                binary.cargo_target_arg(),
                if test.ignored { " [ignored]" } else { "" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }

    let output_dir = match &cli.output {
        Some(dir) => dir.clone(),
        None => discover::target_dir(&cargo, cli.manifest_path.as_deref())
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("dstest")
            .join(timestamp()),
    };
    let log_topics = match cli.log.as_str() {
        "off" | "none" | "" => None,
        topics => Some(topics.to_string()),
    };
    let config = RunConfig {
        log_topics,
        timeout: (cli.timeout > 0.0).then(|| Duration::from_secs_f64(cli.timeout)),
        output_dir: output_dir.clone(),
        archive: cli.archive,
        release: cli.release,
    };
    let source = match cli.seed_start {
        Some(start) => SeedSource::Sequential { start },
        None => SeedSource::Random,
    };
    let jobs = seeds::plan(
        tests.len(),
        cli.iterations,
        cli.sequential,
        source,
        &mut rand::rng(),
    );
    let workers = cli
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1)
        .min(jobs.len().max(1));

    // Ctrl-C: stop starting runs, kill the running ones, print what finished.
    // A second Ctrl-C exits at once.
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let interrupted = interrupted.clone();
        let presses = AtomicUsize::new(0);
        ctrlc::set_handler(move || {
            if presses.fetch_add(1, Ordering::SeqCst) > 0 {
                eprintln!("\ndstest: interrupted again, exiting");
                std::process::exit(130);
            }
            interrupted.store(true, Ordering::SeqCst);
            stop.store(true, Ordering::SeqCst);
        })
        .map_err(|e| format!("could not install the Ctrl-C handler: {e}"))?;
    }

    eprintln!(
        "dstest: {} tests × {} runs, {} at a time; logs of failed runs go to {}",
        tests.len(),
        cli.iterations,
        workers,
        output_dir.display()
    );

    let visible = !cli.no_progress && std::io::stderr().is_terminal();
    let display = Display::new(&tests, cli.iterations, jobs.len() as u64, visible);
    let queue = Arc::new(Mutex::new(jobs.into_iter().collect::<VecDeque<Job>>()));
    let binaries = Arc::new(binaries);
    let shared_tests = Arc::new(tests.clone());
    let config = Arc::new(config);
    let (events, received) = mpsc::channel();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let queue = queue.clone();
        let binaries = binaries.clone();
        let tests = shared_tests.clone();
        let config = config.clone();
        let stop = stop.clone();
        let events = events.clone();
        handles.push(std::thread::spawn(move || {
            loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Some(job) = queue.lock().map(|mut q| q.pop_front()).ok().flatten() else {
                    break;
                };
                let test = &tests[job.test];
                let binary = &binaries[test.binary];
                let _ = events.send(Event::Started(job));
                let event = match runner::run_one(binary, test, job, &config, &stop) {
                    Ok(result) => Event::Finished(result),
                    Err(error) => Event::Error(job, error.to_string()),
                };
                if events.send(event).is_err() {
                    break;
                }
            }
        }));
    }
    drop(events);

    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut tallies: Vec<Tally> = tests
        .iter()
        .map(|t| Tally {
            row: Row {
                name: t.label.clone(),
                ..Row::default()
            },
            running: 0,
        })
        .collect();
    let mut failures: Vec<(RunResult, String)> = Vec::new();
    // Passed runs whose linearizability check was undecided.
    let mut undecided: Vec<(RunResult, String)> = Vec::new();
    let mut errors = 0u64;
    let mut max_fail_hit = false;
    for event in received {
        match event {
            Event::Started(job) => {
                tallies[job.test].running += 1;
                display.tests[job.test].set_message(tallies[job.test].message());
                display.tests[job.test].tick();
            }
            Event::Finished(result) => {
                let i = result.job.test;
                let tally = &mut tallies[i];
                tally.running -= 1;
                let counted = result.outcome != Outcome::Interrupted;
                if counted {
                    tally.row.total += 1;
                    tally.row.time.push(result.seconds);
                }
                if result.outcome.failed() {
                    tally.row.failed += 1;
                } else if result.outcome == (Outcome::Passed { undecided: true }) {
                    tally.row.unknown += 1;
                }
                // Style and message first: a bar redraws on inc, not on set_style.
                if tally.row.failed == 1 && result.outcome.failed() {
                    display.tests[i].set_style(display.style(FAILED_TEMPLATE));
                } else if tally.row.total == cli.iterations && tally.row.failed == 0 {
                    display.tests[i].set_style(display.style(PASSED_TEMPLATE));
                }
                display.tests[i].set_message(tally.message());
                if counted {
                    display.tests[i].inc(1);
                    display.overall.inc(1);
                } else {
                    display.tests[i].tick();
                }
                // Failed and undecided runs are announced now and listed at the end.
                if result.outcome.failed()
                    || result.outcome == (Outcome::Passed { undecided: true })
                {
                    let test = &tests[i];
                    let replay = runner::replay_command(
                        &binaries[test.binary],
                        test,
                        result.job.seed,
                        cli.release,
                    );
                    let kept = result
                        .kept
                        .first()
                        .map_or(String::new(), |p| format!(" -> {}", p.display()));
                    if result.outcome.failed() {
                        display.println(&format!(
                            "FAILED {} seed {} ({:.1} s): {}{kept}",
                            test.label,
                            result.job.seed,
                            result.seconds,
                            runner::indent_reason(
                                result.reason().as_deref().unwrap_or("see the log"),
                                "    "
                            ),
                        ));
                        failures.push((result, replay));
                        let total_failed = failures.len() as u64;
                        if cli.max_fail.is_some_and(|max| total_failed >= max) && !max_fail_hit {
                            max_fail_hit = true;
                            stop.store(true, Ordering::SeqCst);
                        }
                    } else {
                        display.println(&format!(
                            "UNKNOWN {} seed {} ({:.1} s): passed, but its linearizability check \
                             was undecided (out of its step budget){kept}",
                            test.label, result.job.seed, result.seconds,
                        ));
                        undecided.push((result, replay));
                    }
                }
            }
            Event::Error(job, error) => {
                tallies[job.test].running -= 1;
                errors += 1;
                display.println(&format!(
                    "dstest: could not run {} seed {}: {error}",
                    tests[job.test].label, job.seed
                ));
            }
        }
        let failed = failures.len();
        let running: u64 = tallies.iter().map(|t| t.running).sum();
        display
            .overall
            .set_message(format!("{running} running, {failed} failed"));
        if stop.load(Ordering::SeqCst) && interrupted.load(Ordering::SeqCst) {
            display
                .overall
                .set_message("interrupted: stopping the running tests");
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    display.overall.finish_and_clear();
    for bar in &display.tests {
        bar.finish_and_clear();
    }
    let _ = display.multi.clear();

    let rows: Vec<Row> = tallies.into_iter().map(|t| t.row).collect();
    println!("{}", stats::table(&rows, color));
    let was_interrupted = interrupted.load(Ordering::SeqCst);
    if was_interrupted {
        println!("Interrupted: the table counts the runs that finished.");
    } else if max_fail_hit {
        println!("Stopped after {} failures (--max-fail).", failures.len());
    }
    if !failures.is_empty() {
        println!(
            "{} failed runs; logs in {}:",
            failures.len(),
            output_dir.display()
        );
        list_runs(
            &mut failures,
            &tests,
            true,
            " (the replay command is at the top of each log)",
        );
    }
    if !undecided.is_empty() {
        println!(
            "{} runs passed with an undecided linearizability check (Unknown: a partition \
             used its whole budget of search steps; the same seed gives the same verdict); \
             logs and histories in {}:",
            undecided.len(),
            output_dir.display()
        );
        list_runs(&mut undecided, &tests, false, "");
    }
    // Undecided runs passed, as `cargo test` says; they are counted and
    // listed, not failures.
    let code = if !failures.is_empty() || errors > 0 {
        1
    } else if was_interrupted {
        130
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

/// Lists the first runs of `runs` (failed or undecided, with their replay
/// commands) by test and iteration: each with its seed, its failure reason
/// if `with_reason`, its kept files and how to replay it; then how many
/// more there are, followed by `more_note`.
fn list_runs(
    runs: &mut [(RunResult, String)],
    tests: &[TestCase],
    with_reason: bool,
    more_note: &str,
) {
    const SHOWN: usize = 20;
    runs.sort_by_key(|(r, _)| (r.job.test, r.job.iteration));
    for (result, replay) in runs.iter().take(SHOWN) {
        let files: Vec<&str> = result.kept.iter().map(|p| file_name(p)).collect();
        let reason = if with_reason {
            let reason = result.reason();
            let reason = reason.as_deref().unwrap_or("failed");
            format!(": {}", runner::indent_reason(reason, "      "))
        } else {
            String::new()
        };
        println!(
            "  {} seed {}{reason}  [{}]",
            tests[result.job.test].label,
            result.job.seed,
            files.join(", ")
        );
        println!("    replay: {replay}");
    }
    if runs.len() > SHOWN {
        println!("  ... and {} more{more_note}", runs.len() - SHOWN);
    }
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
}

fn main() -> ExitCode {
    labtools::exit_code("dstest", run(Cli::parse()))
}
