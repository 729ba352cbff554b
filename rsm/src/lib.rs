//! A replicated state machine on Raft, written once and reused by kvraft,
//! shardctrler and shardkv.
//!
//! A service supplies a [`StateMachine`]: how to apply one command, and how to
//! save and restore its state. The [`Rsm`] does everything else that every
//! Raft-backed service needs and that is easy to get subtly wrong:
//!
//! * **submit and wait**: [`Rsm::submit`] hands a command to Raft and waits
//!   until that very command is applied at the index Raft gave it. The
//!   entry applied there is ours if it carries the term `start` returned
//!   (an index and a term identify one entry), so if another leader's entry
//!   shows up at that index, or Raft's term moves on, or this peer stops
//!   being leader, the caller learns at once and the client retries
//!   elsewhere. Nothing is answered before it is applied, so reads are never
//!   stale.
//! * **at most once**: commands submitted with a [`ClientTag`] (client id and
//!   sequence number) take effect once, however often a client retries; a
//!   retry of the latest request gets the remembered output. This table is
//!   part of the snapshot, so it survives restarts.
//! * **one apply loop** that applies committed commands in log order, installs
//!   snapshots from the leader, and, when Raft's persisted state nears
//!   `max_raft_state` bytes, snapshots the state machine and lets Raft discard
//!   its log prefix.
//! * **restart**: a new instance restores the state machine from the last
//!   snapshot in its Persister.
//!
// BEGIN SOLUTION
//! The cargo feature `no-internal-asserts` (off by default) turns off this
//! crate's internal assertions, so that a mutant of the reference (see
//! `scripts/mutants/`) faces only the tests' checks, as a student's code does.
//!
//! Locking: one `std::sync::Mutex` guards the state machine and the waiters.
//! It is never held across an `.await`, nor while calling into Raft's `start`
//! (so the apply loop, which holds it while applying, can never deadlock
//! against a handler waiting on Raft). Raft's `snapshot` is called from the
//! apply loop without this lock held.
// HANDOUT
// //! Locking: never hold a `std::sync::Mutex` guard across an `.await`, nor
// //! while calling into Raft.
// END SOLUTION

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use labrpc::sim;
use labrpc::{ClientEnd, Persister, Service};
use raft::{ApplyMsg, Raft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

// BEGIN SOLUTION
/// A submission that is not applied within this long gives up, so a client
/// stuck on a leader cut off in a minority partition moves on.
const SUBMIT_TIMEOUT: Duration = Duration::from_millis(1000);

/// How often a waiting submission checks that its leader is still leader in
/// the same term (a new leader may never apply anything at our index).
const LEADERSHIP_CHECK: Duration = Duration::from_millis(50);

/// Start snapshotting when Raft's state reaches this fraction of the limit,
/// so the state stays under `max_raft_state` with room for the next entries.
const SNAPSHOT_THRESHOLD_PERCENT: usize = 90;
// END SOLUTION

/// What a service's state machine must provide: how to apply one command,
/// and (its [`Snapshot`]) how to save and restore its state.
pub trait StateMachine: Snapshot + Send + 'static {
    type Command: Serialize + DeserializeOwned + Clone + Send + std::fmt::Debug + 'static;
    type Output: Serialize + DeserializeOwned + Clone + Send + std::fmt::Debug + 'static;

    /// Applies one committed command. Must be deterministic: every replica
    /// applies the same commands in the same order and must end in the same state.
    fn apply(&mut self, command: Self::Command) -> Self::Output;
}

/// How a state machine's state goes into a snapshot and comes back out.
///
/// A state that serde can write and read has it already: the whole value is
/// the snapshot, so a state machine that derives `Serialize` and
/// `Deserialize` writes only its `apply`. A state machine that keeps
/// something out of its snapshot (shardkv's store leaves out the GID it is
/// started with) implements this by hand.
pub trait Snapshot {
    /// The state to put in a snapshot.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the state with a snapshot's.
    fn restore(&mut self, snapshot: &[u8]);
}

impl<T: Serialize + DeserializeOwned> Snapshot for T {
    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(self)
    }

    /// Panics on a snapshot that does not decode: the Persister only holds
    /// snapshots that this service wrote, so it is a bug.
    fn restore(&mut self, snapshot: &[u8]) {
        *self = labrpc::codec::decode(snapshot).expect("a snapshot this service wrote");
    }
}

/// Identifies one client request for duplicate detection: a client makes one
/// request at a time and numbers them 1, 2, 3, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClientTag {
    pub client_id: u64,
    pub seq: u64,
}

/// Why a submission did not produce an output. Either way the client should
/// try another server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("this server is not the leader")]
    WrongLeader,
    /// The command was not committed at its index (leadership changed).
    #[error("leadership was lost before the command committed")]
    LostLeadership,
    /// Not applied in time (this leader may be cut off from a majority).
    #[error("the command did not commit in time")]
    Timeout,
    /// The server was shut down.
    #[error("the server is shutting down")]
    Shutdown,
}

// BEGIN SOLUTION
/// What Raft's log carries: the command and the client tag for duplicate
/// detection. (A waiter recognises its own command by the term Raft applies
/// it with: an index and a term identify one entry, Raft's Log Matching
/// property, so nothing else needs to travel through the log.)
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Envelope<C> {
    tag: Option<ClientTag>,
    command: C,
}

/// The snapshot: the service's state plus what the Rsm itself keeps.
#[derive(Serialize, Deserialize)]
struct SnapshotData<O> {
    /// The last log index the snapshot includes.
    index: u64,
    state: Vec<u8>,
    last_outputs: BTreeMap<u64, (u64, O)>,
}

struct Waiter<O> {
    /// The term Raft gave the waiting command; another term at its index
    /// means another leader's entry replaced it.
    term: u64,
    reply: oneshot::Sender<Result<O, SubmitError>>,
}

struct Core<S: StateMachine> {
    machine: S,
    last_applied: u64,
    /// client id -> (latest seq applied, its output)
    last_outputs: BTreeMap<u64, (u64, S::Output)>,
    /// log index -> the submission waiting for it
    waiters: BTreeMap<u64, Waiter<S::Output>>,
}
// END SOLUTION

/// A replicated state machine: a Raft peer plus the service's state.
pub struct Rsm<S: StateMachine> {
    // BEGIN SOLUTION
    me: usize,
    raft: Raft,
    core: Arc<Mutex<Core<S>>>,
    // HANDOUT
    // // 3A: your replica's state: its Raft peer, the state machine, who waits for
    // // which index, the duplicate table (replace this placeholder, which only
    // // makes the skeleton compile)
    // machine: std::marker::PhantomData<S>,
    // END SOLUTION
}

// BEGIN SOLUTION
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
// END SOLUTION

impl<S: StateMachine> Rsm<S> {
    /// Starts a replica: restores from the persisted snapshot, starts Raft
    /// and the apply loop on the current node. `max_raft_state` of `None`
    /// means never snapshot.
    pub fn start(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        max_raft_state: Option<usize>,
        mut machine: S,
    ) -> Arc<Rsm<S>> {
        // BEGIN SOLUTION
        let snapshot = persister.read_snapshot();
        let mut last_outputs = BTreeMap::new();
        let mut last_applied = 0;
        if !snapshot.is_empty() {
            let data: SnapshotData<S::Output> = labrpc::codec::decode(&snapshot)
                .expect("the persisted snapshot is not one this service wrote");
            machine.restore(&data.state);
            last_outputs = data.last_outputs;
            last_applied = data.index;
        }
        // Go's apply channel is unbuffered; capacity 1 is the closest.
        let (apply_tx, apply_rx) = mpsc::channel(1);
        let raft = Raft::make(peers, me, persister.clone(), apply_tx);
        let core = Arc::new(Mutex::new(Core {
            machine,
            last_applied,
            last_outputs,
            waiters: BTreeMap::new(),
        }));
        let rsm = Arc::new(Rsm { me, raft, core });
        let apply_loop = ApplyLoop {
            core: rsm.core.clone(),
            raft: rsm.raft.clone(),
            persister,
            max_raft_state,
            me,
        };
        sim::spawn(apply_loop.run(apply_rx));
        rsm
        // HANDOUT
        // todo!("3A: Rsm::start, restore from the snapshot, start Raft and the apply loop")
        // END SOLUTION
    }

    /// The Raft peer underneath (tests ask it for its state).
    pub fn raft(&self) -> &Raft {
        // BEGIN SOLUTION
        &self.raft
        // HANDOUT
        // todo!("3A: Rsm::raft")
        // END SOLUTION
    }

    /// The Raft service, to register on this server's labrpc endpoint.
    pub fn raft_service(&self) -> Service {
        // BEGIN SOLUTION
        self.raft.service()
        // HANDOUT
        // todo!("3A: Rsm::raft_service")
        // END SOLUTION
    }

    pub fn me(&self) -> usize {
        // BEGIN SOLUTION
        self.me
        // HANDOUT
        // todo!("3A: Rsm::me")
        // END SOLUTION
    }

    /// Runs `command` through the log and returns its output once applied.
    pub async fn submit(&self, command: S::Command) -> Result<S::Output, SubmitError> {
        // BEGIN SOLUTION
        self.propose(None, command).await
        // HANDOUT
        // todo!("3A: Rsm::submit, propose and wait until applied")
        // END SOLUTION
    }

    /// Like [`submit`](Self::submit), but the command takes effect at most
    /// once per `tag`, however many times it is submitted.
    pub async fn submit_once(
        &self,
        tag: ClientTag,
        command: S::Command,
    ) -> Result<S::Output, SubmitError> {
        // BEGIN SOLUTION
        if let Some(output) = self.already_applied(tag) {
            return Ok(output);
        }
        self.propose(Some(tag), command).await
        // HANDOUT
        // todo!("3A: Rsm::submit_once, at most once per tag")
        // END SOLUTION
    }

    /// Reads the state machine directly (for tests and for services that must
    /// inspect their own state, e.g. to decide what to propose).
    pub fn with_state<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        // BEGIN SOLUTION
        f(&lock(&self.core).machine)
        // HANDOUT
        // todo!("3A: Rsm::with_state")
        // END SOLUTION
    }

    /// Stops Raft; pending submissions fail with `Shutdown`.
    pub fn kill(&self) {
        // BEGIN SOLUTION
        self.raft.kill();
        let waiters = std::mem::take(&mut lock(&self.core).waiters);
        for (_, waiter) in waiters {
            let _ = waiter.reply.send(Err(SubmitError::Shutdown));
        }
        // HANDOUT
        // todo!("3A: Rsm::kill")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    fn already_applied(&self, tag: ClientTag) -> Option<S::Output> {
        let core = lock(&self.core);
        match core.last_outputs.get(&tag.client_id) {
            Some((seq, output)) if *seq == tag.seq => Some(output.clone()),
            _ => None,
        }
    }

    async fn propose(
        &self,
        tag: Option<ClientTag>,
        command: S::Command,
    ) -> Result<S::Output, SubmitError> {
        let envelope = Envelope { tag, command };
        let Some((index, term)) = self.raft.start(&envelope) else {
            return Err(SubmitError::WrongLeader);
        };
        tracing::debug!(
            topic = "rsm",
            "S{} proposed {:?} at {index} in T{term}",
            self.me,
            envelope.tag
        );
        let (reply, mut outcome) = oneshot::channel();
        {
            let mut core = lock(&self.core);
            if core.last_applied >= index {
                // Applied before we could register (only possible with real
                // threads): we cannot tell whose entry it was, so the client
                // retries, and duplicate detection makes the retry safe.
                drop(core);
                return Err(SubmitError::LostLeadership);
            }
            if let Some(previous) = core.waiters.insert(index, Waiter { term, reply }) {
                let _ = previous.reply.send(Err(SubmitError::LostLeadership));
            }
        }
        let deadline = sim::now() + SUBMIT_TIMEOUT;
        loop {
            if sim::now() >= deadline {
                self.abandon(index, term);
                tracing::debug!(topic = "rsm", "S{} gave up on {index}: timeout", self.me);
                return Err(SubmitError::Timeout);
            }
            match sim::timeout(LEADERSHIP_CHECK, &mut outcome).await {
                Ok(Ok(result)) => return result,
                Ok(Err(_closed)) => return Err(SubmitError::Shutdown),
                Err(sim::Elapsed) => {
                    let (current_term, is_leader) = self.raft.get_state();
                    if current_term != term || !is_leader {
                        self.abandon(index, term);
                        tracing::debug!(
                            topic = "rsm",
                            "S{} gave up on {index}: now T{current_term}, leader {is_leader}",
                            self.me
                        );
                        return Err(SubmitError::LostLeadership);
                    }
                }
            }
        }
    }

    fn abandon(&self, index: u64, term: u64) {
        let mut core = lock(&self.core);
        if core.waiters.get(&index).is_some_and(|w| w.term == term) {
            core.waiters.remove(&index);
        }
    }
    // END SOLUTION
}

// BEGIN SOLUTION
/// The task that applies what Raft commits.
struct ApplyLoop<S: StateMachine> {
    core: Arc<Mutex<Core<S>>>,
    raft: Raft,
    persister: Persister,
    max_raft_state: Option<usize>,
    me: usize,
}

impl<S: StateMachine> ApplyLoop<S> {
    async fn run(self, mut apply_rx: mpsc::Receiver<ApplyMsg>) {
        while let Some(message) = apply_rx.recv().await {
            match message {
                ApplyMsg::Command {
                    index,
                    term,
                    command,
                } => {
                    self.apply_command(index, term, &command);
                    self.maybe_snapshot(index);
                }
                ApplyMsg::Snapshot { index, data, .. } => self.install_snapshot(index, &data),
            }
        }
    }

    fn apply_command(&self, index: u64, term: u64, bytes: &[u8]) {
        let mut core = lock(&self.core);
        if index <= core.last_applied {
            return; // already covered by a snapshot
        }
        #[cfg(not(feature = "no-internal-asserts"))]
        assert_eq!(
            index,
            core.last_applied + 1,
            "S{}: Raft applied index {index} after {}",
            self.me,
            core.last_applied
        );
        core.last_applied = index;
        let envelope: Envelope<S::Command> = match labrpc::codec::decode(bytes) {
            Ok(envelope) => envelope,
            Err(error) => panic!(
                "S{}: undecodable command at index {index}: {error}",
                self.me
            ),
        };
        let output = match envelope.tag {
            Some(tag) => core.apply_once(tag, envelope.command),
            None => core.machine.apply(envelope.command),
        };
        if let Some(waiter) = core.waiters.remove(&index) {
            let result = if waiter.term == term {
                Ok(output)
            } else {
                Err(SubmitError::LostLeadership)
            };
            let _ = waiter.reply.send(result);
        }
    }

    fn install_snapshot(&self, index: u64, data: &[u8]) {
        let mut core = lock(&self.core);
        if index <= core.last_applied {
            return;
        }
        let snapshot: SnapshotData<S::Output> = match labrpc::codec::decode(data) {
            Ok(snapshot) => snapshot,
            Err(error) => panic!(
                "S{}: undecodable snapshot at index {index}: {error}",
                self.me
            ),
        };
        #[cfg(not(feature = "no-internal-asserts"))]
        assert_eq!(
            snapshot.index, index,
            "S{}: snapshot index disagrees with Raft's",
            self.me
        );
        core.machine.restore(&snapshot.state);
        core.last_outputs = snapshot.last_outputs;
        core.last_applied = index;
        // Whatever waited for an index the snapshot covers was decided by
        // someone else's log; its own fate is unknown, so let it retry.
        let covered: Vec<u64> = core.waiters.range(..=index).map(|(i, _)| *i).collect();
        for i in covered {
            if let Some(waiter) = core.waiters.remove(&i) {
                let _ = waiter.reply.send(Err(SubmitError::LostLeadership));
            }
        }
    }

    fn maybe_snapshot(&self, index: u64) {
        let Some(limit) = self.max_raft_state else {
            return;
        };
        if self.persister.raft_state_size() * 100 < limit * SNAPSHOT_THRESHOLD_PERCENT {
            return;
        }
        let data = {
            let core = lock(&self.core);
            labrpc::codec::encode(&SnapshotData {
                index,
                state: core.machine.snapshot(),
                last_outputs: core.last_outputs.clone(),
            })
        };
        tracing::debug!(
            topic = "snap",
            "S{} snapshots at {index}: {} bytes",
            self.me,
            data.len()
        );
        self.raft.snapshot(index, data);
    }
}

impl<S: StateMachine> Core<S> {
    fn apply_once(&mut self, tag: ClientTag, command: S::Command) -> S::Output {
        if let Some((seq, output)) = self.last_outputs.get(&tag.client_id)
            && *seq >= tag.seq
        {
            // A retry of a request that already took effect. (An older seq
            // cannot be waited on any more: clients make one request at a time.)
            return output.clone();
        }
        let output = self.machine.apply(command);
        self.last_outputs
            .insert(tag.client_id, (tag.seq, output.clone()));
        output
    }
}

// END SOLUTION

// BEGIN SOLUTION
#[cfg(test)]
mod tests {
    use super::*;

    /// A counter: each command adds to it and returns the new total.
    #[derive(Default, Serialize, Deserialize)]
    struct Counter(u64);

    impl StateMachine for Counter {
        type Command = u64;
        type Output = u64;
        fn apply(&mut self, add: u64) -> u64 {
            self.0 += add;
            self.0
        }
    }

    fn core() -> Core<Counter> {
        Core {
            machine: Counter::default(),
            last_applied: 0,
            last_outputs: BTreeMap::new(),
            waiters: BTreeMap::new(),
        }
    }

    fn tag(client_id: u64, seq: u64) -> ClientTag {
        ClientTag { client_id, seq }
    }

    #[test]
    fn apply_once_applies_each_tag_once() {
        let mut core = core();
        assert_eq!(core.apply_once(tag(7, 1), 5), 5);
        // The same request again (a retry that reached the log twice).
        assert_eq!(core.apply_once(tag(7, 1), 5), 5);
        assert_eq!(core.machine.0, 5);
        // Another client's request, and the first client's next one.
        assert_eq!(core.apply_once(tag(8, 1), 1), 6);
        assert_eq!(core.apply_once(tag(7, 2), 10), 16);
        // A stale duplicate of an older request changes nothing.
        assert_eq!(core.apply_once(tag(7, 1), 5), 16);
        assert_eq!(core.machine.0, 16);
    }

    #[test]
    fn snapshot_data_round_trip_keeps_dedup_table() {
        let mut core = core();
        core.apply_once(tag(1, 3), 4);
        let data = labrpc::codec::encode(&SnapshotData {
            index: 9,
            state: core.machine.snapshot(),
            last_outputs: core.last_outputs.clone(),
        });
        let decoded: SnapshotData<u64> = labrpc::codec::decode(&data).unwrap();
        assert_eq!(decoded.index, 9);
        assert_eq!(decoded.last_outputs.get(&1), Some(&(3, 4)));
        let mut restored = Counter::default();
        restored.restore(&decoded.state);
        assert_eq!(restored.0, 4);
    }
}
// END SOLUTION
