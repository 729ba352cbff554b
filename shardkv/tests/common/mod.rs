//! The shardkv test harness: a port of Go's `shardkv/config.go` on the
//! shared [`labtest`] cluster.
//!
//! * A controller service: a [`labtest::Cluster`] of 3 `ShardCtrler` replicas
//!   named `ctlr-<random>`, each with its own Persister, never restarted; a
//!   second, independent one can be started for TestRejection.
//! * 3 replica groups, GIDs 100, 101 and 102, each a cluster of `n` servers
//!   named `server-<gid>-<i>`, all started at once and none joined. A
//!   server's ends to its group and to the controller are enabled when it
//!   starts.
//! * `make_end(name)` makes a new, enabled end to the named server each time.
//! * Crashes follow Go: the server's outgoing ends (to its group and to the
//!   controller) are disabled and it is stopped (deleted from the network,
//!   Persister replaced by a copy, killed with its node); a restart gets a
//!   copy of the saved state and fresh end names.
//!
//! Beyond Go, the harness records a timeline (each server's role, term and
//! configuration number; crashes; joins and leaves on a `controller` lane)
//! that the runner draws as HTML next to the log when a test fails.

#![allow(dead_code)] // not every test uses every part of the harness

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use labrpc::Network;
use labrpc::sim;
use labrpc::timeline;
use shardctrler::{Gid, ShardCtrler};
use shardkv::{Clerk, MakeEnd, ShardKv};

/// How often the timeline records each server's state.
const TIMELINE_POLL: Duration = Duration::from_millis(10);

/// Go's `randstring`.
pub fn randstring(n: usize) -> String {
    sim::random_string(n)
}

labtest::raft_service_lab!(
    /// Controller replicas as the cluster harness sees them.
    CtrlerLab, Arc<ShardCtrler>
);

labtest::raft_service_lab!(
    /// Group servers as the cluster harness sees them: the lane shows the
    /// role and the configuration number, e.g. "leader c3", with the term.
    ShardKvLab, Arc<ShardKv>, |kv| format!("c{}", kv.config_num())
);

/// A replicated shardctrler service.
pub struct Ctrler {
    pub cluster: labtest::Cluster<CtrlerLab>,
    /// The administrators' clerk (join/leave), as Go's `ctl.ck`.
    pub ck: tokio::sync::Mutex<shardctrler::Clerk>,
}

/// A test's world: controller, groups, network. Cloning shares it.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Shared>,
}

struct Shared {
    net: Network,
    /// Servers per group.
    n: usize,
    maxraftstate: i64,
    ctl: Arc<Ctrler>,
    gids: Vec<Gid>,
    groups: Vec<labtest::Cluster<ShardKvLab>>,
}

fn make_end_fn(net: &Network) -> MakeEnd {
    let net = net.clone();
    Arc::new(move |server: &str| {
        let end = net.make_ends_to(&[server]).pop().expect("one end");
        net.enable(end.name(), true);
        end
    })
}

/// Go's `servername(gid, i)`.
pub fn servername(gid: Gid, i: usize) -> String {
    format!("server-{gid}-{i}")
}

/// Go's `make_config(t, n, unreliable, maxraftstate)`.
pub fn make_config(n: usize, unreliable: bool, maxraftstate: i64) -> Cluster {
    let net = Network::new();
    let ctl = start_ctrler_service(&net);
    let gids: Vec<Gid> = (0..3).map(|gi| 100 + gi as Gid).collect();
    let groups = gids
        .iter()
        .map(|&gid| labtest::Cluster::named(&net, (0..n).map(|i| servername(gid, i)).collect()))
        .collect();
    let cfg = Cluster {
        inner: Arc::new(Shared {
            net,
            n,
            maxraftstate,
            ctl,
            gids,
            groups,
        }),
    };
    for gi in 0..cfg.ngroups() {
        cfg.start_group(gi);
    }
    cfg.net().set_reliable(!unreliable);
    sim::spawn(cfg.clone().record_timeline());
    cfg
}

/// Go's `StartCtrlerService`: three fresh controller replicas and a clerk.
fn start_ctrler_service(net: &Network) -> Arc<Ctrler> {
    let names: Vec<String> = (0..3).map(|_| format!("ctlr-{}", randstring(20))).collect();
    let cluster = labtest::Cluster::named(net, names);
    for i in 0..cluster.n() {
        // Go's StartCtrlerServer.
        cluster.start(i, |s| ShardCtrler::start(s.ends, i, s.persister));
    }
    cluster.connect_all();
    // Go's ctrlerclerk.
    let ends = cluster.make_client_ends(&cluster.all()).0;
    Arc::new(Ctrler {
        cluster,
        ck: tokio::sync::Mutex::new(shardctrler::Clerk::new(ends)),
    })
}

impl Cluster {
    /// Records every live group server's status, and the main controller's
    /// replicas', for the failure timeline.
    async fn record_timeline(self) {
        loop {
            sim::sleep(TIMELINE_POLL).await;
            for group in &self.inner.groups {
                group.observe();
            }
            self.inner.ctl.cluster.observe();
        }
    }

    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    /// Servers per group.
    pub fn n(&self) -> usize {
        self.inner.n
    }

    pub fn ngroups(&self) -> usize {
        self.inner.groups.len()
    }

    /// The main controller service (Go's `cfg.ctl`).
    pub fn ctl(&self) -> Arc<Ctrler> {
        self.inner.ctl.clone()
    }

    pub fn gid(&self, gi: usize) -> Gid {
        self.inner.gids[gi]
    }

    /// A second, independent controller service (TestRejection).
    pub fn start_ctrler_service(&self) -> Arc<Ctrler> {
        start_ctrler_service(self.net())
    }

    /// Go's `checklogs`: no server's Raft state above 8 × maxraftstate, and
    /// no snapshot at all when snapshots are off.
    pub fn checklogs(&self) {
        let maxraftstate = self.inner.maxraftstate;
        for group in &self.inner.groups {
            for saved in group.persisters() {
                let raft = saved.raft_state_size() as i64;
                let snap = saved.snapshot_size();
                if maxraftstate >= 0 && raft > 8 * maxraftstate {
                    panic!("persister.RaftStateSize() {raft}, but maxraftstate {maxraftstate}");
                }
                if maxraftstate < 0 && snap > 0 {
                    panic!("maxraftstate is -1, but snapshot is non-empty!");
                }
            }
        }
    }

    /// Σ over every group server of RaftStateSize + snapshot size (Challenge 1).
    pub fn total_persisted_size(&self) -> usize {
        let groups = self.inner.groups.iter();
        let persisters = groups.flat_map(|g| g.persisters());
        persisters
            .map(|p| p.raft_state_size() + p.snapshot_size())
            .sum()
    }

    /// Go's `makeClient(ctl)`.
    pub fn make_client(&self, ctl: &Ctrler) -> Clerk {
        let ends = ctl.cluster.make_client_ends(&ctl.cluster.all()).0;
        Clerk::new(ends, make_end_fn(self.net()))
    }

    /// Go's `ShutdownServer(gi, i)`: prevents the server from sending, then
    /// crashes it.
    pub fn shutdown_server(&self, gi: usize, i: usize) {
        let group = &self.inner.groups[gi];
        group.disable_outgoing(i);
        group.stop(i);
    }

    pub fn shutdown_group(&self, gi: usize) {
        for i in 0..self.n() {
            self.shutdown_server(gi, i);
        }
    }

    /// Go's `StartServer(gi, i)`.
    pub fn start_server(&self, gi: usize, i: usize) {
        let group = &self.inner.groups[gi];
        let ctl_names = self.inner.ctl.cluster.names();
        let maxraftstate = usize::try_from(self.inner.maxraftstate).ok();
        let make_end = make_end_fn(self.net());
        let gid = self.gid(gi);
        group.start(i, |mut s| {
            let mends = ctl_names.iter().map(|name| s.end_to(name)).collect();
            ShardKv::start(s.ends, i, s.persister, maxraftstate, gid, mends, make_end)
        });
        group.enable_outgoing(i);
    }

    pub fn start_group(&self, gi: usize) {
        for i in 0..self.n() {
            self.start_server(gi, i);
        }
    }

    /// Tell the controller that group `gi` is joining.
    pub async fn join(&self, gi: usize) {
        self.joinm(&[gi], &self.ctl()).await;
    }

    pub async fn ctljoin(&self, gi: usize, ctl: &Ctrler) {
        self.joinm(&[gi], ctl).await;
    }

    pub async fn joinm(&self, gis: &[usize], ctl: &Ctrler) {
        let m = {
            gis.iter()
                .map(|&g| (self.gid(g), self.inner.groups[g].names().to_vec()))
                .collect::<BTreeMap<Gid, Vec<String>>>()
        };
        let gids: Vec<Gid> = m.keys().copied().collect();
        timeline::mark("controller", &format!("join {gids:?}"));
        ctl.ck.lock().await.join(m).await;
    }

    /// Tell the controller that group `gi` is leaving.
    pub async fn leave(&self, gi: usize) {
        self.leavem(&[gi]).await;
    }

    pub async fn leavem(&self, gis: &[usize]) {
        let gids: Vec<Gid> = gis.iter().map(|&g| self.gid(g)).collect();
        timeline::mark("controller", &format!("leave {gids:?}"));
        self.ctl().ck.lock().await.leave(gids).await;
    }
}
