//! The controller's Clerk, as Go's: each request tries every server in turn
//! until one that is the leader answers, and sleeps 100 ms after every round
//! that failed (which, in virtual time, also keeps a round of instant "wrong
//! leader" replies from spinning without letting time pass).

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::{ClientEnd, sim};
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
    client_id: u64,
    seq: u64,
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
            client_id: sim::random_u64() >> 2,
            seq: 0,
        }
        // HANDOUT
        // todo!("4A: Clerk::new")
        // END SOLUTION
    }

    /// This clerk's random id (requests carry it for duplicate detection).
    pub fn client_id(&self) -> u64 {
        // BEGIN SOLUTION
        self.client_id
        // HANDOUT
        // todo!("4A: Clerk::client_id")
        // END SOLUTION
    }

    /// Configuration `num`, or the latest if `num` is -1 or not reached yet.
    pub async fn query(&mut self, num: i64) -> Config {
        // BEGIN SOLUTION
        self.seq += 1;
        let args = QueryArgs {
            num,
            client_id: self.client_id,
            seq: self.seq,
        };
        let reply: QueryReply = self.call("Query", &args).await;
        reply.config
        // HANDOUT
        // todo!("4A: Clerk::query")
        // END SOLUTION
    }

    /// Adds groups (gid -> server names) and rebalances.
    pub async fn join(&mut self, servers: BTreeMap<Gid, Vec<String>>) {
        // BEGIN SOLUTION
        self.seq += 1;
        let args = JoinArgs {
            servers,
            client_id: self.client_id,
            seq: self.seq,
        };
        let _: Reply = self.call("Join", &args).await;
        // HANDOUT
        // todo!("4A: Clerk::join")
        // END SOLUTION
    }

    /// Removes groups and rebalances.
    pub async fn leave(&mut self, gids: Vec<Gid>) {
        // BEGIN SOLUTION
        self.seq += 1;
        let args = LeaveArgs {
            gids,
            client_id: self.client_id,
            seq: self.seq,
        };
        let _: Reply = self.call("Leave", &args).await;
        // HANDOUT
        // todo!("4A: Clerk::leave")
        // END SOLUTION
    }

    /// Assigns `shard` to `gid`.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) {
        // BEGIN SOLUTION
        self.seq += 1;
        let args = MoveArgs {
            shard,
            gid,
            client_id: self.client_id,
            seq: self.seq,
        };
        let _: Reply = self.call("Move", &args).await;
        // HANDOUT
        // todo!("4A: Clerk::move_shard")
        // END SOLUTION
    }

    // BEGIN SOLUTION
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
