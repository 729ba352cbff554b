//! Paxos series, Lab 2B (MIT 6.824 Spring 2015): a primary/backup key/value
//! service on the viewservice.
//!
//! The viewservice names a primary and a backup; the primary serves clients'
//! Get, Put and Append, forwards every update to the backup before answering,
//! and copies its whole database to each new backup. Clients find the primary
//! through the viewservice and retry until it answers; every Put and Append
//! takes effect at most once even on an unreliable network. See
//! docs/paxos-lab2-primary-backup.md for the lab guide.
//!
//! * [`common`]: RPC messages (Go's `common.go`);
//! * [`PbServer`]: the server, written by the student;
//! * [`Clerk`]: the client library;
//! * [`Dialer`]: ends to servers by name.

pub mod client;
pub mod common;
mod dialer;
// BEGIN SOLUTION
mod replica;
// END SOLUTION
mod server;

pub use client::Clerk;
pub use common::{Op, Status};
pub use dialer::Dialer;
pub use server::{PbServer, Role};
