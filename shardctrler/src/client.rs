//! The controller's Clerk, as Go's: each request tries every server in turn
//! until one that is the leader answers, and sleeps 100 ms after every round
//! that failed (which, in virtual time, also keeps a round of instant "wrong
//! leader" replies from spinning without letting time pass).

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::{ClientEnd, sim};
// BEGIN SOLUTION
use rsm::ClientTag;
// END SOLUTION
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::{JoinArgs, LeaveArgs, MoveArgs, QueryArgs, QueryReply, Reply, SERVICE};
use crate::config::{Config, Gid};

// BEGIN SOLUTION
/// Pause between two rounds over every server.
const ROUND_PAUSE: Duration = Duration::from_millis(100);
// END SOLUTION

/// A client of the controller. One request at a time (methods take `&mut self`).
pub struct Clerk {
    // BEGIN SOLUTION
    servers: Vec<ClientEnd>,
    /// This clerk's id and the number of its last request.
    last: ClientTag,
    // HANDOUT
    // // 4A: your clerk's state
    // END SOLUTION
}

// BEGIN SOLUTION
/// A reply that can say "not the leader".
trait LeaderReply {
    fn wrong_leader(&self) -> bool;
}

impl LeaderReply for Reply {
    fn wrong_leader(&self) -> bool {
        self.wrong_leader
    }
}

impl LeaderReply for QueryReply {
    fn wrong_leader(&self) -> bool {
        self.wrong_leader
    }
}
// END SOLUTION

impl Clerk {
    /// Go's `MakeClerk`.
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        // BEGIN SOLUTION
        assert!(!servers.is_empty(), "a clerk needs at least one server");
        Clerk {
            servers,
            last: ClientTag {
                client_id: sim::random_u64() >> 2,
                seq: 0,
            },
        }
        // HANDOUT
        // todo!("4A: Clerk::new")
        // END SOLUTION
    }

    /// This clerk's random id (requests carry it for duplicate detection).
    pub fn client_id(&self) -> u64 {
        // BEGIN SOLUTION
        self.last.client_id
        // HANDOUT
        // todo!("4A: Clerk::client_id")
        // END SOLUTION
    }

    /// Configuration `num`, or the latest if `num` is -1 or not reached yet.
    pub async fn query(&mut self, num: i64) -> Config {
        // BEGIN SOLUTION
        let tag = self.next_tag();
        let reply: QueryReply = self.call("Query", &QueryArgs { num, tag }).await;
        reply.config
        // HANDOUT
        // todo!("4A: Clerk::query")
        // END SOLUTION
    }

    /// Adds groups (gid -> server names) and rebalances.
    pub async fn join(&mut self, servers: BTreeMap<Gid, Vec<String>>) {
        // BEGIN SOLUTION
        let tag = self.next_tag();
        let _: Reply = self.call("Join", &JoinArgs { servers, tag }).await;
        // HANDOUT
        // todo!("4A: Clerk::join")
        // END SOLUTION
    }

    /// Removes groups and rebalances.
    pub async fn leave(&mut self, gids: Vec<Gid>) {
        // BEGIN SOLUTION
        let tag = self.next_tag();
        let _: Reply = self.call("Leave", &LeaveArgs { gids, tag }).await;
        // HANDOUT
        // todo!("4A: Clerk::leave")
        // END SOLUTION
    }

    /// Assigns `shard` to `gid`.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) {
        // BEGIN SOLUTION
        let tag = self.next_tag();
        let _: Reply = self.call("Move", &MoveArgs { shard, gid, tag }).await;
        // HANDOUT
        // todo!("4A: Clerk::move_shard")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Numbers this clerk's next request.
    fn next_tag(&mut self) -> ClientTag {
        self.last.seq += 1;
        self.last
    }

    async fn call<A, R>(&self, method: &str, args: &A) -> R
    where
        A: Serialize,
        R: DeserializeOwned + LeaderReply + Send + 'static,
    {
        let method = format!("{SERVICE}.{method}");
        let led = |reply: &R| !reply.wrong_leader();
        labrpc::call_until(&self.servers, &method, args, ROUND_PAUSE, led).await
    }
    // END SOLUTION
}

/// The clerk as the tests' shared scenarios use it (TestBasic's Move part,
/// the same in both series: [`crate::config::check::check_moves`]).
impl crate::config::check::Admin for Clerk {
    async fn query(&mut self, num: i64) -> Config {
        Clerk::query(self, num).await
    }

    async fn move_shard(&mut self, shard: usize, gid: Gid) {
        Clerk::move_shard(self, shard, gid).await;
    }
}
