//! The one cluster harness that every lab's tests use.
//!
//! Each of the Go labs ships a `config.go` that rewrites the same machinery:
//! server names, a matrix of client ends between the servers, connecting,
//! disconnecting and partitioning over that matrix, starting and shutting
//! down a server with the crash model, clients with their own ends, the
//! `begin`/`end` counters and the `Passed` line. This crate writes it once,
//! in the style of raft-rs's `harness` crate: a lab's `tests/common/mod.rs`
//! implements the small [`Lab`] trait for its server type and keeps only what
//! is particular to the lab (its appliers, its checks, its clerks' wrappers).
//!
//! A [`Cluster`] is `n` servers of one lab on one [`Network`]. Server `i` runs
//! on its own simulated node, registered on the network under its name
//! (`S<i>` by default), so every task it spawns dies with it. What a server
//! is — a Raft peer, a KV server on Raft, a Paxos peer, a view service — is
//! the lab's business; the cluster only needs to kill it, install its RPC
//! services, and ask it what to draw on its timeline lane (its role and a
//! number such as a term, a view or the instances decided; no leader needed).
//!
//! The crash model is Go's (see [`labrpc::SavedState`]): shutting a server
//! down deletes it from the network, swaps its Persister for a copy (so a late
//! write by the dying instance is lost), kills it and its node; starting it
//! again gives the new instance a copy of what was saved and fresh end names,
//! so nothing addressed to an old instance reaches the new one.
//!
//! The cluster also keeps the failure timeline: a server that cannot reach a
//! majority of the cluster (both directions of an end enabled) is drawn with
//! a "disconnected" band, and [`Cluster::observe`] records every running
//! server's [`Status`].
//!
//! # How a lab uses it
//!
//! ```
//! use labrpc::{Network, Service, sim};
//! use labtest::{Cluster, Lab, Status};
//!
//! // The lab's server (in a real lab: `Raft`, `Arc<KvServer>`, ...).
//! #[derive(Clone)]
//! struct Echo {
//!     me: u64,
//! }
//!
//! // The harness implements `Lab` on a marker type of its own.
//! struct EchoLab;
//!
//! impl Lab for EchoLab {
//!     type Server = Echo;
//!     fn kill(_server: &Echo) {}
//!     fn services(server: &Echo) -> Vec<Service> {
//!         let me = server.me;
//!         vec![Service::new("Echo").method("Add", move |x: u64| async move { x + me })]
//!     }
//!     fn status(_server: &Echo) -> Status {
//!         Status::new("up", None)
//!     }
//! }
//!
//! sim::run(async {
//!     let net = Network::new();
//!     let cluster: Cluster<EchoLab> = Cluster::new(&net, 3);
//!     for i in 0..cluster.n() {
//!         // `start` hands the lab its ends to every server, its index and
//!         // its Persister; the closure runs on the server's node.
//!         cluster.start(i, |start| Echo { me: start.me as u64 });
//!     }
//!     cluster.connect_all();
//!     cluster.begin("Test: echo");
//!
//!     let (ends, client) = cluster.make_client_ends(&[2]);
//!     let sum: u64 = ends[2].call("Echo.Add", &40u64).await.unwrap();
//!     assert_eq!(sum, 42);
//!     cluster.disconnect_client(&client, &[2]);
//!     assert!(ends[2].call::<_, u64>("Echo.Add", &1u64).await.is_err());
//!
//!     cluster.shutdown(1); // a crash: its Persister is copied, its node killed
//!     cluster.start(1, |start| Echo { me: start.me as u64 });
//!     cluster.connect(1);
//!
//!     let stats = cluster.stats();
//!     labtest::passed(&format!("{:4.1}  {} {:4}", stats.secs, stats.peers, stats.rpcs));
//! });
//! ```
//!
//! [`history`] holds the end-of-test linearizability check of the key/value
//! labs, so that no library crate depends on the checker, and [`record`] a
//! harness clerk's recording into it; [`bench`](mod@bench) the benchmarks'
//! CPU-time helper; [`run`](mod@run) one test in a simulation of its own,
//! between its harness's setup and teardown.

pub mod appends;
pub mod bench;
pub mod history;
pub mod record;
pub mod run;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use labrpc::Service;
use labrpc::sim::{self, Instant, JoinHandle, Node};
use labrpc::timeline::{self, Band};
use labrpc::{ClientEnd, Network, Persister, SavedState};

/// What a lab tells the harness about its server type.
///
/// Implement it on a marker type in the lab's `tests/common/mod.rs`
/// (the server type itself usually belongs to the lab's library crate).
pub trait Lab: 'static {
    /// A handle to one running server; cloning shares it.
    type Server: Clone + Send + Sync + 'static;

    /// Go's `Kill()`: tells the server to stop. Its node is killed right
    /// after, so any task it left behind stops too.
    fn kill(server: &Self::Server);

    /// The RPC services the server answers, installed on its node.
    fn services(server: &Self::Server) -> Vec<Service>;

    /// What the timeline draws on the server's lane now.
    fn status(server: &Self::Server) -> Status;
}

/// A server's state as its timeline lane shows it: a label such as "leader",
/// "primary" or "decided 12", and a number such as a term or a view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The lane's label (its colour follows the label's first word).
    pub label: String,
    /// A term, view or configuration number, drawn as `T<n>`.
    pub number: Option<u64>,
    /// Whether the server believes it leads ([`Cluster::leader`]).
    pub leader: bool,
}

impl Status {
    /// A status that is not a leader's.
    pub fn new(label: impl Into<String>, number: Option<u64>) -> Status {
        Status {
            label: label.into(),
            number,
            leader: false,
        }
    }

    /// A Raft peer's status: "leader" or "follower" in `term`.
    pub fn raft(term: u64, is_leader: bool) -> Status {
        let label = if is_leader { "leader" } else { "follower" };
        Status {
            label: label.to_string(),
            number: Some(term),
            leader: is_leader,
        }
    }

    /// The same status with `suffix` after the label ("leader c3"); an empty
    /// suffix leaves it as it is.
    pub fn with_suffix(mut self, suffix: impl std::fmt::Display) -> Status {
        let suffix = suffix.to_string();
        if !suffix.is_empty() {
            self.label = format!("{} {suffix}", self.label);
        }
        self
    }
}

/// Implements [`Lab`] on a new marker type for a server type with `kill()`:
/// the lab says how to get its services and its status.
///
/// ```ignore
/// labtest::lab!(
///     /// labtest's view of a Paxos peer.
///     PaxosLab, Arc<Paxos>,
///     services: |px| vec![px.service()],
///     status: |px| Status::new(px.describe(), None)
/// );
/// ```
#[macro_export]
macro_rules! lab {
    ($(#[$attr:meta])* $lab:ident, $server:ty,
     services: |$s1:ident| $services:expr, status: |$s2:ident| $status:expr $(,)?) => {
        $(#[$attr])*
        pub struct $lab;

        impl $crate::Lab for $lab {
            type Server = $server;
            fn kill(server: &$server) {
                server.kill();
            }
            fn services($s1: &$server) -> Vec<$crate::Service> {
                $services
            }
            fn status($s2: &$server) -> $crate::Status {
                $status
            }
        }
    };
}

/// [`lab!`] for a server type with `kill()` and `services() ->
/// Vec<Service>`, whose lane shows the [`Status`] that `status` makes of it.
/// [`raft_service_lab!`] is built on it, and the Paxos series' shardkv
/// harness uses it:
///
/// ```ignore
/// labtest::service_lab!(
///     /// Shard master servers as the cluster harness sees them.
///     MasterLab, Arc<ShardMaster>, |sm| Status::new(sm.describe(), Some(sm.latest_num()))
/// );
/// ```
#[macro_export]
macro_rules! service_lab {
    ($(#[$attr:meta])* $lab:ident, $server:ty, |$s:ident| $status:expr) => {
        $crate::lab!(
            $(#[$attr])* $lab, $server,
            services: |server| server.services(),
            status: |$s| $status
        );
    };
}

/// [`service_lab!`] for a service built on a Raft peer: a server type with
/// `kill()`, `services() -> Vec<Service>` and `raft()` (whose `get_state()`
/// gives the term and leadership shown on its lane). kvraft, shardctrler and
/// shardkv use it:
///
/// ```ignore
/// labtest::raft_service_lab!(
///     /// KV servers as the cluster harness sees them.
///     KvLab, Arc<KvServer>
/// );
/// ```
///
/// A third argument adds to the lane's label (shardkv's configuration number,
/// "leader c3"): `ShardKvLab, Arc<ShardKv>, |kv| format!("c{}", kv.config_num())`.
#[macro_export]
macro_rules! raft_service_lab {
    ($(#[$attr:meta])* $lab:ident, $server:ty) => {
        $crate::raft_service_lab!($(#[$attr])* $lab, $server, |server| "");
    };
    ($(#[$attr:meta])* $lab:ident, $server:ty, |$s:ident| $suffix:expr) => {
        $crate::service_lab!($(#[$attr])* $lab, $server, |$s| {
            let (term, is_leader) = $s.raft().get_state();
            $crate::Status::raft(term, is_leader).with_suffix($suffix)
        });
    };
}

/// What [`Cluster::start`] hands the lab's constructor.
pub struct Start<'a> {
    /// The server's index in the cluster (Go's `me`).
    pub me: usize,
    /// A fresh end to every server of the cluster (index = server), disabled
    /// until the test connects them.
    pub ends: Vec<ClientEnd>,
    /// The server's stable storage: a copy of what its last instance saved.
    pub persister: Persister,
    net: &'a Network,
    extra_ends: &'a mut Vec<String>,
}

impl Start<'_> {
    /// The network, for ends the server makes as it runs (e.g. to other groups).
    pub fn net(&self) -> &Network {
        self.net
    }

    /// A fresh, enabled end to a server outside the cluster (shardkv's ends
    /// to the controller). It is disabled when this server stops.
    pub fn end_to(&mut self, server: &str) -> ClientEnd {
        let end = self
            .net
            .make_ends_to(&[server])
            .pop()
            .expect("one end per server");
        self.net.enable(end.name(), true);
        self.extra_ends.push(end.name().to_string());
        end
    }
}

/// The names of a client's ends, one per server (index = server), so the
/// test can connect and disconnect a client that a task owns.
#[derive(Clone, Debug)]
pub struct ClientEnds(Arc<[String]>);

impl ClientEnds {
    /// The name of the client's end to server `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.0[i]
    }
}

/// What happened since [`Cluster::begin`], for the `Passed` line.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// Virtual seconds.
    pub secs: f64,
    /// Servers in the cluster.
    pub peers: usize,
    /// RPCs sent on the whole network, clients' included.
    pub rpcs: u64,
    /// Request and reply bytes sent on the whole network.
    pub bytes: u64,
}

/// Runs `op`, failing the test as stuck if it takes longer than `limit` of
/// virtual time (`what` names the operation in the panic message).
pub async fn within<T>(limit: Duration, what: &str, op: impl std::future::Future<Output = T>) -> T {
    match sim::timeout(limit, op).await {
        Ok(value) => value,
        Err(sim::Elapsed) => panic!("{what} did not complete within {limit:?}"),
    }
}

/// Prints Go's `  ... Passed --  <details>` line (just `  ... Passed` when
/// `details` is empty).
pub fn passed(details: &str) {
    if details.is_empty() {
        println!("  ... Passed");
    } else {
        println!("  ... Passed --  {details}");
    }
}

/// `n` servers of one lab on a network. Cloning shares it.
pub struct Cluster<L: Lab> {
    inner: Arc<Inner<L>>,
}

impl<L: Lab> Clone for Cluster<L> {
    fn clone(&self) -> Self {
        Cluster {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<L: Lab> {
    net: Network,
    names: Vec<String>,
    state: Mutex<State<L>>,
}

struct State<L: Lab> {
    servers: Vec<Option<L::Server>>,
    nodes: Vec<Option<Node>>,
    saved: Vec<SavedState>,
    /// `ends[i][j]`: the name of server i's end to server j.
    ends: Vec<Vec<String>>,
    /// `enabled[i][j]`: whether `ends[i][j]` is enabled (the network keeps
    /// no readable copy).
    enabled: Vec<Vec<bool>>,
    /// Ends a server made to servers outside the cluster ([`Start::end_to`]).
    extra_ends: Vec<Vec<String>>,
    /// Go raft's `connected[i]`: [`Cluster::connect`] links i to these.
    connected: Vec<bool>,
    /// Whether a "disconnected" band is open on the lane. Starts true and
    /// unrecorded: before the first connect nobody is connected.
    cut_off: Vec<bool>,
    /// Whether [`Cluster::part`] left the server in a minority group (its
    /// "disconnected" band is open).
    parted: Vec<bool>,
    next_client: usize,
    // begin() baselines.
    t0: Instant,
    rpcs0: u64,
    bytes0: u64,
}

impl<L: Lab> Cluster<L> {
    /// `n` servers named `S0`, `S1`, ... on `net`, none started yet.
    pub fn new(net: &Network, n: usize) -> Cluster<L> {
        Cluster::named(net, (0..n).map(|i| format!("S{i}")).collect())
    }

    /// One server per name (its network name, node name and timeline lane),
    /// none started yet.
    pub fn named(net: &Network, names: Vec<String>) -> Cluster<L> {
        let n = names.len();
        assert!(n > 0, "labtest: a cluster needs at least one server");
        let state = State {
            servers: vec![None; n],
            nodes: vec![None; n],
            saved: vec![SavedState::default(); n],
            ends: vec![Vec::new(); n],
            enabled: vec![vec![false; n]; n],
            extra_ends: vec![Vec::new(); n],
            connected: vec![false; n],
            cut_off: vec![true; n],
            parted: vec![false; n],
            next_client: 0,
            t0: sim::now(),
            rpcs0: 0,
            bytes0: 0,
        };
        Cluster {
            inner: Arc::new(Inner {
                net: net.clone(),
                names,
                state: Mutex::new(state),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<L>> {
        // A panic while holding the lock already fails the test; the state
        // is still readable for the failure report.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The network the cluster runs on.
    pub fn net(&self) -> &Network {
        &self.inner.net
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.inner.names.len()
    }

    /// Go's `All()`: every server index.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n()).collect()
    }

    /// Server `i`'s name on the network (and its node's and lane's).
    pub fn name(&self, i: usize) -> &str {
        &self.inner.names[i]
    }

    /// Every server's name, by index.
    pub fn names(&self) -> &[String] {
        &self.inner.names
    }

    /// Server `i`, if it is running.
    pub fn server(&self, i: usize) -> Option<L::Server> {
        self.state().servers[i].clone()
    }

    /// Every running server with its index.
    pub fn running(&self) -> Vec<(usize, L::Server)> {
        let st = self.state();
        st.servers
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.clone().map(|s| (i, s)))
            .collect()
    }

    // ----- Start and shutdown ----------------------------------------------

    /// Go's `StartServer(i)`/`start1(i)`: starts server `i` on a new node
    /// with fresh (disabled) ends to every server and a copy of its saved
    /// state, builds it with `make` (run on that node, so the tasks it spawns
    /// die with it), installs its services and registers it on the network.
    /// Shut the old instance down first when restarting.
    pub fn start<F>(&self, i: usize, make: F) -> L::Server
    where
        F: FnOnce(Start<'_>) -> L::Server,
    {
        tracing::info!(topic = "test", "start {}", self.name(i));
        let ends = self.net().make_ends_to(&self.inner.names);
        let names: Vec<String> = ends.iter().map(|e| e.name().to_string()).collect();
        let persister = {
            let mut st = self.state();
            assert!(
                st.servers[i].is_none(),
                "labtest: start({i}): server {} is still running",
                self.name(i)
            );
            st.ends[i] = names;
            st.enabled[i] = vec![false; self.n()];
            st.saved[i].restart()
        };
        let node = Node::new(self.name(i));
        let mut extra_ends = Vec::new();
        let server = node.enter(|| {
            make(Start {
                me: i,
                ends,
                persister,
                net: self.net(),
                extra_ends: &mut extra_ends,
            })
        });
        let rpc_server = labrpc::Server::new(&node);
        for service in L::services(&server) {
            rpc_server.add_service(service);
        }
        {
            let mut st = self.state();
            st.servers[i] = Some(server.clone());
            st.nodes[i] = Some(node);
            st.extra_ends[i] = extra_ends;
        }
        self.net().add_server(self.name(i), rpc_server);
        server
    }

    /// Go's `crash1(i)`/`ShutdownServer(i)`: [`disconnect`](Self::disconnect)s
    /// server `i`, then [`stop`](Self::stop)s it.
    pub fn shutdown(&self, i: usize) {
        self.disconnect(i);
        self.stop(i);
    }

    /// The crash itself, leaving the cluster's ends as they are: disables
    /// the server's ends out of the cluster, deletes it from the network (so
    /// it cannot answer anyone before its Persister is replaced), gives its
    /// saved state a copy the old instance cannot write to, and kills it and
    /// its node. Does nothing more to a server that is not running.
    pub fn stop(&self, i: usize) {
        let (server, node) = {
            let mut st = self.state();
            for name in &st.extra_ends[i] {
                self.net().enable(name, false);
            }
            self.net().delete_server(self.name(i));
            st.saved[i].crash();
            (st.servers[i].take(), st.nodes[i].take())
        };
        if let Some(server) = server {
            L::kill(&server);
        }
        // Every task of the old instance stops here.
        if let Some(node) = node {
            node.kill();
        }
        tracing::info!(topic = "test", "shut down {}", self.name(i));
    }

    // ----- The network between the servers ---------------------------------

    fn set(&self, st: &mut State<L>, from: usize, to: usize, enabled: bool) {
        if let Some(name) = st.ends[from].get(to) {
            self.net().enable(name, enabled);
            st.enabled[from][to] = enabled;
        }
    }

    /// Opens or closes each lane's "disconnected" band: a server is cut off
    /// when it cannot reach a majority (itself included) both ways.
    fn refresh_bands(&self, st: &mut State<L>) {
        let n = self.n();
        for i in 0..n {
            let reach = (0..n)
                .filter(|&j| j == i || (st.enabled[i][j] && st.enabled[j][i]))
                .count();
            let cut = reach < n / 2 + 1;
            if cut != st.cut_off[i] {
                st.cut_off[i] = cut;
                if cut {
                    timeline::band_start(self.name(i), Band::Disconnected);
                } else {
                    timeline::band_end(self.name(i), Band::Disconnected);
                }
            }
        }
    }

    /// Go raft's `connect(i)`: enables server `i`'s ends to and from every
    /// connected server.
    pub fn connect(&self, i: usize) {
        tracing::info!(topic = "test", "connect {}", self.name(i));
        let mut st = self.state();
        st.connected[i] = true;
        for j in 0..self.n() {
            if st.connected[j] {
                self.set(&mut st, i, j, true);
                self.set(&mut st, j, i, true);
            }
        }
        self.refresh_bands(&mut st);
    }

    /// Go raft's `disconnect(i)`: disables all of server `i`'s ends, outgoing
    /// and incoming.
    pub fn disconnect(&self, i: usize) {
        tracing::info!(topic = "test", "disconnect {}", self.name(i));
        let mut st = self.state();
        st.connected[i] = false;
        for j in 0..self.n() {
            self.set(&mut st, i, j, false);
            self.set(&mut st, j, i, false);
        }
        self.refresh_bands(&mut st);
    }

    /// Whether server `i` is connected (Go raft's `connected[i]`).
    pub fn is_connected(&self, i: usize) -> bool {
        self.state().connected[i]
    }

    /// Go's `ConnectAll()`: every server can reach every other.
    pub fn connect_all(&self) {
        let mut st = self.state();
        for i in 0..self.n() {
            st.connected[i] = true;
            for j in 0..self.n() {
                self.set(&mut st, i, j, true);
            }
        }
        self.refresh_bands(&mut st);
    }

    /// Go's `partition(p1, p2)`: servers talk only within their own group.
    /// Clients' ends are untouched.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        let mut st = self.state();
        for (group, other) in [(p1, p2), (p2, p1)] {
            for &i in group {
                st.connected[i] = true;
                for &j in other {
                    self.set(&mut st, i, j, false);
                    self.set(&mut st, j, i, false);
                }
                for &j in group {
                    self.set(&mut st, i, j, true);
                    self.set(&mut st, j, i, true);
                }
            }
        }
        self.refresh_bands(&mut st);
        tracing::info!(topic = "test", "partition {p1:?} | {p2:?}");
    }

    /// Enables or disables the link between servers `i` and `j`, both ways,
    /// leaving every other link (and who counts as connected) as it is: for
    /// topologies no partition makes, e.g. a star where the others reach
    /// each other only through one server (beyond Go; raft's classic-bug
    /// tests use it).
    pub fn link(&self, i: usize, j: usize, enabled: bool) {
        tracing::info!(
            topic = "test",
            "link {} - {} {}",
            self.name(i),
            self.name(j),
            if enabled { "up" } else { "down" }
        );
        let mut st = self.state();
        self.set(&mut st, i, j, enabled);
        self.set(&mut st, j, i, enabled);
        self.refresh_bands(&mut st);
    }

    /// Go 2015's `part(t, tag, n, p1, p2, p3)`, on the 2015 profile's paths
    /// ([`Network::partition`]): servers reach each other only inside a
    /// group; a server in no group is isolated. A server outside a majority
    /// group gets a "disconnected" band.
    pub fn part(&self, groups: &[&[usize]]) {
        let names: Vec<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|&i| self.name(i)).collect())
            .collect();
        if let Err(e) = self.net().partition(&names) {
            panic!(
                "part({groups:?}): os.Link failed: {e} (did a server quit and delete its socket?)"
            );
        }
        tracing::info!(topic = "test", "partition {groups:?}");
        let majority = self.n() / 2 + 1;
        let mut st = self.state();
        for i in 0..self.n() {
            let size = groups
                .iter()
                .find(|g| g.contains(&i))
                .map_or(1, |g| g.len());
            let cut = size < majority;
            if cut != st.parted[i] {
                if cut {
                    timeline::band_start(self.name(i), Band::Disconnected);
                } else {
                    timeline::band_end(self.name(i), Band::Disconnected);
                }
                st.parted[i] = cut;
            }
        }
    }

    /// Enables server `i`'s own ends to every server (Go's shardkv config
    /// starts servers this way; incoming ends are left as they are).
    pub fn enable_outgoing(&self, i: usize) {
        let mut st = self.state();
        for j in 0..self.n() {
            self.set(&mut st, i, j, true);
        }
        self.refresh_bands(&mut st);
    }

    /// Disables server `i`'s own ends to every server ("prevent this server
    /// from sending", Go's shardkv `ShutdownServer`).
    pub fn disable_outgoing(&self, i: usize) {
        let mut st = self.state();
        for j in 0..self.n() {
            self.set(&mut st, i, j, false);
        }
        self.refresh_bands(&mut st);
    }

    /// Go's `Leader()`: the first running server whose status says it leads.
    pub fn leader(&self) -> Option<usize> {
        self.running()
            .into_iter()
            .find(|(_, server)| L::status(server).leader)
            .map(|(i, _)| i)
    }

    /// Go's `make_partition()`: a majority `p1` of n/2+1 servers and a
    /// minority `p2` of n/2 whose last member is the current leader (server
    /// 0 when there is none).
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        let leader = self.leader().unwrap_or(0);
        let others: Vec<usize> = (0..self.n()).filter(|&i| i != leader).collect();
        let (p1, rest) = others.split_at(self.n() / 2 + 1);
        let mut p2 = rest.to_vec();
        p2.push(leader);
        (p1.to_vec(), p2)
    }

    /// Sets whether the network drops and delays messages.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.net().set_reliable(!unreliable);
    }

    /// Sets whether the network holds replies for long (Figure 8 tests).
    pub fn set_long_reordering(&self, long_reordering: bool) {
        self.net().set_long_reordering(long_reordering);
    }

    // ----- Clients ---------------------------------------------------------

    /// Go's `makeClient(to)` without the clerk: a fresh end to every server
    /// (index = server), of which those to `to` are enabled, and their names.
    pub fn make_client_ends(&self, to: &[usize]) -> (Vec<ClientEnd>, ClientEnds) {
        let ends = self.net().make_ends_to(&self.inner.names);
        let names = ClientEnds(ends.iter().map(|e| e.name().to_string()).collect());
        self.connect_client(&names, to);
        (ends, names)
    }

    /// A node `C<k>` for the next client, so logs say who did what.
    pub fn client_node(&self) -> Node {
        let k = {
            let mut st = self.state();
            st.next_client += 1;
            st.next_client - 1
        };
        Node::new(&format!("C{k}"))
    }

    /// Go's `ConnectClient(ck, to)`: enables the client's ends to `to`.
    pub fn connect_client(&self, ends: &ClientEnds, to: &[usize]) {
        for &j in to {
            self.net().enable(ends.name(j), true);
        }
    }

    /// Go's `DisconnectClient(ck, from)`: disables its ends to `from`.
    pub fn disconnect_client(&self, ends: &ClientEnds, from: &[usize]) {
        for &j in from {
            self.net().enable(ends.name(j), false);
        }
    }

    // ----- Storage -----------------------------------------------------------

    /// Every server's current Persister (of the running or last instance).
    pub fn persisters(&self) -> Vec<Persister> {
        self.state().saved.iter().flatten().cloned().collect()
    }

    /// Go's `LogSize()`: the largest persisted Raft state, in bytes.
    pub fn log_size(&self) -> usize {
        let st = self.state();
        let sizes = st.saved.iter().flatten().map(Persister::raft_state_size);
        sizes.max().unwrap_or(0)
    }

    /// Go's `SnapshotSize()`: the largest persisted snapshot, in bytes.
    pub fn snapshot_size(&self) -> usize {
        let st = self.state();
        let sizes = st.saved.iter().flatten().map(Persister::snapshot_size);
        sizes.max().unwrap_or(0)
    }

    // ----- Counters ----------------------------------------------------------

    /// RPCs handed to server `i`'s handlers (Go's `rpcCount(i)`).
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.net().count(self.name(i)) as u64
    }

    /// RPCs sent on the whole network.
    pub fn rpc_total(&self) -> u64 {
        self.net().total_count()
    }

    /// Bytes sent on the whole network.
    pub fn bytes_total(&self) -> u64 {
        self.net().total_bytes()
    }

    /// Go's `begin(description)`: prints the test's title and starts the
    /// counters that [`stats`](Self::stats) reads.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        tracing::info!(topic = "test", "begin {description}");
        let (rpcs0, bytes0) = (self.rpc_total(), self.bytes_total());
        let mut st = self.state();
        st.t0 = sim::now();
        st.rpcs0 = rpcs0;
        st.bytes0 = bytes0;
    }

    /// Go's `  ... Passed` line with the usual details: virtual seconds,
    /// servers and RPCs since [`begin`](Self::begin).
    pub fn passed(&self) {
        let stats = self.stats();
        passed(&format!(
            "{:4.1}  {} {:5}",
            stats.secs, stats.peers, stats.rpcs
        ));
    }

    /// Go's deferred `cleanup(...)` of the 2015 tests: prints the test's
    /// virtual time and [`stop`](Self::stop)s every server.
    pub fn cleanup(&self) {
        println!(
            "  ({:.1} s of virtual time)",
            sim::now().since_start().as_secs_f64()
        );
        for i in 0..self.n() {
            self.stop(i);
        }
    }

    /// Virtual time, RPCs and bytes since [`begin`](Self::begin).
    pub fn stats(&self) -> Stats {
        let (t0, rpcs0, bytes0) = {
            let st = self.state();
            (st.t0, st.rpcs0, st.bytes0)
        };
        Stats {
            secs: (sim::now() - t0).as_secs_f64(),
            peers: self.n(),
            rpcs: self.rpc_total() - rpcs0,
            bytes: self.bytes_total() - bytes0,
        }
    }

    // ----- Timeline ----------------------------------------------------------

    /// Records every running server's [`Status`] on its timeline lane
    /// (repeating a lane's current status records nothing).
    pub fn observe(&self) {
        for (i, server) in self.running() {
            let status = L::status(&server);
            timeline::state(self.name(i), &status.label, status.number);
        }
    }

    /// A task that calls [`observe`](Self::observe) every `period`, for as
    /// long as the test runs.
    pub fn spawn_observer(&self, period: Duration) -> JoinHandle<()> {
        self.spawn_watch(period, false)
    }

    /// Beyond Go: [`spawn_observer`](Self::spawn_observer) that also checks,
    /// every `period`, every running server's [`Status`] (its number a term):
    /// two servers never lead the same term (Election Safety), and a
    /// server's term never goes back, across a restart too (terms are
    /// persisted). A violation panics, failing the test.
    pub fn spawn_safety_checker(&self, period: Duration) -> JoinHandle<()> {
        self.spawn_watch(period, true)
    }

    fn spawn_watch(&self, period: Duration, check: bool) -> JoinHandle<()> {
        let cluster = self.clone();
        let mut leader_of_term: BTreeMap<u64, usize> = BTreeMap::new();
        let mut last_term = vec![0; self.n()];
        sim::spawn(async move {
            loop {
                sim::sleep(period).await;
                cluster.observe();
                if !check {
                    continue;
                }
                for (i, server) in cluster.running() {
                    let status = L::status(&server);
                    let term = status.number.unwrap_or(0);
                    // In real-time mode a dying instance may still raise its
                    // term after its Persister was copied: only the
                    // simulation checks this.
                    if term < last_term[i] && !sim::is_realtime() {
                        panic!(
                            "safety: server {i}'s term went back from {} to {term}",
                            last_term[i]
                        );
                    }
                    last_term[i] = last_term[i].max(term);
                    if status.leader {
                        let leader = *leader_of_term.entry(term).or_insert(i);
                        assert!(
                            leader == i,
                            "safety: servers {leader} and {i} are both leaders of term {term}"
                        );
                    }
                }
            }
        })
    }
}
