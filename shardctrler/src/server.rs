//! The controller's server: the list of configurations as a
//! [`StateMachine`], replicated by the generic [`Rsm`] of the `rsm` crate.
//!
// BEGIN SOLUTION
//! Join, Leave and Move go through the Raft log with at-most-once semantics
//! ([`Rsm::submit_once`]), and each appends one configuration computed by the
//! deterministic rebalance in [`crate::config`], so every replica computes the
//! very same configurations.
//!
//! Query(-1), or a number not reached yet, also goes through the log, so it
//! reflects every Join, Leave and Move that completed before it was sent. A
//! query for a configuration this replica already has is answered at once from
//! its own state, by any replica, leader or not: a configuration never changes
//! once it exists, so the answer is the same everywhere. This keeps the replica
//! groups' polling (which mostly asks "is there a configuration after mine?")
//! cheap.
// END SOLUTION

use std::collections::BTreeMap;
use std::sync::Arc;

use labrpc::{ClientEnd, Persister, Service};
use rsm::{ClientTag, Rsm, StateMachine};
use serde::{Deserialize, Serialize};

use crate::common::{JoinArgs, LeaveArgs, MoveArgs, QueryArgs, QueryReply, Reply, SERVICE};
use crate::config::{Config, Gid};

// BEGIN SOLUTION
/// One operation in the controller's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlOp {
    Join(BTreeMap<Gid, Vec<String>>),
    Leave(Vec<Gid>),
    Move { shard: usize, gid: Gid },
    Query(i64),
}

/// What an applied operation returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtrlOutput {
    Done,
    Config(Config),
}

/// The replicated state: every configuration so far, `configs[i].num == i`.
/// Its snapshot is the whole list (rsm's serde [`Snapshot`](rsm::Snapshot)).
#[derive(Serialize, Deserialize)]
pub struct Configs {
    configs: Vec<Config>,
}

impl Default for Configs {
    /// Configuration 0: no groups, every shard on GID 0.
    fn default() -> Configs {
        Configs {
            configs: vec![Config::default()],
        }
    }
}

impl Configs {
    pub fn latest(&self) -> &Config {
        self.configs.last().expect("configuration 0 always exists")
    }

    /// Configuration `num`, or the latest if `num` is negative or not reached yet.
    pub fn query(&self, num: i64) -> &Config {
        usize::try_from(num)
            .ok()
            .and_then(|n| self.configs.get(n))
            .unwrap_or_else(|| self.latest())
    }

    /// Configuration `num` if this replica has it.
    pub fn get(&self, num: i64) -> Option<&Config> {
        usize::try_from(num).ok().and_then(|n| self.configs.get(n))
    }
}

impl StateMachine for Configs {
    type Command = CtrlOp;
    type Output = CtrlOutput;

    fn apply(&mut self, op: CtrlOp) -> CtrlOutput {
        let next = match op {
            CtrlOp::Query(num) => return CtrlOutput::Config(self.query(num).clone()),
            CtrlOp::Join(groups) => self.latest().join(&groups),
            CtrlOp::Leave(gids) => self.latest().leave(&gids),
            CtrlOp::Move { shard, gid } => self.latest().move_shard(shard, gid),
        };
        debug_assert_eq!(next.num as usize, self.configs.len());
        tracing::debug!(topic = "ctrl", num = next.num, shards = ?next.shards, "new configuration");
        self.configs.push(next);
        CtrlOutput::Done
    }
}
// END SOLUTION

/// One controller replica.
pub struct ShardCtrler {
    // BEGIN SOLUTION
    rsm: Arc<Rsm<Configs>>,
    // HANDOUT
    // // 4A: your replica's state
    // END SOLUTION
}

impl ShardCtrler {
    /// Starts a replica on the current node (Go's `StartServer`). The
    /// controller never snapshots (Go passes no `maxraftstate`).
    pub fn start(servers: Vec<ClientEnd>, me: usize, persister: Persister) -> Arc<ShardCtrler> {
        // BEGIN SOLUTION
        let rsm = Rsm::start(servers, me, persister, None, Configs::default());
        Arc::new(ShardCtrler { rsm })
        // HANDOUT
        // todo!("4A: ShardCtrler::start")
        // END SOLUTION
    }

    /// The `ShardCtrler` service and the Raft service this replica answers.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        // BEGIN SOLUTION
        let ctrler = Service::new(SERVICE)
            .handle("Join", self, Self::join)
            .handle("Leave", self, Self::leave)
            .handle("Move", self, Self::move_shard)
            .handle("Query", self, Self::query);
        vec![ctrler, self.rsm.raft_service()]
        // HANDOUT
        // todo!("4A: ShardCtrler::services, the ShardCtrler service and the Raft service")
        // END SOLUTION
    }

    pub async fn join(self: Arc<Self>, args: JoinArgs) -> Reply {
        // BEGIN SOLUTION
        self.change(args.tag, CtrlOp::Join(args.servers)).await
        // HANDOUT
        // todo!("4A: ShardCtrler::join")
        // END SOLUTION
    }

    pub async fn leave(self: Arc<Self>, args: LeaveArgs) -> Reply {
        // BEGIN SOLUTION
        self.change(args.tag, CtrlOp::Leave(args.gids)).await
        // HANDOUT
        // todo!("4A: ShardCtrler::leave")
        // END SOLUTION
    }

    pub async fn move_shard(self: Arc<Self>, args: MoveArgs) -> Reply {
        // BEGIN SOLUTION
        let op = CtrlOp::Move {
            shard: args.shard,
            gid: args.gid,
        };
        self.change(args.tag, op).await
        // HANDOUT
        // todo!("4A: ShardCtrler::move_shard")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    async fn change(&self, tag: ClientTag, op: CtrlOp) -> Reply {
        let wrong_leader = self.rsm.submit_once(tag, op).await.is_err();
        Reply { wrong_leader }
    }
    // END SOLUTION

    pub async fn query(self: Arc<Self>, args: QueryArgs) -> QueryReply {
        // BEGIN SOLUTION
        if let Some(config) = self.rsm.with_state(|s| s.get(args.num).cloned()) {
            return QueryReply {
                wrong_leader: false,
                config,
            };
        }
        match self
            .rsm
            .submit_once(args.tag, CtrlOp::Query(args.num))
            .await
        {
            Ok(CtrlOutput::Config(config)) => QueryReply {
                wrong_leader: false,
                config,
            },
            Ok(CtrlOutput::Done) | Err(_) => QueryReply {
                wrong_leader: true,
                config: Config::default(),
            },
        }
        // HANDOUT
        // todo!("4A: ShardCtrler::query")
        // END SOLUTION
    }

    /// The replica's Raft peer (the tests ask it who leads).
    pub fn raft(&self) -> &raft::Raft {
        // BEGIN SOLUTION
        self.rsm.raft()
        // HANDOUT
        // todo!("4A: ShardCtrler::raft")
        // END SOLUTION
    }

    /// The replica's newest configuration (for tests and debugging).
    pub fn latest(&self) -> Config {
        // BEGIN SOLUTION
        self.rsm.with_state(|s| s.latest().clone())
        // HANDOUT
        // todo!("4A: ShardCtrler::latest")
        // END SOLUTION
    }

    /// Stops the replica (Go's `Kill`); the harness also kills its node.
    pub fn kill(&self) {
        // BEGIN SOLUTION
        self.rsm.kill();
        // HANDOUT
        // todo!("4A: ShardCtrler::kill")
        // END SOLUTION
    }
}
