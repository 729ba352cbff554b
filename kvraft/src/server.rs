// BEGIN SOLUTION
//! The KV server: a key/value map as a [`StateMachine`] behind an [`Rsm`].
//!
//! Everything the lab asks of the server that is not specific to key/value
//! maps (going through the log, waiting for the op, noticing lost leadership,
//! duplicate detection, snapshots, restart) lives in [`rsm`]; what is
//! left here is the map itself and the three RPC handlers.
// HANDOUT
// //! The KV server: a replica of the key/value map on Raft (through the
// //! `rsm` crate's `Rsm` if you like) and its RPC handlers.
// END SOLUTION

use std::collections::BTreeMap;
use std::sync::Arc;

use labrpc::{ClientEnd, Persister, Service};
use serde::{Deserialize, Serialize};

use crate::common::{GetArgs, GetReply, Outcome, PutAppendArgs, PutAppendReply, SERVICE};
use rsm::{ClientTag, Rsm, StateMachine};

// BEGIN SOLUTION
/// One operation in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
}

/// What an applied op returns: the value for a Get, nothing else otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOutput {
    Value(Option<String>),
    Done,
}

/// The replicated map; its snapshot is the whole map (rsm's serde [`Snapshot`](rsm::Snapshot)).
#[derive(Default, Serialize, Deserialize)]
pub struct KvStore {
    data: BTreeMap<String, String>,
}

impl KvStore {
    /// The value of `key`, if it has one (for tests that inspect a replica).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl StateMachine for KvStore {
    type Command = KvOp;
    type Output = KvOutput;

    fn apply(&mut self, op: KvOp) -> KvOutput {
        match op {
            KvOp::Get { key } => KvOutput::Value(self.data.get(&key).cloned()),
            KvOp::Put { key, value } => {
                self.data.insert(key, value);
                KvOutput::Done
            }
            KvOp::Append { key, value } => {
                self.data.entry(key).or_default().push_str(&value);
                KvOutput::Done
            }
        }
    }
}
// END SOLUTION

/// One KV server replica.
pub struct KvServer {
    // BEGIN SOLUTION
    rsm: Arc<Rsm<KvStore>>,
    // HANDOUT
    // // 3A: your replica's state
    // END SOLUTION
}

impl KvServer {
    /// Starts a replica on the current node (Go's `StartKVServer`). Register
    /// [`KvServer::services`] on the labrpc server that `servers[me]` reaches.
    /// `max_raft_state` of `None` disables snapshots (Go's -1).
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        max_raft_state: Option<usize>,
    ) -> Arc<KvServer> {
        // BEGIN SOLUTION
        let rsm = Rsm::start(servers, me, persister, max_raft_state, KvStore::default());
        Arc::new(KvServer { rsm })
        // HANDOUT
        // todo!("3A: KvServer::start")
        // END SOLUTION
    }

    /// The KV service and the Raft service this replica answers.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        // BEGIN SOLUTION
        let kv = Service::new(SERVICE)
            .handle("Get", self, |kv, args: GetArgs| async move {
                kv.get(args).await
            })
            .handle("Put", self, |kv, args| async move {
                kv.put_append(args, false).await
            })
            .handle("Append", self, |kv, args| async move {
                kv.put_append(args, true).await
            });
        vec![kv, self.rsm.raft_service()]
        // HANDOUT
        // todo!("3A: KvServer::services, the KVServer service and the Raft service")
        // END SOLUTION
    }

    /// A Get goes through the log like any op (a leader cut off in a
    /// minority must not answer from its stale map), but without duplicate
    /// detection: reading twice is harmless, and remembering each client's
    /// last value would put every value read into the snapshot.
    pub async fn get(&self, args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        match self.rsm.submit(KvOp::Get { key: args.key }).await {
            Ok(KvOutput::Value(Some(value))) => GetReply {
                err: Outcome::Ok,
                value,
            },
            Ok(_) => GetReply {
                err: Outcome::ErrNoKey,
                value: String::new(),
            },
            Err(_) => GetReply {
                err: Outcome::ErrWrongLeader,
                value: String::new(),
            },
        }
        // HANDOUT
        // todo!("3A: KvServer::get")
        // END SOLUTION
    }

    pub async fn put_append(&self, args: PutAppendArgs, append: bool) -> PutAppendReply {
        // BEGIN SOLUTION
        let tag = ClientTag {
            client_id: args.client_id,
            seq: args.seq,
        };
        let (key, value) = (args.key, args.value);
        let op = if append {
            KvOp::Append { key, value }
        } else {
            KvOp::Put { key, value }
        };
        let err = match self.rsm.submit_once(tag, op).await {
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::ErrWrongLeader,
        };
        PutAppendReply { err }
        // HANDOUT
        // todo!("3A: KvServer::put_append")
        // END SOLUTION
    }

    /// The replica's Raft peer (the tests ask it who leads).
    pub fn raft(&self) -> &raft::Raft {
        // BEGIN SOLUTION
        self.rsm.raft()
        // HANDOUT
        // todo!("3A: KvServer::raft")
        // END SOLUTION
    }

    /// Stops the replica (Go's `Kill`); the test harness also kills its node.
    pub fn kill(&self) {
        // BEGIN SOLUTION
        self.rsm.kill();
        // HANDOUT
        // todo!("3A: KvServer::kill")
        // END SOLUTION
    }
}

// BEGIN SOLUTION
#[cfg(test)]
mod tests {
    use rsm::Snapshot;

    use super::*;

    fn put(key: &str, value: &str) -> KvOp {
        KvOp::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    fn append(key: &str, value: &str) -> KvOp {
        KvOp::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    fn get(key: &str) -> KvOp {
        KvOp::Get { key: key.into() }
    }

    #[test]
    fn store_applies_put_append_get() {
        let mut store = KvStore::default();
        assert_eq!(store.apply(get("k")), KvOutput::Value(None));
        assert_eq!(store.apply(append("k", "a")), KvOutput::Done);
        assert_eq!(store.apply(append("k", "b")), KvOutput::Done);
        assert_eq!(
            store.apply(get("k")),
            KvOutput::Value(Some("ab".to_string()))
        );
        assert_eq!(store.apply(put("k", "c")), KvOutput::Done);
        assert_eq!(store.get("k"), Some("c"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn store_snapshot_round_trip() {
        let mut store = KvStore::default();
        store.apply(put("x", "1"));
        store.apply(append("y", "2"));
        let mut restored = KvStore::default();
        restored.apply(put("stale", "gone"));
        restored.restore(&store.snapshot());
        assert_eq!(restored.get("x"), Some("1"));
        assert_eq!(restored.get("y"), Some("2"));
        assert_eq!(restored.get("stale"), None);
    }
}
// END SOLUTION
