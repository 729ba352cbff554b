//! The `ShardKV` service's RPC messages (Go's common.go), and which shard a
//! key is in.
//!
//! Clerks call `ShardKV.Get` and `ShardKV.PutAppend`. Their arguments are
//! kvpaxos's [`GetArgs`] and [`PutAppendArgs`] (Go's shardkv/common.go repeats
//! kvpaxos's field for field), so what a request carries to take effect once
//! is written once, in kvpaxos; the replies are this lab's, whose [`Outcome`]
//! adds `ErrWrongGroup`. How a group hands a shard over to the next is the
//! student's to design; the reference's messages for it are at the end.

use serde::{Deserialize, Serialize};
use shardmaster::N_SHARDS;
// BEGIN SOLUTION
use std::collections::BTreeMap;
// END SOLUTION

/// Put replaces the value, Append adds to it (Go's `Op` string); and the
/// clerks' requests, all as in kvpaxos.
pub use kvpaxos::{GetArgs, PutAppendArgs, PutOp};

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

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub status: Outcome,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GetReply {
    pub status: Outcome,
    pub value: String,
}

// BEGIN SOLUTION
/// What moves with a shard: its data and its duplicate-detection table,
/// together a kvpaxos store of its own.
pub type ShardData = kvpaxos::KvState;

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
