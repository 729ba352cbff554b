//! A shardkv replica (Go's server.go): one server of one replica group.
//!
//! Everything that changes what the group holds goes through the group's
//! Paxos log: client operations, and each move to the next configuration.
//! Every replica applies the log in instance order, so all of them see a
//! Put either before the configuration change that gives its shard away
//! (the Put is part of the data that moves) or after it (the Put gets
//! `ErrWrongGroup` and the clerk retries at the new owner).
// BEGIN SOLUTION
//!
//! # How the reference works
//!
//! * **The log** is kvpaxos's [`PaxosLog`]: one operation at a time per
//!   server, every instance known applied before proposing the next, holes
//!   filled with no-ops, Paxos's `done(s)` after applying instance `s`. This
//!   file is the state machine on it.
//! * **Configurations, one at a time, in order.** Every [`TICK`] each replica
//!   asks the shardmaster for the latest configuration. While its group is
//!   behind it, the replica takes the next configuration, fetches the shards
//!   it gives the group from their owners in the current one, and proposes
//!   `Reconfigure` with the configuration *and* that data. Applying it
//!   installs the shards and moves to the configuration, atomically, so a
//!   shard is never owned without its data.
//! * **Hand-off by pull.** The previous owner answers a `Fetch` for
//!   configuration n only once it has applied configuration n itself, i.e.
//!   once it has stopped serving those shards: their data is frozen from that
//!   point of its log on, identical on every replica that reached it. Each
//!   transition only moves shards one way between any two groups (Join gives
//!   to the new group, Leave takes from the leaver, Move is one shard), so no
//!   two groups ever wait for each other.
//! * **Duplicate detection per shard.** Each shard carries its own table
//!   (clerk → highest request applied to the shard), which moves with the
//!   data: a clerk whose Append took effect at the old owner and whose reply
//!   was lost retries at the new owner, and the table there says it is done.
//!   A server keeps the frozen copy of a shard it gave away (Go's "old shards
//!   may stay"); if the shard comes back, the fetched copy replaces it.
// END SOLUTION

use std::sync::Arc;
use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::{ClientEnd, Service};
use paxos::Paxos;
use serde::{Deserialize, Serialize};
use shardmaster::{Config, Gid};

use crate::common::{GetArgs, GetReply, PutAppendArgs, PutAppendReply};
// BEGIN SOLUTION
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use kvpaxos::PaxosLog;
use shardmaster::N_SHARDS;

use crate::common::{FetchArgs, FetchReply, Outcome, SERVICE, ShardData, key2shard};
// END SOLUTION

/// How often a server asks the shardmaster for a newer configuration (Go's
/// `tick()` interval).
pub const TICK: Duration = Duration::from_millis(250);

/// Turns a server name from a configuration into an end that reaches it
/// (Go's servers and clerks dialled the socket of that name).
pub type MakeEnd = Arc<dyn Fn(&str) -> ClientEnd + Send + Sync>;

/// The value agreed on in each Paxos instance of a group (Go's `Op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    // BEGIN SOLUTION
    /// A clerk's Get, as it asked it.
    Get(GetArgs),
    /// A clerk's Put or Append, as it asked it.
    PutAppend(PutAppendArgs),
    /// Move to `config` (the next configuration), installing the shards it
    /// gives this group, fetched from their previous owners.
    Reconfigure {
        config: Config,
        shards: BTreeMap<usize, ShardData>,
    },
    /// Fills a hole: decided so that a server can move past an instance.
    Noop,
    // END SOLUTION
}

// BEGIN SOLUTION
/// What applying an operation gave.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Applied {
    /// A Get's value (None: no such key).
    Value(Option<String>),
    Done,
    /// The key's shard is not this group's in the configuration it is at.
    WrongGroup,
}

/// A replica's state: what the applied log built.
#[derive(Default)]
struct Store {
    /// The configuration the group is at.
    config: Config,
    /// Every shard this replica holds data for: those it serves, and frozen
    /// copies of those it gave away.
    shards: BTreeMap<usize, ShardData>,
}

impl Store {
    fn serves(&self, gid: Gid, shard: usize) -> bool {
        self.config.shards[shard] == gid
    }

    /// The result of `op` if it needs no new instance: a Put or Append the
    /// shard's table says took effect, a configuration already reached.
    fn already(&self, gid: Gid, op: &Op) -> Option<Applied> {
        match op {
            Op::PutAppend(args) => {
                let shard = key2shard(&args.key);
                let data = self.shards.get(&shard)?;
                let done = self.serves(gid, shard) && data.has_applied(args);
                done.then_some(Applied::Done)
            }
            Op::Reconfigure { config, .. } => {
                (self.config.num >= config.num).then_some(Applied::Done)
            }
            Op::Get { .. } | Op::Noop => None,
        }
    }

    fn apply(&mut self, gid: Gid, op: &Op) -> Applied {
        match op {
            Op::Get(args) => {
                let shard = key2shard(&args.key);
                if !self.serves(gid, shard) {
                    return Applied::WrongGroup;
                }
                let value = self.shards.get(&shard).and_then(|d| d.db.get(&args.key));
                Applied::Value(value.cloned())
            }
            Op::PutAppend(args) => {
                let shard = key2shard(&args.key);
                if !self.serves(gid, shard) {
                    return Applied::WrongGroup;
                }
                if !self.shards.entry(shard).or_default().put_append(args) {
                    tracing::debug!(
                        topic = "dedup",
                        gid,
                        client = args.client,
                        id = args.id,
                        "duplicate {:?} of {:?}",
                        args.op,
                        args.key
                    );
                }
                Applied::Done
            }
            Op::Reconfigure { config, shards } => {
                if config.num != self.config.num + 1 {
                    return Applied::Done; // a duplicate proposal
                }
                debug_assert!(
                    shards.keys().all(|&s| config.shards[s] == gid),
                    "installs only shards the configuration gives the group"
                );
                for (&shard, data) in shards {
                    self.shards.insert(shard, data.clone());
                }
                self.config = config.clone();
                tracing::debug!(topic = "cfg", gid, num = config.num, shards = ?config.shards, installed = ?shards.keys().collect::<Vec<_>>(), "reconfigured");
                Applied::Done
            }
            Op::Noop => Applied::Done,
        }
    }
}
// END SOLUTION

/// One replica. Share it as `Arc<ShardKv>`.
pub struct ShardKv {
    gid: Gid,
    /// The group's Paxos peer on this server; its `kill` is the server's.
    px: Arc<Paxos>,
    // BEGIN SOLUTION
    make_end: MakeEnd,
    /// Ends to other groups' servers, made once per name.
    ends: Mutex<BTreeMap<String, ClientEnd>>,
    /// The group's Paxos log, as this replica applies it.
    log: PaxosLog<Op>,
    /// A std mutex: held only for short synchronous updates, never across
    /// an `.await`.
    store: Mutex<Store>,
    // HANDOUT
    // // 4B: your replica's state
    // END SOLUTION
}

// BEGIN SOLUTION
/// Locks a mutex, ignoring poisoning: a panic in any task already fails the
/// test with its seed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
// END SOLUTION

impl ShardKv {
    /// Go's `StartServer(gid, shardmasters, servers, me)`: replica `me` of
    /// group `gid`, whose Paxos peer talks to the group through `servers`
    /// (index = replica), with `masters` reaching the shardmaster's servers
    /// and `make_end` other groups' servers. Call it on the server's node,
    /// then add [`services`](ShardKv::services) to its labrpc server. It
    /// never joins: the tests do that.
    pub fn start_server(
        gid: Gid,
        masters: Vec<ClientEnd>,
        servers: Vec<ClientEnd>,
        me: usize,
        make_end: MakeEnd,
    ) -> Arc<ShardKv> {
        assert!(
            me < servers.len(),
            "shardkv: me = {me} but group {gid} has only {} servers",
            servers.len()
        );
        assert!(!masters.is_empty(), "shardkv: no shardmaster servers given");
        let px = Paxos::make(servers, me);
        // BEGIN SOLUTION
        let log = PaxosLog::new(px.clone(), &format!("G{gid}/"), "kv", Op::Noop);
        // END SOLUTION
        let kv = Arc::new(ShardKv {
            gid,
            px,
            // BEGIN SOLUTION
            make_end,
            ends: Mutex::new(BTreeMap::new()),
            log,
            store: Mutex::new(Store::default()),
            // END SOLUTION
        });
        // BEGIN SOLUTION
        // Detached: the ticker ends when the server is killed (its node too).
        drop(sim::spawn(
            kv.clone().ticker(shardmaster::Clerk::new(masters)),
        ));
        kv
        // HANDOUT
        // let _ = (masters, make_end, kv);
        // todo!("P4B: ShardKv::start_server, the replica's state and its tick loop")
        // END SOLUTION
    }

    /// The `ShardKV` service and the Paxos peer's, both reached through this
    /// server's one listener.
    pub fn services(self: &Arc<Self>) -> Vec<Service> {
        let mut kv = Service::new("ShardKV")
            .handle("Get", self, |kv, args: GetArgs| async move {
                kv.get(args).await
            })
            .handle("PutAppend", self, |kv, args: PutAppendArgs| async move {
                kv.put_append(args).await
            });
        // BEGIN SOLUTION
        kv = kv.handle("Fetch", self, |kv, args: FetchArgs| async move {
            kv.fetch(args)
        });
        // END SOLUTION
        vec![kv, self.px.service()]
    }

    pub fn gid(&self) -> Gid {
        self.gid
    }

    /// The server's index in its group.
    pub fn me(&self) -> usize {
        self.px.me()
    }

    /// The server's Paxos peer.
    pub fn paxos(&self) -> &Arc<Paxos> {
        &self.px
    }

    /// The node the server (and its Paxos peer) runs on.
    pub fn node(&self) -> &Node {
        self.px.node()
    }

    /// Go's `kill()`: stops the server, which is its Paxos peer's stop: the
    /// log and the tick loop end when Paxos says it is dead. (Closing its
    /// listener is the harness's business.)
    pub fn kill(&self) {
        self.px.kill();
    }

    pub fn is_dead(&self) -> bool {
        self.px.is_dead()
    }

    /// The number of the configuration this server has applied (the
    /// timeline shows it on the server's lane).
    pub fn config_num(&self) -> u64 {
        // BEGIN SOLUTION
        lock(&self.store).config.num
        // HANDOUT
        // todo!("P4B: ShardKv::config_num")
        // END SOLUTION
    }

    /// The shards this server's group serves in that configuration.
    pub fn served(&self) -> Vec<usize> {
        // BEGIN SOLUTION
        let store = lock(&self.store);
        (0..N_SHARDS)
            .filter(|&s| store.serves(self.gid, s))
            .collect()
        // HANDOUT
        // todo!("P4B: ShardKv::served")
        // END SOLUTION
    }

    /// What the timeline shows on the server's lane.
    pub fn describe(&self) -> String {
        format!("serves {:?}", self.served())
    }

    /// The `ShardKV.Get` handler.
    async fn get(&self, args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        let (status, value) = match self.execute(Op::Get(args)).await {
            None => (Outcome::ErrKilled, None),
            Some(Applied::Value(None)) => (Outcome::ErrNoKey, None),
            Some(Applied::Value(value)) => (Outcome::Ok, value),
            Some(Applied::WrongGroup) => (Outcome::ErrWrongGroup, None),
            Some(Applied::Done) => unreachable!("a Get applies to a value"),
        };
        GetReply {
            status,
            value: value.unwrap_or_default(),
        }
        // HANDOUT
        // let _ = args;
        // todo!("P4B: the Get handler")
        // END SOLUTION
    }

    /// The `ShardKV.PutAppend` handler.
    async fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        // BEGIN SOLUTION
        let status = match self.execute(Op::PutAppend(args)).await {
            None => Outcome::ErrKilled,
            Some(Applied::WrongGroup) => Outcome::ErrWrongGroup,
            Some(_) => Outcome::Ok,
        };
        PutAppendReply { status }
        // HANDOUT
        // let _ = args;
        // todo!("P4B: the PutAppend handler")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Another group moving to configuration `args.config_num` wants the
    /// shards that configuration takes from this group. Any replica that has
    /// applied that configuration can answer: the shards are frozen there.
    fn fetch(&self, args: FetchArgs) -> FetchReply {
        let store = lock(&self.store);
        if store.config.num < args.config_num {
            return FetchReply {
                status: Outcome::ErrNotReady,
                shards: BTreeMap::new(),
            };
        }
        let shards = args.shards.iter().map(|&shard| {
            let data = store.shards.get(&shard).cloned().unwrap_or_default();
            (shard, data)
        });
        FetchReply {
            status: Outcome::Ok,
            shards: shards.collect(),
        }
    }

    /// Agrees on `op` in some instance and applies the log up to it (and
    /// nothing new if `op` needs no instance: see [`Store::already`]). None
    /// if the server was killed first.
    async fn execute(&self, op: Op) -> Option<Applied> {
        let probe = op.clone();
        let settled = || lock(&self.store).already(self.gid, &probe);
        let apply = |op: &Op| lock(&self.store).apply(self.gid, op);
        self.log.execute(op, settled, apply).await
    }

    /// Applies every instance this replica knows was started, proposing
    /// nothing. None if the server was killed.
    async fn catch_up(&self) -> Option<()> {
        let apply = |op: &Op| lock(&self.store).apply(self.gid, op);
        self.log
            .execute(Op::Noop, || Some(Applied::Done), apply)
            .await?;
        Some(())
    }

    /// Go's `tick()`, every [`TICK`] until the server is killed.
    async fn ticker(self: Arc<Self>, mut sm: shardmaster::Clerk) {
        while !self.is_dead() {
            self.tick(&mut sm).await;
            sim::sleep(TICK).await;
        }
    }

    /// Moves the group, one configuration at a time, to the latest one.
    async fn tick(&self, sm: &mut shardmaster::Clerk) {
        let latest = sm.query(-1).await;
        loop {
            if self.catch_up().await.is_none() {
                return; // killed
            }
            let current = lock(&self.store).config.clone();
            if current.num >= latest.num {
                return;
            }
            let next = if current.num + 1 == latest.num {
                latest.clone()
            } else {
                sm.query(current.num as i64 + 1).await
            };
            if next.num != current.num + 1 {
                tracing::error!(
                    topic = "cfg",
                    "G{}/{}: asked the shardmaster for configuration {}, got {}",
                    self.gid,
                    self.me(),
                    current.num + 1,
                    next.num
                );
                return;
            }
            let Some(shards) = self.fetch_gains(&current, &next).await else {
                return; // a previous owner is not there yet: next tick
            };
            if self
                .execute(Op::Reconfigure {
                    config: next,
                    shards,
                })
                .await
                .is_none()
            {
                return;
            }
        }
    }

    /// The data of every shard `next` gives this group that `current` did
    /// not, from its owner in `current` (empty for a shard nobody owned).
    /// None if some owner has not reached `next` yet or cannot be reached.
    async fn fetch_gains(
        &self,
        current: &Config,
        next: &Config,
    ) -> Option<BTreeMap<usize, ShardData>> {
        let mut gains = BTreeMap::new();
        let mut wanted: BTreeMap<Gid, Vec<usize>> = BTreeMap::new();
        for shard in 0..N_SHARDS {
            let (old, new) = (current.shards[shard], next.shards[shard]);
            if new != self.gid || old == self.gid {
                continue;
            }
            match current.groups.get(&old) {
                Some(_) => wanted.entry(old).or_default().push(shard),
                // Configuration 0's invalid group: the shard is new.
                None => {
                    gains.insert(shard, ShardData::default());
                }
            }
        }
        let method = format!("{SERVICE}.Fetch");
        for (owner, shards) in wanted {
            let args = FetchArgs {
                config_num: next.num,
                shards,
            };
            let mut fetched = None;
            for name in &current.groups[&owner] {
                let reply = self.end(name).call::<_, FetchReply>(&method, &args).await;
                if let Ok(reply) = reply
                    && reply.status == Outcome::Ok
                {
                    fetched = Some(reply.shards);
                    break;
                }
            }
            let Some(fetched) = fetched else {
                tracing::debug!(
                    topic = "migrate",
                    "G{}/{}: group {owner} has not handed over {:?} for configuration {} yet",
                    self.gid,
                    self.me(),
                    args.shards,
                    next.num
                );
                return None;
            };
            tracing::debug!(
                topic = "migrate",
                "G{}/{} fetched {:?} from group {owner} for configuration {}",
                self.gid,
                self.me(),
                args.shards,
                next.num
            );
            gains.extend(fetched);
        }
        Some(gains)
    }

    fn end(&self, name: &str) -> ClientEnd {
        let mut ends = lock(&self.ends);
        ends.entry(name.to_string())
            .or_insert_with(|| (self.make_end)(name))
            .clone()
    }
    // END SOLUTION
}
