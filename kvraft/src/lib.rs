//! kvraft: Lab 3, a fault-tolerant key/value service on Raft.
//!
//! * [`server`]: the key/value map as a state machine and its RPC handlers;
//! * [`client`]: the Clerk;
//! * [`common`]: the RPC messages.
//!
//! The replicated state machine under the server (apply loop, waiting for an
//! index, at-most-once, snapshots) is the [`rsm`] crate, shared with
//! shardctrler and shardkv.

pub mod client;
pub mod common;
pub mod server;

pub use client::Clerk;
pub use server::KvServer;
