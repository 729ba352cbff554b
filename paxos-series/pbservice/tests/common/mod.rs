//! The pbservice test harness: what the top of Go's `pbservice/test_test.go`
//! does with sockets (`port`, `StartServer`, `kill`, `setunreliable`, the
//! `vshost+"a"` link, the delaying `proxy`), on labrpc's 2015 profile.
//!
//! A [`Harness`] runs one viewservice, on node `VS` at path `VS`, and
//! pbservice servers on nodes and paths `S1`, `S2`, ... (Go's `port(tag, n)`;
//! a restarted server is a new node with the old name). Clerks run their
//! requests on nodes `C0`, `C1`, ... so that logs say who did what.
//!
//! Kill is Go's: the listener closes (new calls fail at once, calls already
//! accepted complete) and the server's own loops stop when they see `dead`.
//!
//! The harness also draws the failure timeline: a lane `VS` with the
//! viewservice's view (label `p=.. b=..`, number = viewnum), and a lane per
//! server with the role it believes it has and the view it believes in,
//! crashed bands while it is killed, a mark when it is cut from the
//! viewservice.

#![allow(dead_code)] // each test uses a different part of the harness

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use labrpc::sim::{self, Instant, Node};
use labrpc::timeline::{self, Band};
use labrpc::{Listener, Network, Profile, Proxy, Server};
use linearizability::models::kv::{KvInput, KvOutput};
use linearizability::{OpLog, Operation};
use pbservice::{Clerk, Dialer, PbServer, Role};
use viewservice::{DEAD_PINGS, View, ViewServer};

/// Go's `deadtime`: PingInterval × DeadPings.
pub const DEADTIME: Duration = Duration::from_millis(100 * DEAD_PINGS);
/// How often the timeline records views and roles.
const TIMELINE_POLL: Duration = Duration::from_millis(10);

/// The history of a test with concurrent clients, for the linearizability check.
pub type KvLog = OpLog<KvInput, KvOutput>;

struct Running {
    pb: Arc<PbServer>,
    listener: Listener,
    node: Node,
}

struct State {
    servers: BTreeMap<String, Running>,
    next_client: usize,
    t0: Instant,
}

/// One test's viewservice and servers. Cloning shares them.
#[derive(Clone)]
pub struct Harness {
    inner: Arc<Shared>,
}

struct Shared {
    net: Network,
    vs: Arc<ViewServer>,
    vs_listener: Listener,
    state: Mutex<State>,
    ops: AtomicU64,
}

/// Go's `port(tag, n)`: the name (socket path) of server `n`.
pub fn port(n: usize) -> String {
    format!("S{n}")
}

impl Harness {
    /// Go's preamble: start the viewservice, then sleep 1 s.
    pub async fn new() -> Harness {
        let net = Network::with_profile(Profile::Go2015);
        let node = Node::new("VS");
        let vs = node.enter(|| ViewServer::start("VS"));
        let server = Server::new(&node);
        server.add_service(vs.service());
        let vs_listener = net.listen("VS", server);
        let h = Harness {
            inner: Arc::new(Shared {
                net,
                vs,
                vs_listener,
                state: Mutex::new(State {
                    servers: BTreeMap::new(),
                    next_client: 0,
                    t0: sim::now(),
                }),
                ops: AtomicU64::new(0),
            }),
        };
        sim::spawn(h.clone().record_timeline());
        sim::sleep(Duration::from_secs(1)).await;
        h
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Go's `vs.GetRPCCount()`.
    pub fn vs_rpc_count(&self) -> u64 {
        self.inner.vs.rpc_count()
    }

    /// Go's `StartServer(vshost, port(tag, n))`: a fresh server `S<n>` (a
    /// new node, empty state) that reaches the viewservice at `vshost`.
    pub fn start_server(&self, vshost: &str, n: usize) -> String {
        let me = port(n);
        let node = Node::new(&me);
        let vs = viewservice::Clerk::new(&me, self.net().end_to(vshost));
        let dialer = Dialer::new(self.net().clone());
        let pb = node.enter(|| PbServer::start(vs, dialer));
        let server = Server::new(&node);
        server.add_service(pb.service());
        let listener = self.net().listen(&me, server);
        tracing::info!(topic = "test", "started {me}");
        timeline::mark(&me, "started");
        let old = self
            .state()
            .servers
            .insert(me.clone(), Running { pb, listener, node });
        if let Some(old) = old {
            assert!(old.pb.is_dead(), "{me} restarted while still running");
        }
        me
    }

    /// Go's `s.kill()`: closes the listener (the path disappears; accepted
    /// calls complete) and marks the server dead so its loops stop.
    pub fn kill(&self, me: &str) {
        let st = self.state();
        let Some(running) = st.servers.get(me) else {
            panic!("kill: no server {me}");
        };
        if running.pb.is_dead() {
            return;
        }
        running.listener.close();
        running.pb.kill();
        timeline::band_start(me, Band::Crashed);
        tracing::info!(topic = "test", "killed {me}");
    }

    /// Go's `s.setunreliable(b)`.
    pub fn set_unreliable(&self, me: &str, unreliable: bool) {
        self.state().servers[me].listener.set_unreliable(unreliable);
    }

    /// Go's `os.Link(vshost, vshost+"a")`: a second path to the viewservice.
    pub fn link_vshost(&self, alias: &str) {
        self.net()
            .link(self.vshost(), alias)
            .unwrap_or_else(|e| panic!("link {alias}: {e}"));
    }

    /// Go's `os.Remove(vshosta)`: cuts every server that reaches the
    /// viewservice through that path.
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
            let mut st = self.state();
            st.next_client += 1;
            st.next_client - 1
        };
        let node = Node::new(&format!("C{k}"));
        let clerk = Clerk::new(self.vck(), Dialer::new(self.net().clone()));
        (clerk, node)
    }

    /// The end of every test: kill all servers, then the viewservice.
    pub fn cleanup(&self) {
        let names: Vec<String> = self.state().servers.keys().cloned().collect();
        for name in names {
            self.kill(&name);
        }
        self.inner.vs.kill();
        self.inner.vs_listener.close();
    }

    /// Go's cleanup: kill every server, sleep, kill the viewservice, sleep.
    pub async fn cleanup_and_wait(&self, pause: Duration) {
        let names: Vec<String> = self.state().servers.keys().cloned().collect();
        for name in names {
            self.kill(&name);
        }
        sim::sleep(pause).await;
        self.inner.vs.kill();
        self.inner.vs_listener.close();
        sim::sleep(pause).await;
    }

    // ----- Reporting ---------------------------------------------------------

    /// Prints Go's `Test: ... ...` line and starts the clock.
    pub fn begin(&self, description: &str) {
        println!("Test: {description} ...");
        tracing::info!(topic = "test", "{description}");
        self.state().t0 = sim::now();
        self.inner.ops.store(0, Ordering::Relaxed);
    }

    /// Go's `  ... Passed`, with the virtual seconds since `begin` and the
    /// clerk operations counted by the wrappers.
    pub fn passed(&self) {
        let secs = (sim::now() - self.state().t0).as_secs_f64();
        let ops = self.inner.ops.load(Ordering::Relaxed);
        println!("  ... Passed --  {secs:4.1}  {ops:4}");
    }

    // ----- Operations ------------------------------------------------------

    /// Counts an operation and, with a history, records it.
    fn record(&self, log: Option<&KvLog>, cli: usize, input: KvInput, value: String, call: i64) {
        self.inner.ops.fetch_add(1, Ordering::Relaxed);
        if let Some(log) = log {
            log.append(Operation {
                client_id: cli,
                input,
                call,
                output: KvOutput { value },
                return_time: now_nanos(),
            });
        }
    }

    pub async fn get(&self, ck: &mut Clerk, key: &str, log: Option<&KvLog>, cli: usize) -> String {
        let call = now_nanos();
        let value = ck.get(key).await;
        self.record(log, cli, KvInput::get(key), value.clone(), call);
        value
    }

    pub async fn put(
        &self,
        ck: &mut Clerk,
        key: &str,
        value: &str,
        log: Option<&KvLog>,
        cli: usize,
    ) {
        let call = now_nanos();
        ck.put(key, value).await;
        self.record(log, cli, KvInput::put(key, value), String::new(), call);
    }

    pub async fn append(
        &self,
        ck: &mut Clerk,
        key: &str,
        value: &str,
        log: Option<&KvLog>,
        cli: usize,
    ) {
        let call = now_nanos();
        ck.append(key, value).await;
        self.record(log, cli, KvInput::append(key, value), String::new(), call);
    }

    /// Go's `check(ck, key, value)` (a `log.Fatalf` there: it fails the test).
    pub async fn check(&self, ck: &mut Clerk, key: &str, value: &str) {
        let v = self.get(ck, key, None, 0).await;
        assert!(v == value, "Get({key}) -> {v:?}, expected {value:?}");
    }

    // ----- Timeline ----------------------------------------------------------

    async fn record_timeline(self) {
        loop {
            let v = self.inner.vs.current_view();
            if v.viewnum > 0 {
                timeline::state("VS", &lane_label(&v), Some(v.viewnum));
            }
            let roles: Vec<(String, Role, u64, bool)> = self
                .state()
                .servers
                .iter()
                .map(|(name, r)| {
                    let (role, viewnum) = r.pb.role();
                    (name.clone(), role, viewnum, r.pb.is_dead())
                })
                .collect();
            for (name, role, viewnum, dead) in roles {
                if dead {
                    continue;
                }
                let label = match role {
                    Role::Primary => "primary",
                    Role::Backup => "backup",
                    Role::Idle => "idle",
                };
                timeline::state(&name, label, (viewnum > 0).then_some(viewnum));
            }
            sim::sleep(TIMELINE_POLL).await;
        }
    }
}

fn lane_label(v: &View) -> String {
    let name = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    format!("p={} b={}", name(&v.primary), name(&v.backup))
}

pub fn now_nanos() -> i64 {
    sim::now().as_nanos_since_start() as i64
}

/// Go's `checkAppends(t, v, counts)`: every `"x i j y"` for j < counts[i]
/// appears exactly once, in increasing j for each client i.
pub fn check_appends(v: &str, counts: &[usize]) {
    for (i, &count) in counts.iter().enumerate() {
        let mut last: Option<usize> = None;
        for j in 0..count {
            let wanted = format!("x {i} {j} y");
            let Some(off) = v.find(&wanted) else {
                panic!("missing element {wanted:?} in Append result {v:?}");
            };
            let off1 = v.rfind(&wanted).expect("found once already");
            assert_eq!(off1, off, "duplicate element {wanted:?} in Append result");
            assert!(
                last.is_none_or(|l| off > l),
                "wrong order for element {wanted:?} in Append result"
            );
            last = Some(off);
        }
    }
}
