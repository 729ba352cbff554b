//! `kvstore-sim`: runs a replica program against one config or all 17 and
//! grades it (CS3700 Project 6, Gen D semantics). See docs/lab-kvstore.md.

#![allow(clippy::disallowed_methods)] // allowed: real processes; a run's seed is drawn from the OS and printed

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use kvstore::config::{BUILTIN, Config};
use kvstore::report::Verdict;
use kvstore::udp::{self, Options, RunError};

#[derive(Parser, Debug)]
#[command(
    name = "kvstore-sim",
    about = "Run a key/value replica program under CS3700's simulator and grade it",
    after_help = "CONFIG is a config file or a built-in name (simple-1 … advanced-4); `all` runs the 17 built-in configs.\nThe seed is printed; rerun with --seed to get the same workload and fault schedule."
)]
struct Cli {
    /// The replica program (default: ./3700kvstore if it exists, else the
    /// reference kvstore-replica next to this program).
    #[arg(short, long)]
    replica: Option<PathBuf>,
    /// Seed of the workload, drops and faults (default: random, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the verdicts as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Don't echo the replicas' stdout/stderr.
    #[arg(short, long)]
    silence: bool,
    /// With `all`: read the configs from this directory instead of the built-in ones.
    #[arg(short = 'c', long = "config-directory")]
    config_directory: Option<PathBuf>,
    /// Run the reference replica in-process on virtual time instead of
    /// real processes: deterministic, replayable by seed, seconds per config.
    #[arg(long)]
    deterministic: bool,
    /// A config file or name, or `all`.
    config: String,
}

fn default_replica() -> PathBuf {
    let student = PathBuf::from("./3700kvstore");
    if student.exists() {
        return student;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("kvstore-replica")))
        .unwrap_or(student)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // The run loop polls the flag at least every 10 ms and then ends
        // every replica before exiting.
        if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
            eprintln!("warning: cannot handle Ctrl-C: {e}");
        }
    }
    let replica = cli.replica.clone().unwrap_or_else(default_replica);
    if !replica.exists() {
        eprintln!(
            "error: replica program {} does not exist (use --replica PATH)",
            replica.display()
        );
        return ExitCode::from(2);
    }
    let seed = cli.seed.unwrap_or_else(rand::random);
    let options = Options {
        replica: replica.clone(),
        silence: cli.silence,
        progress: true,
    };

    let configs: Vec<(String, Config)> = if cli.config == "all" {
        match all_configs(cli.config_directory.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        match Config::load(&cli.config) {
            Ok(c) => vec![c],
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let single = configs.len() == 1 && cli.config != "all";
    if cli.deterministic {
        // BEGIN SOLUTION
        return deterministic(&cli, &configs, seed, single);
        // HANDOUT
        // let _ = single;
        // eprintln!("error: --deterministic runs the reference replica, which the handout does not have");
        // return ExitCode::from(2);
        // END SOLUTION
    }
    println!("replica {}, seed {seed}", replica.display());
    let mut verdicts: Vec<Verdict> = Vec::new();
    for (i, (name, config)) in configs.iter().enumerate() {
        // A seed in the file wins over a random one, never over --seed.
        let run_seed = cli.seed.or(config.seed).unwrap_or(seed);
        if !single {
            eprintln!("[{}/{}] {name}", i + 1, configs.len());
        }
        let verdict = match udp::run(name, config, run_seed, &options, &interrupted) {
            Ok(v) => v,
            Err(RunError::Interrupted) => {
                eprintln!("\ninterrupted; every replica has been ended");
                return ExitCode::from(130);
            }
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::from(2);
            }
        };
        print_verdict(&verdict, name, config, single);
        if !verdict.passed {
            println!(
                "  replay: kvstore-sim --replica {} --seed {run_seed} {name}",
                replica.display()
            );
        }
        verdicts.push(verdict);
    }
    finish(&cli, &verdicts, single)
}

/// One run's verdict: the full report of a single config, or the config's
/// line of `all` (its description, or its name if it has none).
fn print_verdict(verdict: &Verdict, name: &str, config: &Config, single: bool) {
    if single {
        print!("{}", verdict.full_report());
    } else if config.description.is_empty() {
        println!("{}", verdict.summary_line(name));
    } else {
        println!("{}", verdict.summary_line(&config.description));
    }
}

/// The `all` total, the JSON file, the exit status.
fn finish(cli: &Cli, verdicts: &[Verdict], single: bool) -> ExitCode {
    let passed = verdicts.iter().filter(|v| v.passed).count();
    if !single {
        println!("Passed {passed} out of {} tests", verdicts.len());
    }
    if let Some(path) = &cli.json {
        let text = serde_json::to_string_pretty(verdicts).expect("verdicts serialize");
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if passed == verdicts.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// BEGIN SOLUTION
/// `--deterministic`: the reference replica in-process on virtual time.
fn deterministic(cli: &Cli, configs: &[(String, Config)], seed: u64, single: bool) -> ExitCode {
    println!("deterministic mode (reference replica, virtual time), seed {seed}");
    let mut verdicts = Vec::new();
    for (name, config) in configs {
        let run_seed = cli.seed.or(config.seed).unwrap_or(seed);
        let outcome = kvstore::det::run(name, config, run_seed, Default::default());
        let verdict = outcome.verdict;
        print_verdict(&verdict, name, config, single);
        println!("  seed {run_seed} trace {:016x}", outcome.digest);
        if !verdict.passed {
            println!("  replay: kvstore-sim --deterministic --seed {run_seed} {name}");
        }
        verdicts.push(verdict);
    }
    finish(cli, &verdicts, single)
}
// END SOLUTION

fn all_configs(dir: Option<&Path>) -> Result<Vec<(String, Config)>, kvstore::config::ConfigError> {
    BUILTIN
        .iter()
        .map(|(name, text)| match dir {
            Some(dir) => {
                let (_, config) =
                    Config::load(&dir.join(format!("{name}.json")).to_string_lossy())?;
                Ok((name.to_string(), config))
            }
            None => Ok((name.to_string(), Config::from_json(name, text)?)),
        })
        .collect()
}
