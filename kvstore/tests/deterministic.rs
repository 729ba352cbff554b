//! The 17 configs in deterministic mode: the simulator and the reference
// SOLUTION FILE
//! replica in one process on virtual time, with the per-hop latency model.
//! Every config must pass its correctness checks; the same seed must give the
//! same run (digest and statistics).

use kvstore::config::{BUILTIN, Config};
use kvstore::det::{self, LatencyModel};

/// The seed of the suite's runs (any failure prints its replay command).
const SEED: u64 = 1;

#[test]
#[allow(clippy::disallowed_methods)] // allowed: two OS threads, each running whole simulations of its own
fn all_17_configs_pass_in_virtual_time() {
    // Two threads: the runs are CPU-bound and independent.
    let names: Vec<&'static str> = BUILTIN.iter().map(|(n, _)| *n).collect();
    let halves: Vec<Vec<&'static str>> = vec![
        names.iter().step_by(2).copied().collect(),
        names.iter().skip(1).step_by(2).copied().collect(),
    ];
    let handles: Vec<_> = halves
        .into_iter()
        .map(|part| {
            std::thread::spawn(move || {
                part.into_iter()
                    .map(|name| {
                        let config = Config::builtin(name).expect("built in");
                        (name, det::run(name, &config, SEED, LatencyModel::default()))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut failures = Vec::new();
    for handle in handles {
        for (name, outcome) in handle.join().expect("a run thread") {
            let v = &outcome.verdict;
            let s = &v.stats;
            println!(
                "{name:<13} {} msgs {:>5} failures {:>3} duplicates {:>2} median {:.6}s tiers {:?}",
                if v.passed { "PASS" } else { "FAIL" },
                s.total_msgs,
                s.failures(),
                s.duplicates,
                s.median_latency(),
                v.tiers()
            );
            if !v.passed {
                failures.push(format!(
                    "{name}: {:?}; replay: kvstore-sim --deterministic --seed {SEED} {name}\n{}",
                    v.failed_checks(),
                    v.full_report()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let config = Config::builtin("advanced-1").expect("built in");
    let a = det::run("advanced-1", &config, 7, LatencyModel::default());
    let b = det::run("advanced-1", &config, 7, LatencyModel::default());
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.verdict.stats.total_msgs, b.verdict.stats.total_msgs);
    assert_eq!(a.verdict.stats.latencies, b.verdict.stats.latencies);
    let c = det::run("advanced-1", &config, 8, LatencyModel::default());
    assert_ne!(a.digest, c.digest, "another seed, another run");
}
