//! The end-of-test linearizability check of the key/value labs, with the Go
//! tests' semantics (their `porcupine.CheckOperationsVerbose` call).
//!
//! kvraft's and shardkv's tests record every client operation with its
//! virtual call and return times ([`timed`]) and hand the history here when
//! the test ends (the Go tests' append checks live here too). The checker
//! gets one second of wall time, as in Go: it runs after the simulated part
//! of the test, so the budget does not touch the run's determinism, only
//! whether a very slow check gives up. `Illegal` writes the
//! HTML picture of the history next to the run's log and timeline, prints its
//! path and fails the test; `Unknown` (out of time) passes with Go's info line.

use std::future::Future;
use std::time::Duration;

use labrpc::sim;
use linearizability::models::kv::{KvInput, KvModel, KvOutput};
use linearizability::{CheckResult, OpLog, Operation};

/// Go's budget for the check.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

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

/// Checks `history`; panics (failing the test) if it is not linearizable.
/// Call it from inside the simulation, so the picture is named by its seed.
pub fn check_linearizable(history: Vec<KvOperation>) {
    let (result, info) = linearizability::check_operations_verbose(
        &KvModel,
        history,
        Some(LINEARIZABILITY_CHECK_TIMEOUT),
    );
    match result {
        CheckResult::Ok => {}
        CheckResult::Unknown => {
            println!("info: linearizability check timed out, assuming history is ok");
        }
        CheckResult::Illegal => {
            let path = labrpc::log::run_file_path(sim::seed(), ".history.html");
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| linearizability::write_html(&KvModel, &info, &path))
                .map(|()| path)
                .or_else(|_| linearizability::write_html_temp(&KvModel, &info));
            match written {
                Ok(path) => println!("info: wrote history visualization to {}", path.display()),
                Err(error) => println!("info: failed to write history visualization: {error}"),
            }
            panic!("history is not linearizable");
        }
    }
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

    #[test]
    fn a_stale_read_fails_and_draws_the_history() {
        let failure = labrpc::sim::Builder::new()
            .seed(2)
            .try_run(async {
                check_linearizable(vec![
                    op(0, KvInput::put("x", "1"), "", 0, 10),
                    op(1, KvInput::get("x"), "", 20, 30),
                ]);
            })
            .unwrap_err();
        assert!(
            failure.message.contains("history is not linearizable"),
            "{}",
            failure.message
        );
        let path = labrpc::log::run_file_path(2, ".history.html");
        assert!(path.exists(), "no picture at {}", path.display());
        let _ = std::fs::remove_file(path);
    }
}
