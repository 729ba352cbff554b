//! The shardctrler test harness: a port of Go's `shardctrler/config.go` on
//! the shared [`labtest`] cluster.
//!
//! `n` controller replicas run in a [`labtest::Cluster`] (servers `S<i>`, each
//! on its own node, hosting the `ShardCtrler` and `Raft` services), which
//! does connect, partition, shutdown (Go's crash model) and the timeline of
//! each replica's role and term; [`Ctrlers`] adds the controller's own calls.
//! Clerks get fresh ends to every server.

#![allow(dead_code)] // not every test uses every part of the harness

use std::sync::Arc;
use std::time::Duration;

use labrpc::Network;
use labtest::Cluster;
use shardctrler::{Clerk, ShardCtrler};

labtest::raft_service_lab!(
    /// Controller replicas as the cluster harness sees them.
    CtrlerLab, Arc<ShardCtrler>
);

/// Go's `make_config(t, n, unreliable)`: starts and connects `n` replicas.
pub fn make_config(n: usize, unreliable: bool) -> Cluster<CtrlerLab> {
    let cfg = Cluster::new(&Network::new(), n);
    for i in 0..n {
        cfg.start_server(i);
    }
    cfg.connect_all();
    cfg.set_unreliable(unreliable);
    cfg.spawn_observer(Duration::from_millis(10));
    cfg
}

/// Go's `config.go` calls that are particular to the controller, on the
/// test's cluster of controller replicas.
pub trait Ctrlers {
    /// Go's `makeClient(to)`: a clerk with fresh ends to every server, only
    /// those to the servers in `to` enabled.
    fn make_client(&self, to: &[usize]) -> Clerk;
    /// Go's `ShutdownServer`: isolates server `i` and crashes it.
    fn shutdown_server(&self, i: usize);
    /// Go's `StartServer`: (re)start server `i` from its saved state, with
    /// fresh end names. Call `shutdown_server` first when restarting.
    fn start_server(&self, i: usize);
}

impl Ctrlers for Cluster<CtrlerLab> {
    fn make_client(&self, to: &[usize]) -> Clerk {
        Clerk::new(self.make_client_ends(to).0)
    }

    fn shutdown_server(&self, i: usize) {
        self.shutdown(i);
    }

    fn start_server(&self, i: usize) {
        self.start(i, |s| ShardCtrler::start(s.ends, i, s.persister));
    }
}
