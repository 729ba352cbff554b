//! Lab 4A of the 2015 series (MIT 6.824 Spring 2015, UCLA CS134): the
//! shardmaster, a configuration service replicated with Paxos.
//!
//! The shard master keeps a numbered list of configurations, each of which
//! assigns the [`N_SHARDS`] shards to replica groups (by GID) and names each
//! group's servers. Administrators change it with Join, Leave and Move; the
//! replica groups of Lab 4B (`paxos-shardkv`) and their clients read it with
//! Query. Join and Leave rebalance the shards as evenly as possible while
//! moving as few as possible; Move assigns one shard and rebalances nothing.
//!
//! The configurations and the rebalance are the `shardconfig` crate, shared
//! with the Raft series' shardctrler (the same algorithm, written once in a
//! pure crate both depend on; the Paxos series does not depend on Raft): this
//! crate re-exports [`Config`], [`Gid`], [`N_SHARDS`] and [`NO_GROUP`] from it.
//!
//! * [`common`]: the `ShardMaster` service's RPC messages (Go's common.go)
//!   and the check of a request's arguments;
//! * [`ShardMaster`]: one replica, which agrees on every request, Queries
//!   included, in a Paxos instance and applies the instances in order;
//! * [`Clerk`]: Go's client.go, which tries the servers in turn until one
//!   answers.
//!
//! As in Go, a server is embedded in a labrpc server with its Paxos peer:
//! [`ShardMaster::services`] gives both services, reached through one
//! listener. The guide is docs/paxos-lab4-sharding.md.

mod client;
pub mod common;
mod server;

pub use client::Clerk;
pub use common::{
    JoinArgs, JoinReply, LeaveArgs, LeaveReply, MoveArgs, MoveReply, QueryArgs, QueryReply,
    RequestError, SERVICE, SmStatus,
};
pub use server::{Op, ShardMaster};
pub use shardconfig::{Config, Gid, N_SHARDS, NO_GROUP};
