//! shardctrler: Lab 4A, the shard controller.
//!
//! The service (a replicated state machine on Raft) is being written; this
//! module holds the configurations and the rebalancing rule.

pub mod config;

pub use config::{Config, Gid, N_SHARDS};
