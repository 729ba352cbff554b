//! shardconfig: shard configurations and the rebalancing rule, as pure data
//! and pure functions, shared by the two series' shard controllers.
//!
//! Both lab series have the same Lab 4A: a replicated list of numbered
//! configurations, changed by Join, Leave and Move, with the same rebalancing
//! rule. The Raft series' `shardctrler` (6.5840's Lab 4A) replicates it with
//! Raft, the Paxos series' `shardmaster` (6.824 Spring 2015's Lab 4A) with
//! Paxos; the configuration and the rebalance are one algorithm, written
//! once here. This crate depends on serde only, so the arrows point down:
//! `shardctrler` (Raft) and `shardmaster` (Paxos) both use it, and neither
//! series depends on the other. A student writes [`Config::join`],
//! [`Config::leave`] and [`Config::move_shard`] once, in whichever series
//! comes first (parts 4A and P4A).
//!
//! A configuration says which replica group (by GID) serves each of the
//! `N_SHARDS` shards, and which servers make up each group. The controller's
//! state machine is a list of configurations; Join, Leave and Move each append
//! a new one. Everything here is deterministic: every replica applies the same
//! operations in the same order and must compute the very same configuration,
//! so no hash-map iteration, no randomness, and ties broken by GID.
//!
// BEGIN SOLUTION
//! Rebalancing must leave the shards spread as evenly as possible (the counts
//! of any two groups differ by at most one) while moving as few shards as
//! possible. The rule: each group's target is `N_SHARDS / groups`, and the
//! `N_SHARDS % groups` extra shards go to the groups that already hold the most
//! (ties to the lower GID), so nobody gives up a shard it could keep. Groups
//! over their target release their highest-numbered shards, shards of departed
//! groups are released too, and groups under target take released shards in
//! shard order, lowest GID first.
//!
// END SOLUTION
//! [`check`] holds the tests' checks of a configuration (Go's `check` and
//! `check_same_config`), which both series' tests make.

pub mod check;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The number of shards.
pub const N_SHARDS: usize = 10;

/// A replica group's id. GID 0 is "no group".
pub type Gid = u64;

/// The invalid group that owns every shard in configuration 0.
pub const NO_GROUP: Gid = 0;

/// One configuration: a numbered assignment of shards to groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub num: u64,
    /// shard -> gid
    pub shards: [Gid; N_SHARDS],
    /// gid -> the group's server names
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl Config {
    /// The shards `gid` serves in this configuration.
    pub fn shards_of(&self, gid: Gid) -> Vec<usize> {
        (0..N_SHARDS).filter(|&s| self.shards[s] == gid).collect()
    }

    /// The next configuration after adding `groups` (existing GIDs get their
    /// server lists replaced) and rebalancing.
    pub fn join(&self, groups: &BTreeMap<Gid, Vec<String>>) -> Config {
        // BEGIN SOLUTION
        let mut next = self.successor();
        for (gid, servers) in groups {
            assert_ne!(*gid, NO_GROUP, "GID 0 is reserved");
            next.groups.insert(*gid, servers.clone());
        }
        next.rebalance();
        next
        // HANDOUT
        // todo!("4A: Config::join, add groups and rebalance (P4A too)")
        // END SOLUTION
    }

    /// The next configuration after removing `gids` and rebalancing.
    pub fn leave(&self, gids: &[Gid]) -> Config {
        // BEGIN SOLUTION
        let mut next = self.successor();
        for gid in gids {
            next.groups.remove(gid);
        }
        next.rebalance();
        next
        // HANDOUT
        // todo!("4A: Config::leave, remove groups and rebalance (P4A too)")
        // END SOLUTION
    }

    /// The next configuration with `shard` assigned to `gid`, no rebalancing.
    pub fn move_shard(&self, shard: usize, gid: Gid) -> Config {
        // BEGIN SOLUTION
        let mut next = self.successor();
        if shard < N_SHARDS {
            next.shards[shard] = gid;
        }
        next
        // HANDOUT
        // todo!("4A: Config::move_shard (P4A too)")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    fn successor(&self) -> Config {
        Config {
            num: self.num + 1,
            shards: self.shards,
            groups: self.groups.clone(),
        }
    }

    /// Reassigns shards so counts differ by at most one, moving as few as possible.
    fn rebalance(&mut self) {
        if self.groups.is_empty() {
            self.shards = [NO_GROUP; N_SHARDS];
            return;
        }
        let targets = self.targets();
        let mut released: Vec<usize> = Vec::new();
        let mut held: BTreeMap<Gid, Vec<usize>> =
            self.groups.keys().map(|g| (*g, Vec::new())).collect();
        for shard in 0..N_SHARDS {
            match held.get_mut(&self.shards[shard]) {
                Some(shards) => shards.push(shard),
                None => released.push(shard),
            }
        }
        for (gid, shards) in held.iter_mut() {
            while shards.len() > targets[gid] {
                released.push(shards.pop().expect("over target means non-empty"));
            }
        }
        released.sort_unstable();
        let mut released = released.into_iter();
        for (gid, shards) in held.iter_mut() {
            while shards.len() < targets[gid] {
                let shard = released.next().expect("targets sum to N_SHARDS");
                self.shards[shard] = *gid;
                shards.push(shard);
            }
        }
        debug_assert!(released.next().is_none(), "every shard has an owner");
    }

    /// How many shards each group should hold.
    fn targets(&self) -> BTreeMap<Gid, usize> {
        let groups = self.groups.len();
        let base = N_SHARDS / groups;
        let extra = N_SHARDS % groups;
        let mut by_holdings: Vec<(usize, Gid)> = self
            .groups
            .keys()
            .map(|gid| (self.shards.iter().filter(|&&g| g == *gid).count(), *gid))
            .collect();
        // Most shards first; among equals, lower GID first.
        by_holdings.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        by_holdings
            .iter()
            .enumerate()
            .map(|(rank, (_, gid))| (*gid, base + usize::from(rank < extra)))
            .collect()
    }
    // END SOLUTION
}

// BEGIN SOLUTION
#[cfg(test)]
mod tests {
    use super::*;

    fn group(gid: Gid) -> BTreeMap<Gid, Vec<String>> {
        BTreeMap::from([(gid, vec![format!("server-{gid}-0")])])
    }

    fn counts(config: &Config) -> Vec<usize> {
        config
            .groups
            .keys()
            .map(|g| config.shards_of(*g).len())
            .collect()
    }

    fn assert_balanced(config: &Config) {
        if config.groups.is_empty() {
            assert_eq!(config.shards, [NO_GROUP; N_SHARDS]);
            return;
        }
        let counts = counts(config);
        if let (Some(max), Some(min)) = (counts.iter().max(), counts.iter().min()) {
            assert!(max - min <= 1, "unbalanced: {counts:?} in {config:?}");
        }
        for gid in config.shards {
            assert!(
                config.groups.contains_key(&gid),
                "shard on unknown group {gid}"
            );
        }
    }

    fn moved(a: &Config, b: &Config) -> usize {
        (0..N_SHARDS)
            .filter(|&s| a.shards[s] != b.shards[s])
            .count()
    }

    #[test]
    fn first_join_takes_every_shard() {
        let c1 = Config::default().join(&group(1));
        assert_eq!(c1.num, 1);
        assert_eq!(c1.shards, [1; N_SHARDS]);
    }

    #[test]
    fn joins_and_leaves_stay_balanced_and_minimal() {
        let mut config = Config::default();
        for gid in 1..=12 {
            let next = config.join(&group(gid));
            assert_balanced(&next);
            if config.groups.len() < N_SHARDS {
                // The newcomer takes its fair share and nothing else moves.
                assert_eq!(moved(&config, &next), next.shards_of(gid).len());
                assert!(next.shards_of(gid).len() <= N_SHARDS / config.groups.len().max(1) + 1);
            }
            config = next;
        }
        for gid in 1..=12 {
            let next = config.leave(&[gid]);
            assert_balanced(&next);
            if !next.groups.is_empty() {
                // Only the departing group's shards move, plus none others.
                let lost = config.shards_of(gid).len();
                assert!(
                    moved(&config, &next) <= lost.max(1),
                    "{config:?} -> {next:?}"
                );
            }
            config = next;
        }
        assert_eq!(config.shards, [NO_GROUP; N_SHARDS]);
    }

    #[test]
    fn rebalancing_is_deterministic() {
        let a = Config::default()
            .join(&group(5))
            .join(&group(3))
            .join(&group(9))
            .leave(&[3]);
        let b = Config::default()
            .join(&group(5))
            .join(&group(3))
            .join(&group(9))
            .leave(&[3]);
        assert_eq!(a, b);
    }

    #[test]
    fn move_assigns_one_shard_without_rebalancing() {
        let c = Config::default().join(&group(1)).join(&group(2));
        let m = c.move_shard(0, 2);
        assert_eq!(m.shards[0], 2);
        assert_eq!(moved(&c, &m), usize::from(c.shards[0] != 2));
        assert_eq!(m.num, c.num + 1);
    }

    #[test]
    fn more_groups_than_shards_leaves_some_idle() {
        let mut config = Config::default();
        for gid in 1..=(N_SHARDS as Gid + 3) {
            config = config.join(&group(gid));
        }
        assert_balanced(&config);
        assert_eq!(counts(&config).iter().filter(|&&c| c == 0).count(), 3);
    }
}
// END SOLUTION
