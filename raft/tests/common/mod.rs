//! The Raft test harness: a port of Go's `raft/config.go` on the shared
//! [`labtest`] cluster, plus a safety checker that Go does not have.
//!
//! A [`Config`] runs `n` Raft peers in a [`labtest::Cluster`] (servers `S<i>`,
//! each on its own node; crash, restart, connect and disconnect are the
//! cluster's, reached through `Deref`) and plays the service above each of
//! them: an applier task (on the peer's node, so it dies with it) records
//! every applied command in `logs[i]` and checks it against every other
//! peer's, exactly as Go's `applier`/`applierSnap` do. Commands are compared
//! as their encoded bytes, so any serializable value works.
//!
//! Beyond Go, while a test runs:
//! * labtest's safety checker polls every live peer every [`SAFETY_POLL`] and
//!   fails the test at once if two peers lead the same term (Election Safety)
//!   or a peer's term goes backwards (also across a restart: terms are persisted);
//! * every applied entry is compared with the first value ever applied at
//!   that index, by any peer, even after logs were replaced by snapshots
//!   (State Machine Safety: a committed entry never changes).
//!
//! Any failure panics; a panic in any task fails the simulation and prints
//! the seed that replays it.
//!
//! For the failure timeline, every peer gets an observer
//! ([`Raft::set_observer`]): the lanes show the role (candidates too) and
//! term each peer reported, its log length and commit index over time, and
//! its snapshots; a peer that never reports is drawn from `get_state()`
//! polls. A failed apply check marks the conflicting entry, with the term
//! each peer applied it in, on the lanes of both peers.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use labrpc::Network;
use labrpc::codec;
use labrpc::sim;
use labrpc::timeline;
use labtest::{Cluster, Status};
use raft::{ApplyMsg, Raft};
use serde::Serialize;
use tokio::sync::mpsc;

/// "The tester generously allows solutions to complete elections in one
/// second (much more than the paper's range of timeouts)."
pub const RAFT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);
/// The snapshot applier snapshots after every this many commands.
pub const SNAPSHOT_INTERVAL: u64 = 10;
/// 2D: the persisted Raft state must stay below this many bytes.
pub const MAX_LOG_SIZE: usize = 2000;
/// How often the safety checker looks at every peer.
pub const SAFETY_POLL: Duration = Duration::from_millis(5);
/// Capacity of each peer's apply channel (Go's is unbuffered).
pub const APPLY_CHANNEL_CAPACITY: usize = 1;

/// Go's `rand.Int()`: a non-negative random integer, from the seeded generator.
pub fn rand_int() -> i64 {
    sim::gen_range(0..i64::MAX)
}

/// Decodes a committed command that the test submitted as an integer.
pub fn as_int(command: &[u8]) -> i64 {
    codec::decode(command).unwrap_or_else(|e| panic!("value is not an int: {e}"))
}

/// A short human-readable rendering of an encoded command, for messages.
fn show(command: &[u8]) -> String {
    if let Ok(x) = codec::decode::<i64>(command) {
        return x.to_string();
    }
    if let Ok(s) = codec::decode::<String>(command) {
        return format!("{:?}...({} chars)", &s[..s.len().min(12)], s.len());
    }
    format!("<{} bytes>", command.len())
}

labtest::lab!(
    /// Raft peers as the cluster harness sees them.
    RaftLab, Raft,
    services: |raft| vec![raft.service()],
    status: |raft| {
        let (term, is_leader) = raft.get_state();
        Status::raft(term, is_leader)
    }
);

/// A test's cluster. Cloning shares it (client tasks in the churn tests).
#[derive(Clone)]
pub struct Config {
    inner: Arc<Shared>,
}

struct Shared {
    cluster: Cluster<RaftLab>,
    snapshot: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Commands each peer has applied, by index.
    logs: Vec<BTreeMap<u64, Vec<u8>>>,
    /// The term of each entry each peer applied, by index (for messages).
    applied_terms: Vec<BTreeMap<u64, u64>>,
    /// The snapshot applier's last applied index per peer.
    last_applied: Vec<u64>,
    /// Peers whose service snapshots every so many commands instead (beyond Go).
    snapshot_every: BTreeMap<usize, u64>,
    max_index: u64,
    /// begin()'s baseline of `max_index`.
    max_index0: u64,
    /// The first command applied at each index, by which peer, in which
    /// term (for the State Machine Safety check).
    first_applied: BTreeMap<u64, (Vec<u8>, usize, u64)>,
}

impl Deref for Config {
    type Target = Cluster<RaftLab>;
    fn deref(&self) -> &Cluster<RaftLab> {
        &self.inner.cluster
    }
}

/// Go's `make_config(t, n, unreliable, snapshot)`: starts and connects `n`
/// peers on a network with long delays for unreachable servers.
pub fn make_config(n: usize, unreliable: bool, snapshot: bool) -> Config {
    let net = Network::new();
    net.set_reliable(!unreliable);
    // Tests that the leader does not wait for RPCs to dead servers.
    net.set_long_delays(true);
    let state = State {
        logs: vec![BTreeMap::new(); n],
        applied_terms: vec![BTreeMap::new(); n],
        last_applied: vec![0; n],
        ..State::default()
    };
    let cfg = Config {
        inner: Arc::new(Shared {
            cluster: Cluster::new(&net, n),
            snapshot,
            state: Mutex::new(state),
        }),
    };
    for i in 0..n {
        cfg.start1(i);
    }
    for i in 0..n {
        cfg.connect(i);
    }
    // Beyond Go: one leader per term, terms never go back; and the timeline.
    cfg.spawn_safety_checker(SAFETY_POLL);
    cfg
}

/// One Go test in a simulation of its own: `make_config(t, servers,
/// unreliable, snapshot)`, then `test(cfg, servers)` (which starts with Go's
/// `cfg.begin`), then Go's closing `cfg.end()`.
pub fn run_test<F, Fut>(servers: usize, unreliable: bool, snapshot: bool, test: F)
where
    F: FnOnce(Config, usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    sim::run(async move {
        let cfg = make_config(servers, unreliable, snapshot);
        test(cfg.clone(), servers).await;
        cfg.end();
    });
}

impl Config {
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Peer `i`'s Raft; panics if it is crashed (Go would dereference nil).
    pub fn raft(&self, i: usize) -> Raft {
        self.try_raft(i)
            .unwrap_or_else(|| panic!("server {i} is crashed"))
    }

    pub fn try_raft(&self, i: usize) -> Option<Raft> {
        self.server(i)
    }

    /// Go's `crash1`: cut peer `i` off, delete its server, and kill it.
    /// Its Persister is replaced by a copy first, so anything the dying
    /// instance still writes is lost, as on a real crash.
    pub fn crash1(&self, i: usize) {
        self.shutdown(i);
    }

    /// Go's `start1`: (re)start peer `i` from its saved state, with fresh end
    /// names so that nothing addressed to the old instance reaches the new
    /// one, and its applier. Does not connect it: tests call `connect`.
    pub fn start1(&self, i: usize) {
        self.crash1(i);
        self.state().last_applied[i] = 0;
        self.inner.cluster.start(i, |start| {
            let snapshot = start.persister.read_snapshot();
            if !snapshot.is_empty()
                && let Some(error) = self.ingest_snap(i, &snapshot, None)
            {
                panic!("{error}");
            }
            let (apply_tx, apply_rx) = mpsc::channel(APPLY_CHANNEL_CAPACITY);
            let raft = Raft::make(start.ends, i, start.persister, apply_tx);
            raft.set_observer(raft::observe::to_timeline(self.name(i)));
            // On the peer's node: the applier dies with it.
            if self.inner.snapshot {
                sim::spawn(self.clone().applier_snap(i, raft.clone(), apply_rx));
            } else {
                sim::spawn(self.clone().applier(i, apply_rx));
            }
            raft
        });
    }

    // ----- Appliers --------------------------------------------------------

    /// Records `command` (from `term`) as applied by `i` at `index`; returns
    /// an error if a peer applied something else there, and whether `i` had
    /// `index - 1`. A conflict is also marked on both peers' timeline lanes.
    fn check_logs(
        &self,
        i: usize,
        index: u64,
        term: u64,
        command: &[u8],
    ) -> (Option<String>, bool) {
        let mut st = self.state();
        let mut error = None;
        let in_term = |t: Option<u64>| t.map_or(String::new(), |t| format!(" (T{t})"));
        // Every peer that applied something else here, for the timeline.
        let mut others = Vec::new();
        for j in 0..self.n() {
            if let Some(old) = st.logs[j].get(&index)
                && old != command
            {
                let old_term = in_term(st.applied_terms[j].get(&index).copied());
                error = Some(format!(
                    "commit index={index} server={i} {}{} != server={j} {}{old_term}",
                    show(command),
                    in_term(Some(term)),
                    show(old)
                ));
                others.push((j, format!("S{j} applied {}{old_term}", show(old))));
            }
        }
        if !others.is_empty() {
            let list: Vec<&str> = others.iter().map(|(_, text)| text.as_str()).collect();
            let conflict = format!(
                "conflicting entry at index {index}: S{i} applied {} (T{term}); {}",
                show(command),
                list.join(", ")
            );
            timeline::alert(self.name(i), &conflict);
            for (j, _) in &others {
                timeline::alert(self.name(*j), &conflict);
            }
        }
        match st.first_applied.get(&index) {
            Some((first, by, first_term)) if first != command => {
                error = Some(format!(
                    "safety: index {index} applied as {} (T{term}) by server {i} but as {} (T{first_term}) earlier (by server {by})",
                    show(command),
                    show(first),
                ));
                if others.is_empty() {
                    // The peer that applied it first has since replaced its
                    // log (a snapshot): say so on this lane alone.
                    let conflict = format!(
                        "index {index} applied as {} (T{term}) here, as {} (T{first_term}) by S{by} earlier",
                        show(command),
                        show(first),
                    );
                    timeline::alert(self.name(i), &conflict);
                }
            }
            Some(_) => {}
            None => {
                st.first_applied.insert(index, (command.to_vec(), i, term));
            }
        }
        let prev_ok = st.logs[i].contains_key(&(index - 1));
        st.logs[i].insert(index, command.to_vec());
        st.applied_terms[i].insert(index, term);
        st.max_index = st.max_index.max(index);
        (error, prev_ok)
    }

    /// Go's `applier`: checks that what peer `i` applies agrees with the
    /// others and arrives in order.
    async fn applier(self, i: usize, mut apply_rx: mpsc::Receiver<ApplyMsg>) {
        while let Some(msg) = apply_rx.recv().await {
            let ApplyMsg::Command {
                index,
                term,
                command,
            } = msg
            else {
                continue; // ignore other types of ApplyMsg
            };
            let (mut error, prev_ok) = self.check_logs(i, index, term, &command);
            if index > 1 && !prev_ok {
                error = Some(format!("server {i} apply out of order {index}"));
            }
            if let Some(error) = error {
                panic!("apply error: {error}");
            }
        }
    }

    /// Go's `applierSnap`: also checks that indices are consecutive, and
    /// every `SNAPSHOT_INTERVAL` commands snapshots "the service's state"
    /// (the applied commands) by calling `Raft::snapshot` from this loop,
    /// synchronously, as a real service would.
    async fn applier_snap(self, i: usize, raft: Raft, mut apply_rx: mpsc::Receiver<ApplyMsg>) {
        while let Some(msg) = apply_rx.recv().await {
            let error = match msg {
                ApplyMsg::Snapshot { index, data, .. } => self.ingest_snap(i, &data, Some(index)),
                ApplyMsg::Command {
                    index,
                    term,
                    command,
                } => {
                    let error = self.apply_in_order(i, index, term, &command);
                    let every = self.state().snapshot_every.get(&i).copied();
                    if error.is_none() && (index + 1) % every.unwrap_or(SNAPSHOT_INTERVAL) == 0 {
                        let snapshot = self.encode_snapshot(i, index);
                        raft.snapshot(index, snapshot);
                    }
                    error
                }
            };
            if let Some(error) = error {
                panic!("apply error: {error}");
            }
        }
    }

    /// Beyond Go: peer `i`'s service snapshots every `every` commands.
    pub fn set_snapshot_every(&self, i: usize, every: u64) {
        self.state().snapshot_every.insert(i, every);
    }

    fn apply_in_order(&self, i: usize, index: u64, term: u64, command: &[u8]) -> Option<String> {
        let expected = self.state().last_applied[i] + 1;
        let mut error = None;
        if index != expected {
            error = Some(format!(
                "server {i} apply out of order, expected index {expected}, got {index}"
            ));
        }
        if error.is_none() {
            let (check, prev_ok) = self.check_logs(i, index, term, command);
            error = check;
            if index > 1 && !prev_ok {
                error = Some(format!("server {i} apply out of order {index}"));
            }
        }
        self.state().last_applied[i] = index;
        error
    }

    /// The snapshot format of Go's tester: the last included index and the
    /// applied commands up to it (entry 0 empty).
    fn encode_snapshot(&self, i: usize, index: u64) -> Vec<u8> {
        let st = self.state();
        let xlog: Vec<Option<Vec<u8>>> = (0..=index).map(|j| st.logs[i].get(&j).cloned()).collect();
        codec::encode(&(index, xlog))
    }

    /// Go's `ingestSnap`: replaces peer `i`'s applied commands with a snapshot's.
    fn ingest_snap(&self, i: usize, snapshot: &[u8], index: Option<u64>) -> Option<String> {
        let (last_included, xlog): (u64, Vec<Option<Vec<u8>>>) =
            codec::decode(snapshot).unwrap_or_else(|e| panic!("snapshot decode error: {e}"));
        if index.is_some_and(|index| index != last_included) {
            return Some(format!("server {i} snapshot doesn't match m.SnapshotIndex"));
        }
        let mut st = self.state();
        let applied = st.last_applied[i]; // beyond Go: a service never goes back
        if index.is_some() && last_included < applied {
            return Some(format!(
                "server {i} went back to {last_included} from {applied}"
            ));
        }
        let mut log = BTreeMap::new();
        for (j, command) in xlog.into_iter().enumerate() {
            let Some(command) = command else { continue };
            let j = j as u64;
            if let Some((first, _, _)) = st.first_applied.get(&j)
                && *first != command
            {
                return Some(format!(
                    "safety: server {i}'s snapshot has {} at index {j}, but {} was applied there",
                    show(&command),
                    show(first)
                ));
            }
            log.insert(j, command);
        }
        st.logs[i] = log;
        st.last_applied[i] = last_included;
        None
    }

    // ----- Checks ----------------------------------------------------------

    /// Go's `checkOneLeader`: waits (up to ~5 s) for exactly one leader among
    /// the connected peers in the newest term that has one.
    pub async fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            let ms = 450 + sim::gen_range(0..100u64);
            sim::sleep(Duration::from_millis(ms)).await;
            let mut leaders: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for i in 0..self.n() {
                if self.is_connected(i)
                    && let Some(raft) = self.try_raft(i)
                    && let (term, true) = raft.get_state()
                {
                    leaders.entry(term).or_default().push(i);
                }
            }
            for (term, in_term) in &leaders {
                if in_term.len() > 1 {
                    panic!("term {term} has {} (>1) leaders", in_term.len());
                }
            }
            if let Some((_, in_term)) = leaders.last_key_value() {
                return in_term[0];
            }
        }
        panic!("expected one leader, got none");
    }

    /// Go's `checkTerms`: all connected peers are in the same term.
    pub fn check_terms(&self) -> u64 {
        let mut term = None;
        for i in 0..self.n() {
            if self.is_connected(i) {
                let (xterm, _) = self.raft(i).get_state();
                match term {
                    None => term = Some(xterm),
                    Some(t) if t != xterm => panic!("servers disagree on term"),
                    Some(_) => {}
                }
            }
        }
        term.unwrap_or(0)
    }

    /// Go's `checkNoLeader`: no connected peer claims to lead.
    pub fn check_no_leader(&self) {
        for i in 0..self.n() {
            if self.is_connected(i) && self.raft(i).get_state().1 {
                panic!("expected no leader among connected servers, but {i} claims to be leader");
            }
        }
    }

    /// Go's `nCommitted`: how many peers applied `index`, and the command.
    pub fn n_committed(&self, index: u64) -> (usize, Option<Vec<u8>>) {
        let st = self.state();
        let mut count = 0;
        let mut command: Option<&Vec<u8>> = None;
        for log in &st.logs {
            if let Some(c) = log.get(&index) {
                if let Some(previous) = command
                    && previous != c
                {
                    panic!(
                        "committed values do not match: index {index}, {}, {}",
                        show(previous),
                        show(c)
                    );
                }
                count += 1;
                command = Some(c);
            }
        }
        (count, command.cloned())
    }

    /// Go's `wait`: until at least `n` peers applied `index`. Returns None if
    /// some peer moved past `start_term` (agreement is then not guaranteed).
    pub async fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<Vec<u8>> {
        let mut to = Duration::from_millis(10);
        for _ in 0..30 {
            let (nd, _) = self.n_committed(index);
            if nd >= n {
                break;
            }
            sim::sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
            if let Some(start_term) = start_term {
                for i in 0..self.n() {
                    if let Some(raft) = self.try_raft(i)
                        && raft.get_state().0 > start_term
                    {
                        return None;
                    }
                }
            }
        }
        let (nd, command) = self.n_committed(index);
        if nd < n {
            panic!("only {nd} decided for index {index}; wanted {n}");
        }
        command
    }

    /// Go's `one`: submits `command` to whichever connected peer is leader
    /// and waits until `expected` peers applied it; returns its index. With
    /// `retry`, keeps trying (new leaders) for up to 10 s.
    pub async fn one<C: Serialize + Debug + ?Sized>(
        &self,
        command: &C,
        expected: usize,
        retry: bool,
    ) -> u64 {
        let bytes = codec::encode(command);
        let t0 = sim::now();
        let mut starts = 0;
        while t0.elapsed() < Duration::from_secs(10) {
            let mut index = None;
            for _ in 0..self.n() {
                starts = (starts + 1) % self.n();
                let raft = if self.is_connected(starts) {
                    self.try_raft(starts)
                } else {
                    None
                };
                if let Some(raft) = raft
                    && let Some((i, _)) = raft.start_encoded(bytes.clone())
                {
                    index = Some(i);
                    break;
                }
            }
            let Some(index) = index else {
                sim::sleep(Duration::from_millis(50)).await;
                continue;
            };
            // Somebody claimed to be the leader and to have submitted our
            // command; wait a while for agreement.
            let t1 = sim::now();
            while t1.elapsed() < Duration::from_secs(2) {
                let (nd, committed) = self.n_committed(index);
                if nd > 0 && nd >= expected && committed.as_deref() == Some(&bytes[..]) {
                    return index;
                }
                sim::sleep(Duration::from_millis(20)).await;
            }
            if !retry {
                panic!("one({}) failed to reach agreement", show(&bytes));
            }
        }
        panic!("one({}) failed to reach agreement", show(&bytes));
    }

    // ----- Reporting -------------------------------------------------------

    /// Go's `begin`: prints the test's title and starts its counters.
    pub fn begin(&self, description: &str) {
        self.inner.cluster.begin(description);
        let mut st = self.state();
        st.max_index0 = st.max_index;
    }

    /// Go's `end`: prints `  ... Passed --  time peers rpcs bytes commits`
    /// (virtual seconds since `begin`, RPCs sent, bytes sent, agreements).
    pub fn end(&self) {
        let s = self.stats();
        let commits = {
            let st = self.state();
            st.max_index - st.max_index0
        };
        labtest::passed(&format!(
            "{:4.1}  {} {:4} {:7} {:4}",
            s.secs, s.peers, s.rpcs, s.bytes, commits
        ));
    }
}
