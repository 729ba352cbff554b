//! A harness clerk's side of the history: the Paxos series' key/value
//! harnesses (kvpaxos, shardkv) wrap each clerk with a [`Recorder`], which
//! times every Get, Put and Append the clerk completes into the test's
//! shared history ([`timed`]) while the test records, and the test hands
//! the history to [`check_recorded`] at the end.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use linearizability::models::kv::KvInput;

use crate::history::{KvLog, check_linearizable, timed, timed_write};

/// Records one clerk's operations into a test's history.
#[derive(Clone)]
pub struct Recorder {
    /// The test's history; None when the test keeps none.
    history: Option<KvLog>,
    /// Whether the test records now (a test may stop recording a stretch the
    /// checker cannot decide in time).
    recording: Arc<AtomicBool>,
    /// The clerk's number in the history.
    client_id: usize,
}

impl Recorder {
    /// A recorder for clerk `client_id` into `history`, while `recording`.
    pub fn new(history: Option<KvLog>, recording: Arc<AtomicBool>, client_id: usize) -> Recorder {
        Recorder {
            history,
            recording,
            client_id,
        }
    }

    fn log(&self) -> Option<&KvLog> {
        let recording = self.recording.load(Ordering::SeqCst);
        self.history.as_ref().filter(|_| recording)
    }

    /// Runs the clerk's Get of `key` (`op`), recording it; returns its value.
    pub async fn get(&self, key: &str, op: impl Future<Output = String>) -> String {
        timed(self.log(), self.client_id, KvInput::get(key), op).await
    }

    /// Runs the clerk's Put of `value` to `key` (`op`), recording it.
    pub async fn put(&self, key: &str, value: &str, op: impl Future<Output = ()>) {
        let input = KvInput::put(key, value);
        timed_write(self.log(), self.client_id, input, op).await;
    }

    /// Runs the clerk's Append of `value` to `key` (`op`), recording it.
    pub async fn append(&self, key: &str, value: &str, op: impl Future<Output = ()>) {
        let input = KvInput::append(key, value);
        timed_write(self.log(), self.client_id, input, op).await;
    }
}

/// Checks the recorded history, if the test kept one and it is not empty,
/// with the project's linearizability checker, and says how many operations
/// it checked. Fails the test if the history is not linearizable.
pub fn check_recorded(history: Option<&KvLog>) {
    let Some(history) = history else {
        return;
    };
    let operations = history.read();
    if operations.is_empty() {
        return;
    }
    let count = operations.len();
    check_linearizable(operations);
    println!("  linearizability checked: {count} operations");
}
