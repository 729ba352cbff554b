//! What the worker and the apps take from the operating system.
//!
//! Go's worker and plugins call `time.Now`, `time.Sleep`, `os.Getpid`,
//! `syscall.Kill(pid, 0)`, `crypto/rand` and `os.Exit` directly. Here they go
//! through [`Env`], so the real binaries use the OS ([`crate::real::ProcessEnv`])
//! while simulated workers use labrpc's virtual clock, seeded generator and
//! node kills ([`crate::sim::SimEnv`]), and a simulated run replays exactly.

use std::future::Future;
use std::time::Duration;

/// Clock, sleep, randomness and process identity for one worker.
pub trait Env: Send + Sync {
    /// Time since a fixed origin; only differences matter.
    fn now(&self) -> Duration;

    /// Seconds since the Unix epoch (mtiming's timestamps). Simulated
    /// environments return virtual seconds since the run started.
    fn unix_time(&self) -> f64;

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;

    /// A uniformly random number in `0..n` (`n > 0`).
    fn random_below(&self, n: u64) -> u64;

    /// This worker's process id (Go's `os.Getpid()`).
    fn pid(&self) -> u64;

    /// Whether the worker process `pid` is still running (Go's `kill(pid, 0)`).
    fn is_alive(&self, pid: u64) -> bool;

    /// Crashes this worker on the spot, as Go's `os.Exit(1)` does: no cleanup,
    /// whatever it was writing is left as it is. The future never completes.
    fn crash(&self) -> impl Future<Output = ()> + Send;
}
