//! The end-of-test linearizability check of the key/value labs, with the Go
//! tests' semantics (their `porcupine.CheckOperationsVerbose` call).
//!
//! kvraft's and shardkv's tests (and the Paxos series' kv tests) record every
//! client operation with its virtual call and return times ([`timed`]) and
//! hand the history here when the test ends (the Go tests' append checks live
//! here too).
//!
//! Go gives the checker one second of wall time and passes a check that runs
//! out of it (`Unknown`). A wall-clock budget breaks replay: the same seed may
//! be decided on a quiet machine and give up on a loaded one. Here the budget
//! is [`LINEARIZABILITY_CHECK_STEPS`] search steps per partition (per key), a
//! count that depends on the history alone, so a seed's verdict is the same on
//! every run and every machine. The budget is about 30 times the most that
//! any partition of any current test needed (measured over thousands of runs,
//! see the constant); a check that uses it up means the history is far harder
//! than anything the reference produces.
//!
//! Verdicts:
//! - `Ok` prints one info line with the step counts (how close to the budget).
//! - `Illegal` writes the HTML picture of the history next to the run's log
//!   and timeline, prints its path and fails the test.
//! - `Unknown` (a partition used its whole budget) still passes, as in Go,
//!   since a correct but slow-to-check history must not fail a student's
//!   test; but it is never silent. It writes the history (Porcupine's kv
//!   format, for `lincheck`) and its picture, and prints, on the real stderr
//!   so that even a passing `cargo test` shows it, a block starting
//!   [`UNKNOWN_MARKER`] with the seed, the replay command, both files, and the
//!   `lincheck` command that checks the history again with a larger budget.
//!   `scripts/dstest` counts such runs in a column of their own.

use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;

use labrpc::sim;
use linearizability::models::kv::{KvInput, KvModel, KvOutput};
use linearizability::{CheckResult, Limits, LinearizationInfo, OpLog, Operation};

/// The check's budget: search steps per partition (per key). Deterministic,
/// unlike Go's one second of wall time; see the module documentation.
///
/// Measured with the reference, from the `info: linearizability check Ok`
/// lines: over the 26 tests that check (kvraft, shardkv, kvpaxos, pbservice),
/// 150 seeds each, the largest partition of a check took a median of 173
/// steps, 9,229 at the 99th percentile and at most 264,024 (shardkv's
/// `unreliable3_4b`); kvpaxos's `unreliable`, whose histories are the
/// hardest, over 2,150 seeds: median 3,933, 99th percentile 91,688, at most
/// 335,679. The budget is 30 times that maximum.
/// Porcupine's own hardest kv history (`c50-ok`, from a real 50-client
/// kvraft run) needs 389,923. Ten million steps take about a second of CPU
/// (`c50-ok`'s 905,980 steps take 0.1 s), so the budget costs no more time
/// than Go's, per partition.
pub const LINEARIZABILITY_CHECK_STEPS: u64 = 10_000_000;

/// How an undecided check's report starts, on its own line; `scripts/dstest`
/// looks for it to count runs whose check was `Unknown`.
pub const UNKNOWN_MARKER: &str = "linearizability check UNKNOWN";

/// One recorded client operation.
pub type KvOperation = Operation<KvInput, KvOutput>;

/// A test's history of client operations, shared by its client tasks.
pub type KvLog = OpLog<KvInput, KvOutput>;

/// The virtual time now, in nanoseconds since the run began (the history's clock).
pub fn now_nanos() -> i64 {
    sim::now().as_nanos_since_start() as i64
}

/// Runs one client operation (`op` yields the value a Get read, or an empty
/// string) and, when a history is kept, records it with its virtual call and
/// return times. Returns the value.
pub async fn timed(
    log: Option<&KvLog>,
    client_id: usize,
    input: KvInput,
    op: impl Future<Output = String>,
) -> String {
    let call = now_nanos();
    let value = op.await;
    let return_time = now_nanos();
    if let Some(log) = log {
        log.append(Operation {
            client_id,
            input,
            call,
            output: KvOutput {
                value: value.clone(),
            },
            return_time,
        });
    }
    value
}

/// [`timed`] for a Put or an Append: `op` yields nothing, and the history
/// records an empty output.
pub async fn timed_write(
    log: Option<&KvLog>,
    client_id: usize,
    input: KvInput,
    op: impl Future<Output = ()>,
) {
    let op = async {
        op.await;
        String::new()
    };
    timed(log, client_id, input, op).await;
}

/// Go's `checkClntAppends`: every append `x clnt j y` for j < count is in
/// `v` exactly once, in order.
pub fn check_clnt_appends(clnt: usize, v: &str, count: usize) {
    let mut last_off: Option<usize> = None;
    for j in 0..count {
        let wanted = format!("x {clnt} {j} y");
        let Some(off) = v.find(&wanted) else {
            panic!("{clnt} missing element {wanted} in Append result {v}");
        };
        let off1 = v.rfind(&wanted);
        assert!(
            off1 == Some(off),
            "duplicate element {wanted} in Append result"
        );
        assert!(
            last_off.is_none_or(|last| off > last),
            "wrong order for element {wanted} in Append result"
        );
        last_off = Some(off);
    }
}

/// Go's `checkConcurrentAppends`: each client's appends are all present,
/// once each, in that client's order.
pub fn check_concurrent_appends(v: &str, counts: &[usize]) {
    for (i, &count) in counts.iter().enumerate() {
        check_clnt_appends(i, v, count);
    }
}

/// Checks `history` within [`LINEARIZABILITY_CHECK_STEPS`] per partition;
/// panics (failing the test) if it is not linearizable, and reports an
/// undecided check loudly (see the module documentation). Call it from inside
/// the simulation, so the files are named by its test and seed.
pub fn check_linearizable(history: Vec<KvOperation>) {
    check_linearizable_within(history, LINEARIZABILITY_CHECK_STEPS);
}

/// [`check_linearizable`] with another budget (`steps` per partition), for
/// testing the checks themselves.
pub fn check_linearizable_within(history: Vec<KvOperation>, steps: u64) {
    let (result, info) = check_with_budget(history, steps);
    match result {
        CheckResult::Ok => println!(
            "info: linearizability check Ok: {}",
            step_summary(&info, steps)
        ),
        CheckResult::Unknown => report_unknown(&info, steps),
        CheckResult::Illegal => {
            match write_picture(&info) {
                Ok(path) => println!("info: wrote history visualization to {}", path.display()),
                Err(error) => println!("info: failed to write history visualization: {error}"),
            }
            panic!("history is not linearizable");
        }
    }
}

/// The in-test check itself: the kv model, `steps` per partition, no timeout.
/// Its verdict and step counts depend on the history alone.
pub fn check_with_budget(
    history: Vec<KvOperation>,
    steps: u64,
) -> (CheckResult, LinearizationInfo<KvInput, KvOutput>) {
    linearizability::check_operations_verbose_limited(
        &KvModel,
        history,
        Limits::steps_per_partition(steps),
    )
}

fn step_summary(info: &LinearizationInfo<KvInput, KvOutput>, budget: u64) -> String {
    format!(
        "{} operations, {} partitions, {} search steps; the largest partition took {} of its \
         budget of {budget}",
        info.history.len(),
        info.partitions.len(),
        info.steps(),
        info.max_partition_steps(),
    )
}

/// Writes the history's picture next to the run's log (or to a temporary
/// file if that fails).
fn write_picture(info: &LinearizationInfo<KvInput, KvOutput>) -> std::io::Result<PathBuf> {
    let path = labrpc::log::run_file_path(sim::seed(), ".history.html");
    path.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| linearizability::write_html(&KvModel, info, &path))
        .map(|()| path)
        .or_else(|_| linearizability::write_html_temp(&KvModel, info))
}

/// Writes the history in Porcupine's kv format next to the run's log.
fn write_history(info: &LinearizationInfo<KvInput, KvOutput>) -> Result<PathBuf, String> {
    let text = linearizability::parse::format_kv(&info.history)
        .ok_or("a key or value holds a line break, which the kv format cannot carry")?;
    let path = labrpc::log::run_file_path(sim::seed(), ".history.txt");
    path.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(path)
}

/// The undecided check's report, on the real stderr (libtest captures only
/// `print!`/`eprint!`, so a passing test shows it too).
fn report_unknown(info: &LinearizationInfo<KvInput, KvOutput>, budget: u64) {
    let seed = sim::seed();
    // The run files are `<test>-<seed><suffix>`: the test's name for the replay
    // command, also in real-time mode, where the thread is not named after it.
    let picture_path = labrpc::log::run_file_path(seed, ".history.html");
    let test = picture_path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(&format!("-{seed}.history.html")))
        .map(str::to_string);
    let replay = sim::replay_command(seed, test.as_deref());
    let history = write_history(info);
    let picture = write_picture(info);
    let shown = |written: Result<PathBuf, String>| match written {
        Ok(path) => path.display().to_string(),
        Err(error) => format!("(not written: {error})"),
    };
    let history_text = shown(history.clone());
    let recheck = match &history {
        Ok(path) => format!(
            "cargo run --release -p linearizability --bin lincheck -- --model kv --max-steps {} {}",
            budget.saturating_mul(100),
            path.display()
        ),
        Err(_) => "(no history file)".to_string(),
    };
    let report = format!(
        "{UNKNOWN_MARKER} (seed {seed}): {} of {} partitions used their whole budget of \
         {budget} search steps, so the history was neither proven \
         linearizable nor not. The test passes, as Go's does when its check times out, but the \
         verdict is undecided; the same seed gives the same verdict, so replay it and check the \
         history with a larger budget.\n  \
         checked: {}\n  \
         replay:  {replay}\n  \
         history: {history_text}\n  \
         picture: {}\n  \
         recheck: {recheck}\n",
        info.out_of_steps(),
        info.partitions.len(),
        step_summary(info, budget),
        shown(picture.map_err(|e| e.to_string())),
    );
    let _ = std::io::stderr().write_all(report.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(
        client_id: usize,
        input: KvInput,
        output: &str,
        call: i64,
        return_time: i64,
    ) -> KvOperation {
        Operation {
            client_id,
            input,
            call,
            output: KvOutput {
                value: output.to_string(),
            },
            return_time,
        }
    }

    #[test]
    fn a_linearizable_history_passes() {
        labrpc::sim::Builder::new().seed(1).run(async {
            check_linearizable(vec![
                op(0, KvInput::put("x", "1"), "", 0, 10),
                op(1, KvInput::get("x"), "1", 20, 30),
            ]);
        });
    }

    /// Runs `f` on a thread named after `test` and this process: a run's files are named after
    /// its thread (`<name>-<seed>.history.html`), so two copies of this test binary running at
    /// once with the same fixed seed write, check and remove files of their own.
    #[allow(clippy::disallowed_methods)] // allowed: a libtest-side thread around a whole run, outside any simulation
    fn on_own_thread<T: Send>(test: &str, f: impl FnOnce() -> T + Send) -> T {
        let name = format!("labtest-history-{test}-pid{}", std::process::id());
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name(name)
                .spawn_scoped(scope, f);
            thread.expect("spawn the test's thread").join().unwrap()
        })
    }

    /// Checks `history` in a run with `seed`, which must fail; returns the picture it drew.
    fn illegal_picture(seed: u64, history: Vec<KvOperation>) -> String {
        let failure = labrpc::sim::Builder::new()
            .seed(seed)
            .try_run(async { check_linearizable(history) })
            .unwrap_err();
        assert!(
            failure.message.contains("history is not linearizable"),
            "{}",
            failure.message
        );
        let path = labrpc::log::run_file_path(seed, ".history.html");
        assert!(path.exists(), "no picture at {}", path.display());
        let picture = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(path);
        picture
    }

    #[test]
    fn a_stale_read_fails_and_draws_the_history() {
        on_own_thread("a_stale_read", || {
            illegal_picture(
                2,
                vec![
                    op(0, KvInput::put("x", "1"), "", 0, 10),
                    op(1, KvInput::get("x"), "", 20, 30),
                ],
            )
        });
    }

    /// Beside the stale read, a key whose check would take ages (30 concurrent appends and a read
    /// of a value never written): it is drawn as far as a step budget took it, not as far as some
    /// wall time did, so the same seed draws the same picture.
    #[test]
    fn the_same_seed_draws_the_same_picture() {
        let mut history: Vec<KvOperation> = (0..30)
            .map(|c| op(c, KvInput::append("a", format!("{c},")), "", 0, 100))
            .collect();
        history.push(op(99, KvInput::get("a"), "never", 0, 100));
        history.push(op(100, KvInput::put("x", "1"), "", 0, 10));
        history.push(op(101, KvInput::get("x"), "", 20, 30));
        let draw = || on_own_thread("same_picture", || illegal_picture(3, history.clone()));
        let first = draw();
        assert!(first.contains("1 Illegal, 1 Unknown"), "{first}");
        // How far the undecidable key's search got, which a wall-clock
        // budget would change from run to run.
        let steps = linearizability::VERBOSE_FIRST_ROUND_STEPS;
        assert!(
            first.contains(&format!(", {steps} search steps</h2>")),
            "{first}"
        );
        assert_eq!(first, draw(), "two pictures of one seed differ");
    }
}
