//! The `ShardKV` service's RPC messages (Go's common.go), and which shard a
//! key is in.
//!
//! Clerks call `ShardKV.Get` and `ShardKV.PutAppend`. How a group hands a
//! shard over to the next is the student's to design; the reference's
//! messages for it are at the end.

use serde::{Deserialize, Serialize};
use shardmaster::N_SHARDS;
// BEGIN SOLUTION
use std::collections::BTreeMap;
// END SOLUTION

/// The labrpc service name.
pub const SERVICE: &str = "ShardKV";

/// Go's `key2shard`: the key's first byte modulo [`N_SHARDS`], 0 for "".
pub fn key2shard(key: &str) -> usize {
    key.as_bytes().first().map_or(0, |&b| usize::from(b)) % N_SHARDS
}

/// Go's `Err` values: how a request ended. (Not called `Err`, which would
/// shadow `Result::Err`.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Go's `OK`.
    #[default]
    Ok,
    /// Go's `ErrNoKey`: a Get of a key never written.
    ErrNoKey,
    /// Go's `ErrWrongGroup`: this group does not serve the key's shard.
    ErrWrongGroup,
    // BEGIN SOLUTION
    /// The server was killed while the request waited; try another.
    ErrKilled,
    /// A shard hand-off asked for a configuration this server has not
    /// reached yet.
    ErrNotReady,
    // END SOLUTION
}

/// Put replaces the value, Append adds to it (Go's `Op` string), as in
/// kvpaxos.
pub use kvpaxos::PutOp;

#[derive(Clone, Debug, Serialize, Deserialize)]
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
    pub status: Outcome,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
    // BEGIN SOLUTION
    pub client: u64,
    pub id: u64,
    // END SOLUTION
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GetReply {
    pub status: Outcome,
    pub value: String,
}

// BEGIN SOLUTION
/// What moves with a shard: its data and its duplicate-detection table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardData {
    pub kv: BTreeMap<String, String>,
    /// Clerk -> the highest request number of a Put or Append applied to
    /// this shard.
    pub dedup: BTreeMap<u64, u64>,
}

/// "Hand me `shards` as they were when you moved to configuration
/// `config_num`" (which gives them to the caller's group).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchArgs {
    pub config_num: u64,
    pub shards: Vec<usize>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FetchReply {
    /// `Ok`, or `ErrNotReady` if this server has not reached `config_num`.
    pub status: Outcome,
    pub shards: BTreeMap<usize, ShardData>,
}
// END SOLUTION
