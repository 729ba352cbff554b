//! The primary/backup service's RPC messages (Go's `common.go`), shared by
//! the servers and the Clerk.
//!
//! Clients call `PBServer.Get` and `PBServer.PutAppend` on the server they
//! believe is the primary. The fields after `key`/`value` are the student's
//! design in the lab; ours carry the clerk's id and a sequence number so a
//! retried Put or Append takes effect at most once.

use serde::{Deserialize, Serialize};

/// The labrpc service name.
pub const SERVICE: &str = "PBServer";

/// How a request ended (Go's `Err` strings `OK`, `ErrNoKey`, `ErrWrongServer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Ok,
    /// Get of a key that was never set.
    NoKey,
    /// This server is not the primary (or no longer is): ask the viewservice.
    WrongServer,
}

/// Put replaces the value; Append adds to the end of it ("" if unset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Put,
    Append,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    pub op: Op,
    // BEGIN SOLUTION
    /// The clerk's random id and its request number: the dedup key.
    pub client_id: u64,
    pub seq: u64,
    // END SOLUTION
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    pub status: Status,
    pub value: String,
}
