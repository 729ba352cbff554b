//! The end-of-test linearizability check of the key/value labs, with the Go
//! tests' semantics (their `porcupine.CheckOperationsVerbose` call).
//!
//! kvraft's and shardkv's tests record every client operation with its
//! virtual call and return times and hand the history here when the test
//! ends. The checker gets one second of wall time, as in Go: it runs after
//! the simulated part of the test, so the budget does not touch the run's
//! determinism, only whether a very slow check gives up. `Illegal` writes the
//! HTML picture of the history next to the run's log and timeline, prints its
//! path and fails the test; `Unknown` (out of time) passes with Go's info line.

use std::time::Duration;

use labrpc::sim;
use linearizability::models::kv::{KvInput, KvModel, KvOutput};
use linearizability::{CheckResult, Operation};

/// Go's budget for the check.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// One recorded client operation.
pub type KvOperation = Operation<KvInput, KvOutput>;

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
