//! The shardctrler test harness: a port of Go's `shardctrler/config.go`.
//!
//! `n` controller replicas run on nodes `S<i>`, registered on the network as
//! servers `S<i>`, each hosting the `ShardCtrler` and `Raft` services. Clerks
//! get fresh ends to every server. Crashes follow Go's model: the server is
//! cut off and deleted, its Persister replaced by a copy (so a late write by
//! the dying instance is lost), and its node killed; a restart gets a copy of
//! the saved state and fresh end names.
//!
//! Beyond Go, the harness records each replica's role and term on the
//! timeline that the runner draws as HTML when a test fails.

#![allow(dead_code)] // not every test uses every part of the harness

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::timeline;
use labrpc::{Network, Persister, SavedState, Server};
use shardctrler::{Clerk, Config, Gid, N_SHARDS, ShardCtrler};

fn server_name(i: usize) -> String {
    format!("S{i}")
}

/// A test's controller cluster. Cloning shares it.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Shared>,
}

struct Shared {
    n: usize,
    net: Network,
    state: Mutex<State>,
}

struct State {
    servers: Vec<Option<Arc<ShardCtrler>>>,
    nodes: Vec<Option<Node>>,
    saved: Vec<SavedState>,
    /// Names of each server's outgoing ends, to every server.
    end_names: Vec<Vec<String>>,
    /// Each clerk's end names, by clerk id.
    clerks: BTreeMap<u64, Vec<String>>,
}

/// Go's `make_config(t, n, unreliable)`: starts and connects `n` replicas.
pub fn make_config(n: usize, unreliable: bool) -> Cluster {
    let cfg = Cluster {
        inner: Arc::new(Shared {
            n,
            net: Network::new(),
            state: Mutex::new(State {
                servers: vec![None; n],
                nodes: vec![None; n],
                saved: vec![SavedState::default(); n],
                end_names: vec![Vec::new(); n],
                clerks: BTreeMap::new(),
            }),
        }),
    };
    for i in 0..n {
        cfg.start_server(i);
    }
    cfg.connect_all();
    cfg.inner.net.set_reliable(!unreliable);
    sim::spawn(cfg.clone().record_timeline());
    cfg
}

impl Cluster {
    /// Records every live replica's role and term every 10 ms.
    async fn record_timeline(self) {
        loop {
            sim::sleep(Duration::from_millis(10)).await;
            let servers: Vec<(usize, Arc<ShardCtrler>)> = self
                .state()
                .servers
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.clone().map(|s| (i, s)))
                .collect();
            for (i, server) in servers {
                let (term, is_leader) = server.raft().get_state();
                let role = if is_leader { "leader" } else { "follower" };
                timeline::state(&server_name(i), role, Some(term));
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn net(&self) -> &Network {
        &self.inner.net
    }

    pub fn n(&self) -> usize {
        self.inner.n
    }

    /// Go's `All()`: every server index.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n()).collect()
    }

    /// The largest persisted Raft state of any replica.
    pub fn log_size(&self) -> usize {
        self.state()
            .saved
            .iter()
            .flatten()
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    /// Enables server `i`'s ends to and from the servers in `to`.
    pub fn connect(&self, i: usize, to: &[usize]) {
        let st = self.state();
        for &j in to {
            if let Some(name) = st.end_names[i].get(j) {
                self.net().enable(name, true);
            }
            if let Some(name) = st.end_names[j].get(i) {
                self.net().enable(name, true);
            }
        }
    }

    /// Disables server `i`'s ends to and from the servers in `from`.
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        let st = self.state();
        for &j in from {
            if let Some(name) = st.end_names[i].get(j) {
                self.net().enable(name, false);
            }
            if let Some(name) = st.end_names[j].get(i) {
                self.net().enable(name, false);
            }
        }
    }

    pub fn connect_all(&self) {
        let all = self.all();
        for i in 0..self.n() {
            self.connect(i, &all);
        }
    }

    /// Two partitions, each connected within and cut off from the other.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        for &i in p1 {
            self.disconnect(i, p2);
            self.connect(i, p1);
        }
        for &i in p2 {
            self.disconnect(i, p1);
            self.connect(i, p2);
        }
    }

    /// Go's `makeClient(to)`: a clerk with fresh ends to every server, only
    /// those to the servers in `to` enabled.
    pub fn make_client(&self, to: &[usize]) -> Clerk {
        let servers: Vec<String> = (0..self.n()).map(server_name).collect();
        let ends = self.net().make_ends_to(&servers);
        let names: Vec<String> = ends.iter().map(|e| e.name().to_string()).collect();
        let clerk = Clerk::new(ends);
        self.state().clerks.insert(clerk.client_id(), names);
        self.connect_client(&clerk, to);
        clerk
    }

    pub fn connect_client(&self, clerk: &Clerk, to: &[usize]) {
        self.enable_client(clerk, to, true);
    }

    pub fn disconnect_client(&self, clerk: &Clerk, from: &[usize]) {
        self.enable_client(clerk, from, false);
    }

    fn enable_client(&self, clerk: &Clerk, servers: &[usize], enabled: bool) {
        let st = self.state();
        let names = &st.clerks[&clerk.client_id()];
        for &j in servers {
            self.net().enable(&names[j], enabled);
        }
    }

    /// Go's `ShutdownServer`: isolate server `i`, delete it from the network,
    /// give it a fresh copy of its Persister, and kill it.
    pub fn shutdown_server(&self, i: usize) {
        self.disconnect(i, &self.all());
        // Before the Persister is replaced, so the dying server cannot reply
        // positively to something it persisted in the superseded one.
        self.net().delete_server(&server_name(i));
        let (server, node) = {
            let mut st = self.state();
            st.saved[i].crash();
            (st.servers[i].take(), st.nodes[i].take())
        };
        if let Some(server) = server {
            server.kill();
        }
        if let Some(node) = node {
            node.kill();
        }
    }

    /// Go's `StartServer`: (re)start server `i` from its saved state, with
    /// fresh end names. Call `shutdown_server` first when restarting.
    pub fn start_server(&self, i: usize) {
        let n = self.n();
        let servers: Vec<String> = (0..n).map(server_name).collect();
        let ends = self.net().make_ends_to(&servers);
        let names: Vec<String> = ends.iter().map(|e| e.name().to_string()).collect();
        let persister = {
            let mut st = self.state();
            st.end_names[i] = names;
            st.saved[i].restart()
        };
        let node = Node::new(&server_name(i));
        let ctrler = node.enter(|| ShardCtrler::start(ends, i, persister));
        let server = Server::new(&node);
        for service in ctrler.services() {
            server.add_service(service);
        }
        self.net().add_server(&server_name(i), server);
        let mut st = self.state();
        st.servers[i] = Some(ctrler);
        st.nodes[i] = Some(node);
    }

    /// Go's `Leader()`: whether some live replica believes it leads, and which.
    pub fn leader(&self) -> (bool, usize) {
        let st = self.state();
        for (i, server) in st.servers.iter().enumerate() {
            if let Some(server) = server
                && server.raft().get_state().1
            {
                return (true, i);
            }
        }
        (false, 0)
    }

    /// Go's `make_partition`: a majority and a minority holding the leader.
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let (_, l) = self.leader();
        let n = self.n();
        let mut p1 = Vec::with_capacity(n / 2 + 1);
        let mut p2 = Vec::with_capacity(n / 2);
        for i in (0..n).filter(|&i| i != l) {
            if p1.len() < n / 2 + 1 {
                p1.push(i);
            } else {
                p2.push(i);
            }
        }
        p2.push(l);
        (p1, p2)
    }
}

// ----- Checks (from Go's test_test.go) -------------------------------------

/// Go's `check`: the latest configuration has exactly `groups`, every shard
/// is on one of them (if there are any), and no group has more than one shard
/// more than another.
pub async fn check(groups: &[Gid], ck: &mut Clerk) {
    let c = ck.query(-1).await;
    assert_eq!(
        c.groups.len(),
        groups.len(),
        "wanted {} groups, got {}",
        groups.len(),
        c.groups.len()
    );
    for g in groups {
        assert!(c.groups.contains_key(g), "missing group {g}");
    }
    if !groups.is_empty() {
        for (s, g) in c.shards.iter().enumerate() {
            assert!(c.groups.contains_key(g), "shard {s} -> invalid group {g}");
        }
    }
    let mut counts: BTreeMap<Gid, usize> = BTreeMap::new();
    for g in c.shards {
        *counts.entry(g).or_default() += 1;
    }
    let (mut min, mut max) = (257, 0);
    for g in c.groups.keys() {
        let count = counts.get(g).copied().unwrap_or(0);
        max = max.max(count);
        min = min.min(count);
    }
    assert!(max <= min + 1, "max {max} too much larger than min {min}");
}

/// Go's `check_same_config`.
pub fn check_same_config(c1: &Config, c2: &Config) {
    assert_eq!(c1.num, c2.num, "Num wrong");
    assert_eq!(c1.shards, c2.shards, "Shards wrong");
    assert_eq!(
        c1.groups.len(),
        c2.groups.len(),
        "number of Groups is wrong"
    );
    for (gid, sa) in &c1.groups {
        let sa1 = c2.groups.get(gid);
        assert!(
            sa1.is_some_and(|sa1| sa1.len() == sa.len()),
            "len(Groups) wrong"
        );
        if let Some(sa1) = sa1 {
            for j in 0..sa.len() {
                assert_eq!(sa[j], sa1[j], "Groups wrong");
            }
        }
    }
}

/// `{gid: servers}` as a join argument.
pub fn group(gid: Gid, servers: &[&str]) -> BTreeMap<Gid, Vec<String>> {
    BTreeMap::from([(gid, servers.iter().map(|s| s.to_string()).collect())])
}

/// Asserts `gid`'s server list in `c` is exactly `expected`.
pub fn check_servers(c: &Config, gid: Gid, expected: &[&str]) {
    let sa = c.groups.get(&gid).cloned().unwrap_or_default();
    assert!(
        sa.len() == expected.len() && sa.iter().zip(expected).all(|(a, b)| a == b),
        "wrong servers for gid {gid}: {sa:?}"
    );
}

pub const NSHARDS: usize = N_SHARDS;
