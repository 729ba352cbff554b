//! The pbservice test harness: what the top of Go's `pbservice/test_test.go`
//! does with sockets (`port`, `StartServer`, `kill`, `setunreliable`, the
//! `vshost+"a"` link, the delaying `proxy`), on the one cluster harness,
//! `labtest`, over labrpc's 2015 network profile.
//!
//! A [`Harness`] is two clusters on one network: the viewservice, one
//! server `VS` (Go's `vshost`), and three pbservice slots `S1`, `S2`, `S3`
//! (Go's `port(tag, n)`), each started on demand on its own node; a
//! restarted server is a new node with the old name and empty state, as a
//! Go `StartServer` on the same port. The servers need no end matrix: a
//! server reaches the viewservice through the path it was started with and
//! other servers through a [`Dialer`], by the names the views give. Clerks
//! run their requests on nodes `C0`, `C1`, ... so that logs say who did what.
//!
//! The failure timeline (labtest's observer) has a lane `VS` with the
//! viewservice's view (label `p=.. b=..`, number = viewnum) and a lane per
//! server with the role it believes it has and the view it believes in,
//! crashed bands while it is killed, and a disconnected band once it is cut
//! from the viewservice.

#![allow(dead_code)] // each test uses a different part of the harness

// The viewservice's lab, written once with the viewservice's own test.
#[path = "../../../viewservice/tests/common/mod.rs"]
mod view_lab;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::timeline::{self, Band};
use labrpc::{Network, Profile, Proxy};
pub use labtest::history::{KvLog, check_concurrent_appends as check_appends};
use labtest::history::{timed, timed_write};
use labtest::{Cluster, Status};
use linearizability::models::kv::KvInput;
use pbservice::{Clerk, Dialer, PbServer, Role};
use view_lab::VsLab;
use viewservice::{DEAD_PINGS, ViewServer};

/// Where a harness operation goes in a history: the test's history and the
/// client's number in it; `None`: nowhere.
pub type Rec<'a> = Option<(&'a KvLog, usize)>;

/// Go's `deadtime`: PingInterval × DeadPings.
pub const DEADTIME: Duration = Duration::from_millis(100 * DEAD_PINGS);
/// How often the timeline records views and roles.
const TIMELINE_POLL: Duration = Duration::from_millis(10);
/// Server slots: the tests use at most three servers.
const NSERVERS: usize = 3;

labtest::lab!(
    /// labtest's view of a pbservice server.
    PbLab, Arc<PbServer>,
    services: |pb| vec![pb.service()],
    status: |pb| {
        let (role, viewnum) = pb.role();
        let label = match role {
            Role::Primary => "primary",
            Role::Backup => "backup",
            Role::Idle => "idle",
        };
        Status::new(label, (viewnum > 0).then_some(viewnum))
    }
);

/// One test's viewservice and servers. Cloning shares them.
#[derive(Clone)]
pub struct Harness {
    inner: Arc<Shared>,
}

struct Shared {
    net: Network,
    vs: Cluster<VsLab>,
    servers: Cluster<PbLab>,
    next_client: Mutex<usize>,
    ops: AtomicU64,
}

/// Go's `port(tag, n)`: the name (socket path) of server `n` (1, 2 or 3).
pub fn port(n: usize) -> String {
    format!("S{n}")
}

impl Harness {
    /// Go's preamble: start the viewservice, then sleep 1 s.
    pub async fn new() -> Harness {
        let net = Network::with_profile(Profile::Go2015);
        let vs = Cluster::named(&net, vec!["VS".to_string()]);
        vs.start(0, |_| ViewServer::start("VS"));
        let servers = Cluster::named(&net, (1..=NSERVERS).map(port).collect());
        vs.spawn_observer(TIMELINE_POLL);
        servers.spawn_observer(TIMELINE_POLL);
        let h = Harness {
            inner: Arc::new(Shared {
                net,
                vs,
                servers,
                next_client: Mutex::new(0),
                ops: AtomicU64::new(0),
            }),
        };
        sim::sleep(Duration::from_secs(1)).await;
        h
    }

    /// One Go test in a simulation of its own: Go's preamble
    /// ([`Harness::new`]), `test`, then Go's cleanup with `pause`
    /// ([`Harness::cleanup_and_wait`]).
    pub fn run<F, Fut>(pause: Duration, test: F)
    where
        F: FnOnce(Harness) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        sim::run(async move {
            let h = Harness::new().await;
            test(h.clone()).await;
            h.cleanup_and_wait(pause).await;
        });
    }

    /// [`run`](Harness::run) for the tests that open with Go's `vck :=
    /// viewservice.MakeClerk("", vshost)`: `test` gets that clerk too.
    pub fn run_with_vck<F, Fut>(pause: Duration, test: F)
    where
        F: FnOnce(Harness, viewservice::Clerk) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Harness::run(pause, move |h| async move {
            let vck = h.vck();
            test(h, vck).await;
        });
    }

    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    /// Go's `vshost`.
    pub fn vshost(&self) -> &str {
        "VS"
    }

    /// Go's `viewservice.MakeClerk("", vshost)`.
    pub fn vck(&self) -> viewservice::Clerk {
        viewservice::Clerk::new("", self.net().end_to(self.vshost()))
    }

    fn viewserver(&self) -> Arc<ViewServer> {
        self.inner
            .vs
            .server(0)
            .expect("the viewservice runs until cleanup")
    }

    /// Go's `vs.GetRPCCount()`.
    pub fn vs_rpc_count(&self) -> u64 {
        self.viewserver().rpc_count()
    }

    fn slot(me: &str) -> usize {
        let n: usize = me
            .strip_prefix('S')
            .and_then(|n| n.parse().ok())
            .filter(|n| (1..=NSERVERS).contains(n))
            .unwrap_or_else(|| panic!("no server slot named {me:?}"));
        n - 1
    }

    /// Go's `StartServer(vshost, port(tag, n))`: a fresh server `S<n>` (a
    /// new node, empty state) that reaches the viewservice at `vshost`.
    pub fn start_server(&self, vshost: &str, n: usize) -> String {
        let me = port(n);
        let net = self.net().clone();
        self.inner.servers.start(Self::slot(&me), |_| {
            let vs = viewservice::Clerk::new(&me, net.end_to(vshost));
            PbServer::start(vs, Dialer::new(net.clone()))
        });
        timeline::mark(&me, "started");
        me
    }

    /// Go's `s.kill()`: the server's listener closes (its path disappears),
    /// it is marked dead and its node stops. Killing a killed server does
    /// nothing.
    pub fn kill(&self, me: &str) {
        self.inner.servers.stop(Self::slot(me));
    }

    /// Go's `s.setunreliable(b)`.
    pub fn set_unreliable(&self, me: &str, unreliable: bool) {
        self.net()
            .listener(me)
            .unwrap_or_else(|| panic!("{me} is not running"))
            .set_unreliable(unreliable);
    }

    /// Go's `os.Link(vshost, vshost+"a")`: a second path to the viewservice.
    pub fn link_vshost(&self, alias: &str) {
        self.net()
            .link(self.vshost(), alias)
            .unwrap_or_else(|e| panic!("link {alias}: {e}"));
    }

    /// Go's `os.Remove(vshosta)`: cuts every server that reaches the
    /// viewservice through that path (`lane`, for the timeline).
    pub fn unlink(&self, path: &str, lane: &str) {
        self.net()
            .unlink(path)
            .unwrap_or_else(|e| panic!("remove {path}: {e}"));
        timeline::band_start(lane, Band::Disconnected);
        tracing::info!(
            topic = "test",
            "removed {path}: {lane} cut from the viewservice"
        );
    }

    /// Go's `proxy(t, port, &delay)`.
    pub fn proxy(&self, path: &str) -> Proxy {
        self.net()
            .proxy(path)
            .unwrap_or_else(|e| panic!("proxy rename failed: {e}"))
    }

    /// Go's `MakeClerk(vshost, "")`, with its requests' node `C<k>`.
    pub fn clerk(&self) -> (Clerk, Node) {
        let k = {
            let mut next = self
                .inner
                .next_client
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next - 1
        };
        let node = Node::new(&format!("C{k}"));
        let clerk = Clerk::new(self.vck(), Dialer::new(self.net().clone()));
        (clerk, node)
    }

    /// The end of the partition tests: kill every server and the viewservice.
    pub fn cleanup(&self) {
        for i in 0..NSERVERS {
            self.inner.servers.stop(i);
        }
        self.inner.vs.stop(0);
    }

    /// Go's cleanup: kill every server, sleep, kill the viewservice, sleep.
    pub async fn cleanup_and_wait(&self, pause: Duration) {
        for i in 0..NSERVERS {
            self.inner.servers.stop(i);
        }
        sim::sleep(pause).await;
        self.inner.vs.stop(0);
        sim::sleep(pause).await;
    }

    // ----- Reporting ---------------------------------------------------------

    /// Prints Go's `Test: ... ...` line and starts the counters.
    pub fn begin(&self, description: &str) {
        self.inner.servers.begin(&format!("Test: {description}"));
        self.inner.ops.store(0, Ordering::Relaxed);
    }

    /// Go's `  ... Passed`, with the virtual seconds since `begin`, the RPCs
    /// sent (servers', clients' and the viewservice's) and the clerk
    /// operations counted by the wrappers.
    pub fn passed(&self) {
        let stats = self.inner.servers.stats();
        let ops = self.inner.ops.load(Ordering::Relaxed);
        labtest::passed(&format!("{:4.1}  {:5} {ops:4}", stats.secs, stats.rpcs));
    }

    // ----- Operations ------------------------------------------------------

    fn count_op(&self) {
        self.inner.ops.fetch_add(1, Ordering::Relaxed);
    }

    /// `ck.Get(key)`, counted, and recorded as `rec` says.
    pub async fn get(&self, ck: &mut Clerk, key: &str, rec: Rec<'_>) -> String {
        self.count_op();
        let (log, cli) = rec.unzip();
        timed(log, cli.unwrap_or(0), KvInput::get(key), ck.get(key)).await
    }

    /// `ck.Put(key, value)`, counted, and recorded as `rec` says.
    pub async fn put(&self, ck: &mut Clerk, key: &str, value: &str, rec: Rec<'_>) {
        self.write(KvInput::put(key, value), ck.put(key, value), rec)
            .await;
    }

    /// `ck.Append(key, value)`, counted, and recorded as `rec` says.
    pub async fn append(&self, ck: &mut Clerk, key: &str, value: &str, rec: Rec<'_>) {
        self.write(KvInput::append(key, value), ck.append(key, value), rec)
            .await;
    }

    async fn write(&self, input: KvInput, op: impl Future<Output = ()>, rec: Rec<'_>) {
        self.count_op();
        let (log, cli) = rec.unzip();
        timed_write(log, cli.unwrap_or(0), input, op).await;
    }

    /// Go's `check(ck, key, value)` (a `log.Fatalf` there: it fails the test).
    pub async fn check(&self, ck: &mut Clerk, key: &str, value: &str) {
        let v = self.get(ck, key, None).await;
        assert!(v == value, "Get({key}) -> {v:?}, expected {value:?}");
    }
}
