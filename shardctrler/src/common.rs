//! The `ShardCtrler` service's RPC messages.
//!
//! As in Go, every reply says whether the server was the leader
//! (`wrong_leader`). Go's replies also carry an `Err` whose only value is
//! `OK`; it says nothing, so it is left out. Every request also carries the
//! clerk's id and a sequence number, for duplicate detection.

use std::collections::BTreeMap;

// BEGIN SOLUTION
use rsm::ClientTag;
// END SOLUTION
use serde::{Deserialize, Serialize};

use crate::config::{Config, Gid};

/// The labrpc service name.
pub const SERVICE: &str = "ShardCtrler";

/// Adds replica groups: gid -> the group's server names.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinArgs {
    pub servers: BTreeMap<Gid, Vec<String>>,
    // BEGIN SOLUTION
    pub tag: ClientTag,
    // HANDOUT
    // // 4A: whatever else the request needs to take effect once
    // END SOLUTION
}

/// Removes replica groups.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LeaveArgs {
    pub gids: Vec<Gid>,
    // BEGIN SOLUTION
    pub tag: ClientTag,
    // HANDOUT
    // // 4A: whatever else the request needs to take effect once
    // END SOLUTION
}

/// Assigns one shard to one group.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MoveArgs {
    pub shard: usize,
    pub gid: Gid,
    // BEGIN SOLUTION
    pub tag: ClientTag,
    // HANDOUT
    // // 4A: whatever else the request needs to take effect once
    // END SOLUTION
}

/// Asks for configuration `num`; -1 (or a number not yet reached) means the latest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryArgs {
    pub num: i64,
    // BEGIN SOLUTION
    pub tag: ClientTag,
    // HANDOUT
    // // 4A: whatever else the request needs to take effect once
    // END SOLUTION
}

/// The reply to Join, Leave and Move.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reply {
    pub wrong_leader: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryReply {
    pub wrong_leader: bool,
    pub config: Config,
}
