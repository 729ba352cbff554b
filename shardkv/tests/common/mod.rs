//! The shardkv test harness: a port of Go's `shardkv/config.go`.
//!
//! * A controller service of 3 `ShardCtrler` replicas named `ctlr-<random>`,
//!   each with its own Persister, never restarted; a second, independent one
//!   can be started for TestRejection.
//! * 3 replica groups, GIDs 100, 101 and 102, each of `n` servers named
//!   `server-<gid>-<i>`, all started at once and none joined.
//! * `make_end(name)` makes a new, enabled end to the named server each time.
//! * Crashes follow Go: the server's outgoing ends (to its group and to the
//!   controller) are disabled, the server deleted from the network, its
//!   Persister replaced by a copy, and it is killed (its node too, so none of
//!   its tasks survive); a restart gets a copy of the saved state and fresh
//!   end names.
//!
//! Beyond Go, the harness records a timeline (each server's role, term and
//! configuration number; crashes; joins and leaves on a `controller` lane)
//! that the runner draws as HTML next to the log when a test fails.

#![allow(dead_code)] // not every test uses every part of the harness

use std::sync::{Arc, Mutex, MutexGuard};

use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::timeline;
use labrpc::{ClientEnd, Network, Persister, SavedState, Server};
use shardctrler::{Gid, ShardCtrler};
use shardkv::{Clerk, MakeEnd, ShardKv};

/// Go's `randstring`.
pub fn randstring(n: usize) -> String {
    sim::random_string(n)
}

/// A replicated shardctrler service.
pub struct Ctrler {
    pub n: usize,
    pub names: Vec<String>,
    servers: Mutex<Vec<(Arc<ShardCtrler>, Node)>>,
    /// The administrators' clerk (join/leave), as Go's `ctl.ck`.
    pub ck: tokio::sync::Mutex<shardctrler::Clerk>,
}

struct Group {
    gid: Gid,
    servers: Vec<Option<(Arc<ShardKv>, Node)>>,
    saved: Vec<SavedState>,
    /// Each server's ends to the servers of its group.
    end_names: Vec<Vec<String>>,
    /// Each server's ends to the controller.
    mend_names: Vec<Vec<String>>,
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
    ngroups: usize,
    maxraftstate: i64,
    ctl: Arc<Ctrler>,
    groups: Mutex<Vec<Group>>,
}

fn make_end_fn(net: &Network) -> MakeEnd {
    let net = net.clone();
    Arc::new(move |server: &str| {
        let name = randstring(20);
        let end = net.make_end(&name);
        net.connect(&name, server);
        net.enable(&name, true);
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
    let ngroups = 3;
    let groups = (0..ngroups)
        .map(|gi| Group {
            gid: 100 + gi as Gid,
            servers: vec![None; n],
            saved: vec![SavedState::default(); n],
            end_names: vec![Vec::new(); n],
            mend_names: vec![Vec::new(); n],
        })
        .collect();
    let cfg = Cluster {
        inner: Arc::new(Shared {
            net,
            n,
            ngroups,
            maxraftstate,
            ctl,
            groups: Mutex::new(groups),
        }),
    };
    for gi in 0..ngroups {
        for i in 0..n {
            cfg.start_server(gi, i);
        }
    }
    cfg.net().set_reliable(!unreliable);
    sim::spawn(cfg.clone().record_timeline());
    cfg
}

/// How often the timeline records each server's state.
const TIMELINE_POLL: Duration = Duration::from_millis(10);

/// Go's `StartCtrlerService`: three fresh controller replicas and a clerk.
fn start_ctrler_service(net: &Network) -> Arc<Ctrler> {
    let n = 3;
    let names: Vec<String> = (0..n).map(|_| format!("ctlr-{}", randstring(20))).collect();
    let mut servers = Vec::new();
    for i in 0..n {
        // Go's StartCtrlerServer.
        let ends: Vec<ClientEnd> = names.iter().map(|name| enabled_end(net, name)).collect();
        let node = Node::new(&names[i]);
        let ctrler = node.enter(|| ShardCtrler::start(ends, i, Persister::new()));
        let server = Server::new(&node);
        for service in ctrler.services() {
            server.add_service(service);
        }
        net.add_server(&names[i], server);
        servers.push((ctrler, node));
    }
    // Go's ctrlerclerk.
    let ends = names.iter().map(|name| enabled_end(net, name)).collect();
    Arc::new(Ctrler {
        n,
        names,
        servers: Mutex::new(servers),
        ck: tokio::sync::Mutex::new(shardctrler::Clerk::new(ends)),
    })
}

fn enabled_end(net: &Network, server: &str) -> ClientEnd {
    let name = randstring(20);
    let end = net.make_end(&name);
    net.connect(&name, server);
    net.enable(&name, true);
    end
}

impl Cluster {
    /// Records every live group server's role, term and configuration, and
    /// the main controller's replicas' roles, for the failure timeline.
    async fn record_timeline(self) {
        loop {
            sim::sleep(TIMELINE_POLL).await;
            let servers: Vec<(String, Arc<ShardKv>)> = {
                let groups = self.groups();
                groups
                    .iter()
                    .flat_map(|g| {
                        g.servers.iter().enumerate().filter_map(move |(i, s)| {
                            s.as_ref().map(|(kv, _)| (servername(g.gid, i), kv.clone()))
                        })
                    })
                    .collect()
            };
            for (name, kv) in servers {
                let (term, is_leader) = kv.raft().get_state();
                let num = kv.with_state(|s| s.config().num);
                let role = if is_leader { "leader" } else { "follower" };
                timeline::state(&name, &format!("{role} c{num}"), Some(term));
            }
            let ctl = self.ctl();
            let ctrlers: Vec<Arc<ShardCtrler>> = ctl
                .servers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(c, _)| c.clone())
                .collect();
            for (i, ctrler) in ctrlers.iter().enumerate() {
                let (term, is_leader) = ctrler.raft().get_state();
                let role = if is_leader { "leader" } else { "follower" };
                timeline::state(&format!("ctlr-{i}"), role, Some(term));
            }
        }
    }

    fn groups(&self) -> MutexGuard<'_, Vec<Group>> {
        self.inner.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    /// Servers per group.
    pub fn n(&self) -> usize {
        self.inner.n
    }

    pub fn ngroups(&self) -> usize {
        self.inner.ngroups
    }

    /// The main controller service (Go's `cfg.ctl`).
    pub fn ctl(&self) -> Arc<Ctrler> {
        self.inner.ctl.clone()
    }

    pub fn gid(&self, gi: usize) -> Gid {
        self.groups()[gi].gid
    }

    /// A second, independent controller service (TestRejection).
    pub fn start_ctrler_service(&self) -> Arc<Ctrler> {
        start_ctrler_service(self.net())
    }

    /// Go's `checklogs`: no server's Raft state above 8 × maxraftstate, and
    /// no snapshot at all when snapshots are off.
    pub fn checklogs(&self) {
        let maxraftstate = self.inner.maxraftstate;
        for group in self.groups().iter() {
            for saved in group.saved.iter().flatten() {
                let raft = saved.raft_state_size() as i64;
                let snap = saved.read_snapshot().len();
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
        self.groups()
            .iter()
            .flat_map(|g| g.saved.iter().flatten())
            .map(|saved| saved.raft_state_size() + saved.read_snapshot().len())
            .sum()
    }

    /// Go's `makeClient(ctl)`.
    pub fn make_client(&self, ctl: &Ctrler) -> Clerk {
        let ends = ctl
            .names
            .iter()
            .map(|name| enabled_end(self.net(), name))
            .collect();
        Clerk::new(ends, make_end_fn(self.net()))
    }

    /// Go's `ShutdownServer(gi, i)`.
    pub fn shutdown_server(&self, gi: usize, i: usize) {
        let victim = {
            let mut groups = self.groups();
            let gg = &mut groups[gi];
            // prevent this server from sending
            for name in gg.end_names[i].iter().chain(&gg.mend_names[i]) {
                self.net().enable(name, false);
            }
            // Before the Persister is replaced, so the dying server cannot
            // reply positively to something it persisted in the old one.
            self.net().delete_server(&servername(gg.gid, i));
            gg.saved[i].crash();
            gg.servers[i].take()
        };
        if let Some((kv, node)) = victim {
            kv.kill();
            node.kill();
        }
    }

    pub fn shutdown_group(&self, gi: usize) {
        for i in 0..self.n() {
            self.shutdown_server(gi, i);
        }
    }

    /// Go's `StartServer(gi, i)`.
    pub fn start_server(&self, gi: usize, i: usize) {
        let n = self.n();
        let ctl = self.ctl();
        let (gid, ends, mends, persister) = {
            let mut groups = self.groups();
            let gg = &mut groups[gi];
            let gid = gg.gid;
            gg.end_names[i] = (0..n).map(|_| randstring(20)).collect();
            let ends: Vec<ClientEnd> = (0..n)
                .map(|j| {
                    let name = &gg.end_names[i][j];
                    let end = self.net().make_end(name);
                    self.net().connect(name, &servername(gid, j));
                    self.net().enable(name, true);
                    end
                })
                .collect();
            gg.mend_names[i] = (0..ctl.n).map(|_| randstring(20)).collect();
            let mends: Vec<ClientEnd> = (0..ctl.n)
                .map(|j| {
                    let name = &gg.mend_names[i][j];
                    let end = self.net().make_end(name);
                    self.net().connect(name, &ctl.names[j]);
                    self.net().enable(name, true);
                    end
                })
                .collect();
            let persister = gg.saved[i].restart();
            (gid, ends, mends, persister)
        };
        let maxraftstate = usize::try_from(self.inner.maxraftstate).ok();
        let make_end = make_end_fn(self.net());
        let name = servername(gid, i);
        let node = Node::new(&name);
        let kv =
            node.enter(|| ShardKv::start(ends, i, persister, maxraftstate, gid, mends, make_end));
        let server = Server::new(&node);
        for service in kv.services() {
            server.add_service(service);
        }
        self.net().add_server(&name, server);
        self.groups()[gi].servers[i] = Some((kv, node));
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
            let groups = self.groups();
            gis.iter()
                .map(|&g| {
                    let gid = groups[g].gid;
                    (gid, (0..self.n()).map(|i| servername(gid, i)).collect())
                })
                .collect::<std::collections::BTreeMap<Gid, Vec<String>>>()
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
        let gids: Vec<Gid> = {
            let groups = self.groups();
            gis.iter().map(|&g| groups[g].gid).collect()
        };
        timeline::mark("controller", &format!("leave {gids:?}"));
        self.ctl().ck.lock().await.leave(gids).await;
    }
}

/// Go's `check`: `Get(key)` must return `value`.
pub async fn check(ck: &mut Clerk, key: &str, value: &str) {
    let v = ck.get(key).await;
    assert!(v == value, "Get({key}): expected:\n{value}\nreceived:\n{v}");
}
