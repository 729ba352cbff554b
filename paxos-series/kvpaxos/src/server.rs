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
use std::sync::atomic::{AtomicBool, Ordering};

use labrpc::sim::{self, Node};
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
/// The replicated state: the database and the last request applied for
/// each clerk.
#[derive(Default)]
struct Store {
    db: BTreeMap<String, String>,
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
    log: PaxosLog<Op>,
    /// A std mutex: held only for short synchronous updates, never across
    /// an `.await`.
    store: Mutex<Store>,
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
            me,
            // BEGIN SOLUTION
            log: PaxosLog::new(px.clone(), "KV", "kv", Op::Noop),
            store: Mutex::new(Store::default()),
            // END SOLUTION
            px,
            node: sim::current_node(),
            dead: AtomicBool::new(false),
            // BEGIN SOLUTION
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
            self.log.next(),
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
        let settled = || match &op {
            Op::PutAppend { client, id, .. }
                if lock(&self.store).applied.get(client) >= Some(id) =>
            {
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
        }
    }
    // END SOLUTION
}
