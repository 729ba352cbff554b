//! The deterministic simulation runtime every lab test runs on.
//!
//! A simulated test is a pure function of one `u64` seed. Time is virtual:
//! sleeping costs no wall time, and the clock only moves when every task is
//! waiting, so a test that sleeps for two virtual minutes finishes in
//! milliseconds. Every random choice (network faults, election timeouts, the
//! order in which ready tasks run, the tests' own choices) is drawn from one
//! generator seeded by that seed. The same seed therefore replays the same run,
//! bit for bit, and a failure prints the command that replays it.
//!
//! ```
//! use std::time::Duration;
//! use labrpc::sim;
//!
//! // In a test: `#[test] fn initial_election_2a() { sim::run(async { .. }); }`
//! let report = sim::Builder::new().seed(7).run(async {
//!     let node = sim::Node::new("S0");
//!     let ticks = node.spawn(async {
//!         for _ in 0..10 {
//!             sim::sleep(Duration::from_millis(100)).await; // a server's background loop
//!         }
//!         sim::now()
//!     });
//!     sim::sleep(Duration::from_secs(120 - 1)).await; // costs no wall time
//!     assert_eq!(ticks.await.unwrap().since_start(), Duration::from_secs(1));
//! });
//! assert_eq!(report.seed, 7);
//! ```
//!
//! Lab code uses these functions instead of the wall clock, OS threads and OS
//! randomness (the workspace's clippy.toml bans those), and `tokio::sync` or
//! `futures` channels and locks, which work on any executor. `LAB_REALTIME=1`
//! runs the same tests on tokio's multi-threaded runtime in real time; see
//! docs/testing.md for why both exist.

pub(crate) mod base;
pub(crate) mod context;
mod executor;
mod realtime;
mod runner;
mod task;
mod time;

pub use runner::{Builder, DEFAULT_TIME_LIMIT, Failure, Report, replay_command, run};
pub use task::{Cancelled, JoinHandle, Node, current_node, spawn};
pub use time::{Elapsed, Instant, Sleep, go_sleep, now, sleep, sleep_until, timeout, yield_now};

use context::Context;
use rand::Rng;
use rand::distr::uniform::{SampleRange, SampleUniform};

/// The seeded random generator of the running simulation.
pub type SimRng = rand_chacha::ChaCha8Rng;

/// Runs `f` with the simulation's random generator.
pub fn with_rng<R>(f: impl FnOnce(&mut SimRng) -> R) -> R {
    Context::current().with_rng(f)
}

/// A uniformly random value in `range`, e.g. `gen_range(150..300)`.
pub fn gen_range<T: SampleUniform, R: SampleRange<T>>(range: R) -> T {
    with_rng(|rng| rng.random_range(range))
}

/// True with probability `p`.
pub fn gen_bool(p: f64) -> bool {
    with_rng(|rng| rng.random_bool(p))
}

/// A random `u64`.
pub fn random_u64() -> u64 {
    with_rng(|rng| rng.random())
}

/// A random string of `len` letters and digits (Go's `randstring`).
pub fn random_string(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    with_rng(|rng| {
        (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    })
}

/// The seed of the running simulation.
pub fn seed() -> u64 {
    Context::current().seed
}

/// True when running inside a simulation (or a real-time run of one).
pub fn is_running() -> bool {
    Context::try_current().is_some()
}

/// True in real-time mode (`LAB_REALTIME=1`).
pub fn is_realtime() -> bool {
    Context::current().is_realtime()
}
