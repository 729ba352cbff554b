//! The shardkv test harness: Go's 2015 `shardkv/test_test.go` `tCluster`
//! (`setup`, `start1`, `clerk`, `shardclerk`, `join`, `leave`, `cleanup`)
//! on the one cluster harness, `labtest`, over labrpc's 2015 network profile.
//!
//! A test tagged `tag` has 3 shardmaster servers `skv-<tag>m-<i>` (always
//! reliable) and 3 replica groups, GIDs 100, 101 and 102, of 3 servers each,
//! `skv-<tag>s-<g*3+j>` (Go's `port(tag+"s", g*3+j)`), every one on its own
//! node with the `ShardKV` and `Paxos` services behind one listener, and
//! `Setunreliable(unreliable)` on each: every call *into* a shardkv server
//! (a clerk's, a Paxos peer's, another group's hand-off) goes through that
//! listener. Nobody joins at first. Servers and clerks reach a server by name
//! (Go's socket paths) through `make_end`.
//!
//! Beyond Go, every operation a harness clerk completes is recorded with
//! its virtual call and return times for [`Config::check_linearizable`], and
//! the timeline shows each server's configuration number and the shards its
//! group serves there, with joins, leaves and moves marked on a `shardmaster`
//! lane.

#![allow(dead_code)] // not every test uses every part of the harness

// Go's StartServer loop, written once with kvpaxos's harness.
#[path = "../../../kvpaxos/tests/common/servers.rs"]
mod servers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use labrpc::sim;
use labrpc::timeline;
use labrpc::{Network, Profile};
use labtest::history::KvLog;
use labtest::record::Recorder;
use labtest::run::{Setup, Teardown};
use labtest::{Cluster, Status};
use linearizability::OpLog;
use paxos_shardkv::{Clerk, MakeEnd, ShardKv};
use servers::start_servers;
use shardmaster::{Gid, ShardMaster};

/// Go's `nmasters`, `ngroups` and `nreplicas`.
pub const NMASTERS: usize = 3;
pub const NGROUPS: usize = 3;
pub const NREPLICAS: usize = 3;

/// How often the timeline records every server's state.
const TIMELINE_POLL: Duration = Duration::from_millis(50);

labtest::service_lab!(
    /// labtest's view of a shard master server.
    MasterLab,
    Arc<ShardMaster>,
    |sm| Status::new(sm.describe(), Some(sm.latest_num()))
);

labtest::service_lab!(
    /// labtest's view of a shardkv server: its lane shows the configuration
    /// it has applied and the shards its group serves there.
    ShardKvLab,
    Arc<ShardKv>,
    |kv| Status::new(kv.describe(), Some(kv.config_num()))
);

labtest::kv_client!(
    /// A clerk made by the harness: records what it does in the history.
    Client, KvOps, Clerk
);

/// Go's `port(tag, host)`.
pub fn port(tag: &str, host: usize) -> String {
    format!("skv-{tag}-{host}")
}

/// Go's `tGroup`: one replica group.
struct Group {
    gid: Gid,
    cluster: Cluster<ShardKvLab>,
}

struct Shared {
    net: Network,
    masters: Cluster<MasterLab>,
    /// Go's `tc.mck`: the test's own shardmaster clerk.
    mck: tokio::sync::Mutex<shardmaster::Clerk>,
    groups: Vec<Group>,
    history: Option<KvLog>,
    next_client: AtomicUsize,
    /// Whether the test printed its `Test: ...` line: the teardown then
    /// prints its `Passed` line.
    begun: AtomicBool,
}

/// Go's `tCluster`. Cloning shares it.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Shared>,
}

/// A `make_end` that dials a server by name, as Go's servers and clerks
/// dialled socket paths.
fn make_end_fn(net: &Network) -> MakeEnd {
    let net = net.clone();
    Arc::new(move |name: &str| net.end_to(name))
}

impl Config {
    /// A Go test of one part: Go's `setup(t, tag, unreliable)` recording
    /// every harness clerk's operations, then Go's `Test: ...` line
    /// (`description`), made once the test's simulation runs. Then
    /// `.run(test)` runs the test; the teardown prints Go's `Passed` line,
    /// checks the history and does Go's deferred `tc.cleanup()`.
    pub fn test(
        tag: &str,
        unreliable: bool,
        description: &'static str,
    ) -> Setup<impl FnOnce() -> Config + Send + 'static> {
        let tag = tag.to_string();
        Setup::new(move || {
            let tc = Config::setup(&tag, unreliable, true);
            tc.begin(description);
            tc
        })
    }

    /// Go's `setup(t, tag, unreliable)`. `record_history` keeps every
    /// harness clerk's operations for
    /// [`check_linearizable`](Config::check_linearizable).
    pub fn setup(tag: &str, unreliable: bool, record_history: bool) -> Config {
        let net = Network::with_profile(Profile::Go2015);
        let names = (0..NMASTERS).map(|i| port(&format!("{tag}m"), i)).collect();
        let masters: Cluster<MasterLab> =
            start_servers(&net, names, TIMELINE_POLL, ShardMaster::start_server);
        let mck = shardmaster::Clerk::new(masters.make_client_ends(&masters.all()).0);

        let mut groups = Vec::with_capacity(NGROUPS);
        for gi in 0..NGROUPS {
            let gid = 100 + gi as Gid;
            let names = (0..NREPLICAS)
                .map(|j| port(&format!("{tag}s"), gi * NREPLICAS + j))
                .collect();
            let cluster: Cluster<ShardKvLab> = Cluster::named(&net, names);
            for j in 0..NREPLICAS {
                // Go's start1(gi, j, unreliable).
                cluster.start(j, |mut start| {
                    let mends = masters.names().iter().map(|m| start.end_to(m)).collect();
                    ShardKv::start_server(gid, mends, start.ends, start.me, make_end_fn(&net))
                });
            }
            cluster.connect_all();
            for name in cluster.names() {
                let listener = net.listener(name);
                listener
                    .unwrap_or_else(|| panic!("server {name} has no listener"))
                    .set_unreliable(unreliable);
            }
            cluster.spawn_observer(TIMELINE_POLL);
            groups.push(Group { gid, cluster });
        }
        Config {
            inner: Arc::new(Shared {
                net,
                masters,
                mck: tokio::sync::Mutex::new(mck),
                groups,
                history: record_history.then(OpLog::new),
                next_client: AtomicUsize::new(0),
                begun: AtomicBool::new(false),
            }),
        }
    }

    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    pub fn ngroups(&self) -> usize {
        self.inner.groups.len()
    }

    /// Group `gi`'s GID (Go's `tc.groups[gi].gid`).
    pub fn gid(&self, gi: usize) -> Gid {
        self.inner.groups[gi].gid
    }

    /// Group `gi`'s server names (Go's `tc.groups[gi].ports`).
    pub fn ports(&self, gi: usize) -> &[String] {
        self.inner.groups[gi].cluster.names()
    }

    /// Go's `tc.groups[gi].servers[si]`.
    pub fn server(&self, gi: usize, si: usize) -> Arc<ShardKv> {
        let group = &self.inner.groups[gi];
        group
            .cluster
            .server(si)
            .unwrap_or_else(|| panic!("server {} is not running", group.cluster.name(si)))
    }

    /// Go's `tc.groups[gi].servers[si].kill()`: the server stops, its
    /// listener closes (its name then leads nowhere) and its node dies.
    /// Killing a dead server does nothing.
    pub fn kill(&self, gi: usize, si: usize) {
        let group = &self.inner.groups[gi];
        tracing::info!(topic = "test", "kill {}", group.cluster.name(si));
        group.cluster.stop(si);
    }

    /// Go's `os.Remove(port)` for every server of group `gi`: they can still
    /// send, but nobody (clerks, their own peers, other groups) reaches them.
    pub fn deafen(&self, gi: usize) {
        for name in self.ports(gi) {
            if let Err(error) = self.net().unlink(name) {
                panic!("os.Remove({name}): {error}");
            }
            timeline::mark(name, "deaf");
        }
        tracing::info!(topic = "test", "group {} is deaf", self.gid(gi));
    }

    /// Go's `tc.shardclerk()`: a shardmaster clerk of every master.
    pub fn shardclerk(&self) -> shardmaster::Clerk {
        let masters = &self.inner.masters;
        shardmaster::Clerk::new(masters.make_client_ends(&masters.all()).0)
    }

    /// Go's `tc.clerk()`, on a client node of its own.
    pub fn clerk(&self) -> Client {
        let masters = &self.inner.masters;
        let ends = masters.make_client_ends(&masters.all()).0;
        let node = masters.client_node();
        let make_end = make_end_fn(self.net());
        let id = self.inner.next_client.fetch_add(1, Ordering::SeqCst);
        let recording = Arc::new(AtomicBool::new(true));
        let clerk = node.enter(|| Clerk::new(ends, make_end));
        let record = Recorder::new(self.inner.history.clone(), recording, id);
        Client::new(clerk, node, record)
    }

    /// Go's `tc.join(gi)`.
    pub async fn join(&self, gi: usize) {
        let gid = self.gid(gi);
        timeline::mark("shardmaster", &format!("join {gid}"));
        let servers = self.ports(gi).to_vec();
        let joined = self.inner.mck.lock().await.join(gid, servers).await;
        joined.unwrap_or_else(|e| panic!("Join({gid}): {e}"));
    }

    /// Go's `tc.leave(gi)`.
    pub async fn leave(&self, gi: usize) {
        let gid = self.gid(gi);
        timeline::mark("shardmaster", &format!("leave {gid}"));
        self.inner.mck.lock().await.leave(gid).await;
    }

    /// Go's `fmt.Printf("Test: ... ...\n")`.
    pub fn begin(&self, description: &str) {
        self.inner.masters.begin(description);
        self.inner.begun.store(true, Ordering::SeqCst);
    }

    /// Go's `fmt.Printf("  ... Passed\n")`, with what the test took: virtual
    /// seconds, servers and RPCs since [`begin`](Config::begin).
    pub fn passed(&self) {
        let stats = self.inner.masters.stats();
        let servers = NMASTERS + NGROUPS * NREPLICAS;
        labtest::passed(&format!("{:4.1}  {servers} {:5}", stats.secs, stats.rpcs));
    }

    /// Checks the recorded history with the project's linearizability
    /// checker (a check Go's shardkv tests did not make).
    pub fn check_linearizable(&self) {
        labtest::record::check_recorded(self.inner.history.as_ref());
    }

    /// Go's deferred `tc.cleanup()`: kills every server.
    pub fn cleanup(&self) {
        println!(
            "  ({:.1} s of virtual time)",
            sim::now().since_start().as_secs_f64()
        );
        for group in &self.inner.groups {
            for si in 0..group.cluster.n() {
                group.cluster.stop(si);
            }
        }
        for i in 0..NMASTERS {
            self.inner.masters.stop(i);
        }
    }
}

impl Teardown for Config {
    /// Go's `Passed` line (if the test printed its `Test: ...` line), the
    /// linearizability check, then Go's deferred `tc.cleanup()`.
    fn teardown(&self) {
        if self.inner.begun.load(Ordering::SeqCst) {
            self.passed();
        }
        self.check_linearizable();
        self.cleanup();
    }
}

/// Go's `rand.Int()` as a string (a non-negative 63-bit number).
pub fn rand_int_string() -> String {
    (sim::random_u64() >> 1).to_string()
}
