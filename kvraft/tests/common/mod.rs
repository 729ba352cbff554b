//! The kvraft test harness: a port of Go's `kvraft/config.go` on the shared
//! [`labtest`] cluster, and of the op wrappers at the top of
//! `kvraft/test_test.go` that count operations and record the history
//! (`GenericTest` and its partitioner are in `generic.rs`).
//!
//! A [`Config`] runs `n` KV servers, each on its own simulated node `S<i>`
//! registered on the network as server `S<i>` with two services, `KVServer`
//! and `Raft`. Clerks get a fresh end to every server, in random order, and
//! run on nodes `C0`, `C1`, ... so that logs say who did what.
//!
//! One deliberate addition to Go: the simulated network delivers at once on a
//! reliable link, so a client operation can take no virtual time at all, and
//! Go's client loop ("do operations until told to stop, 5 seconds later")
//! would never let the clock reach 5 seconds. The generic test's clients
//! therefore pause between two operations (never inside one, so the
//! history's intervals are exactly as long as the operations): a random
//! 0..=[`CLIENT_PAUSE_MS_PER_CLIENT`]·nclients ms. All clients together thus
//! offer about 65 operations per virtual second however many there are,
//! which is what Go's reference solution completes (the lab page shows 903
//! operations in 15 s for one client, 1160 for five), and keeps the Raft logs
//! of the 3A tests, which are never trimmed, as long as in Go.
//!
//! Besides Go's checks, the harness records a timeline (each server's role
//! and term as its Raft peer reports them, its log length and commit index,
//! snapshots, crashes, partitions) that the runner draws as HTML when a test
//! fails.

#![allow(dead_code)] // each test binary uses a different part of the harness

mod generic;
#[allow(unused_imports)] // the benchmark includes this harness but not GenericTest
pub use generic::*;
pub use labtest::history::KvLog;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kvraft::{Clerk, KvServer};
use labrpc::Network;
use labrpc::rand::seq::SliceRandom;
use labrpc::sim::{self, JoinHandle, Node};
pub use labtest::ClientEnds;
use labtest::Cluster;
use labtest::history;
use linearizability::models::kv::KvInput;

/// Where a harness operation goes in a history (Go's `log, cli`): the
/// test's history and the client's number in it; `None`: nowhere.
pub type Rec<'a> = Option<(&'a KvLog, usize)>;

/// Go's `electionTimeout` in kvraft's test_test.go.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// The generic test's clients pause a random 0..=this·nclients virtual
/// milliseconds between operations (see the module documentation).
pub const CLIENT_PAUSE_MS_PER_CLIENT: u64 = 30;
/// How often the timeline records each server's role and term.
const TIMELINE_POLL: Duration = Duration::from_millis(10);

labtest::raft_service_lab!(
    /// KV servers as the cluster harness sees them.
    KvLab, Arc<KvServer>
);

/// A clerk made by the harness, with its ends and its node.
pub struct Client {
    pub clerk: Clerk,
    ends: ClientEnds,
    node: Node,
}

impl Client {
    pub fn ends(&self) -> ClientEnds {
        self.ends.clone()
    }

    /// The node the clerk's own tasks should run on (for readable logs).
    pub fn node(&self) -> Node {
        self.node.clone()
    }
}

/// A test's cluster (a [`labtest::Cluster`] of KV servers, reached through
/// `Deref` for connect, partition, shutdown and the like). Cloning shares it.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Shared>,
}

struct Shared {
    cluster: Cluster<KvLab>,
    max_raft_state: Option<usize>,
    max_raft_state_go: i64,
    ops: AtomicU64,
}

impl Deref for Config {
    type Target = Cluster<KvLab>;
    fn deref(&self) -> &Cluster<KvLab> {
        &self.inner.cluster
    }
}

/// Go's `make_config(t, n, unreliable, maxraftstate)`: starts and connects `n`
/// KV servers. `maxraftstate` < 0 means no snapshots, as in Go. Unreachable
/// servers fail calls within 100 ms (long delays off), so clerks move on quickly.
pub fn make_config(n: usize, unreliable: bool, maxraftstate: i64) -> Config {
    let cfg = Config {
        inner: Arc::new(Shared {
            cluster: Cluster::new(&Network::new(), n),
            max_raft_state: usize::try_from(maxraftstate).ok(),
            max_raft_state_go: maxraftstate,
            ops: AtomicU64::new(0),
        }),
    };
    for i in 0..n {
        cfg.start_server(i);
    }
    cfg.connect_all();
    cfg.set_unreliable(unreliable);
    cfg.spawn_observer(TIMELINE_POLL);
    cfg
}

/// The opening of most of Go's tests: `cfg := make_config(t, n, unreliable,
/// maxraftstate)` and `ck := cfg.makeClient(cfg.All())`.
pub fn make_config_and_client(n: usize, unreliable: bool, maxraftstate: i64) -> (Config, Client) {
    let cfg = make_config(n, unreliable, maxraftstate);
    let ck = cfg.make_client(&cfg.all());
    (cfg, ck)
}

impl Config {
    pub fn max_raft_state(&self) -> i64 {
        self.inner.max_raft_state_go
    }

    /// Go's `makeClient(to)`: a clerk with a fresh end to every server, in
    /// random order (Go's `random_handles`), of which only those to `to` are
    /// enabled. Its tasks should run on its node, `C<k>`.
    pub fn make_client(&self, to: &[usize]) -> Client {
        let (mut ends, names) = self.make_client_ends(to);
        sim::with_rng(|rng| ends.shuffle(rng));
        let node = self.client_node();
        let clerk = node.enter(|| Clerk::new(ends));
        Client {
            clerk,
            ends: names,
            node,
        }
    }

    /// Go's `ShutdownServer(i)`: isolates server `i` and crashes it.
    pub fn shutdown_server(&self, i: usize) {
        self.shutdown(i);
    }

    /// Go's `StartServer(i)`: (re)starts server `i` from a copy of its saved
    /// state. Does not connect it (tests call `connect_all`), except that
    /// clients' ends reach it at once, as in Go.
    pub fn start_server(&self, i: usize) {
        let max_raft_state = self.inner.max_raft_state;
        let lane = self.name(i).to_string();
        self.start(i, |s| {
            let kv = KvServer::start(s.ends, i, s.persister, max_raft_state);
            // The timeline draws what the server's Raft peer reports (roles,
            // candidates too, log length, commit index, snapshots).
            kv.raft().set_observer(raft::observe::to_timeline(&lane));
            kv
        });
    }

    // ----- Operations (the wrappers at the top of Go's test_test.go) ---------

    /// Go's `Get(cfg, ck, key, log, cli)`: counts the operation and records
    /// it as `rec` says, with its call and return times (virtual nanoseconds).
    pub async fn get(&self, ck: &mut Client, key: &str, rec: Rec<'_>) -> String {
        let (log, cli) = rec.unzip();
        let op = ck.clerk.get(key);
        let value = history::timed(log, cli.unwrap_or(0), KvInput::get(key), op).await;
        self.inner.ops.fetch_add(1, Ordering::Relaxed);
        value
    }

    /// Go's `Put(cfg, ck, key, value, log, cli)`.
    pub async fn put(&self, ck: &mut Client, key: &str, value: &str, rec: Rec<'_>) {
        let op = ck.clerk.put(key, value);
        self.write(KvInput::put(key, value), op, rec).await;
    }

    /// Go's `Append(cfg, ck, key, value, log, cli)`.
    pub async fn append(&self, ck: &mut Client, key: &str, value: &str, rec: Rec<'_>) {
        let op = ck.clerk.append(key, value);
        self.write(KvInput::append(key, value), op, rec).await;
    }

    /// Put's and Append's shared part: the clerk's write `op`, recorded as
    /// `rec` says and counted.
    async fn write(&self, input: KvInput, op: impl Future<Output = ()>, rec: Rec<'_>) {
        let (log, cli) = rec.unzip();
        history::timed_write(log, cli.unwrap_or(0), input, op).await;
        self.inner.ops.fetch_add(1, Ordering::Relaxed);
    }

    /// Go's `check(cfg, t, ck, key, value)`.
    pub async fn check(&self, ck: &mut Client, key: &str, value: &str) {
        let v = self.get(ck, key, None).await;
        assert!(v == value, "Get({key}): expected:\n{value}\nreceived:\n{v}");
    }

    // ----- Reporting ---------------------------------------------------------

    /// Go's `begin`: prints the test's title and starts its counters.
    pub fn begin(&self, description: &str) {
        self.inner.cluster.begin(description);
        self.inner.ops.store(0, Ordering::Relaxed);
    }

    /// Go's `end`: prints `  ... Passed --  time peers rpcs ops` (virtual
    /// seconds since `begin`, RPCs sent including clients', clerk operations).
    pub fn end(&self) {
        let s = self.stats();
        let ops = self.inner.ops.load(Ordering::Relaxed);
        labtest::passed(&format!("{:4.1}  {} {:5} {ops:4}", s.secs, s.peers, s.rpcs));
    }
}

// ----- Test helpers ---------------------------------------------------------

/// Go's `spawn_clients_and_wait` without the wait: makes `ncli` clerks
/// connected to every server and runs `f(cli, clerk)` for each on its own
/// node. Await the handles to wait; a panic in any client fails the test.
pub fn spawn_clients<F, Fut, T>(cfg: &Config, ncli: usize, f: F) -> Vec<JoinHandle<T>>
where
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    (0..ncli)
        .map(|cli| {
            let client = cfg.make_client(&cfg.all());
            let node = client.node();
            node.spawn(f(cli, client))
        })
        .collect()
}

/// Go's `spawn_clients_and_wait`.
pub async fn spawn_clients_and_wait<F, Fut, T>(cfg: &Config, ncli: usize, f: F) -> Vec<T>
where
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut results = Vec::with_capacity(ncli);
    for handle in spawn_clients(cfg, ncli, f) {
        results.push(handle.await.expect("client task cancelled"));
    }
    results
}
