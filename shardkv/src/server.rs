// BEGIN SOLUTION
//! A shardkv replica: the RPC handlers, and the leader's background work.
//!
//! Shard data moves by **pull**: the group that gains a shard asks the
//! previous owner for it. Pulling puts the waiting on the side that needs the
//! data (it knows exactly which shards it lacks and retries until it has
//! them), lets the previous owner answer from its own state without touching
//! its log (a shard it gave away is frozen, so any replica that has reached
//! that configuration has the same bytes), and needs no retransmission state
//! on the sender. After installing the shards through its own log, the new
//! owner tells the previous owner to delete them (`DeleteShards`, through the
//! previous owner's log), and once that is confirmed marks them fully
//! `Serving` (also through its log). See [`crate::store`] for the states.
//!
//! Background tasks, on the replica's node, doing work only while the replica
//! believes it leads its group:
//! * every [`CONFIG_POLL`], if the current configuration's migrations are all
//!   done, ask the controller for the next configuration and propose it;
//! * every [`MIGRATE_POLL`], pull the shards still missing and ask previous
//!   owners to delete the shards already received, one task per group.

// HANDOUT
// //! A shardkv replica: its RPC handlers and its background work (polling
// //! the controller, moving shards between groups).
// END SOLUTION

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use labrpc::{ClientEnd, Persister, Service, sim};
use rsm::{Rsm, SubmitError};
use shardctrler::{Config, Gid};

// BEGIN SOLUTION
use crate::common::{
    DeleteShardsReply, GetArgs, GetReply, Outcome, PullShardsReply, PutAppendArgs, PutAppendOp,
    PutAppendReply, SERVICE, ShardsArgs, key2shard,
};
use rsm::ClientTag;
use serde::de::DeserializeOwned;
// HANDOUT
// use crate::common::{GetArgs, GetReply, PutAppendArgs, PutAppendReply};
// END SOLUTION
// BEGIN SOLUTION
use crate::store::{Command, Output, ShardStore, Status};
// END SOLUTION

/// How often the leader asks the controller for the next configuration.
pub const CONFIG_POLL: Duration = Duration::from_millis(100);
/// How often the leader pulls missing shards and asks for deletions.
pub const MIGRATE_POLL: Duration = Duration::from_millis(50);

/// Turns a server name from a configuration into an end that reaches it
/// (Go's `make_end`).
pub type MakeEnd = Arc<dyn Fn(&str) -> ClientEnd + Send + Sync>;

/// One replica of one group.
pub struct ShardKv {
    // BEGIN SOLUTION
    gid: Gid,
    rsm: Arc<Rsm<ShardStore>>,
    make_end: MakeEnd,
    /// Ends to other groups' servers, made once per name.
    ends: Mutex<BTreeMap<String, ClientEnd>>,
    // HANDOUT
    // // 4B: your replica's state
    // END SOLUTION
}

impl ShardKv {
    /// Starts replica `me` of group `gid` on the current node (Go's
    /// `StartServer`). `max_raft_state` of `None` means never snapshot (Go's
    /// -1). `ctrlers` reach the controller's replicas.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        max_raft_state: Option<usize>,
        gid: Gid,
        ctrlers: Vec<ClientEnd>,
        make_end: MakeEnd,
    ) -> Arc<ShardKv> {
        // BEGIN SOLUTION
        let rsm = Rsm::start(servers, me, persister, max_raft_state, ShardStore::new(gid));
        let kv = Arc::new(ShardKv {
            gid,
            rsm,
            make_end,
            ends: Mutex::new(BTreeMap::new()),
        });
        sim::spawn(kv.clone().poll_config(shardctrler::Clerk::new(ctrlers)));
        sim::spawn(kv.clone().migrate());
        kv
        // HANDOUT
        // todo!("4B: ShardKv::start")
        // END SOLUTION
    }

    /// The `ShardKV` service and the Raft service this replica answers.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        // BEGIN SOLUTION
        let kv = Service::new(SERVICE)
            .handle("Get", self, ShardKv::get)
            .handle("PutAppend", self, ShardKv::put_append)
            .handle("PullShards", self, |kv, args| async move {
                kv.pull_shards(args)
            })
            .handle("DeleteShards", self, ShardKv::delete_shards);
        vec![kv, self.rsm.raft_service()]
        // HANDOUT
        // todo!("4B: ShardKv::services, the ShardKV service and the Raft service")
        // END SOLUTION
    }

    pub fn gid(&self) -> Gid {
        // BEGIN SOLUTION
        self.gid
        // HANDOUT
        // todo!("4B: ShardKv::gid")
        // END SOLUTION
    }

    /// The replica's Raft peer.
    pub fn raft(&self) -> &raft::Raft {
        // BEGIN SOLUTION
        self.rsm.raft()
        // HANDOUT
        // todo!("4B: ShardKv::raft")
        // END SOLUTION
    }

    /// The number of the configuration this replica has reached (the tests
    /// show it on the failure timeline).
    pub fn config_num(&self) -> u64 {
        // BEGIN SOLUTION
        self.rsm.with_state(|s| s.config().num)
        // HANDOUT
        // todo!("4B: ShardKv::config_num")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Reads the replica's state (tests and debugging).
    pub fn with_state<R>(&self, f: impl FnOnce(&ShardStore) -> R) -> R {
        self.rsm.with_state(f)
    }
    // END SOLUTION

    /// Stops the replica (Go's `Kill`); the harness also kills its node.
    pub fn kill(&self) {
        // BEGIN SOLUTION
        self.rsm.kill();
        // HANDOUT
        // todo!("4B: ShardKv::kill")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    fn is_leader(&self) -> bool {
        self.rsm.raft().get_state().1
    }

    /// Quick rejections before anything enters the log; the state machine
    /// checks the shard again when the operation is applied.
    fn precheck(&self, key: &str) -> Option<Outcome> {
        if !self.is_leader() {
            return Some(Outcome::ErrWrongLeader);
        }
        let shard = key2shard(key);
        if !self.rsm.with_state(|s| s.serves(shard)) {
            return Some(Outcome::ErrWrongGroup);
        }
        None
    }
    // END SOLUTION

    pub async fn get(self: Arc<Self>, args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        let reply = |err, value| GetReply { err, value };
        if let Some(err) = self.precheck(&args.key) {
            return reply(err, String::new());
        }
        match self.rsm.submit(Command::Get { key: args.key }).await {
            Ok(Output::Value(Some(value))) => reply(Outcome::Ok, value),
            Ok(Output::Value(None)) => reply(Outcome::ErrNoKey, String::new()),
            Ok(Output::WrongGroup) => reply(Outcome::ErrWrongGroup, String::new()),
            Ok(Output::Done) | Err(_) => reply(Outcome::ErrWrongLeader, String::new()),
        }
        // HANDOUT
        // todo!("4B: ShardKv::get")
        // END SOLUTION
    }

    pub async fn put_append(self: Arc<Self>, args: PutAppendArgs) -> PutAppendReply {
        // BEGIN SOLUTION
        if let Some(err) = self.precheck(&args.key) {
            return PutAppendReply { err };
        }
        let PutAppendArgs {
            key,
            value,
            op,
            tag: ClientTag { client_id, seq },
        } = args;
        let command = match op {
            PutAppendOp::Put => Command::Put {
                key,
                value,
                client_id,
                seq,
            },
            PutAppendOp::Append => Command::Append {
                key,
                value,
                client_id,
                seq,
            },
        };
        let err = match self.rsm.submit(command).await {
            Ok(Output::Done) => Outcome::Ok,
            Ok(Output::WrongGroup) => Outcome::ErrWrongGroup,
            Ok(Output::Value(_)) | Err(_) => Outcome::ErrWrongLeader,
        };
        PutAppendReply { err }
        // HANDOUT
        // todo!("4B: ShardKv::put_append")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Another group's leader wants shards this group gave away in
    /// configuration `args.config_num`. Any replica that has reached that
    /// configuration can answer: the shards are frozen there.
    pub fn pull_shards(&self, args: ShardsArgs) -> PullShardsReply {
        match self
            .rsm
            .with_state(|s| s.frozen_shards(args.config_num, &args.shards))
        {
            Some(shards) => PullShardsReply {
                err: Outcome::Ok,
                shards,
            },
            None => PullShardsReply {
                err: Outcome::ErrNotReady,
                shards: BTreeMap::new(),
            },
        }
    }

    /// The new owner of `args.shards` has installed them: delete them here.
    pub async fn delete_shards(self: Arc<Self>, args: ShardsArgs) -> DeleteShardsReply {
        let num = self.rsm.with_state(|s| s.config().num);
        let err = if num > args.config_num {
            // This group moved on, which it only does once every shard it
            // gave away in that configuration was deleted.
            Outcome::Ok
        } else if num < args.config_num {
            Outcome::ErrNotReady
        } else if !self.is_leader() {
            Outcome::ErrWrongLeader
        } else {
            let command = Command::DeleteShards {
                config_num: args.config_num,
                shards: args.shards,
            };
            match self.rsm.submit(command).await {
                Ok(_) => Outcome::Ok,
                Err(SubmitError::WrongLeader) | Err(_) => Outcome::ErrWrongLeader,
            }
        };
        DeleteShardsReply { err }
    }

    fn end(&self, name: &str) -> ClientEnd {
        let mut ends = self.ends.lock().unwrap_or_else(|e| e.into_inner());
        ends.entry(name.to_string())
            .or_insert_with(|| (self.make_end)(name))
            .clone()
    }

    /// Proposes each next configuration, one at a time, in order.
    async fn poll_config(self: Arc<Self>, mut ctrler: shardctrler::Clerk) {
        while !self.rsm.raft().killed() {
            sim::sleep(CONFIG_POLL).await;
            if !self.is_leader() {
                continue;
            }
            let (settled, num) = self.rsm.with_state(|s| (s.settled(), s.config().num));
            if !settled {
                tracing::trace!(topic = "poll", gid = self.gid, num, shards = ?self.rsm.with_state(|s| s.shards().iter().map(|(k, v)| (*k, v.status)).collect::<Vec<_>>()), "not settled");
                continue;
            }
            let next = ctrler.query(num as i64 + 1).await;
            tracing::trace!(
                topic = "poll",
                gid = self.gid,
                num,
                next = next.num,
                "polled the controller"
            );
            if next.num == num + 1 {
                let _ = self.rsm.submit(Command::Reconfigure(next)).await;
            }
        }
    }

    /// Pulls missing shards and garbage-collects received ones.
    ///
    /// Also makes sure each new leader gets an entry of its own term
    /// committed: Raft only commits earlier terms' entries together with one
    /// of the current term, and a group that serves no shard gets no client
    /// requests. After a restart, such a group would otherwise never re-apply
    /// the deletions still in its log, and a migration would wait forever.
    async fn migrate(self: Arc<Self>) {
        let mut noop_term = 0;
        while !self.rsm.raft().killed() {
            sim::sleep(MIGRATE_POLL).await;
            let (term, is_leader) = self.rsm.raft().get_state();
            if !is_leader {
                continue;
            }
            if noop_term != term && self.rsm.submit(Command::Noop).await.is_ok() {
                noop_term = term;
            }
            let (num, prev, pulls, gcs) = self.rsm.with_state(|s| {
                (
                    s.config().num,
                    s.prev_config().clone(),
                    s.by_previous_owner(Status::Pulling),
                    s.by_previous_owner(Status::Gc),
                )
            });
            let mut work: Vec<BoxFuture<'_, ()>> = Vec::new();
            for (gid, shards) in pulls {
                work.push(self.pull(num, servers_of(&prev, gid), shards).boxed());
            }
            for (gid, shards) in gcs {
                work.push(self.collect(num, servers_of(&prev, gid), shards).boxed());
            }
            join_all(work).await;
        }
    }

    /// Fetches `shards` from their previous owner and installs them.
    async fn pull(&self, config_num: u64, servers: Vec<String>, shards: Vec<usize>) {
        let args = ShardsArgs { config_num, shards };
        let pulled = |reply: &PullShardsReply| reply.err == Outcome::Ok;
        if let Some((name, reply)) = self.ask(&servers, "PullShards", &args, pulled).await {
            tracing::debug!(topic = "migrate", gid = self.gid, config_num, shards = ?args.shards, from = %name, "pulled");
            let command = Command::InsertShards {
                config_num,
                shards: reply.shards,
            };
            let _ = self.rsm.submit(command).await;
        }
    }

    /// Asks the previous owner of `shards` to delete them, then records that.
    async fn collect(&self, config_num: u64, servers: Vec<String>, shards: Vec<usize>) {
        let args = ShardsArgs { config_num, shards };
        let deleted = |reply: &DeleteShardsReply| reply.err == Outcome::Ok;
        if self
            .ask(&servers, "DeleteShards", &args, deleted)
            .await
            .is_some()
        {
            let command = Command::GcDone {
                config_num,
                shards: args.shards,
            };
            let _ = self.rsm.submit(command).await;
        }
    }

    /// Sends `args` as `method` to another group's `servers`, one after
    /// another, until one gives a reply that `ok` takes: that server's name
    /// and its reply, or None if none did (the caller tries again later).
    async fn ask<R>(
        &self,
        servers: &[String],
        method: &str,
        args: &ShardsArgs,
        ok: impl Fn(&R) -> bool,
    ) -> Option<(String, R)>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let method = format!("{SERVICE}.{method}");
        for name in servers {
            if let Ok(reply) = self.end(name).call::<_, R>(&method, args).await
                && ok(&reply)
            {
                return Some((name.clone(), reply));
            }
        }
        None
    }
    // END SOLUTION
}

// BEGIN SOLUTION
fn servers_of(config: &Config, gid: Gid) -> Vec<String> {
    config.groups.get(&gid).cloned().unwrap_or_default()
}
// END SOLUTION
