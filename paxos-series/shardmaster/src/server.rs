//! The shard master server (Go's server.go): agrees on every request in a
//! Paxos instance, applies the decided instances in order, and answers.
//!
// BEGIN SOLUTION
//! The Paxos log (one request at a time, holes filled with no-ops, `done`
//! after applying) is kvpaxos's [`PaxosLog`]; this file is the state machine
//! on it: the list of configurations, where Join, Leave and Move each append
//! the configuration that `shardconfig` computes from the latest one, so
//! every replica computes the very same list.
//!
//! Query(-1), or a number not reached yet, goes through the log like a
//! change, so it reflects every change completed before it was sent, even
//! on a server the others can no longer reach (TestFreshQuery). A query for
//! a configuration this replica already has is answered from its own list:
//! a configuration never changes once it exists, so every replica gives the
//! same answer.
//!
//! Each operation carries a random id drawn by the server that proposes it,
//! so two clerks' identical requests are two operations: a server knows its
//! operation was decided only by finding that very value in an instance.
// END SOLUTION

use std::sync::Arc;

use labrpc::{ClientEnd, Service};
use paxos::Paxos;
use serde::{Deserialize, Serialize};
use shardconfig::Config;

use crate::common::{
    JoinArgs, JoinReply, LeaveArgs, LeaveReply, MoveArgs, MoveReply, QueryArgs, QueryReply, SERVICE,
};
// BEGIN SOLUTION
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use kvpaxos::PaxosLog;
use shardconfig::NO_GROUP;

use crate::common::{RequestError, SmStatus};
// END SOLUTION

/// The value agreed on in each Paxos instance (Go's `Op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    // BEGIN SOLUTION
    // Each request as the clerk sent it, with the random id its proposer drew.
    Join(JoinArgs, u64),
    Leave(LeaveArgs, u64),
    Move(MoveArgs, u64),
    Query(QueryArgs, u64),
    /// Fills a hole: decided so that a server can move past an instance.
    Noop,
    // END SOLUTION
}

/// One shard master server. Share it as `Arc<ShardMaster>`.
pub struct ShardMaster {
    /// The server's Paxos peer; its `kill` is the server's.
    px: Arc<Paxos>,
    // BEGIN SOLUTION
    log: PaxosLog<Op>,
    /// Every configuration so far, `configs[i].num == i`. A std mutex: held
    /// only for short synchronous reads and updates, never across an
    /// `.await`.
    configs: Mutex<Vec<Config>>,
    // END SOLUTION
}

// BEGIN SOLUTION
/// Locks a mutex, ignoring poisoning: a panic in any task already fails the
/// test with its seed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Configuration `num` of `configs`, if it exists.
fn find(configs: &[Config], num: i64) -> Option<&Config> {
    usize::try_from(num).ok().and_then(|n| configs.get(n))
}
// END SOLUTION

impl ShardMaster {
    /// Go's `StartServer(servers, me)`: server `me`, whose Paxos peer talks
    /// to the others through `servers` (index = server). Call it on the
    /// server's node, then add [`services`](ShardMaster::services) to its
    /// labrpc server. Configuration 0 has no groups and every shard on GID 0.
    pub fn start_server(servers: Vec<ClientEnd>, me: usize) -> Arc<ShardMaster> {
        let px = Paxos::make(servers, me);
        Arc::new(ShardMaster {
            // BEGIN SOLUTION
            log: PaxosLog::new(px.clone(), "SM", "sm", Op::Noop),
            configs: Mutex::new(vec![Config::default()]),
            // END SOLUTION
            px,
        })
    }

    /// The `ShardMaster` service (Join, Leave, Move, Query) and the Paxos
    /// peer's, both reached through this server's one listener.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        let sm = Service::new(SERVICE)
            .handle("Join", self, Self::join)
            .handle("Leave", self, Self::leave)
            .handle("Move", self, Self::move_shard)
            .handle("Query", self, Self::query);
        vec![sm, self.px.service()]
    }

    pub fn me(&self) -> usize {
        self.px.me()
    }

    /// The server's Paxos peer (Go's `sm.px`: TestBasic reads its Min).
    pub fn paxos(&self) -> &Arc<Paxos> {
        &self.px
    }

    /// The node the server runs on (its Paxos peer's).
    pub fn node(&self) -> &labrpc::sim::Node {
        self.px.node()
    }

    /// Go's `Kill()`: stops the server with its Paxos peer (whose flag is
    /// the server's). Closing its listener is the harness's business;
    /// requests already accepted end with
    /// [`SmStatus::ErrKilled`](crate::SmStatus::ErrKilled).
    pub fn kill(&self) {
        self.px.kill();
    }

    /// Go's `isdead()`.
    pub fn is_dead(&self) -> bool {
        self.px.is_dead()
    }

    /// The number of the newest configuration this server has applied
    /// (the timeline draws it on the server's lane).
    pub fn latest_num(&self) -> u64 {
        // BEGIN SOLUTION
        lock(&self.configs).last().map_or(0, |c| c.num)
        // HANDOUT
        // todo!("P4A: ShardMaster::latest_num")
        // END SOLUTION
    }

    /// What the timeline shows on the server's lane.
    pub fn describe(&self) -> String {
        // BEGIN SOLUTION
        let configs = lock(&self.configs);
        let latest = configs.last().expect("configuration 0 always exists");
        format!(
            "config {} ({} groups, applied {}, min {})",
            latest.num,
            latest.groups.len(),
            self.log.next(),
            self.px.min()
        )
        // HANDOUT
        // format!("min {}, max {}", self.px.min(), self.px.max())
        // END SOLUTION
    }

    /// The `ShardMaster.Join` handler.
    async fn join(self: Arc<Self>, args: JoinArgs) -> JoinReply {
        // BEGIN SOLUTION
        JoinReply {
            status: self.change(args.validate(), |id| Op::Join(args, id)).await,
        }
        // HANDOUT
        // let _ = args;
        // todo!("P4A: the Join handler")
        // END SOLUTION
    }

    /// The `ShardMaster.Leave` handler.
    async fn leave(self: Arc<Self>, args: LeaveArgs) -> LeaveReply {
        // BEGIN SOLUTION
        LeaveReply {
            status: self.change(Ok(()), |id| Op::Leave(args, id)).await,
        }
        // HANDOUT
        // let _ = args;
        // todo!("P4A: the Leave handler")
        // END SOLUTION
    }

    /// The `ShardMaster.Move` handler.
    async fn move_shard(self: Arc<Self>, args: MoveArgs) -> MoveReply {
        // BEGIN SOLUTION
        MoveReply {
            status: self.change(args.validate(), |id| Op::Move(args, id)).await,
        }
        // HANDOUT
        // let _ = args;
        // todo!("P4A: the Move handler")
        // END SOLUTION
    }

    /// The `ShardMaster.Query` handler.
    async fn query(self: Arc<Self>, args: QueryArgs) -> QueryReply {
        // BEGIN SOLUTION
        if let Some(config) = find(&lock(&self.configs), args.num) {
            return QueryReply {
                status: SmStatus::Ok,
                config: config.clone(),
            };
        }
        match self
            .execute(Op::Query(args, labrpc::sim::random_u64()))
            .await
        {
            Some(Some(config)) => QueryReply {
                status: SmStatus::Ok,
                config,
            },
            // A Query's instance always yields a configuration.
            Some(None) | None => QueryReply {
                status: SmStatus::ErrKilled,
                config: Config::default(),
            },
        }
        // HANDOUT
        // let _ = args;
        // todo!("P4A: the Query handler")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// A Join's, Leave's or Move's reply status: the request's own error if
    /// it is invalid (nothing is proposed), else agrees on the op `make(id)`,
    /// for a fresh random id, and applies it.
    async fn change(
        &self,
        valid: Result<(), RequestError>,
        make: impl FnOnce(u64) -> Op,
    ) -> SmStatus {
        if let Err(error) = valid {
            return SmStatus::ErrInvalid(error);
        }
        match self.execute(make(labrpc::sim::random_u64())).await {
            Some(_) => SmStatus::Ok,
            None => SmStatus::ErrKilled,
        }
    }

    /// Agrees on `op` in some instance and applies the log up to it. None
    /// if the server was killed first, else what the op read (a Query's
    /// configuration).
    async fn execute(&self, op: Op) -> Option<Option<Config>> {
        self.log
            .execute(op.clone(), || None, |op| self.apply(op))
            .await
    }

    /// Applies `op`, the next decided instance.
    fn apply(&self, op: &Op) -> Option<Config> {
        let mut configs = lock(&self.configs);
        let latest = configs.last().expect("configuration 0 always exists");
        let next = match op {
            Op::Query(QueryArgs { num }, _) => {
                return Some(find(&configs, *num).unwrap_or(latest).clone());
            }
            Op::Noop => return None,
            // Never proposed (every server checks first), so never decided;
            // but a bad value in the log must not crash a replica.
            Op::Join(JoinArgs { gid, .. }, _) | Op::Move(MoveArgs { gid, .. }, _)
                if *gid == NO_GROUP =>
            {
                tracing::error!(topic = "sm", "SM{}: {op:?} decided; skipped", self.me());
                return None;
            }
            Op::Join(JoinArgs { gid, servers }, _) => {
                latest.join(&BTreeMap::from([(*gid, servers.clone())]))
            }
            Op::Leave(LeaveArgs { gid }, _) => latest.leave(&[*gid]),
            Op::Move(MoveArgs { shard, gid }, _) => latest.move_shard(*shard, *gid),
        };
        tracing::debug!(
            topic = "sm",
            "SM{} config {}: {:?} groups {:?}",
            self.me(),
            next.num,
            next.shards,
            next.groups.keys().collect::<Vec<_>>()
        );
        debug_assert_eq!(next.num as usize, configs.len());
        configs.push(next);
        None
    }
    // END SOLUTION
}
