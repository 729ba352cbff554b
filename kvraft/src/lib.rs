//! kvraft: Lab 3, a fault-tolerant key/value service on Raft.
//!
//! * [`rsm`]: the generic replicated state machine (apply loop, waiting for an
//!   index, at-most-once, snapshots), reused by shardctrler and shardkv;
//! * [`server`]: the key/value map as a state machine and its RPC handlers;
//! * [`client`]: the Clerk;
//! * [`common`]: the RPC messages;
//! * [`history`]: the tests' end-of-run linearizability check (kvraft and shardkv).

pub mod client;
pub mod common;
pub mod history;
pub mod rsm;
pub mod server;

pub use client::Clerk;
pub use server::KvServer;
