//! Lab 1: MapReduce.
//!
//! One coordinator hands out map and reduce tasks; workers run them and write
//! files. The same logic runs in two worlds:
//!
//! * **real processes** ([`real`]): `mrcoordinator` and `mrworker` talk over a
//!   UNIX domain socket, files live on disk, time is the wall clock, a crash is
//!   `exit(1)`. This is what `test-mr.sh`'s ports in `tests/real_mr/` drive.
//! * **simulation** ([`sim`]): the coordinator is a labrpc service, workers are
//!   `labrpc::sim::Node`s, files live in an in-memory store, time is virtual, a
//!   crash is `Node::kill`. Crash and timing behaviour is then deterministic and
//!   replayable from a seed (`tests/sim_mr.rs`).
//!
//! To make that possible, nothing in the shared logic touches the world
//! directly. The [`coordinator::Coordinator`] is a pure state machine that is
//! told the time; the [`worker`] loop is generic over three small traits:
//! [`protocol::CoordinatorApi`] (how to reach the coordinator),
//! [`env::Env`] (clock, sleep, randomness, process identity, crashing) and
//! [`store::FileStore`] (the working directory, with atomic writes).

pub mod apps;
pub mod coordinator;
pub mod env;
pub mod hash;
pub mod letters;
pub mod output;
pub mod protocol;
pub mod real;
pub mod sequential;
pub mod sim;
pub mod store;
pub mod worker;

/// Number of reduce tasks (and `mr-out-*` files), as in the Go lab.
pub const N_REDUCE: usize = 10;
