//! Lab 4B of the 2015 series (MIT 6.824 Spring 2015, UCLA CS134): shardkv,
//! a sharded key/value service whose replica groups each run Paxos.
//!
//! Keys are split into [`N_SHARDS`] shards ([`key2shard`]). The shardmaster
//! (Lab 4A) keeps the numbered configurations that say which replica group
//! serves each shard. Every server of a group polls the shardmaster every
//! 250 ms ([`TICK`]) and, when there is a newer configuration, the group
//! moves to it: one configuration at a time, in order, each change agreed on
//! in the group's Paxos log among the client operations, so that every
//! replica sees the same operations before and after it. A shard that a
//! configuration gives to the group arrives with the change, together with
//! its duplicate-detection state, so a Put or Append that took effect at the
//! previous owner is not applied again when its clerk retries here. A server
//! answers `ErrWrongGroup` for a key whose shard its group does not serve,
//! and calls Paxos's `done` as it applies, so the log is forgotten behind it.
//!
//! * [`common`]: the RPC messages, [`key2shard`], the [`Outcome`]s;
//! * [`server`]: [`ShardKv`], the replica;
//! * [`client`]: the [`Clerk`] (Go's provided clerk, with request ids).
//!
//! The guide is docs/paxos-lab4-sharding.md.

pub mod client;
pub mod common;
pub mod server;

pub use client::Clerk;
pub use common::{GetArgs, GetReply, Outcome, PutAppendArgs, PutAppendReply, PutOp, key2shard};
pub use server::{MakeEnd, Op, ShardKv, TICK};
pub use shardmaster::N_SHARDS;
