//! The shardctrler test harness: a port of Go's `shardctrler/config.go` on
//! the shared [`labtest`] cluster.
//!
//! `n` controller replicas run in a [`labtest::Cluster`] (servers `S<i>`, each
//! on its own node, hosting the `ShardCtrler` and `Raft` services), reached
//! through `Deref` for connect, partition, shutdown (Go's crash model) and
//! the timeline of each replica's role and term. Clerks get fresh ends to
//! every server.

#![allow(dead_code)] // not every test uses every part of the harness

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use labrpc::{Network, Service};
use labtest::{Cluster, Lab, Status};
use shardctrler::{Clerk, Config, Gid, N_SHARDS, ShardCtrler};

/// Controller replicas as the cluster harness sees them.
pub struct CtrlerLab;

impl Lab for CtrlerLab {
    type Server = Arc<ShardCtrler>;
    fn kill(ctrler: &Arc<ShardCtrler>) {
        ctrler.kill();
    }
    fn services(ctrler: &Arc<ShardCtrler>) -> Vec<Service> {
        ctrler.services()
    }
    fn status(ctrler: &Arc<ShardCtrler>) -> Status {
        let (term, is_leader) = ctrler.raft().get_state();
        Status::raft(term, is_leader)
    }
}

/// A test's controller cluster. Cloning shares it.
#[derive(Clone)]
pub struct Ctrlers(Cluster<CtrlerLab>);

impl Deref for Ctrlers {
    type Target = Cluster<CtrlerLab>;
    fn deref(&self) -> &Cluster<CtrlerLab> {
        &self.0
    }
}

/// Go's `make_config(t, n, unreliable)`: starts and connects `n` replicas.
pub fn make_config(n: usize, unreliable: bool) -> Ctrlers {
    let cfg = Ctrlers(Cluster::new(&Network::new(), n));
    for i in 0..n {
        cfg.start_server(i);
    }
    cfg.connect_all();
    cfg.set_unreliable(unreliable);
    cfg.spawn_observer(Duration::from_millis(10));
    cfg
}

impl Ctrlers {
    /// Go's `makeClient(to)`: a clerk with fresh ends to every server, only
    /// those to the servers in `to` enabled.
    pub fn make_client(&self, to: &[usize]) -> Clerk {
        Clerk::new(self.make_client_ends(to).0)
    }

    /// Go's `ShutdownServer`: isolates server `i` and crashes it.
    pub fn shutdown_server(&self, i: usize) {
        self.shutdown(i);
    }

    /// Go's `StartServer`: (re)start server `i` from its saved state, with
    /// fresh end names. Call `shutdown_server` first when restarting.
    pub fn start_server(&self, i: usize) {
        self.start(i, |s| ShardCtrler::start(s.ends, i, s.persister));
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
