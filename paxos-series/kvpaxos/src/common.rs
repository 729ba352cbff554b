//! The RPC messages between clerks and servers (Go's common.go).

use serde::{Deserialize, Serialize};

/// Go's `Err` values: how a request ended. (Not called `Err`, which would
/// shadow `Result::Err`.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvStatus {
    /// Go's `OK`.
    #[default]
    Ok,
    /// Go's `ErrNoKey`: a Get of a key never written.
    ErrNoKey,
    /// The server was killed while the request waited; try another.
    ErrKilled,
}

/// Put replaces the value, Append adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutOp {
    Put,
    Append,
}

/// A Put or Append, as the clerk asks it (paxos-shardkv's clerks ask the
/// same).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    pub op: PutOp,
    // BEGIN SOLUTION
    /// The clerk and its request number, for at-most-once execution.
    pub client: u64,
    pub id: u64,
    // END SOLUTION
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub status: KvStatus,
}

/// A Get, as the clerk asks it (paxos-shardkv's clerks ask the same).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
    // BEGIN SOLUTION
    pub client: u64,
    pub id: u64,
    // END SOLUTION
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GetReply {
    pub status: KvStatus,
    pub value: String,
}
