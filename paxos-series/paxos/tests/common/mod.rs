//! The Paxos test harness: the helpers at the top of Go's 2015
//! `paxos/test_test.go` (`ndecided`, `waitn`, `waitmajority`, `checkmax`,
//! `part`, `cleanup`) on the one cluster harness, `labtest`, over labrpc's
//! 2015 network profile.
//!
//! Peer `i` of a test tagged `tag` is the server `px-<tag>-<i>` (Go's
//! `port(tag, i)`), on its own node, with one `Paxos` service: the peer owns
//! its listener, as Go's `Make(peers, me, nil)` did, so its served calls are
//! Go's `rpcCount`. Partitions are Go's `part(p1, p2, p3)` (the network's
//! reachability relation takes the place of the hard links); deafness is
//! Go's `os.Remove` of the peer's socket. The timeline shows each peer's
//! decided instances, Min and Max, and a "disconnected" band while a peer is
//! partitioned away from a majority.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod repartition;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use labrpc::sim;
use labrpc::timeline;
use labrpc::{Network, Profile};
use labtest::run::{Setup, Teardown};
use labtest::{Cluster, Status};
use paxos::{Fate, Paxos};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How often the timeline records every peer's state.
const TIMELINE_POLL: Duration = Duration::from_millis(100);

labtest::lab!(
    /// labtest's view of a Paxos peer.
    PaxosLab, Arc<Paxos>,
    services: |px| vec![px.service()],
    status: |px| Status::new(px.describe(), None)
);

/// One test's peers. Cloning shares them.
#[derive(Clone)]
pub struct Config {
    cluster: Cluster<PaxosLab>,
}

/// Go's `port(tag, host)`.
pub fn port(tag: &str, i: usize) -> String {
    format!("px-{tag}-{i}")
}

impl Config {
    /// A test's [`Config::new`], made once its simulation runs: then
    /// `.run(test)` runs the test and Go's deferred `cleanup(pxa)`.
    pub fn setup(tag: &str, n: usize) -> Setup<impl FnOnce() -> Config + Send + 'static> {
        let tag = tag.to_string();
        Setup::new(move || Config::new(&tag, n))
    }

    /// A Go test of one part: [`setup`](Config::setup)`(tag, n)`, then Go's
    /// `Test: ...` line (`description`), `test`, Go's `Passed` line.
    pub fn test<F, Fut>(tag: &str, n: usize, description: &'static str, test: F)
    where
        F: FnOnce(Config) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Config::setup(tag, n).run(move |cfg| async move {
            cfg.begin(description);
            test(cfg.clone()).await;
            cfg.passed();
        });
    }

    /// `n` peer slots named after `tag`, none started (TestOld starts them
    /// one by one).
    pub fn slots(tag: &str, n: usize) -> Config {
        let net = Network::with_profile(Profile::Go2015);
        let names = (0..n).map(|i| port(tag, i)).collect();
        let cluster = Cluster::named(&net, names);
        cluster.spawn_observer(TIMELINE_POLL);
        Config { cluster }
    }

    /// Go's `for i := range pxa { pxa[i] = Make(pxh, i, nil) }`, every peer
    /// reaching every other.
    pub fn new(tag: &str, n: usize) -> Config {
        let cfg = Config::slots(tag, n);
        for i in 0..n {
            cfg.make(i);
        }
        cfg
    }

    /// Go's `pxa[i] = Make(pxh, i, nil)` for one peer.
    pub fn make(&self, i: usize) -> Arc<Paxos> {
        let px = self
            .cluster
            .start(i, |start| Paxos::make(start.ends, start.me));
        self.cluster.connect(i);
        px
    }

    pub fn n(&self) -> usize {
        self.cluster.n()
    }

    /// `pxa[i]`; panics if the peer was never made.
    pub fn px(&self, i: usize) -> Arc<Paxos> {
        self.cluster
            .server(i)
            .unwrap_or_else(|| panic!("peer {i} was not made"))
    }

    fn net(&self) -> &Network {
        self.cluster.net()
    }

    /// Go's `pxa[i].setunreliable(u)`.
    pub fn set_unreliable(&self, i: usize, unreliable: bool) {
        self.listener(i).set_unreliable(unreliable);
    }

    /// Every peer's `setunreliable(u)`.
    pub fn set_all_unreliable(&self, unreliable: bool) {
        for i in 0..self.n() {
            self.set_unreliable(i, unreliable);
        }
    }

    fn listener(&self, i: usize) -> labrpc::Listener {
        self.net()
            .listener(self.cluster.name(i))
            .unwrap_or_else(|| panic!("peer {i} has no listener"))
    }

    /// Go's `pxa[i].rpcCount`: calls served by peer i's listener.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.listener(i).served_count()
    }

    /// A client's end to peer i, for calls the peers themselves never make.
    pub fn client_end(&self, i: usize) -> labrpc::ClientEnd {
        self.net().end_to(self.cluster.name(i))
    }

    /// Go's `os.Remove(pxh[i])`: peer i can send but can no longer be reached.
    pub fn deafen(&self, i: usize) {
        self.net()
            .unlink(self.cluster.name(i))
            .unwrap_or_else(|e| panic!("os.Remove({}): {e}", self.cluster.name(i)));
        timeline::mark(self.cluster.name(i), "deaf");
        tracing::info!(topic = "test", "peer {i} is deaf");
    }

    /// Go's `part(t, tag, npaxos, p1, p2, p3)`: peers reach each other only
    /// inside a group; a peer in no group is isolated.
    pub fn part(&self, groups: &[&[usize]]) {
        self.cluster.part(groups);
    }

    /// Go's `part(all, {}, {})`.
    pub fn heal(&self) {
        let all: Vec<usize> = (0..self.n()).collect();
        self.part(&[&all]);
    }

    /// Go's `ndecided`: how many made peers think `seq` is decided, failing
    /// the test if two of them decided different values.
    pub fn ndecided<V>(&self, seq: i64) -> usize
    where
        V: DeserializeOwned + PartialEq + Debug,
    {
        let mut count = 0;
        let mut value: Option<V> = None;
        for (i, px) in self.cluster.running() {
            let fate = px
                .status::<V>(seq)
                .unwrap_or_else(|e| panic!("peer {i}: Status({seq}): {e}"));
            if let Fate::Decided(v1) = fate {
                if let Some(v) = &value {
                    assert!(
                        *v == v1,
                        "decided values do not match; seq={seq} i={i} v={v:?} v1={v1:?}"
                    );
                }
                count += 1;
                value = Some(v1);
            }
        }
        count
    }

    /// Go's `waitn`: up to 30 polls, sleeping 10 ms at first and doubling
    /// while under a second (at most about 30.7 s), for `wanted` peers to
    /// decide `seq`.
    pub async fn waitn<V>(&self, seq: i64, wanted: usize)
    where
        V: DeserializeOwned + PartialEq + Debug,
    {
        let mut to = Duration::from_millis(10);
        for _ in 0..30 {
            if self.ndecided::<V>(seq) >= wanted {
                break;
            }
            sim::sleep(to).await;
            if to < Duration::from_secs(1) {
                to *= 2;
            }
        }
        let nd = self.ndecided::<V>(seq);
        assert!(
            nd >= wanted,
            "too few decided; seq={seq} ndecided={nd} wanted={wanted}"
        );
    }

    /// Go's `waitmajority`.
    pub async fn waitmajority<V>(&self, seq: i64)
    where
        V: DeserializeOwned + PartialEq + Debug,
    {
        self.waitn::<V>(seq, self.n() / 2 + 1).await;
    }

    /// Go's `checkmax`: after 3 s, at most `max` peers decided `seq`.
    pub async fn checkmax<V>(&self, seq: i64, max: usize)
    where
        V: DeserializeOwned + PartialEq + Debug,
    {
        sim::sleep(Duration::from_secs(3)).await;
        let nd = self.ndecided::<V>(seq);
        assert!(
            nd <= max,
            "too many decided; seq={seq} ndecided={nd} max={max}"
        );
    }

    /// `pxa[i].Start(seq, v)`.
    pub fn start<V: Serialize + ?Sized>(&self, i: usize, seq: i64, v: &V) {
        self.px(i).start(seq, v);
    }

    /// `pxa[i].Start(seq, v)` for each `(i, seq, v)`, in order.
    pub fn start_each<V: Serialize>(&self, starts: &[(usize, i64, V)]) {
        for (i, seq, v) in starts {
            self.start(*i, *seq, v);
        }
    }

    /// `pxa[i].Start(seq, v)`, then Go's `waitn(t, pxa, seq, npaxos)`: every
    /// peer decides the instance.
    pub async fn agree(&self, i: usize, seq: i64, v: &str) {
        self.start(i, seq, v);
        self.waitn::<String>(seq, self.n()).await;
    }

    /// Go's `fmt.Printf("Test: ... ...\n")`.
    pub fn begin(&self, description: &str) {
        self.cluster.begin(description);
    }

    /// Go's `fmt.Printf("  ... Passed\n")`, with what the part took: virtual
    /// seconds, peers and RPCs since [`begin`](Config::begin).
    pub fn passed(&self) {
        self.cluster.passed();
    }

    /// Go's deferred `cleanup(pxa)`: kills every peer.
    pub fn cleanup(&self) {
        self.cluster.cleanup();
    }
}

impl Teardown for Config {
    /// Go's deferred `cleanup(pxa)`.
    fn teardown(&self) {
        self.cleanup();
    }
}
