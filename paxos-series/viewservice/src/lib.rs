//! Paxos series, Lab 2A (MIT 6.824 Spring 2015): the viewservice.
//!
//! A single viewservice decides which of a set of servers is the primary and
//! which the backup of a primary/backup service (the `pbservice` crate). The
//! servers ping it every [`PING_INTERVAL`]; it tracks who is alive and moves
//! from view to view by the lab's rules, never past a view its primary has not
//! acknowledged. See docs/paxos-lab2-primary-backup.md for the lab guide.
//!
//! * [`common`]: constants and RPC messages (Go's `common.go`);
//! * [`ViewServer`]: the server, written by the student;
//! * [`Clerk`]: the client library (provided).

pub mod client;
pub mod common;
mod server;
// BEGIN SOLUTION
mod view_state;
pub use view_state::ViewState;
// END SOLUTION

pub use client::Clerk;
pub use common::{DEAD_PINGS, PING_INTERVAL, View};
pub use server::ViewServer;
