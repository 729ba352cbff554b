//! The kvpaxos server (Go's server.go): turns each request into a Paxos
//! instance, applies the decided instances in order, and answers.
//!
// BEGIN SOLUTION
//! The log itself (one request at a time, holes filled with no-ops, `done`
//! after applying) is [`PaxosLog`](crate::PaxosLog), which shardmaster
//! uses too; this file is the key/value state machine on it, with
//! at-most-once Puts and Appends.
// END SOLUTION

use std::sync::Arc;

use labrpc::{ClientEnd, Service};
use paxos::Paxos;
use serde::{Deserialize, Serialize};

use crate::common::{GetArgs, GetReply, KvStatus, PutAppendArgs, PutAppendReply};
// BEGIN SOLUTION
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::common::PutOp;
use crate::log::{PaxosLog, lock};
// END SOLUTION

/// The value agreed on in each Paxos instance (Go's `Op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    // BEGIN SOLUTION
    /// A clerk's Get, as it asked it.
    Get(GetArgs),
    /// A clerk's Put or Append, as it asked it.
    PutAppend(PutAppendArgs),
    /// Fills a hole: decided so that a server can move past an instance.
    Noop,
    // END SOLUTION
}

// BEGIN SOLUTION
/// A key/value map whose Puts and Appends take effect at most once: the
/// state a kvpaxos server replicates, and (in paxos-shardkv) what moves with
/// a shard, its data and its duplicate table together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    pub db: BTreeMap<String, String>,
    /// Highest request number applied, per clerk (at-most-once).
    pub applied: BTreeMap<u64, u64>,
}

impl KvState {
    /// Whether `args`, or a later request of its clerk, took effect here.
    pub fn has_applied(&self, args: &PutAppendArgs) -> bool {
        self.applied.get(&args.client) >= Some(&args.id)
    }

    /// Applies the Put or Append `args` unless it took effect already (a
    /// retry); returns whether it took effect now.
    pub fn put_append(&mut self, args: &PutAppendArgs) -> bool {
        if self.has_applied(args) {
            return false;
        }
        self.applied.insert(args.client, args.id);
        let key = args.key.clone();
        match args.op {
            PutOp::Put => {
                self.db.insert(key, args.value.clone());
            }
            PutOp::Append => self.db.entry(key).or_default().push_str(&args.value),
        }
        true
    }
}
// END SOLUTION

/// One kvpaxos server. Share it as `Arc<KvPaxos>`.
pub struct KvPaxos {
    /// The server's Paxos peer; its `kill` is the server's.
    px: Arc<Paxos>,
    // BEGIN SOLUTION
    log: PaxosLog<Op>,
    /// A std mutex: held only for short synchronous updates, never across
    /// an `.await`.
    store: Mutex<KvState>,
    // END SOLUTION
}

impl KvPaxos {
    /// Go's `StartServer(servers, me)`: server `me`, whose Paxos peer talks
    /// to the others through `servers` (index = server). Call it on the
    /// server's node, then add [`services`](KvPaxos::services) to its
    /// labrpc server.
    pub fn start_server(servers: Vec<ClientEnd>, me: usize) -> Arc<KvPaxos> {
        let px = Paxos::make(servers, me);
        Arc::new(KvPaxos {
            // BEGIN SOLUTION
            log: PaxosLog::new(px.clone(), "KV", "kv", Op::Noop),
            store: Mutex::new(KvState::default()),
            // END SOLUTION
            px,
        })
    }

    /// The `KVPaxos` service (`KVPaxos.Get`, `KVPaxos.PutAppend`) and the
    /// Paxos peer's, both reached through this server's one listener.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        let kv = Service::new("KVPaxos")
            .handle("Get", self, KvPaxos::get)
            .handle("PutAppend", self, KvPaxos::put_append);
        vec![kv, self.px.service()]
    }

    /// The server's Paxos peer (its number, node and state are the
    /// server's).
    pub fn paxos(&self) -> &Arc<Paxos> {
        &self.px
    }

    /// Go's `kill()`: stops the server, which is its Paxos peer's stop.
    /// (Closing its listener is the harness's business; requests already
    /// accepted end with `ErrKilled`.)
    pub fn kill(&self) {
        self.px.kill();
    }

    /// What the timeline shows on the server's lane.
    pub fn describe(&self) -> String {
        // BEGIN SOLUTION
        let store = lock(&self.store);
        format!(
            "applied {} ({} keys, min {})",
            self.log.next(),
            store.db.len(),
            self.px.min()
        )
        // HANDOUT
        // format!("min {}, max {}", self.px.min(), self.px.max())
        // END SOLUTION
    }

    /// The `KVPaxos.Get` handler.
    async fn get(self: Arc<Self>, args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        match self.execute(Op::Get(args)).await {
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
    async fn put_append(self: Arc<Self>, args: PutAppendArgs) -> PutAppendReply {
        // BEGIN SOLUTION
        let status = match self.execute(Op::PutAppend(args)).await {
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
        let settled = || match &op {
            Op::PutAppend(args) if lock(&self.store).has_applied(args) => {
                Some(None) // a retry of a request already applied
            }
            _ => None,
        };
        self.log
            .execute(op.clone(), settled, |op| self.apply(op))
            .await
    }

    /// Applies `op`, the next decided instance.
    fn apply(&self, op: &Op) -> Option<String> {
        let mut store = lock(&self.store);
        match op {
            Op::Get(args) => store.db.get(&args.key).cloned(),
            Op::PutAppend(args) => {
                store.put_append(args);
                None
            }
            Op::Noop => None,
        }
    }
    // END SOLUTION
}
