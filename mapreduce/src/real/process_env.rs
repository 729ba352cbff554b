//! [`Env`] for a real worker process: wall clock, `thread::sleep`, OS
//! randomness, `getpid`, `kill(pid, 0)` and `exit(1)`.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::kill;
use nix::unistd::Pid;
use rand::Rng;

use crate::env::Env;

/// The operating system, as one worker process sees it.
#[derive(Clone, Debug)]
pub struct ProcessEnv {
    start: Instant,
}

impl ProcessEnv {
    pub fn new() -> ProcessEnv {
        ProcessEnv {
            start: Instant::now(),
        }
    }
}

impl Default for ProcessEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for ProcessEnv {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn unix_time(&self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    /// Blocks the thread: the worker is the only task on its executor.
    async fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration)
    }

    /// Go's crash app uses `crypto/rand`; the OS-seeded generator stands in.
    fn random_below(&self, n: u64) -> u64 {
        rand::rng().random_range(0..n)
    }

    fn pid(&self) -> u64 {
        u64::from(std::process::id())
    }

    /// `kill(pid, 0)` succeeds: the process exists and we may signal it.
    fn is_alive(&self, pid: u64) -> bool {
        i32::try_from(pid).is_ok_and(|pid| kill(Pid::from_raw(pid), None).is_ok())
    }

    async fn crash(&self) {
        tracing::debug!(topic = "crash", "crash app: exiting with status 1");
        std::process::exit(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_itself_alive_and_a_reaped_child_dead() {
        let env = ProcessEnv::new();
        assert!(env.is_alive(env.pid()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = u64::from(child.id());
        child.wait().unwrap();
        assert!(!env.is_alive(pid));
        assert!(!env.is_alive(u64::MAX));
    }
}
