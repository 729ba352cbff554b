//! The `ShardKV` service's RPC messages.
//!
//! Clients call `Get` and `PutAppend` (as in Go, with an `op` of Put or
//! Append). Groups call each other's `PullShards` (hand me these shards as of
//! configuration n) and `DeleteShards` (I have them, you may forget them).

use std::collections::BTreeMap;

// BEGIN SOLUTION
use rsm::ClientTag;
// END SOLUTION
use serde::{Deserialize, Serialize};
use shardctrler::N_SHARDS;

/// The labrpc service name.
pub const SERVICE: &str = "ShardKV";

/// Which shard a key belongs to: its first byte modulo `N_SHARDS`, 0 for "".
pub fn key2shard(key: &str) -> usize {
    key.as_bytes().first().map_or(0, |&b| usize::from(b)) % N_SHARDS
}

/// Outcome of a request (Go's `Err` strings; named so as not to shadow
/// `Result::Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Ok,
    ErrNoKey,
    /// This group does not serve the key's shard (now, or not yet).
    ErrWrongGroup,
    ErrWrongLeader,
    /// A migration request this group cannot answer yet (it has not reached
    /// the requested configuration).
    ErrNotReady,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutAppendOp {
    Put,
    Append,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutAppendArgs {
    pub key: String,
    pub value: String,
    pub op: PutAppendOp,
    // BEGIN SOLUTION
    /// The clerk and its request number, for at-most-once execution.
    pub tag: ClientTag,
    // HANDOUT
    // // 4B: whatever else the request needs to take effect once
    // END SOLUTION
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutAppendReply {
    pub err: Outcome,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
    // BEGIN SOLUTION
    pub tag: ClientTag,
    // HANDOUT
    // // 4B: whatever else the request needs to take effect once
    // END SOLUTION
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetReply {
    pub err: Outcome,
    pub value: String,
}

// BEGIN SOLUTION
/// What moves with a shard: its data and its duplicate-detection table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardData {
    pub kv: BTreeMap<String, String>,
    /// client id -> the highest sequence number of a Put/Append applied to this shard
    pub dedup: BTreeMap<u64, u64>,
}

/// The shards `shards` as of configuration `config_num`: what `PullShards`
/// asks for ("give me them as they were when you left it") and what
/// `DeleteShards` deletes ("I installed them for it; delete your copies").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardsArgs {
    pub config_num: u64,
    pub shards: Vec<usize>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PullShardsReply {
    pub err: Outcome,
    pub shards: BTreeMap<usize, ShardData>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeleteShardsReply {
    pub err: Outcome,
}
// HANDOUT
// // 4B: the RPCs between groups (moving shards) are yours to design.
// END SOLUTION
