//! The shardmaster test harness: the helpers of Go's 2015
//! `shardmaster/test_test.go` (`port`, `cleanup`, `check`) on the one
//! cluster harness, `labtest`, over labrpc's 2015 network profile.
//!
//! Server `i` of a test tagged `tag` is `sm-<tag>-<i>` (Go's `port(tag,
//! i)`) on its own node, with the `ShardMaster` and `Paxos` services behind
//! one listener. Clerks run on client nodes of their own. Go's socket tricks
//! are the profile's path operations: TestUnreliable's `os.Remove` of server
//! 0's socket is [`Masters::deafen`], TestFreshQuery's `os.Rename` is
//! [`Masters::rename`]. The timeline draws each server's newest
//! configuration number on its lane, and a "deaf" mark.

#![allow(dead_code)] // not every test uses every part of the harness

// Go's StartServer loop, written once with kvpaxos's harness.
#[path = "../../../kvpaxos/tests/common/servers.rs"]
mod servers;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::timeline;
use labrpc::{ClientEnd, Network, Profile, Service};
use labtest::run::{Setup, Teardown};
use labtest::{Cluster, Lab, Status};
use shardmaster::{Clerk, Config, Gid, ShardMaster};

use servers::start_servers;
use shardconfig::check::check_groups;

/// How often the timeline records every server's state.
const TIMELINE_POLL: Duration = Duration::from_millis(100);

/// labtest's view of a shard master server.
pub struct SmLab;

impl Lab for SmLab {
    type Server = Arc<ShardMaster>;

    fn kill(sm: &Arc<ShardMaster>) {
        sm.kill();
    }

    fn services(sm: &Arc<ShardMaster>) -> Vec<Service> {
        sm.services()
    }

    fn status(sm: &Arc<ShardMaster>) -> Status {
        Status::new(sm.describe(), Some(sm.latest_num()))
    }
}

/// Go's `port(tag, host)`.
pub fn port(tag: &str, i: usize) -> String {
    format!("sm-{tag}-{i}")
}

/// One test's servers (Go's `sma`; their names are Go's `kvh`), reached
/// through `Deref` for `begin`, `passed`, `cleanup` and the rest of the
/// cluster harness. Cloning shares them.
#[derive(Clone)]
pub struct Masters(Cluster<SmLab>);

impl Deref for Masters {
    type Target = Cluster<SmLab>;
    fn deref(&self) -> &Cluster<SmLab> {
        &self.0
    }
}

impl Masters {
    /// A test's [`Masters::new`], made once its simulation runs: then
    /// `.run(test)` runs the test and Go's deferred `cleanup(sma)`.
    pub fn setup(tag: &str, n: usize) -> Setup<impl FnOnce() -> Masters + Send + 'static> {
        let tag = tag.to_string();
        Setup::new(move || Masters::new(&tag, n))
    }

    /// Go's `StartServer(kvh, i)` for each of `n` servers, all reaching
    /// each other.
    pub fn new(tag: &str, n: usize) -> Masters {
        let net = Network::with_profile(Profile::Go2015);
        let names = (0..n).map(|i| port(tag, i)).collect();
        let cluster: Cluster<SmLab> =
            start_servers(&net, names, TIMELINE_POLL, ShardMaster::start_server);
        Masters(cluster)
    }

    /// Go's `sma[i]`.
    pub fn sm(&self, i: usize) -> Arc<ShardMaster> {
        self.server(i)
            .unwrap_or_else(|| panic!("server {i} is not running"))
    }

    /// Go's `MakeClerk(paths)`, on a client node of its own.
    pub fn clerk_of(&self, paths: &[&str]) -> Client {
        let ends: Vec<ClientEnd> = paths.iter().map(|p| self.net().end_to(p)).collect();
        let node = self.client_node();
        let clerk = node.enter(|| Clerk::new(ends));
        Client { clerk, node }
    }

    /// Go's `MakeClerk([kvh[i] for i in servers])`, in that order.
    pub fn clerk(&self, servers: &[usize]) -> Client {
        let paths: Vec<&str> = servers.iter().map(|&i| self.name(i)).collect();
        self.clerk_of(&paths)
    }

    /// Go's `os.Remove(kvh[i])`: server `i` can still send but can no
    /// longer be reached. Removing a path that is gone already does nothing,
    /// as Go's ignored error.
    pub fn deafen(&self, i: usize) {
        if self.net().unlink(self.name(i)).is_ok() {
            timeline::mark(self.name(i), "deaf");
            tracing::info!(topic = "test", "server {i} is deaf");
        }
    }

    /// Go's `os.Rename(kvh[i], kvh[i] + rand)`: server `i` can no longer be
    /// reached through its own path (its peers use it), only through the
    /// new one, which this returns.
    pub fn rename(&self, i: usize) -> String {
        let new = format!("{}{}", self.name(i), sim::random_u64() >> 1);
        if let Err(e) = self.net().rename(self.name(i), &new) {
            panic!("os.Rename() failed: {e}");
        }
        timeline::mark(self.name(i), "renamed");
        tracing::info!(topic = "test", "server {i} renamed to {new}");
        new
    }
}

impl Teardown for Masters {
    /// Go's deferred `cleanup(sma)`.
    fn teardown(&self) {
        self.cleanup();
    }
}

/// A clerk made by the harness, with the node its tasks run on.
pub struct Client {
    pub clerk: Clerk,
    node: Node,
}

impl Client {
    /// The node to run this client's task on (for readable logs).
    pub fn node(&self) -> Node {
        self.node.clone()
    }

    pub async fn query(&mut self, num: i64) -> Config {
        self.clerk.query(num).await
    }

    pub async fn join(&mut self, gid: Gid, servers: &[&str]) {
        let servers = servers.iter().map(|s| s.to_string()).collect();
        let joined = self.clerk.join(gid, servers).await;
        joined.unwrap_or_else(|e| panic!("Join({gid}): {e}"));
    }

    pub async fn leave(&mut self, gid: Gid) {
        self.clerk.leave(gid).await;
    }

    pub async fn move_shard(&mut self, shard: usize, gid: Gid) {
        let moved = self.clerk.move_shard(shard, gid).await;
        moved.unwrap_or_else(|e| panic!("Move({shard}, {gid}): {e}"));
    }
}

/// The clerk as the tests' shared scenarios use it (TestBasic's Move part,
/// the same in both series: [`shardconfig::check::check_moves`]).
impl shardconfig::check::Admin for Client {
    async fn query(&mut self, num: i64) -> Config {
        Client::query(self, num).await
    }

    async fn move_shard(&mut self, shard: usize, gid: Gid) {
        Client::move_shard(self, shard, gid).await;
    }
}

/// Go's `check(t, groups, ck)`: Query(-1) has exactly `groups`, every shard
/// on one of them, and the shards spread evenly.
pub async fn check(groups: &[Gid], ck: &mut Client) {
    check_groups(&ck.query(-1).await, groups);
}
