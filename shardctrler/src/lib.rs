//! shardctrler: Lab 4A, the shard controller.
//!
//! The controller is a replicated list of numbered configurations, each of
//! which assigns the `N_SHARDS` shards to replica groups. Administrators change
//! it with Join, Leave and Move; replica groups and clients read it with
//! Query.
//!
//! * [`config`]: configurations and the deterministic, minimal-move
//!   rebalance, which are the `shardconfig` crate (re-exported here under
//!   its old name): the Paxos series' shardmaster uses the very same
//!   algorithm, so it is written once, in a pure crate both depend on (this
//!   crate does not depend on Paxos, nor the Paxos series on Raft);
//! * [`common`]: the RPC messages of the `ShardCtrler` service;
//! * [`server`]: the configurations as a state machine behind the
//!   generic [`Rsm`](rsm::Rsm), and the RPC handlers;
//! * [`client`]: the Clerk.

pub mod client;
pub mod common;
pub mod server;

pub use shardconfig as config;

pub use client::Clerk;
pub use config::{Config, Gid, N_SHARDS, NO_GROUP};
pub use server::ShardCtrler;
