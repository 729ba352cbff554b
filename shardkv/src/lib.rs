//! shardkv: Lab 4B, a sharded key/value service.
//!
//! Keys are split into `N_SHARDS` shards; each shard is served by one replica
//! group (a Raft-replicated state machine), and the shard controller
//! (Lab 4A) says which. When the configuration changes, shards move between
//! groups together with their duplicate-detection tables.
//!
//! * [`common`]: the RPC messages and `key2shard`;
// BEGIN SOLUTION
//! * [`store`]: a group's replicated state: configuration, shards and their
//!   migration status, as a [`StateMachine`](rsm::StateMachine);
// END SOLUTION
//! * [`server`]: the RPC handlers and the background tasks that poll the
//!   controller, pull shards and garbage-collect them;
//! * [`client`]: the Clerk.

pub mod client;
pub mod common;
pub mod server;
// BEGIN SOLUTION
pub mod store;
// END SOLUTION

pub use client::Clerk;
pub use common::key2shard;
pub use server::{MakeEnd, ShardKv};
