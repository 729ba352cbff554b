//! Tester-side helpers for the tests beyond Go (`classic_bugs.rs`): fresh
//! commands, waiting for a leader among chosen servers, star topologies, and
//! a check on what `start()` tells the tester.
//!
//! Everything here uses only what a student's Raft offers the tester
//! (`get_state()`, `start()`, crash/restart and the network), never the
//! reference's internals, so the tests work unchanged in the handout.

#![allow(dead_code)] // not every test uses every helper

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::sim;
use serde::Serialize;

use crate::common::Config;

/// How often the helpers poll the peers (virtual time; polls cost no wall
/// time worth speaking of).
pub const POLL: Duration = Duration::from_millis(2);

/// The fresh commands a test submits, in order from a first value (each
/// value submitted once, so an applied value tells which submission it was).
pub struct Commands {
    next: i64,
}

impl Commands {
    /// Commands `first`, `first + 1`, ...
    pub fn starting_at(first: i64) -> Commands {
        Commands { next: first }
    }

    /// The next command.
    pub fn fresh(&mut self) -> i64 {
        let command = self.next;
        self.next += 1;
        command
    }

    /// Go's `cfg.one(command, expected, true)` with the next command: at
    /// least `expected` servers must commit it. Returns its index.
    pub async fn one(&mut self, cfg: &Config, expected: usize) -> u64 {
        cfg.one(&self.fresh(), expected, true).await
    }
}

/// Waits up to `limit` for a running server among `among` to claim to lead;
/// returns it and its term. None if nobody did.
pub async fn wait_leader(cfg: &Config, among: &[usize], limit: Duration) -> Option<(usize, u64)> {
    let t0 = sim::now();
    while t0.elapsed() < limit {
        for &i in among {
            if let Some(raft) = cfg.try_raft(i)
                && let (term, true) = raft.get_state()
            {
                return Some((i, term));
            }
        }
        sim::sleep(POLL).await;
    }
    None
}

/// Cuts every link, then links `hub` with each of `spokes`: the spokes reach
/// each other only through the hub. Only the hub counts as connected (so
/// `Config::one` submits to it alone).
pub fn star(cfg: &Config, hub: usize, spokes: &[usize]) {
    for i in 0..cfg.n() {
        cfg.disconnect(i);
    }
    cfg.connect(hub);
    for &s in spokes {
        cfg.link(hub, s, true);
    }
}

/// A conflicting suffix in the making: the current leader `l` and one
/// follower `f` are cut off from the `majority` (the others), and `l`
/// appends `count` fresh commands that only `f` can receive. Returns `(l, f,
/// majority)`.
pub async fn leader_with_one_follower_appends(
    cfg: &Config,
    commands: &mut Commands,
    count: usize,
) -> (usize, usize, Vec<usize>) {
    let servers = cfg.n();
    let l = cfg.check_one_leader().await;
    let f = (l + 1) % servers;
    let majority: Vec<usize> = (0..servers).filter(|&i| i != l && i != f).collect();
    cfg.partition(&[l, f], &majority);
    for _ in 0..count {
        let command = commands.fresh();
        if let Some(raft) = cfg.try_raft(l) {
            raft.start(&command);
        }
    }
    (l, f, majority)
}

/// The old leader `l` crashes and stays away; its follower `f` joins the
/// `majority`.
pub fn old_leader_gone(cfg: &Config, l: usize, f: usize, majority: &[usize]) {
    cfg.crash1(l);
    cfg.partition(&[majority, &[f]].concat(), &[l]);
    cfg.disconnect(l);
}

/// Every server connected to every other again (restarting crashed ones).
pub fn heal(cfg: &Config) {
    for i in 0..cfg.n() {
        if cfg.try_raft(i).is_none() {
            cfg.start1(i);
        }
    }
    for i in 0..cfg.n() {
        cfg.disconnect(i);
    }
    for i in 0..cfg.n() {
        cfg.connect(i);
    }
}

/// What `start()` acknowledged: a peer that returns `Some((index, term))`
/// claims to be the leader of `term`. Two different peers acknowledging
/// commands in one term means two leaders in that term (Election Safety),
/// however briefly each led; the harness's safety checker, which polls
/// `get_state()`, can miss a short reign. Cloning shares the record.
#[derive(Clone, Default)]
pub struct StartLedger {
    leaders: Arc<Mutex<BTreeMap<u64, usize>>>,
}

impl StartLedger {
    /// `cfg.raft(i).start(command)`, checked: panics if another peer
    /// already acknowledged a command in the same term.
    pub fn start<C: Serialize + ?Sized>(
        &self,
        cfg: &Config,
        i: usize,
        command: &C,
    ) -> Option<(u64, u64)> {
        let (index, term) = cfg.try_raft(i)?.start(command)?;
        // A poisoned lock means a panic already failed the test.
        let mut leaders = self.leaders.lock().unwrap_or_else(|e| e.into_inner());
        let leader = *leaders.entry(term).or_insert(i);
        assert_eq!(
            leader, i,
            "safety: servers {leader} and {i} both acknowledged start() in term {term}"
        );
        Some((index, term))
    }

    /// Submits `command` to every running server that is connected, as Go's
    /// `one` does, and returns what the (only) acknowledging one said.
    pub fn start_any<C: Serialize + ?Sized>(
        &self,
        cfg: &Config,
        command: &C,
    ) -> Option<(usize, u64, u64)> {
        let mut acknowledged = None;
        for i in 0..cfg.n() {
            if cfg.is_connected(i)
                && let Some((index, term)) = self.start(cfg, i, command)
            {
                acknowledged = Some((i, index, term));
            }
        }
        acknowledged
    }
}

/// Submits fresh commands to every connected server for `length`, a random
/// 0 to `max_gap_ms` - 1 milliseconds apart, so that new entries keep
/// arriving while AppendEntries are in flight.
pub async fn command_stream(
    cfg: &Config,
    ledger: &StartLedger,
    commands: &mut Commands,
    length: Duration,
    max_gap_ms: u64,
) {
    let t0 = sim::now();
    while t0.elapsed() < length {
        ledger.start_any(cfg, &commands.fresh());
        sim::sleep(Duration::from_millis(sim::gen_range(0..max_gap_ms))).await;
    }
}
