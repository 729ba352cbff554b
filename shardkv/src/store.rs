//! A replica group's replicated state, and every way it can change.
// SOLUTION FILE
//!
//! Everything that changes what a group serves goes through its Raft log, so
//! every replica of the group sees client operations and configuration
//! changes in the same order: a Put applied before the Reconfigure entry that
//! gives its shard away is part of the data that moves; one after it is
//! rejected with `ErrWrongGroup`.
//!
//! Each shard the group holds has a status:
//!
//! | status      | owned in `config`? | data             | serves clients? |
//! |-------------|--------------------|------------------|-----------------|
//! | `Serving`   | yes                | here             | yes             |
//! | `Pulling`   | yes                | not arrived yet  | no              |
//! | `Gc`        | yes                | here             | yes (challenge 2), but the previous owner must still be told to delete its copy |
//! | `BePulling` | no                 | here, frozen     | no; kept until the new owner confirms it has it (challenge 1) |
//!
//! A shard the group neither owns nor keeps is simply absent. The group moves
//! to configuration n+1 only when every shard it holds is `Serving`, i.e. when
//! configuration n's migrations are complete on both sides; so
//! reconfigurations happen one at a time and in order, while shards that a
//! change does not touch are served throughout (challenge 2).
//!
//! # Duplicate detection: per shard, not rsm's per-group table
//!
//! kvraft and shardctrler get at-most-once from the `rsm` crate: one table per
//! replica group, keyed by client, holding each client's latest sequence
//! number and output. shardkv cannot use it for Put and Append, and submits
//! them with [`Rsm::submit`](rsm::Rsm::submit), not `submit_once`: the table
//! must move with the data.
//! When shard s goes from group A to group B, a client whose Append to s took
//! effect at A and whose reply was lost retries at B; B must know that the
//! request is done, and only the shard's own data can tell it, since A's
//! table also covers other shards that stay behind and B's table knows
//! nothing of A's clients. So each shard carries its own `dedup` map (client
//! id → highest sequence number applied to that shard, see
//! [`ShardData`]), copied with the shard and deleted with it. Get needs no
//! table (it changes nothing), and reconfigurations and shard installs are
//! made idempotent by their configuration numbers. That is the one way
//! shardkv detects duplicates; rsm's table is simply not used here.

use std::collections::BTreeMap;

use rsm::{Snapshot, StateMachine};
use serde::{Deserialize, Serialize};
use shardctrler::{Config, Gid, N_SHARDS, NO_GROUP};

use crate::common::{ShardData, key2shard};

/// A shard's migration status; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Serving,
    Pulling,
    Gc,
    BePulling,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub status: Status,
    pub data: ShardData,
}

/// One entry of a group's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
        client_id: u64,
        seq: u64,
    },
    Append {
        key: String,
        value: String,
        client_id: u64,
        seq: u64,
    },
    /// Move to the next configuration.
    Reconfigure(Config),
    /// Shards pulled from their previous owner, for configuration `config_num`.
    InsertShards {
        config_num: u64,
        shards: BTreeMap<usize, ShardData>,
    },
    /// The new owner has these shards: forget them (the previous owner's side).
    DeleteShards {
        config_num: u64,
        shards: Vec<usize>,
    },
    /// The previous owner has forgotten these shards (the new owner's side).
    GcDone {
        config_num: u64,
        shards: Vec<usize>,
    },
    /// Nothing: a new leader's first entry, which commits (and so applies)
    /// whatever earlier terms left in its log.
    Noop,
}

/// What applying a command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    /// A Get's value (None: no such key).
    Value(Option<String>),
    Done,
    /// The key's shard is not served here (not owned, or not arrived yet).
    WrongGroup,
}

/// A group's replicated state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardStore {
    gid: Gid,
    config: Config,
    /// The configuration before `config` (where shards come from).
    prev: Config,
    shards: BTreeMap<usize, Shard>,
}

/// The snapshot: everything but the GID (which the server is started with).
#[derive(Serialize, Deserialize)]
struct Saved {
    config: Config,
    prev: Config,
    shards: BTreeMap<usize, Shard>,
}

impl ShardStore {
    pub fn new(gid: Gid) -> ShardStore {
        ShardStore {
            gid,
            config: Config::default(),
            prev: Config::default(),
            shards: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn prev_config(&self) -> &Config {
        &self.prev
    }

    pub fn shards(&self) -> &BTreeMap<usize, Shard> {
        &self.shards
    }

    /// True if a client operation on `shard` would be executed here now.
    pub fn serves(&self, shard: usize) -> bool {
        self.config.shards[shard] == self.gid
            && self
                .shards
                .get(&shard)
                .is_some_and(|s| matches!(s.status, Status::Serving | Status::Gc))
    }

    /// True when every held shard is `Serving`: the current configuration's
    /// migrations are done and the next configuration may be installed.
    pub fn settled(&self) -> bool {
        self.shards.values().all(|s| s.status == Status::Serving)
    }

    /// The shards in `status`, grouped by their owner in the previous
    /// configuration (who to pull them from, or who must delete them).
    pub fn by_previous_owner(&self, status: Status) -> BTreeMap<Gid, Vec<usize>> {
        let mut out: BTreeMap<Gid, Vec<usize>> = BTreeMap::new();
        for (&shard, s) in &self.shards {
            if s.status == status {
                out.entry(self.prev.shards[shard]).or_default().push(shard);
            }
        }
        out
    }

    /// For a puller at `config_num`: the frozen data of `shards`, if this
    /// replica has reached that configuration and holds them all.
    pub fn frozen_shards(
        &self,
        config_num: u64,
        shards: &[usize],
    ) -> Option<BTreeMap<usize, ShardData>> {
        if self.config.num != config_num {
            return None;
        }
        shards
            .iter()
            .map(|&shard| match self.shards.get(&shard) {
                Some(s) if s.status == Status::BePulling => Some((shard, s.data.clone())),
                _ => None,
            })
            .collect()
    }

    fn shard_for(&mut self, key: &str) -> Option<&mut Shard> {
        let shard = key2shard(key);
        if self.serves(shard) {
            self.shards.get_mut(&shard)
        } else {
            None
        }
    }

    fn put_append(
        &mut self,
        key: String,
        value: String,
        client_id: u64,
        seq: u64,
        append: bool,
    ) -> Output {
        let Some(shard) = self.shard_for(&key) else {
            return Output::WrongGroup;
        };
        let data = &mut shard.data;
        if data.dedup.get(&client_id).is_some_and(|&last| last >= seq) {
            return Output::Done; // a retry of a request that already took effect
        }
        data.dedup.insert(client_id, seq);
        if append {
            data.kv.entry(key).or_default().push_str(&value);
        } else {
            data.kv.insert(key, value);
        }
        Output::Done
    }

    fn reconfigure(&mut self, next: Config) {
        if next.num != self.config.num + 1 || !self.settled() {
            return; // a duplicate or out-of-order proposal
        }
        for shard in 0..N_SHARDS {
            let (old, new) = (self.config.shards[shard], next.shards[shard]);
            if new == self.gid && old != self.gid {
                let status = if old == NO_GROUP {
                    Status::Serving // a brand-new shard: nothing to fetch
                } else {
                    Status::Pulling
                };
                let data = ShardData::default();
                self.shards.insert(shard, Shard { status, data });
            } else if old == self.gid && new != self.gid {
                if new == NO_GROUP {
                    self.shards.remove(&shard); // nobody will ever ask for it
                } else if let Some(s) = self.shards.get_mut(&shard) {
                    s.status = Status::BePulling;
                }
            }
        }
        tracing::debug!(topic = "cfg", gid = self.gid, num = next.num, shards = ?next.shards, "reconfigured");
        self.prev = std::mem::replace(&mut self.config, next);
    }

    fn insert_shards(&mut self, config_num: u64, shards: BTreeMap<usize, ShardData>) {
        if config_num != self.config.num {
            return;
        }
        for (shard, data) in shards {
            if let Some(s) = self.shards.get_mut(&shard)
                && s.status == Status::Pulling
            {
                s.data = data;
                s.status = Status::Gc;
            }
        }
    }

    fn delete_shards(&mut self, config_num: u64, shards: &[usize]) {
        if config_num != self.config.num {
            return;
        }
        for shard in shards {
            if self
                .shards
                .get(shard)
                .is_some_and(|s| s.status == Status::BePulling)
            {
                self.shards.remove(shard);
            }
        }
        tracing::debug!(
            topic = "gc",
            gid = self.gid,
            config_num,
            ?shards,
            "deleted shards given away"
        );
    }

    fn gc_done(&mut self, config_num: u64, shards: &[usize]) {
        if config_num != self.config.num {
            return;
        }
        for shard in shards {
            if let Some(s) = self.shards.get_mut(shard)
                && s.status == Status::Gc
            {
                s.status = Status::Serving;
            }
        }
        tracing::debug!(
            topic = "gc",
            gid = self.gid,
            config_num,
            ?shards,
            "previous owner deleted its copies"
        );
    }
}

impl StateMachine for ShardStore {
    type Command = Command;
    type Output = Output;

    fn apply(&mut self, command: Command) -> Output {
        match command {
            Command::Get { key } => match self.shard_for(&key) {
                Some(shard) => Output::Value(shard.data.kv.get(&key).cloned()),
                None => Output::WrongGroup,
            },
            Command::Put {
                key,
                value,
                client_id,
                seq,
            } => self.put_append(key, value, client_id, seq, false),
            Command::Append {
                key,
                value,
                client_id,
                seq,
            } => self.put_append(key, value, client_id, seq, true),
            Command::Reconfigure(next) => {
                self.reconfigure(next);
                Output::Done
            }
            Command::InsertShards { config_num, shards } => {
                self.insert_shards(config_num, shards);
                Output::Done
            }
            Command::DeleteShards { config_num, shards } => {
                self.delete_shards(config_num, &shards);
                Output::Done
            }
            Command::GcDone { config_num, shards } => {
                self.gc_done(config_num, &shards);
                Output::Done
            }
            Command::Noop => Output::Done,
        }
    }
}

/// The snapshot leaves out the GID, which the server is started with.
impl Snapshot for ShardStore {
    fn snapshot(&self) -> Vec<u8> {
        labrpc::codec::encode(&Saved {
            config: self.config.clone(),
            prev: self.prev.clone(),
            shards: self.shards.clone(),
        })
    }

    fn restore(&mut self, snapshot: &[u8]) {
        let saved: Saved = labrpc::codec::decode(snapshot).expect("a shardkv snapshot");
        self.config = saved.config;
        self.prev = saved.prev;
        self.shards = saved.shards;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(num: u64, shards: [Gid; N_SHARDS], gids: &[Gid]) -> Config {
        Config {
            num,
            shards,
            groups: gids
                .iter()
                .map(|&g| (g, vec![format!("server-{g}-0")]))
                .collect(),
        }
    }

    fn put(key: &str, value: &str, client_id: u64, seq: u64) -> Command {
        Command::Put {
            key: key.into(),
            value: value.into(),
            client_id,
            seq,
        }
    }

    fn append(key: &str, value: &str, client_id: u64, seq: u64) -> Command {
        Command::Append {
            key: key.into(),
            value: value.into(),
            client_id,
            seq,
        }
    }

    fn get(store: &mut ShardStore, key: &str) -> Output {
        store.apply(Command::Get { key: key.into() })
    }

    #[test]
    fn key2shard_is_first_byte_mod_nshards() {
        assert_eq!(key2shard(""), 0);
        assert_eq!(key2shard("0"), 8);
        assert_eq!(key2shard("9"), 7);
        assert_eq!(key2shard("1x"), key2shard("1"));
        let shards: std::collections::BTreeSet<usize> =
            (0..10).map(|i| key2shard(&i.to_string())).collect();
        assert_eq!(shards.len(), N_SHARDS);
    }

    #[test]
    fn first_configuration_serves_empty_shards() {
        let mut a = ShardStore::new(100);
        assert_eq!(get(&mut a, "k"), Output::WrongGroup);
        a.apply(Command::Reconfigure(config(1, [100; N_SHARDS], &[100])));
        assert!(a.settled());
        assert_eq!(a.apply(put("k", "v", 1, 1)), Output::Done);
        assert_eq!(get(&mut a, "k"), Output::Value(Some("v".into())));
    }

    #[test]
    fn duplicates_are_applied_once() {
        let mut a = ShardStore::new(100);
        a.apply(Command::Reconfigure(config(1, [100; N_SHARDS], &[100])));
        a.apply(append("k", "x", 7, 1));
        a.apply(append("k", "x", 7, 1));
        a.apply(append("k", "y", 7, 2));
        a.apply(append("k", "x", 7, 1)); // a late duplicate of an old request
        assert_eq!(get(&mut a, "k"), Output::Value(Some("xy".into())));
    }

    #[test]
    fn a_shard_moves_with_its_dedup_table_and_is_collected() {
        let c1 = config(1, [100; N_SHARDS], &[100]);
        let mut moved = [100; N_SHARDS];
        let s = key2shard("k");
        moved[s] = 101;
        let c2 = config(2, moved, &[100, 101]);

        let mut a = ShardStore::new(100);
        let mut b = ShardStore::new(101);
        a.apply(Command::Reconfigure(c1.clone()));
        b.apply(Command::Reconfigure(c1));
        a.apply(append("k", "x", 7, 1));

        a.apply(Command::Reconfigure(c2.clone()));
        b.apply(Command::Reconfigure(c2));
        // The old owner rejects at once; the new one until the data arrives.
        assert_eq!(a.apply(append("k", "y", 7, 2)), Output::WrongGroup);
        assert_eq!(get(&mut b, "k"), Output::WrongGroup);
        assert!(!a.settled() && !b.settled());
        // Unaffected shards stay served on the old owner (challenge 2).
        assert!(a.serves((s + 1) % N_SHARDS));

        let pulled = a.frozen_shards(2, &[s]).expect("frozen at config 2");
        assert_eq!(a.frozen_shards(1, &[s]), None);
        b.apply(Command::InsertShards {
            config_num: 2,
            shards: pulled,
        });
        assert!(b.serves(s), "served as soon as it arrives");
        // The retry of seq 1 at the new owner is a duplicate.
        b.apply(append("k", "x", 7, 1));
        assert_eq!(get(&mut b, "k"), Output::Value(Some("x".into())));

        a.apply(Command::DeleteShards {
            config_num: 2,
            shards: vec![s],
        });
        assert!(!a.shards().contains_key(&s), "old owner deleted it");
        assert!(a.settled());
        b.apply(Command::GcDone {
            config_num: 2,
            shards: vec![s],
        });
        assert!(b.settled());
    }

    #[test]
    fn stale_and_out_of_order_entries_are_ignored() {
        let mut a = ShardStore::new(100);
        a.apply(Command::Reconfigure(config(2, [100; N_SHARDS], &[100])));
        assert_eq!(a.config().num, 0, "skipping a configuration is refused");
        a.apply(Command::Reconfigure(config(1, [100; N_SHARDS], &[100])));
        a.apply(Command::Reconfigure(config(1, [100; N_SHARDS], &[100])));
        assert_eq!(a.config().num, 1);
        let before = a.clone();
        a.apply(Command::InsertShards {
            config_num: 0,
            shards: BTreeMap::from([(0, ShardData::default())]),
        });
        assert_eq!(a, before);
    }

    #[test]
    fn snapshot_round_trip() {
        let mut a = ShardStore::new(100);
        a.apply(Command::Reconfigure(config(1, [100; N_SHARDS], &[100])));
        a.apply(put("k", "v", 1, 1));
        let mut b = ShardStore::new(100);
        b.restore(&a.snapshot());
        assert_eq!(a, b);
    }
}
