//! The `ShardMaster` service's RPC messages (Go's common.go, which students
//! do not change) and the check of a request's arguments.
//!
//! Go's messages are kept: Join names one group, Leave one GID, Move one
//! shard, and Query a configuration number (-1, or any number not reached
//! yet, for the latest). There are no request ids: the 2015 lab does not ask
//! for duplicate detection, and a repeated Join, Leave or Move is harmless
//! (it makes a configuration equal to the one before, with a new number).
//! Each reply adds a [`SmStatus`], which Go's replies did not have: a server
//! killed while the request waited says so instead of answering nothing, and
//! a request with impossible arguments gets its [`RequestError`] back.

use serde::{Deserialize, Serialize};
use shardconfig::{Config, Gid, N_SHARDS, NO_GROUP};

/// The labrpc service name.
pub const SERVICE: &str = "ShardMaster";

/// How a request ended. (Not called `Err`, which would shadow `Result::Err`.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmStatus {
    #[default]
    Ok,
    /// The server was killed while the request waited; try another.
    ErrKilled,
    /// The arguments are impossible; nothing was done.
    ErrInvalid(RequestError),
}

/// Why a request's arguments are impossible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum RequestError {
    /// GID 0 stands for "no group" (every shard's owner in configuration 0).
    #[error("GID 0 is reserved for \"no group\": Join and Move need a real group")]
    ReservedGid,
    /// A shard number at or beyond `N_SHARDS`.
    #[error("there is no shard {shard}: shards are 0..{N_SHARDS}")]
    NoSuchShard { shard: usize },
}

/// Adds the group `gid` with these servers (replacing the list of a group
/// already present) and rebalances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinArgs {
    pub gid: Gid,
    pub servers: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinReply {
    pub status: SmStatus,
}

/// Removes the group `gid` (if present) and rebalances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveArgs {
    pub gid: Gid,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveReply {
    pub status: SmStatus,
}

/// Assigns `shard` to `gid`, rebalancing nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveArgs {
    pub shard: usize,
    pub gid: Gid,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveReply {
    pub status: SmStatus,
}

/// Asks for configuration `num`; -1 (or a number not reached yet) means
/// the latest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryArgs {
    pub num: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryReply {
    pub status: SmStatus,
    pub config: Config,
}

impl JoinArgs {
    /// Whether a Join can take effect: GID 0 cannot join.
    pub fn validate(&self) -> Result<(), RequestError> {
        valid_gid(self.gid)
    }
}

impl MoveArgs {
    /// Whether a Move can take effect: a real shard, to a real group.
    pub fn validate(&self) -> Result<(), RequestError> {
        if self.shard >= N_SHARDS {
            return Err(RequestError::NoSuchShard { shard: self.shard });
        }
        valid_gid(self.gid)
    }
}

fn valid_gid(gid: Gid) -> Result<(), RequestError> {
    if gid == NO_GROUP {
        Err(RequestError::ReservedGid)
    } else {
        Ok(())
    }
}
