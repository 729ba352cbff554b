//! The KV service's RPC messages, shared by servers and clerks.
//!
//! As in the 2024 lab, the service `KVServer` has three methods, `Get`, `Put`
//! and `Append`. Each request carries the clerk's id and a sequence number, so
//! the servers can make every Put and Append take effect exactly once however
//! often the clerk retries.

use serde::{Deserialize, Serialize};

/// The labrpc service name.
pub const SERVICE: &str = "KVServer";

/// Outcome of a request (Go's `Err` strings; named so as not to shadow
/// `Result::Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Ok,
    ErrNoKey,
    /// Not the leader, or lost leadership before the request committed: try another server.
    ErrWrongLeader,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
    // BEGIN SOLUTION
    pub client_id: u64,
    pub seq: u64,
    // HANDOUT
    // // 3A: whatever else a Get needs
    // END SOLUTION
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    pub err: Outcome,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    // BEGIN SOLUTION
    pub client_id: u64,
    pub seq: u64,
    // HANDOUT
    // // 3A: whatever else a Put or Append needs to take effect once
    // END SOLUTION
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub err: Outcome,
}
