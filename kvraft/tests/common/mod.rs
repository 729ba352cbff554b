//! The kvraft test harness: a port of Go's `kvraft/config.go` and of the
//! helpers at the top of `kvraft/test_test.go` (the op wrappers that count
//! operations and record the history, `checkClntAppends`, the partitioner and
//! `GenericTest`).
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
//! and term, crashes, partitions) that the runner draws as HTML when a test
//! fails.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kvraft::{Clerk, KvServer};
use labrpc::rand::seq::SliceRandom;
use labrpc::sim::{self, JoinHandle, Node};
use labrpc::{Network, Service};
pub use labtest::ClientEnds;
use labtest::{Cluster, Lab, Status};
use linearizability::models::kv::{KvInput, KvOutput};
use linearizability::{OpLog, Operation};

/// Go's `electionTimeout` in kvraft's test_test.go.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);
/// The generic test's clients pause a random 0..=this·nclients virtual
/// milliseconds between operations (see the module documentation).
pub const CLIENT_PAUSE_MS_PER_CLIENT: u64 = 30;
/// How often the timeline records each server's role and term.
const TIMELINE_POLL: Duration = Duration::from_millis(10);

/// The history of a generic test, for the linearizability checker.
pub type KvLog = OpLog<KvInput, KvOutput>;

/// KV servers as the cluster harness sees them.
pub struct KvLab;

impl Lab for KvLab {
    type Server = Arc<KvServer>;
    fn kill(kv: &Arc<KvServer>) {
        kv.kill();
    }
    fn services(kv: &Arc<KvServer>) -> Vec<Service> {
        kv.services()
    }
    fn status(kv: &Arc<KvServer>) -> Status {
        let (term, is_leader) = kv.raft().get_state();
        Status::raft(term, is_leader)
    }
}

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
    let net = Network::new();
    let cfg = Config {
        inner: Arc::new(Shared {
            cluster: Cluster::new(&net, n),
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
        self.start(i, |s| {
            KvServer::start(s.ends, i, s.persister, max_raft_state)
        });
    }

    // ----- Operations (the wrappers at the top of Go's test_test.go) ---------

    fn op(&self) {
        self.inner.ops.fetch_add(1, Ordering::Relaxed);
    }

    /// Go's `Get(cfg, ck, key, log, cli)`: counts the operation and, with a
    /// log, records it with its call and return times (virtual nanoseconds).
    pub async fn get(&self, ck: &mut Client, key: &str, log: Option<&KvLog>, cli: usize) -> String {
        let start = now_nanos();
        let value = ck.clerk.get(key).await;
        let end = now_nanos();
        let output = KvOutput {
            value: value.clone(),
        };
        self.record(log, cli, KvInput::get(key), output, start, end);
        value
    }

    /// Go's `Put(cfg, ck, key, value, log, cli)`.
    pub async fn put(
        &self,
        ck: &mut Client,
        key: &str,
        value: &str,
        log: Option<&KvLog>,
        cli: usize,
    ) {
        let start = now_nanos();
        ck.clerk.put(key, value).await;
        let end = now_nanos();
        self.record(
            log,
            cli,
            KvInput::put(key, value),
            KvOutput::default(),
            start,
            end,
        );
    }

    /// Go's `Append(cfg, ck, key, value, log, cli)`.
    pub async fn append(
        &self,
        ck: &mut Client,
        key: &str,
        value: &str,
        log: Option<&KvLog>,
        cli: usize,
    ) {
        let start = now_nanos();
        ck.clerk.append(key, value).await;
        let end = now_nanos();
        self.record(
            log,
            cli,
            KvInput::append(key, value),
            KvOutput::default(),
            start,
            end,
        );
    }

    /// Counts a completed operation and, when a history is kept, records it
    /// with its virtual call and return times.
    fn record(
        &self,
        log: Option<&KvLog>,
        cli: usize,
        input: KvInput,
        output: KvOutput,
        call: i64,
        return_time: i64,
    ) {
        self.op();
        if let Some(log) = log {
            log.append(Operation {
                client_id: cli,
                input,
                call,
                output,
                return_time,
            });
        }
    }

    /// Go's `check(cfg, t, ck, key, value)`.
    pub async fn check(&self, ck: &mut Client, key: &str, value: &str) {
        let v = self.get(ck, key, None, 0).await;
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

fn now_nanos() -> i64 {
    sim::now().as_nanos_since_start() as i64
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

/// Go's `checkClntAppends`: every append `x clnt j y` for j < count is in
/// `v` exactly once, in order.
pub fn check_clnt_appends(clnt: usize, v: &str, count: usize) {
    let mut last_off: Option<usize> = None;
    for j in 0..count {
        let wanted = format!("x {clnt} {j} y");
        let Some(off) = v.find(&wanted) else {
            panic!("{clnt} missing element {wanted} in Append result {v}");
        };
        let off1 = v.rfind(&wanted);
        assert!(
            off1 == Some(off),
            "duplicate element {wanted} in Append result"
        );
        assert!(
            last_off.is_none_or(|last| off > last),
            "wrong order for element {wanted} in Append result"
        );
        last_off = Some(off);
    }
}

/// Go's `checkConcurrentAppends`: each client's appends are all present,
/// once each, in that client's order.
pub fn check_concurrent_appends(v: &str, counts: &[usize]) {
    for (i, &count) in counts.iter().enumerate() {
        check_clnt_appends(i, v, count);
    }
}

/// Go's `partitioner`: until `done`, splits the servers at random into two
/// groups every second or so.
async fn partitioner(cfg: Config, done: Arc<AtomicBool>) {
    while !done.load(Ordering::SeqCst) {
        let a: Vec<usize> = (0..cfg.n()).map(|_| sim::gen_range(0..2)).collect();
        let pa: Vec<Vec<usize>> = (0..2)
            .map(|side| (0..cfg.n()).filter(|&j| a[j] == side).collect())
            .collect();
        cfg.partition(&pa[0], &pa[1]);
        let jitter = Duration::from_millis(sim::gen_range(0..200));
        sim::sleep(ELECTION_TIMEOUT + jitter).await;
    }
}

/// The generic test's client: Go's closure in `GenericTest`. Returns how many
/// appends (and, with random keys, puts) it made.
async fn generic_client(
    cfg: Config,
    cli: usize,
    mut myck: Client,
    nclients: usize,
    randomkeys: bool,
    done: Arc<AtomicBool>,
    log: KvLog,
) -> usize {
    let mut j = 0;
    let mut last = String::new(); // only used when not randomkeys
    if !randomkeys {
        cfg.put(&mut myck, &cli.to_string(), &last, Some(&log), cli)
            .await;
    }
    while !done.load(Ordering::SeqCst) {
        let key = if randomkeys {
            sim::gen_range(0..nclients).to_string()
        } else {
            cli.to_string()
        };
        let nv = format!("x {cli} {j} y");
        if sim::gen_range(0..1000) < 500 {
            cfg.append(&mut myck, &key, &nv, Some(&log), cli).await;
            if !randomkeys {
                last.push_str(&nv);
            }
            j += 1;
        } else if randomkeys && sim::gen_range(0..1000) < 100 {
            // only with random keys: it would break the check of the Gets
            cfg.put(&mut myck, &key, &nv, Some(&log), cli).await;
            j += 1;
        } else {
            let v = cfg.get(&mut myck, &key, Some(&log), cli).await;
            // the check only makes sense when not using random keys
            assert!(
                randomkeys || v == last,
                "get wrong value, key {key}, wanted:\n{last}\n, got\n{v}\n"
            );
        }
        // Let virtual time pass (see the module documentation).
        let pause = sim::gen_range(0..=CLIENT_PAUSE_MS_PER_CLIENT * nclients as u64);
        sim::sleep(Duration::from_millis(pause)).await;
    }
    j
}

/// Go's `GenericTest`: one or more clients submit Append/Get (and, with random
/// keys, Put) operations for 5 s, three times over. After each round it
/// checks that every append is present once and in order; with `crash` all
/// servers restart between rounds; with `partitions` the network is split at
/// random while the clients run. If `maxraftstate` > 0 the Raft state must
/// stay under 8 times it; if < 0 there must be no snapshot. At the end the
/// whole history must be linearizable.
#[allow(clippy::too_many_arguments)]
pub async fn generic_test(
    part: &str,
    nclients: usize,
    nservers: usize,
    unreliable: bool,
    crash: bool,
    partitions: bool,
    maxraftstate: i64,
    randomkeys: bool,
) {
    let mut title = String::from("Test: ");
    if unreliable {
        // the network drops RPC requests and replies.
        title.push_str("unreliable net, ");
    }
    if crash {
        // peers re-start, and thus persistence must work.
        title.push_str("restarts, ");
    }
    if partitions {
        // the network may partition
        title.push_str("partitions, ");
    }
    if maxraftstate != -1 {
        title.push_str("snapshots, ");
    }
    if randomkeys {
        title.push_str("random keys, ");
    }
    if nclients > 1 {
        title.push_str("many clients");
    } else {
        title.push_str("one client");
    }
    title.push_str(&format!(" ({part})"));

    let cfg = make_config(nservers, unreliable, maxraftstate);
    cfg.begin(&title);
    let oplog = KvLog::new();
    let mut ck = cfg.make_client(&cfg.all());

    for _iteration in 0..3 {
        let done_clients = Arc::new(AtomicBool::new(false));
        let done_partitioner = Arc::new(AtomicBool::new(false));
        let clients = spawn_clients(&cfg, nclients, |cli, myck| {
            generic_client(
                cfg.clone(),
                cli,
                myck,
                nclients,
                randomkeys,
                done_clients.clone(),
                oplog.clone(),
            )
        });

        let mut partitioner_task = None;
        if partitions {
            // Allow the clients to perform some operations without interruption
            sim::sleep(Duration::from_secs(1)).await;
            partitioner_task = Some(sim::spawn(partitioner(
                cfg.clone(),
                done_partitioner.clone(),
            )));
        }
        sim::sleep(Duration::from_secs(5)).await;

        done_clients.store(true, Ordering::SeqCst); // tell clients to quit
        done_partitioner.store(true, Ordering::SeqCst); // tell partitioner to quit

        if let Some(task) = partitioner_task {
            task.await.expect("partitioner cancelled");
            // reconnect network and submit a request. A client may have
            // submitted a request in a minority. That request won't return
            // until that server discovers a new term has started.
            cfg.connect_all();
            // wait for a while so that we have a new term
            sim::sleep(ELECTION_TIMEOUT).await;
        }

        if crash {
            for i in 0..nservers {
                cfg.shutdown_server(i);
            }
            // Wait for a while for servers to shutdown, since shutdown isn't
            // a real crash and isn't instantaneous (as in Go)
            sim::sleep(ELECTION_TIMEOUT).await;
            // crash and re-start all
            for i in 0..nservers {
                cfg.start_server(i);
            }
            cfg.connect_all();
        }

        for (i, client) in clients.into_iter().enumerate() {
            let j = client.await.expect("client task cancelled");
            let key = i.to_string();
            let v = cfg.get(&mut ck, &key, Some(&oplog), 0).await;
            if !randomkeys {
                check_clnt_appends(i, &v, j);
            }
        }

        if let Ok(max) = usize::try_from(maxraftstate)
            && max > 0
        {
            // Check maximum after the servers have processed all client
            // requests and had time to checkpoint.
            let sz = cfg.log_size();
            assert!(sz <= 8 * max, "logs were not trimmed ({sz} > 8*{max})");
        }
        if maxraftstate < 0 {
            // Check that snapshots are not used
            let ssz = cfg.snapshot_size();
            assert!(
                ssz == 0,
                "snapshot too large ({ssz}), should not be used when maxraftstate = {maxraftstate}"
            );
        }
    }

    check_linearizable(&oplog);
    cfg.end();
}

/// Go's porcupine check at the end of `GenericTest` (see `labtest::history`).
pub fn check_linearizable(oplog: &KvLog) {
    labtest::history::check_linearizable(oplog.read());
}

/// Go's `GenericTestSpeed`: 1000 sequential Appends on a reliable 3-server
/// cluster must take under 33.3 ms each (at least 3 per heartbeat interval).
/// Returns the virtual time per operation.
pub async fn generic_test_speed(part: &str, maxraftstate: i64) -> Duration {
    const NSERVERS: usize = 3;
    const NUM_OPS: u32 = 1000;
    let cfg = make_config(NSERVERS, false, maxraftstate);
    let mut ck = cfg.make_client(&cfg.all());

    cfg.begin(&format!("Test: ops complete fast enough ({part})"));

    // wait until first op completes, so we know a leader is elected
    // and KV servers are ready to process client requests
    ck.clerk.get("x").await;

    let start = sim::now();
    for i in 0..NUM_OPS {
        ck.clerk.append("x", &format!("x 0 {i} y")).await;
    }
    let dur = sim::now() - start;

    let v = ck.clerk.get("x").await;
    check_clnt_appends(0, &v, NUM_OPS as usize);

    // heartbeat interval should be ~ 100 ms; require at least 3 ops per
    const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
    const OPS_PER_INTERVAL: u32 = 3;
    let time_per_op = HEARTBEAT_INTERVAL / OPS_PER_INTERVAL;
    let per_op = dur / NUM_OPS;
    assert!(
        dur <= time_per_op * NUM_OPS,
        "Operations completed too slowly {per_op:?}/op > {time_per_op:?}/op"
    );
    println!(
        "info: {NUM_OPS} appends in {:.3} virtual ms, {:.4} ms/op",
        dur.as_secs_f64() * 1e3,
        per_op.as_secs_f64() * 1e3
    );

    cfg.end();
    per_op
}
