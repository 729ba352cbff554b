//! The kvpaxos test harness: the helpers of Go's 2015 `kvpaxos/test_test.go`
//! (`check`, `NextValue`, `randclerk`, `checkAppends`, `part`, `cleanup`) on
//! the one cluster harness, `labtest`, over labrpc's 2015 network profile.
//!
//! Server `i` of a test tagged `tag` is `kv-<tag>-<i>` (Go's `port(tag, i)`)
//! on its own node, with the `KVPaxos` and `Paxos` services behind one
//! listener. Clerks run on the test's node or on client nodes, which are
//! never partitioned: as in Go, where clerks used the servers' real socket
//! paths, only server-to-server (Paxos) traffic is cut by `part`.
//!
//! Beyond Go's checks, every operation a clerk completes is recorded with
//! its virtual call and return times, and [`Config::check_linearizable`]
//! runs the project's linearizability checker on the history.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod servers;

// Go's re-partition goroutine, written once with the paxos tests' harness.
#[path = "../../../paxos/tests/common/repartition.rs"]
pub mod repartition;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kvpaxos::{Clerk, KvPaxos};
use labrpc::rand::seq::SliceRandom;
use labrpc::sim;
use labrpc::{Network, Profile};
use labtest::history::KvLog;
use labtest::record::Recorder;
use labtest::run::{Setup, Teardown};
use labtest::{Cluster, Status};
use linearizability::OpLog;
use servers::start_servers;

/// How often the timeline records every server's state.
const TIMELINE_POLL: Duration = Duration::from_millis(100);

labtest::lab!(
    /// labtest's view of a kvpaxos server.
    KvLab, Arc<KvPaxos>,
    services: |kv| kv.services(),
    status: |kv| Status::new(kv.describe(), None)
);

labtest::kv_client!(
    /// A clerk made by the harness: records what it does in the history.
    Client, KvOps, Clerk
);

/// Go's `port(tag, host)`.
pub fn port(tag: &str, i: usize) -> String {
    format!("kv-{tag}-{i}")
}

struct Shared {
    cluster: Cluster<KvLab>,
    history: Option<KvLog>,
    /// Whether clerks add to the history now.
    recording: Arc<AtomicBool>,
    next_client: Mutex<usize>,
    /// Whether the test partitioned: the teardown then isolates every server
    /// first (Go's deferred `part`).
    partitioned: AtomicBool,
}

/// One test's servers. Cloning shares them.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Shared>,
}

/// Go's `check(t, ck, key, value)`.
pub async fn check(ck: &mut Client, key: &str, value: &str) {
    let v = ck.get(key).await;
    assert!(v == value, "Get({key}) -> {v}, expected {value}");
}

/// Go's `NextValue`: the effect of Append(k, val) on a value `prev`.
pub fn next_value(prev: &str, val: &str) -> String {
    format!("{prev}{val}")
}

/// Go's `checkAppends`: every known append is in `v` exactly once, and each
/// client's appends are in order.
pub fn check_appends(v: &str, counts: &[usize]) {
    labtest::history::check_concurrent_appends(v, counts);
}

impl Config {
    /// A test's [`Config::new`] of `n` servers, each
    /// `setunreliable(unreliable)`, recording every clerk's operations,
    /// made once its simulation runs: then `.run(test)` runs the test, the
    /// linearizability check of the history and Go's deferred `cleanup(kva)`.
    pub fn setup(
        tag: &str,
        n: usize,
        unreliable: bool,
    ) -> Setup<impl FnOnce() -> Config + Send + 'static> {
        let tag = tag.to_string();
        Setup::new(move || Config::new(&tag, n, unreliable, true))
    }

    /// [`setup`](Config::setup)`(tag, n, unreliable).run(test)` for the
    /// tests that open with Go's `ck` and `cka` ([`Config::clerks`]), which
    /// `test` gets too, and end with Go's `time.Sleep(1 * time.Second)`
    /// (TestBasic, TestUnreliable).
    pub fn run_with_clerks<F, Fut>(tag: &str, n: usize, unreliable: bool, test: F)
    where
        F: FnOnce(Config, Client, Vec<Client>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Config::setup(tag, n, unreliable).run(move |cfg| async move {
            let (ck, cka) = cfg.clerks();
            test(cfg, ck, cka).await;
            sim::sleep(Duration::from_secs(1)).await;
        });
    }

    /// Go's `StartServer(kvh, i)` for every server, all reaching each other,
    /// each `setunreliable(unreliable)`. `record_history` keeps every
    /// clerk's operations for [`check_linearizable`](Config::check_linearizable).
    pub fn new(tag: &str, n: usize, unreliable: bool, record_history: bool) -> Config {
        let net = Network::with_profile(Profile::Go2015);
        let names = (0..n).map(|i| port(tag, i)).collect();
        let cluster: Cluster<KvLab> =
            start_servers(&net, names, TIMELINE_POLL, KvPaxos::start_server);
        let cfg = Config {
            inner: Arc::new(Shared {
                cluster,
                history: record_history.then(OpLog::new),
                recording: Arc::new(AtomicBool::new(true)),
                next_client: Mutex::new(0),
                partitioned: AtomicBool::new(false),
            }),
        };
        cfg.set_unreliable(unreliable);
        cfg
    }

    fn cluster(&self) -> &Cluster<KvLab> {
        &self.inner.cluster
    }

    pub fn n(&self) -> usize {
        self.cluster().n()
    }

    /// `kva[i]`.
    pub fn kv(&self, i: usize) -> Arc<KvPaxos> {
        self.cluster()
            .server(i)
            .unwrap_or_else(|| panic!("server {i} is not running"))
    }

    /// Every server's `setunreliable(u)`.
    pub fn set_unreliable(&self, unreliable: bool) {
        for i in 0..self.n() {
            let name = self.cluster().name(i);
            let listener = self.cluster().net().listener(name);
            listener
                .unwrap_or_else(|| panic!("server {name} has no listener"))
                .set_unreliable(unreliable);
        }
    }

    /// Go's `MakeClerk([kvh[i] for i in servers])`, in that order.
    pub fn clerk(&self, servers: &[usize]) -> Client {
        let (ends, _) = self.cluster().make_client_ends(servers);
        let ends = servers.iter().map(|&i| ends[i].clone()).collect();
        let id = {
            let mut next = self.inner.next_client.lock().unwrap();
            *next += 1;
            *next - 1
        };
        let node = self.cluster().client_node();
        let (history, recording) = (self.inner.history.clone(), self.inner.recording.clone());
        let clerk = node.enter(|| Clerk::new(ends));
        Client::new(clerk, node, Recorder::new(history, recording, id))
    }

    /// Go's `ck` and `cka` of TestBasic, TestUnreliable and TestDone: a
    /// clerk of every server, then a clerk of each server alone.
    pub fn clerks(&self) -> (Client, Vec<Client>) {
        let all: Vec<usize> = (0..self.n()).collect();
        let ck = self.clerk(&all);
        (ck, (0..self.n()).map(|i| self.clerk(&[i])).collect())
    }

    /// Go's `randclerk(kvh)`: a clerk of every server, in random order.
    pub fn randclerk(&self) -> Client {
        let mut servers: Vec<usize> = (0..self.n()).collect();
        sim::with_rng(|rng| servers.shuffle(rng));
        self.clerk(&servers)
    }

    /// Go's `part(t, tag, nservers, p1, p2, p3)`: servers reach each other
    /// only inside a group; a server in no group is isolated.
    pub fn part(&self, groups: &[&[usize]]) {
        self.inner.partitioned.store(true, Ordering::SeqCst);
        self.cluster().part(groups);
    }

    /// Go's `part(t, tag, n, all, {}, {})`.
    pub fn heal(&self) {
        let all: Vec<usize> = (0..self.n()).collect();
        self.part(&[&all]);
    }

    /// Go's `fmt.Printf("Test: ... ...\n")`.
    pub fn begin(&self, description: &str) {
        self.cluster().begin(description);
    }

    /// Go's `fmt.Printf("  ... Passed\n")`, with what the part took: virtual
    /// seconds, servers and RPCs since [`begin`](Config::begin).
    pub fn passed(&self) {
        self.cluster().passed();
    }

    /// Stops recording clerks' operations: for a stretch the checker cannot
    /// decide in time, such as many concurrent Appends to one key with no
    /// Get between them (the search is exponential there), which Go's
    /// `checkAppends` checks instead. Operations on the keys used in that
    /// stretch must not be recorded afterwards either.
    pub fn stop_recording(&self) {
        self.inner.recording.store(false, Ordering::SeqCst);
    }

    /// Checks the recorded history with the project's linearizability
    /// checker (a check Go's kvpaxos tests did not make). Fails the test if
    /// the history is not linearizable, writing its picture next to the logs.
    pub fn check_linearizable(&self) {
        labtest::record::check_recorded(self.inner.history.as_ref());
    }

    /// Go's deferred `cleanup(kva)`: kills every server.
    pub fn cleanup(&self) {
        self.cluster().cleanup();
    }
}

impl Teardown for Config {
    /// The linearizability check, then Go's deferred `part(t, tag,
    /// nservers, []int{}, []int{}, []int{})` (every Go test that partitions
    /// defers it) if the test partitioned, and Go's deferred `cleanup(kva)`.
    fn teardown(&self) {
        self.check_linearizable();
        if self.inner.partitioned.load(Ordering::SeqCst) {
            self.part(&[]);
        }
        self.cleanup();
    }
}
