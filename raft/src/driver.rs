// BEGIN SOLUTION
//! The thin async layer around [`Core`]: timers, RPCs, persistence, applying.
//!
//! All protocol decisions are in `core`; this module only moves bytes and
//! time. Every input goes through [`Inner::with_core`], which locks the core,
//! runs the input, and then, in this order: saves the persistent state if it
//! changed (still under the lock, so nothing the change caused can be seen
//! before it is durable), releases the lock, wakes the applier, and starts one
//! task per outgoing RPC. The lock is a `std::sync::Mutex` held only for that
//! synchronous step, never across an `.await`.
//!
//! Tasks, all on the server's node so a crash (`Node::kill`) ends them at once:
//! * the ticker, which feeds the core a tick every [`TICK`];
//! * one short-lived task per RPC, which sends it, waits for the reply and
//!   hands the reply to the core (so a slow or dead peer never delays the
//!   others, and a leader never waits for anyone);
//! * the applier, which hands committed entries to the service.
//!
//! The applier takes a batch from the core under the lock, releases it, and
//! only then awaits the apply channel. The service may therefore call back
//! into Raft (e.g. `snapshot()`) from its apply loop without deadlocking.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::{ClientEnd, Persister, Service};
use serde::Serialize;
use tokio::sync::{Notify, mpsc};

use crate::core::{Core, Outbound, Rpc, Timing};
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, ApplyMsg, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply,
};
use crate::observe::{Observer, PeerState};
use crate::persist;

/// How often the ticker wakes the core. Timeouts are therefore accurate to
/// 10 ms, which is plenty against 100 ms heartbeats and 400+ ms elections; a
/// fixed tick is simpler than re-arming timers whenever a deadline moves.
pub const TICK: Duration = Duration::from_millis(10);

// HANDOUT
// //! Your Raft peer: the API the tests (and kvraft) call.
// //!
// //! The tests create a peer with [`Raft::make`] inside its server's node,
// //! add [`Raft::service`] to that server, and then call the other methods
// //! from any task. Spawn your tasks (an election ticker, an applier, ...)
// //! with `labrpc::sim::spawn` so that a crash (killing the node) ends them.
// //! Never hold a `std::sync::Mutex` guard across an `.await`.
//
// use labrpc::{ClientEnd, Persister, Service};
// use serde::Serialize;
// use tokio::sync::mpsc;
//
// use crate::messages::ApplyMsg;
// use crate::observe::Observer;
//
// END SOLUTION
/// The RPC service name the tests (and Go's labrpc) address: `Raft.Method`.
pub const SERVICE_NAME: &str = "Raft";

/// A Raft peer. Cloning gives another handle to the same peer.
#[derive(Clone)]
pub struct Raft {
    // BEGIN SOLUTION
    inner: Arc<Inner>,
    // HANDOUT
    // // 2A: your peer's state (Figure 2). Raft is cloned, and its clones and
    // // tasks share that state: keep it behind an Arc.
    // END SOLUTION
}

// BEGIN SOLUTION
struct Inner {
    me: usize,
    peers: Vec<ClientEnd>,
    persister: Persister,
    /// The node this peer runs on; all its tasks are spawned there.
    node: Node,
    core: Mutex<Core>,
    /// Wakes the applier when the commit index moved or a snapshot arrived.
    apply_ready: Notify,
    killed: AtomicBool,
    /// The tests' observer and the state last reported to it. Its own lock,
    /// taken after the core's is released, so the callback never runs under
    /// the core's.
    observer: Mutex<Option<(Observer, Option<PeerState>)>>,
}
// END SOLUTION

impl Raft {
    /// Creates peer `me` of `peers` (where `peers[me]` is its own, unused,
    /// end), restoring whatever `persister` holds, and starts its background
    /// tasks on the current node (call it inside `node.enter(..)`). Returns at
    /// once. Committed commands and snapshots are sent on `apply_tx` in log
    /// order; a snapshot already in the Persister at start is *not* sent, as the
    /// service reads it from the Persister itself.
    pub fn make(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        apply_tx: mpsc::Sender<ApplyMsg>,
    ) -> Raft {
        // BEGIN SOLUTION
        let saved = persist::decode(&persister.read_raft_state());
        let snapshot = persister.read_snapshot();
        let core = Core::new(
            me,
            peers.len(),
            saved,
            snapshot,
            sim::random_u64(),
            sim::now(),
            Timing::default(),
        );
        let inner = Arc::new(Inner {
            me,
            peers,
            persister,
            node: sim::current_node(),
            core: Mutex::new(core),
            apply_ready: Notify::new(),
            killed: AtomicBool::new(false),
            observer: Mutex::new(None),
        });
        inner.node.spawn(inner.clone().ticker());
        inner.node.spawn(inner.clone().applier(apply_tx));
        Raft { inner }
        // HANDOUT
        // todo!("2A: Raft::make, create the peer and start its tasks")
        // END SOLUTION
    }

    /// Proposes `command` (serialized with `labrpc::codec`). Returns at once:
    /// `Some((index, term))` if this peer is the leader (the command will
    /// appear at `index` if it commits), `None` otherwise.
    pub fn start<C: Serialize + ?Sized>(&self, command: &C) -> Option<(u64, u64)> {
        self.start_encoded(labrpc::codec::encode(command))
    }

    /// [`start`](Raft::start) for a command that is already serialized.
    pub fn start_encoded(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        // BEGIN SOLUTION
        if self.killed() {
            return None;
        }
        self.inner.with_core(|core| core.start(command))
        // HANDOUT
        // todo!("2B: Raft::start, propose a command")
        // END SOLUTION
    }

    /// (current term, whether this peer believes it is the leader).
    pub fn get_state(&self) -> (u64, bool) {
        // BEGIN SOLUTION
        self.inner.lock().state()
        // HANDOUT
        // todo!("2A: Raft::get_state, the term and whether this peer leads")
        // END SOLUTION
    }

    /// The service has saved its state up to and including `index` in
    /// `snapshot`; Raft may discard that part of its log. Safe to call from the
    /// service's apply loop.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        // BEGIN SOLUTION
        if self.killed() {
            return; // a killed peer writes nothing more to its Persister
        }
        self.inner.with_core(|core| core.snapshot(index, snapshot));
        // HANDOUT
        // todo!("2D: Raft::snapshot, discard the log up to index")
        // END SOLUTION
    }

    /// Stops the peer: its tasks end and it sends nothing more. (The tests crash
    /// a server by killing its node, which also drops everything at once.)
    pub fn kill(&self) {
        // BEGIN SOLUTION
        self.inner.killed.store(true, Ordering::SeqCst);
        self.inner.apply_ready.notify_one();
        // HANDOUT
        // todo!("2A: Raft::kill, stop the peer")
        // END SOLUTION
    }

    /// Whether [`kill`](Self::kill) was called.
    pub fn killed(&self) -> bool {
        // BEGIN SOLUTION
        self.inner.killed.load(Ordering::SeqCst)
        // HANDOUT
        // todo!("2A: Raft::killed")
        // END SOLUTION
    }

    /// Hands the peer the tests' [`Observer`]; the peer calls it with its
    /// [`PeerState`] at once and after every change, so that the failure
    /// timeline shows what the peer believed: its role (candidates too), term,
    /// commit index, log length and snapshots. See [`crate::observe`].
    /// Optional: a peer that never reports is drawn from `get_state()`.
    pub fn set_observer(&self, observer: Observer) {
        // BEGIN SOLUTION
        *self
            .inner
            .observer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((observer, None));
        self.inner.report();
        // HANDOUT
        // let _ = observer; // optional: call it with your PeerState whenever it changes
        // END SOLUTION
    }

    /// Bytes of persisted Raft state (for services that snapshot by size).
    pub fn persisted_size(&self) -> usize {
        // BEGIN SOLUTION
        self.inner.persister.raft_state_size()
        // HANDOUT
        // todo!("2C: Raft::persisted_size, the size of the persisted state")
        // END SOLUTION
    }

    /// The labrpc service with this peer's RPC handlers (`Raft.RequestVote`,
    /// `Raft.AppendEntries`, `Raft.InstallSnapshot`), to add to its server.
    pub fn service(&self) -> Service {
        // BEGIN SOLUTION
        Service::new(SERVICE_NAME)
            .handle(
                "RequestVote",
                &self.inner,
                |inner, args: RequestVoteArgs| async move {
                    inner.with_core(|core| core.handle_request_vote(args, sim::now()))
                },
            )
            .handle(
                "AppendEntries",
                &self.inner,
                |inner, args: AppendEntriesArgs| async move {
                    inner.with_core(|core| core.handle_append_entries(args, sim::now()))
                },
            )
            .handle(
                "InstallSnapshot",
                &self.inner,
                |inner, args: InstallSnapshotArgs| async move {
                    inner.with_core(|core| core.handle_install_snapshot(args, sim::now()))
                },
            )
        // HANDOUT
        // todo!("2A: Raft::service, the RPC handlers")
        // END SOLUTION
    }
}

// BEGIN SOLUTION
impl Inner {
    fn lock(&self) -> MutexGuard<'_, Core> {
        // A panic while holding the lock already failed the test.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Runs one input through the core and carries out its effects.
    fn with_core<R>(self: &Arc<Self>, input: impl FnOnce(&mut Core) -> R) -> R {
        let (result, effects) = {
            let mut core = self.lock();
            let result = input(&mut core);
            let effects = core.take_effects();
            // After kill() nothing more is made durable: the tests crash a peer
            // by copying its Persister, and a dying instance must not write.
            if effects.persist && !self.killed() {
                let state = core.encode_state();
                self.persister.save(&state, core.snapshot_data());
                tracing::trace!(
                    topic = "persist",
                    "S{} saved {} bytes",
                    self.me,
                    state.len()
                );
            }
            (result, effects)
        };
        if effects.apply {
            self.apply_ready.notify_one();
        }
        self.report();
        if !self.killed() {
            for outbound in effects.messages {
                self.node.spawn(self.clone().call(outbound));
            }
        }
        result
    }

    /// Tells the observer, if there is one, the peer's state if it changed
    /// since the last report.
    fn report(&self) {
        let state = self.lock().peer_state();
        let observer = {
            let mut slot = self.observer.lock().unwrap_or_else(|e| e.into_inner());
            let Some((observer, last)) = slot.as_mut() else {
                return;
            };
            if *last == Some(state) {
                return;
            }
            *last = Some(state);
            observer.clone()
        };
        observer(&state);
    }

    /// Sends one RPC and feeds its reply (if any arrives) back to the core.
    async fn call(self: Arc<Self>, outbound: Outbound) {
        let end = &self.peers[outbound.to];
        let from = outbound.to;
        match outbound.rpc {
            Rpc::RequestVote(args) => {
                let reply =
                    end.call::<_, RequestVoteReply>(&format!("{SERVICE_NAME}.RequestVote"), &args);
                if let Ok(reply) = reply.await
                    && !self.killed()
                {
                    self.with_core(|c| c.on_request_vote_reply(from, &args, reply, sim::now()));
                }
            }
            Rpc::AppendEntries(args) => {
                let reply = end
                    .call::<_, AppendEntriesReply>(&format!("{SERVICE_NAME}.AppendEntries"), &args);
                if let Ok(reply) = reply.await
                    && !self.killed()
                {
                    self.with_core(|c| c.on_append_entries_reply(from, &args, reply, sim::now()));
                }
            }
            Rpc::InstallSnapshot(args) => {
                let reply = end.call::<_, InstallSnapshotReply>(
                    &format!("{SERVICE_NAME}.InstallSnapshot"),
                    &args,
                );
                if let Ok(reply) = reply.await
                    && !self.killed()
                {
                    self.with_core(|c| c.on_install_snapshot_reply(from, &args, reply, sim::now()));
                }
            }
        }
    }

    async fn ticker(self: Arc<Self>) {
        while !self.killed() {
            sim::sleep(TICK).await;
            if self.killed() {
                break;
            }
            self.with_core(|core| core.tick(sim::now()));
        }
    }

    /// Delivers committed entries and installed snapshots, in order, without
    /// holding the lock while the service takes them.
    async fn applier(self: Arc<Self>, apply_tx: mpsc::Sender<ApplyMsg>) {
        loop {
            if self.killed() {
                return;
            }
            let batch = self.lock().take_apply_batch();
            if batch.is_empty() {
                // Notify keeps a permit if the wake-up came before this wait.
                self.apply_ready.notified().await;
                continue;
            }
            for msg in batch {
                match &msg {
                    ApplyMsg::Command {
                        index,
                        term,
                        command,
                    } => tracing::debug!(
                        topic = "apply",
                        "S{} applies index {index} (T{term}): {}",
                        self.me,
                        labrpc::codec::summary(command)
                    ),
                    ApplyMsg::Snapshot { index, term, data } => tracing::debug!(
                        topic = "apply",
                        "S{} applies a snapshot up to index {index} (T{term}, {} bytes)",
                        self.me,
                        data.len()
                    ),
                }
                if self.killed() || apply_tx.send(msg).await.is_err() {
                    return; // killed, or the service is gone
                }
            }
        }
    }
}
// END SOLUTION
