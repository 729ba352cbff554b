//! A harness clerk's side of the history: the Paxos series' key/value
//! harnesses (kvpaxos, shardkv) wrap each clerk with a [`Recorder`], which
//! times every Get, Put and Append the clerk completes into the test's
//! shared history ([`timed`]) while the test records, and the test hands
//! the history to [`check_recorded`] at the end. [`Client`] is that
//! harness clerk, written once for any lab clerk with Get, Put and Append
//! (a [`KvClerk`]); a harness declares its own with [`kv_client!`](crate::kv_client).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrpc::sim::Node;
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

/// A lab's key/value clerk as [`Client`] drives it. The clerk type and this
/// trait are both foreign to a test crate, so a harness implements it on a
/// marker type of its own, with [`kv_client!`](crate::kv_client).
pub trait KvClerk {
    /// The lab's clerk.
    type Clerk: Send;
    /// The clerk's Get of `key`.
    fn get(clerk: &mut Self::Clerk, key: &str) -> impl Future<Output = String> + Send;
    /// The clerk's Put of `value` to `key`.
    fn put(clerk: &mut Self::Clerk, key: &str, value: &str) -> impl Future<Output = ()> + Send;
    /// The clerk's Append of `value` to `key`.
    fn append(clerk: &mut Self::Clerk, key: &str, value: &str) -> impl Future<Output = ()> + Send;
}

/// Declares a harness's recording clerk `$client`, a [`Client`] of `$clerk`:
/// implements [`KvClerk`] on a new marker type `$ops` for a clerk type with
/// `async fn get(&mut self, &str) -> String` and `put`/`append(&mut self,
/// &str, &str)`.
///
/// ```ignore
/// labtest::kv_client!(
///     /// A clerk made by the harness: records what it does in the history.
///     Client, KvOps, kvpaxos::Clerk
/// );
/// ```
#[macro_export]
macro_rules! kv_client {
    ($(#[$attr:meta])* $client:ident, $ops:ident, $clerk:ty) => {
        $(#[$attr])*
        pub type $client = $crate::record::Client<$ops>;

        /// How the harness's recording clerk drives the lab's clerk.
        pub struct $ops;

        impl $crate::record::KvClerk for $ops {
            type Clerk = $clerk;
            async fn get(clerk: &mut $clerk, key: &str) -> String {
                clerk.get(key).await
            }
            async fn put(clerk: &mut $clerk, key: &str, value: &str) {
                clerk.put(key, value).await
            }
            async fn append(clerk: &mut $clerk, key: &str, value: &str) {
                clerk.append(key, value).await
            }
        }
    };
}

/// A clerk made by a key/value harness: runs on a node of its own and
/// records what it does through its [`Recorder`].
pub struct Client<K: KvClerk> {
    clerk: K::Clerk,
    node: Node,
    record: Recorder,
}

impl<K: KvClerk> Client<K> {
    /// `clerk`, whose tasks run on `node`, recording through `record`.
    pub fn new(clerk: K::Clerk, node: Node, record: Recorder) -> Client<K> {
        Client {
            clerk,
            node,
            record,
        }
    }

    /// The node to run this client's task on (for readable logs).
    pub fn node(&self) -> Node {
        self.node.clone()
    }

    /// The clerk's Get of `key`, recorded.
    pub async fn get(&mut self, key: &str) -> String {
        self.record.get(key, K::get(&mut self.clerk, key)).await
    }

    /// The clerk's Put of `value` to `key`, recorded.
    pub async fn put(&mut self, key: &str, value: &str) {
        let op = K::put(&mut self.clerk, key, value);
        self.record.put(key, value, op).await;
    }

    /// The clerk's Append of `value` to `key`, recorded.
    pub async fn append(&mut self, key: &str, value: &str) {
        let op = K::append(&mut self.clerk, key, value);
        self.record.append(key, value, op).await;
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
