//! Lab 2: Raft, the replicated log under every later lab.
//!
//! A [`Raft`] peer is one member of a group that agrees on a sequence of
//! commands despite crashes, restarts and an unreliable network (the Raft
//! paper, extended version, Figures 2 and 13). A service on each server
//! proposes commands with [`Raft::start`] and receives the committed ones, in
//! order and exactly once per peer incarnation, as [`ApplyMsg`]s on its apply
//! channel. kvraft (Lab 3) is such a service.
//!
// BEGIN SOLUTION
//! The crate is split the way production Raft libraries are:
//! * [`core`]: the protocol as a pure state machine:
//!   inputs in, replies and effects out, no I/O and no clock. It is public so
//!   that drivers outside the labs' simulation can reuse it (the kvstore
//!   replica drives it over UDP in real time) instead of a second Raft;
//! * `driver` (private): the async shell, with its ticker,
//!   RPC tasks, persistence and applier, built on `labrpc`'s simulation;
//! * `log` (private): the log with its snapshotted prefix cut off;
//! * [`messages`]: RPC arguments and replies, log entries, apply messages;
//! * [`observe`]: what a peer reports about itself for the tests' timeline;
//! * `persist` (private): the encoding of the persistent state.
//!
// HANDOUT
// //! Where you write code: `src/driver.rs` ([`Raft`]: its state, its tasks,
// //! its RPC handlers) and the RPC types in [`messages`] (their fields are your
// //! design). Add modules as you like. See docs/lab2-raft.md. Optionally,
// //! report your peer's role, term and log to the tests' failure timeline
// //! through [`observe`] (`Raft::set_observer`).
// //!
// END SOLUTION
//! ```
//! use std::time::Duration;
//! use labrpc::{Network, Persister, Server, sim};
//! use raft::{ApplyMsg, Raft};
//!
//! sim::Builder::new().seed(1).run(async {
//!     let net = Network::new();
//!     let node = sim::Node::new("S0");
//!     let (tx, mut rx) = tokio::sync::mpsc::channel(1);
//!     let peers = vec![net.make_end("S0-to-S0")];
//!     let raft = node.enter(|| Raft::make(peers, 0, Persister::new(), tx));
//!     let server = Server::new(&node);
//!     server.add_service(raft.service());
//!     net.add_server("S0", server);
//!     sim::sleep(Duration::from_secs(2)).await; // a lone peer elects itself
//!     let (index, _term) = raft.start(&42u64).expect("the only peer leads");
//!     match rx.recv().await {
//!         Some(ApplyMsg::Command { index: applied, .. }) => assert_eq!(applied, index),
//!         other => panic!("expected a command, got {other:?}"),
//!     }
//! });
//! ```
//!
//! The apply channel is a `tokio::sync::mpsc` channel that the caller creates;
//! capacity 1 is closest to Go's unbuffered `applyCh` (Raft runs at most one
//! message ahead of the service) and is what the tests use.

#![warn(missing_docs)]

// BEGIN SOLUTION
/// `assert!` for the reference's own invariants (Election Safety, Log
/// Matching, a monotonic commit index, ...): checks that a student's Raft
/// does not have. With the crate feature `no-internal-asserts` they are off
/// (the condition still type-checks but is never evaluated), so that a bug
/// planted in this code (a mutant, see docs/testing.md) faces only what the
/// tests themselves check, as a student's code does.
macro_rules! internal_assert {
    ($($arg:tt)*) => {
        if cfg!(not(feature = "no-internal-asserts")) {
            assert!($($arg)*);
        }
    };
}

/// `debug_assert!` for the reference's own invariants; see `internal_assert`.
macro_rules! internal_debug_assert {
    ($($arg:tt)*) => {
        if cfg!(not(feature = "no-internal-asserts")) {
            debug_assert!($($arg)*);
        }
    };
}

/// `debug_assert_eq!` for the reference's own invariants; see `internal_assert`.
macro_rules! internal_debug_assert_eq {
    ($($arg:tt)*) => {
        if cfg!(not(feature = "no-internal-asserts")) {
            debug_assert_eq!($($arg)*);
        }
    };
}

pub mod core;
mod log;
mod persist;
// END SOLUTION
mod driver;
pub mod messages;
pub mod observe;

// BEGIN SOLUTION
pub use crate::core::{
    ELECTION_TIMEOUT_MS, HEARTBEAT_INTERVAL, MAX_APPLY_BATCH, MAX_ENTRIES_PER_APPEND,
};
pub use driver::TICK;
// END SOLUTION
pub use driver::{Raft, SERVICE_NAME};
pub use messages::{ApplyMsg, Entry};
pub use observe::{Observer, PeerState, Role};
