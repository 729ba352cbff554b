//! labrpc: the simulated, unreliable RPC network every lab stands on, and the
//! deterministic runtime that runs it.
//!
//! * [`sim`]: virtual time, one seeded random generator, nodes whose tasks die
//!   together, and a runner that replays any failure from its seed.
//! * [`Network`], [`Server`], [`Service`], [`ClientEnd`]: Go's labrpc, behaviour
//!   for behaviour (delays, losses, reordering, dead servers, counts, bytes),
//!   with typed calls whose payloads are really serialized. A second
//!   [`Profile`], [`Profile::Go2015`], follows the 2015 labs' sockets instead
//!   (instant failures, per-server unreliability, kill, deaf servers, links,
//!   partitions, a delaying [`Proxy`]) through [`Listener`]s.
//! * [`Persister`]: Raft's stable storage, with Go's crash model.
//! * [`codec`]: the serde + bincode 2 encoding used on the wire and on disk.
//! * [`log`]: per-test logs stamped with virtual time and node.
//! * [`timeline`]: per-peer states, crashes and partitions, drawn as HTML on failure.
//!
//! See docs/testing.md for how the simulation works and why.

#![warn(missing_docs)]

pub mod codec;
mod error;
pub mod log;
mod network;
mod persister;
pub mod sim;
pub mod timeline;
mod trace;

pub use error::Error;
pub use network::{
    ClientEnd, Listener, Network, PathError, Profile, Proxy, Server, Service, call_until,
};
pub use persister::{Persister, SavedState};
/// The `rand` version labrpc's generator implements, for `sim::with_rng`.
pub use rand;
