//! The kv tests' linearizability check has a deterministic budget (search
//! steps per partition, `labtest::history::LINEARIZABILITY_CHECK_STEPS`), so a
//! seed's verdict replays: the same history gives the same verdict and the same
//! step counts on a quiet machine and on a loaded one, also when the budget
//! runs out. And an undecided check passes loudly, leaving its history behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labtest::history::{KvOperation, LINEARIZABILITY_CHECK_STEPS, check_with_budget};
use linearizability::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use linearizability::{CheckResult, Limits, LinearizationInfo, Operation};

/// A small deterministic generator (64-bit LCG, Knuth's constants): the
/// history must be the same on every run without depending on a rand version.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// A linearizable history, hard enough that the search backtracks: `clients`
/// clients each run `per_client` operations back to back on `keys` keys, with
/// long, overlapping intervals; every operation takes effect at a random point
/// inside its interval, and a Get returns the value at that point.
fn overlapping_history(
    clients: usize,
    per_client: usize,
    keys: u64,
    seed: u64,
) -> Vec<KvOperation> {
    let mut rng = Lcg(seed);
    // (linearization point, client, index, call, return, key, op)
    let mut planned = Vec::new();
    for client in 0..clients {
        let mut now = rng.below(50) as i64;
        for j in 0..per_client {
            let call = now;
            let return_time = call + 1 + rng.below(300) as i64;
            let point = call + rng.below((return_time - call) as u64) as i64;
            let op = match rng.below(10) {
                0..=5 => KvOp::Append,
                6 => KvOp::Put,
                _ => KvOp::Get,
            };
            planned.push((point, client, j, call, return_time, rng.below(keys), op));
            now = return_time + rng.below(20) as i64;
        }
    }
    planned.sort();
    let mut values = vec![String::new(); keys as usize];
    planned
        .into_iter()
        .map(|(_, client, j, call, return_time, key, op)| {
            let value = &mut values[key as usize];
            let written = format!("x {client} {j} y");
            let (input, output) = match op {
                KvOp::Get => (KvInput::get(key.to_string()), value.clone()),
                KvOp::Put => {
                    *value = written.clone();
                    (KvInput::put(key.to_string(), written), String::new())
                }
                KvOp::Append => {
                    value.push_str(&written);
                    (KvInput::append(key.to_string(), written), String::new())
                }
            };
            Operation {
                client_id: client,
                input,
                call,
                output: KvOutput { value: output },
                return_time,
            }
        })
        .collect()
}

/// What must replay: the verdict, and each partition's result and steps.
fn outcome(
    (result, info): (CheckResult, LinearizationInfo<KvInput, KvOutput>),
) -> (CheckResult, Vec<(CheckResult, u64, bool)>) {
    let partitions = info
        .partitions
        .iter()
        .map(|p| (p.result, p.steps, p.out_of_steps))
        .collect();
    (result, partitions)
}

/// Runs `check` with every core busy: twice as many threads as cores spin
/// until it returns.
#[allow(clippy::disallowed_methods)] // allowed: real threads, outside any simulation, are the load
fn under_load<T>(check: impl FnOnce() -> T) -> T {
    let stop = Arc::new(AtomicBool::new(false));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spinners: Vec<_> = (0..2 * cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x: u64 = 1;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(3).wrapping_add(1));
                }
            })
        })
        .collect();
    let value = check();
    stop.store(true, Ordering::Relaxed);
    for spinner in spinners {
        spinner.join().expect("a spinner thread panicked");
    }
    value
}

#[test]
fn the_same_history_gets_the_same_verdict_and_steps_under_load() {
    let history = overlapping_history(8, 40, 3, 7);
    let quiet = outcome(check_with_budget(
        history.clone(),
        LINEARIZABILITY_CHECK_STEPS,
    ));
    assert_eq!(
        quiet.0,
        CheckResult::Ok,
        "the generated history is linearizable"
    );
    let steps: u64 = quiet.1.iter().map(|p| p.1).sum();
    let largest = quiet.1.iter().map(|p| p.1).max().unwrap();
    assert!(
        steps > history.len() as u64,
        "the search must have backtracked ({steps} steps for {} operations)",
        history.len()
    );
    for _ in 0..3 {
        let loaded = under_load(|| {
            outcome(check_with_budget(
                history.clone(),
                LINEARIZABILITY_CHECK_STEPS,
            ))
        });
        assert_eq!(loaded, quiet, "a loaded machine changed the check");
    }

    // A budget that runs out for the largest partition: Unknown, every time,
    // with the same partitions out of steps and the same counts.
    let tight = largest / 2;
    let quiet_tight = outcome(check_with_budget(history.clone(), tight));
    assert_eq!(quiet_tight.0, CheckResult::Unknown);
    assert!(quiet_tight.1.iter().any(|p| p.2 && p.1 == tight));
    for _ in 0..3 {
        let loaded = under_load(|| outcome(check_with_budget(history.clone(), tight)));
        assert_eq!(loaded, quiet_tight, "a loaded machine changed the check");
    }

    // The same through the library's entry point with the same limits.
    let direct = linearizability::check_operations_verbose_limited(
        &KvModel,
        history.clone(),
        Limits::steps_per_partition(tight),
    );
    assert_eq!(outcome(direct), quiet_tight);
    println!(
        "{} operations, {} partitions: {steps} steps in all, the largest partition {largest}; \
         Ok quiet and under load; with a budget of {tight}: Unknown both ways",
        history.len(),
        quiet.1.len()
    );
}

#[test]
fn an_illegal_partition_is_found_with_the_same_steps_under_load() {
    let mut history = overlapping_history(8, 40, 3, 11);
    // A read of something never written makes its key's partition illegal.
    let read = history
        .iter_mut()
        .find(|op| op.input.op == KvOp::Get)
        .expect("a Get");
    read.output.value = "never written".into();
    let illegal_steps = |(result, partitions): (CheckResult, Vec<(CheckResult, u64, bool)>)| {
        assert_eq!(result, CheckResult::Illegal);
        partitions
            .into_iter()
            .filter(|p| p.0 == CheckResult::Illegal)
            .map(|p| p.1)
            .collect::<Vec<_>>()
    };
    let quiet = illegal_steps(outcome(check_with_budget(
        history.clone(),
        LINEARIZABILITY_CHECK_STEPS,
    )));
    assert_eq!(quiet.len(), 1);
    let loaded = under_load(|| {
        outcome(check_with_budget(
            history.clone(),
            LINEARIZABILITY_CHECK_STEPS,
        ))
    });
    assert_eq!(illegal_steps(loaded), quiet);
}

#[test]
fn an_undecided_check_passes_and_leaves_its_history_for_lincheck() {
    let history = overlapping_history(8, 40, 3, 7);
    let seed = 4242;
    let checked = history.clone();
    let written = Arc::new(std::sync::Mutex::new(None));
    let written_in_run = written.clone();
    labrpc::sim::Builder::new().seed(seed).run(async move {
        // Undecided: passes (no panic), with the report on stderr.
        labtest::history::check_linearizable_within(checked, 10);
        let path = labrpc::log::run_file_path(seed, ".history.txt");
        // Poisoning cannot happen: nothing else holds this lock.
        *written_in_run.lock().unwrap() = Some(path);
    });
    let path = written
        .lock()
        .unwrap()
        .take()
        .expect("the run recorded its path");
    let text = std::fs::read_to_string(&path).expect("the history file");
    let events = linearizability::parse::parse_kv("history", &text).unwrap();
    let read_back = linearizability::operations_from_events(&events).unwrap();
    assert_eq!(read_back.len(), history.len());
    // Checked again without a budget, as the printed lincheck command would.
    let result = linearizability::check_operations(&KvModel, &read_back, None);
    assert_eq!(result, CheckResult::Ok);
    let picture = std::path::PathBuf::from(
        path.to_string_lossy()
            .replace(".history.txt", ".history.html"),
    );
    assert!(picture.exists(), "no picture at {}", picture.display());
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(picture);
}
