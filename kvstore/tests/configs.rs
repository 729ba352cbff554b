//! The replica lab as it is graded: CS3700's 17 configs, one test each, every
//! one running `kvstore-sim` on this crate's `kvstore-replica` (the reference
//! in this repository, the student's own program in a handout) as real
//! processes over UDP, for the config's full 30 s of requests.
//!
//! A test passes when the simulator's verdict passes (every correctness
//! check; the performance tiers are printed, not required). They take about
//! 40 s of wall time each, so they are `#[ignore]`d in the default suite;
//! `scripts/grade kvstore` runs them (scripts/grading.txt), and so does
//! `cargo test -p kvstore --test configs -- --ignored simple_1`.
//!
//! `LAB_SEED` fixes the simulator's seed (workload, drops, faults), as the
//! grader sets it; without it the simulator draws one. Either way a failure
//! prints the seed and the command that runs the same schedule again. A
//! replica that exits at once (the handout's `todo!`) ends the run as soon
//! as the last one is gone, so the test fails in well under a second with
//! the replica's panic message (the replicas run without `RUST_BACKTRACE`
//! unless `LAB_CHILD_BACKTRACE=1` asks for their backtraces).

#![allow(clippy::disallowed_methods)] // allowed: real processes and real time, not a simulation

use std::process::Command;

const SIM: &str = env!("CARGO_BIN_EXE_kvstore-sim");
const REPLICA: &str = env!("CARGO_BIN_EXE_kvstore-replica");

/// At most this many lines of the replicas' own output go into a failure's
/// message (the start of it: the first panic is what matters).
const MAX_REPLICA_LINES: usize = 20;

/// Whether a line of the simulator's output is an echo of a replica's
/// (`[  1.234567  Replica 0001]: text`).
fn is_replica_echo(line: &str) -> bool {
    line.starts_with('[') && line.contains("  Replica ") && line.contains("]: ")
}

/// Runs config `name` against the replica and fails with the report, the
/// replicas' first lines and the replay commands unless it passes.
fn run_config(name: &str) {
    let seed = std::env::var("LAB_SEED").ok().filter(|s| !s.is_empty());
    let mut command = Command::new(SIM);
    // The replicas' backtraces only with LAB_CHILD_BACKTRACE=1: printing one
    // takes about a second, which a replica that fails at once would add.
    let backtrace = std::env::var("LAB_CHILD_BACKTRACE").unwrap_or_else(|_| "0".into());
    command
        .env("RUST_BACKTRACE", backtrace)
        .arg("--replica")
        .arg(REPLICA);
    if let Some(seed) = &seed {
        command.args(["--seed", seed]);
    }
    let output = command
        .arg(name)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kvstore-sim: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The first line says `replica PATH, seed N`.
    let seed = seed.or_else(|| {
        stdout
            .lines()
            .next()
            .and_then(|l| l.rsplit_once("seed "))
            .map(|(_, s)| s.trim().to_string())
    });
    let (echo, report): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|l| is_replica_echo(l));
    let report = report.join("\n");
    // Printed on success too (shown with --nocapture): the tiers.
    println!("{report}");
    if output.status.success() {
        return;
    }
    let seed = seed.unwrap_or_else(|| "?".into());
    let mut replica_lines: Vec<&str> = echo.iter().take(MAX_REPLICA_LINES).copied().collect();
    if echo.len() > MAX_REPLICA_LINES {
        replica_lines.push("...");
    }
    panic!(
        "kvstore {name}: the replica fails (seed {seed})\n\
         replicas' first output lines:\n{}\n{report}\n{stderr}\
         replay: LAB_SEED={seed} cargo test -p kvstore --test configs -- --exact {} --include-ignored\n\
         or:     target/debug/kvstore-sim --replica target/debug/kvstore-replica --seed {seed} {name}",
        if replica_lines.is_empty() {
            "(none)".to_string()
        } else {
            replica_lines.join("\n")
        },
        name.replace('-', "_"),
    );
}

/// A test per config, named after it (`simple-1` is `simple_1`).
macro_rules! configs {
    ($($test:ident => $config:literal),* $(,)?) => {$(
        #[test]
        #[ignore = "about 40 s of real time: scripts/grade kvstore, or cargo test -p kvstore --test configs -- --ignored"]
        fn $test() {
            run_config($config);
        }
    )*};
}

configs! {
    simple_1 => "simple-1",
    simple_2 => "simple-2",
    unreliable_1 => "unreliable-1",
    unreliable_2 => "unreliable-2",
    unreliable_3 => "unreliable-3",
    crash_1 => "crash-1",
    crash_2 => "crash-2",
    crash_3 => "crash-3",
    crash_4 => "crash-4",
    partition_1 => "partition-1",
    partition_2 => "partition-2",
    partition_3 => "partition-3",
    partition_4 => "partition-4",
    advanced_1 => "advanced-1",
    advanced_2 => "advanced-2",
    advanced_3 => "advanced-3",
    advanced_4 => "advanced-4",
}
