//! The Paxos log under a replicated service: agree on an operation in some
//! instance, apply the decided instances in order, forget what is applied.
// SOLUTION FILE
//!
//! kvpaxos and shardmaster (and any service replicated the 2015 way) run
//! the same loop, so it is written once here. A server handles one request
//! at a time (an async mutex, held across the waits for agreement): it first
//! applies every instance it knows of, then proposes the request as the
//! value of the next instance and waits for the decision. If another
//! server's operation won that instance, it applies that one and tries the
//! next instance. Waiting for an instance it has not heard decided (a hole,
//! left by a partition or a lost message), it proposes a no-op there after a
//! short while, which either decides the no-op or teaches it the value that
//! was decided. After applying instance `s` it calls `done(s)`, so Paxos
//! forgets the log behind it.
//!
//! The service keeps its own state and hands [`PaxosLog::execute`] the
//! function that applies one operation to it; the log only counts instances.
//! Operations must be told apart by value (a request carries its clerk and
//! number, or a random id): a server whose operation was decided knows it
//! only by finding its very value there.

use std::fmt::{self, Debug, Write as _};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use labrpc::sim;
use paxos::{Fate, Paxos};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Polls of an instance's status start this far apart and double...
const POLL_MIN: Duration = Duration::from_millis(10);
/// ...up to this (Go's guide says up to 10 s; a low cap makes a server that
/// waited out a partition notice the heal at once).
const POLL_MAX: Duration = Duration::from_millis(100);
/// An instance still pending after this many polls gets a no-op proposal.
const POLLS_BEFORE_NOOP: u32 = 3;
/// A log line shows at most this many characters of an operation: kvpaxos's
/// TestDone puts 1 MB values, and a line per proposal of the whole value made
/// its log 47 MB.
const OP_LOG_CHARS: usize = 200;

/// Locks a mutex, ignoring poisoning: a panic in any task already fails the
/// test with its seed.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One server's view of the Paxos log of operations `Op`.
pub struct PaxosLog<Op> {
    px: Arc<Paxos>,
    /// Log lines name the server: `<label><me>`, e.g. `KV1`.
    name: String,
    /// The log topic of proposals and errors (the service's).
    topic: &'static str,
    /// The operation that fills a hole.
    noop: Op,
    /// One request at a time; held across the waits for agreement, hence
    /// tokio's async mutex.
    turn: tokio::sync::Mutex<()>,
    /// The next instance to apply. A std mutex: held only for short reads
    /// and writes, never across an `.await`.
    next: Mutex<i64>,
}

impl<Op> PaxosLog<Op>
where
    Op: Serialize + DeserializeOwned + PartialEq + Clone + Debug,
{
    /// The log of the Paxos peer `px`; `label` prefixes the server's number
    /// in log lines, which go to `topic` (applied instances to `apply`);
    /// `noop` is proposed to fill holes.
    pub fn new(px: Arc<Paxos>, label: &str, topic: &'static str, noop: Op) -> PaxosLog<Op> {
        let name = format!("{label}{}", px.me());
        PaxosLog {
            px,
            name,
            topic,
            noop,
            turn: tokio::sync::Mutex::new(()),
            next: Mutex::new(0),
        }
    }

    /// The next instance this server will apply (all below are applied).
    pub fn next(&self) -> i64 {
        *lock(&self.next)
    }

    /// Agrees on `op` in some instance and applies the log up to it with
    /// `apply`. Once the log known so far is applied, and before proposing,
    /// `settled` may answer instead (a retry of a request already applied).
    /// Returns what `apply` returned for `op`, or None if the server's Paxos
    /// peer was killed first.
    pub async fn execute<R>(
        &self,
        op: Op,
        settled: impl Fn() -> Option<R>,
        mut apply: impl FnMut(&Op) -> R,
    ) -> Option<R> {
        let _turn = self.turn.lock().await;
        loop {
            // Apply everything this peer knows was started.
            let max = self.px.max();
            while self.next() <= max {
                let seq = self.next();
                self.apply_next(seq, &mut apply).await?;
            }
            if let Some(result) = settled() {
                return Some(result);
            }
            let seq = self.next();
            tracing::debug!(
                topic = self.topic,
                "{} proposes {} at {seq}",
                self.name,
                Brief(&op)
            );
            self.px.start(seq, &op);
            let (decided, result) = self.apply_next(seq, &mut apply).await?;
            if decided == op {
                return Some(result);
            }
        }
    }

    /// Waits until instance `seq` (the next to apply) is decided, proposing a
    /// no-op if it stays pending, and applies it. None if the peer was killed.
    async fn apply_next<R>(&self, seq: i64, apply: &mut impl FnMut(&Op) -> R) -> Option<(Op, R)> {
        let mut pause = POLL_MIN;
        let mut polls = 0;
        let op = loop {
            if self.px.is_dead() {
                return None;
            }
            match self.px.status::<Op>(seq) {
                Ok(Fate::Decided(op)) => break op,
                Ok(Fate::Pending) => {}
                Ok(Fate::Forgotten) => {
                    // Impossible: Min never passes this server's own Done.
                    tracing::error!(
                        topic = self.topic,
                        "{}: instance {seq} forgotten before it was applied",
                        self.name
                    );
                    break self.noop.clone();
                }
                Err(error) => {
                    // Not an Op: nothing to apply, but never a panic.
                    tracing::error!(topic = self.topic, "{}: {error}; skipped", self.name);
                    break self.noop.clone();
                }
            }
            polls += 1;
            if polls == POLLS_BEFORE_NOOP {
                self.px.start(seq, &self.noop);
            }
            sim::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
        };
        {
            let mut next = lock(&self.next);
            debug_assert_eq!(*next, seq, "instances are applied in order");
            *next = seq + 1;
        }
        let result = apply(&op);
        tracing::debug!(topic = "apply", "{} applies {seq}", self.name);
        self.px.done(seq);
        Some((op, result))
    }
}

/// An operation's `Debug` for a log line, cut after [`OP_LOG_CHARS`]
/// characters (then ending in `…`). Formatting stops at the cut, so a huge
/// value costs no more than a small one.
struct Brief<'a, T>(&'a T);

impl<T: Debug> fmt::Display for Brief<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Capped {
            f,
            left: OP_LOG_CHARS,
            cut: false,
        };
        match write!(out, "{:?}", self.0) {
            Ok(()) => Ok(()),
            // The error is Capped's own way of stopping the formatting.
            Err(_) if out.cut => out.f.write_str("…"),
            Err(error) => Err(error),
        }
    }
}

/// A writer that passes `left` more characters on to `f`, then stops the
/// formatting (an error, with `cut` set).
struct Capped<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    left: usize,
    cut: bool,
}

impl fmt::Write for Capped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match s.char_indices().nth(self.left) {
            Some((end, _)) => {
                self.f.write_str(&s[..end])?;
                self.cut = true;
                Err(fmt::Error)
            }
            None => {
                // nth found no character at `left`: s has at most `left`.
                self.left -= s.chars().count();
                self.f.write_str(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_shows_a_short_op_whole_and_cuts_a_long_one() {
        assert_eq!(Brief(&("a", 1)).to_string(), r#"("a", 1)"#);
        let exactly = "x".repeat(OP_LOG_CHARS - 2); // Debug adds two quotes
        assert_eq!(Brief(&exactly).to_string(), format!("{exactly:?}"));
        let huge = "é".repeat(1 << 20);
        let brief = Brief(&huge).to_string();
        assert_eq!(brief.chars().count(), OP_LOG_CHARS + 1);
        assert!(brief.starts_with("\"é") && brief.ends_with("é…"), "{brief}");
    }
}
