//! The kvpaxos server (Go's server.go): turns each request into a Paxos
//! instance, applies the decided instances in order, and answers.
//!
//! A server handles one request at a time (an async mutex, held across the
//! waits for agreement): it first applies every instance it knows of, then
//! proposes the request as the value of the next instance and waits for the
//! decision. If another server's operation won that instance, it applies
//! that one and tries the next instance. Waiting for an instance it has not
//! heard decided (a hole, left by a partition or a lost message), it
//! proposes a no-op there after a short while, which either decides the
//! no-op or teaches it the value that was decided. After applying instance
//! `s` it calls `done(s)`, so Paxos forgets the log behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrpc::sim::{self, Node};
use labrpc::{ClientEnd, Service};
use paxos::Paxos;
use serde::{Deserialize, Serialize};

use crate::common::{GetArgs, GetReply, KvStatus, PutAppendArgs, PutAppendReply};
// BEGIN SOLUTION
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use paxos::Fate;

use crate::common::PutOp;

/// Polls of an instance's status start this far apart and double...
const POLL_MIN: Duration = Duration::from_millis(10);
/// ...up to this (Go's guide says up to 10 s; a low cap makes a server that
/// waited out a partition notice the heal at once).
const POLL_MAX: Duration = Duration::from_millis(100);
/// An instance still pending after this many polls gets a no-op proposal.
const POLLS_BEFORE_NOOP: u32 = 3;
// END SOLUTION

/// The value agreed on in each Paxos instance (Go's `Op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    // BEGIN SOLUTION
    Get {
        key: String,
        client: u64,
        id: u64,
    },
    PutAppend {
        key: String,
        value: String,
        op: PutOp,
        client: u64,
        id: u64,
    },
    /// Fills a hole: decided so that a server can move past an instance.
    Noop,
    // END SOLUTION
}

// BEGIN SOLUTION
/// The replicated state: the database, how far the log has been applied,
/// and the last request applied for each clerk.
#[derive(Default)]
struct Store {
    db: BTreeMap<String, String>,
    /// The next instance to apply.
    next: i64,
    /// Highest request number applied, per clerk (at-most-once).
    applied: BTreeMap<u64, u64>,
}
// END SOLUTION

/// One kvpaxos server. Share it as `Arc<KvPaxos>`.
pub struct KvPaxos {
    me: usize,
    px: Arc<Paxos>,
    node: Node,
    dead: AtomicBool,
    // BEGIN SOLUTION
    /// One request at a time; held across the waits for agreement, hence
    /// tokio's async mutex.
    turn: tokio::sync::Mutex<()>,
    /// A std mutex: held only for short synchronous updates, never across
    /// an `.await`.
    store: Mutex<Store>,
    // END SOLUTION
}

// BEGIN SOLUTION
/// Locks a mutex, ignoring poisoning: a panic in any task already fails the
/// test with its seed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
// END SOLUTION

impl KvPaxos {
    /// Go's `StartServer(servers, me)`: server `me`, whose Paxos peer talks
    /// to the others through `servers` (index = server). Call it on the
    /// server's node, then add [`services`](KvPaxos::services) to its
    /// labrpc server.
    pub fn start_server(servers: Vec<ClientEnd>, me: usize) -> Arc<KvPaxos> {
        let px = Paxos::make(servers, me);
        Arc::new(KvPaxos {
            me,
            px,
            node: sim::current_node(),
            dead: AtomicBool::new(false),
            // BEGIN SOLUTION
            turn: tokio::sync::Mutex::new(()),
            store: Mutex::new(Store::default()),
            // END SOLUTION
        })
    }

    /// The `KVPaxos` service (`KVPaxos.Get`, `KVPaxos.PutAppend`) and the
    /// Paxos peer's, both reached through this server's one listener.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        let (get, put) = (self.clone(), self.clone());
        let kv = Service::new("KVPaxos")
            .method("Get", move |args: GetArgs| {
                let kv = get.clone();
                async move { kv.get(args).await }
            })
            .method("PutAppend", move |args: PutAppendArgs| {
                let kv = put.clone();
                async move { kv.put_append(args).await }
            });
        vec![kv, self.px.service()]
    }

    pub fn me(&self) -> usize {
        self.me
    }

    /// The server's Paxos peer.
    pub fn paxos(&self) -> &Arc<Paxos> {
        &self.px
    }

    /// The node the server runs on.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Go's `kill()`: stops the server and its Paxos peer. (Closing its
    /// listener is the harness's business; requests already accepted end
    /// with `ErrKilled`.)
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.px.kill();
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// What the timeline shows on the server's lane.
    pub fn describe(&self) -> String {
        // BEGIN SOLUTION
        let store = lock(&self.store);
        format!(
            "applied {} ({} keys, min {})",
            store.next,
            store.db.len(),
            self.px.min()
        )
        // HANDOUT
        // format!("min {}, max {}", self.px.min(), self.px.max())
        // END SOLUTION
    }

    /// The `KVPaxos.Get` handler.
    async fn get(&self, args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        let op = Op::Get {
            key: args.key,
            client: args.client,
            id: args.id,
        };
        match self.execute(op).await {
            None => GetReply {
                status: KvStatus::ErrKilled,
                value: String::new(),
            },
            Some(None) => GetReply {
                status: KvStatus::ErrNoKey,
                value: String::new(),
            },
            Some(Some(value)) => GetReply {
                status: KvStatus::Ok,
                value,
            },
        }
        // HANDOUT
        // let _ = args;
        // todo!("3B: the Get handler")
        // END SOLUTION
    }

    /// The `KVPaxos.PutAppend` handler.
    async fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        // BEGIN SOLUTION
        let op = Op::PutAppend {
            key: args.key,
            value: args.value,
            op: args.op,
            client: args.client,
            id: args.id,
        };
        let status = match self.execute(op).await {
            None => KvStatus::ErrKilled,
            Some(_) => KvStatus::Ok,
        };
        PutAppendReply { status }
        // HANDOUT
        // let _ = args;
        // todo!("3B: the PutAppend handler")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Agrees on `op` in some instance and applies the log up to it. Returns
    /// None if the server was killed first, else what the op read (a Get's
    /// value, None for a missing key or a Put/Append).
    async fn execute(&self, op: Op) -> Option<Option<String>> {
        let _turn = self.turn.lock().await;
        loop {
            // Apply everything this peer knows was started.
            let max = self.px.max();
            while lock(&self.store).next <= max {
                let seq = lock(&self.store).next;
                self.apply_next(seq).await?;
            }
            if let Op::PutAppend { client, id, .. } = &op
                && lock(&self.store).applied.get(client) >= Some(id)
            {
                return Some(None); // a retry of a request already applied
            }
            let seq = lock(&self.store).next;
            tracing::debug!(topic = "kv", "KV{} proposes {op:?} at {seq}", self.me);
            self.px.start(seq, &op);
            let (decided, result) = self.apply_next(seq).await?;
            if decided == op {
                return Some(result);
            }
        }
    }

    /// Waits until instance `seq` (the next to apply) is decided, proposing a
    /// no-op if it stays pending, and applies it. None if the server was killed.
    async fn apply_next(&self, seq: i64) -> Option<(Op, Option<String>)> {
        let mut pause = POLL_MIN;
        let mut polls = 0;
        let op = loop {
            if self.is_dead() {
                return None;
            }
            match self.px.status::<Op>(seq) {
                Ok(Fate::Decided(op)) => break op,
                Ok(Fate::Pending) => {}
                Ok(Fate::Forgotten) => {
                    // Impossible: Min never passes this server's own Done.
                    tracing::error!(
                        topic = "kv",
                        "KV{}: instance {seq} forgotten before it was applied",
                        self.me
                    );
                    break Op::Noop;
                }
                Err(error) => {
                    // Not an Op: nothing to apply, but never a panic.
                    tracing::error!(topic = "kv", "KV{}: {error}; skipped", self.me);
                    break Op::Noop;
                }
            }
            polls += 1;
            if polls == POLLS_BEFORE_NOOP {
                self.px.start(seq, &Op::Noop);
            }
            sim::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
        };
        let result = self.apply(seq, &op);
        Some((op, result))
    }

    /// Applies `op`, decided in instance `seq`, and tells Paxos it is done.
    fn apply(&self, seq: i64, op: &Op) -> Option<String> {
        let mut store = lock(&self.store);
        debug_assert_eq!(store.next, seq, "instances are applied in order");
        store.next = seq + 1;
        let result = match op {
            Op::Get { key, .. } => store.db.get(key).cloned(),
            Op::PutAppend {
                key,
                value,
                op,
                client,
                id,
            } => {
                if store.applied.get(client) < Some(id) {
                    store.applied.insert(*client, *id);
                    match op {
                        PutOp::Put => {
                            store.db.insert(key.clone(), value.clone());
                        }
                        PutOp::Append => store.db.entry(key.clone()).or_default().push_str(value),
                    }
                }
                None
            }
            Op::Noop => None,
        };
        drop(store);
        tracing::debug!(topic = "apply", "KV{} applies {seq}", self.me);
        self.px.done(seq);
        result
    }
    // END SOLUTION
}
