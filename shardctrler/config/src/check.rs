//! The tests' checks of a configuration, as both series' Go tests make them:
//! `check` (the right groups, every shard on one of them, even balance),
//! `check_same_config` (two configurations equal field by field), the
//! minimal-transfer checks, and TestBasic's "Move" part, the same in both
//! series, over an [`Admin`] clerk. Given code: they panic with Go's
//! messages, so a failing test says what is wrong.

use std::future::Future;

use crate::{Config, Gid, N_SHARDS};

/// Go's `check(t, groups, ck)` on the configuration `c` it queried: `c`
/// has exactly `groups`; if there are any, every shard is on one of them;
/// and no group holds more than one shard more than another.
pub fn check_groups(c: &Config, groups: &[Gid]) {
    assert_eq!(
        c.groups.len(),
        groups.len(),
        "wanted {} groups, got {}",
        groups.len(),
        c.groups.len()
    );
    for g in groups {
        assert!(c.groups.contains_key(g), "missing group {g}");
    }
    if !groups.is_empty() {
        for (s, g) in c.shards.iter().enumerate() {
            assert!(c.groups.contains_key(g), "shard {s} -> invalid group {g}");
        }
    }
    // Go starts min at 257, so a configuration without groups passes.
    let (mut min, mut max) = (257, 0);
    for g in c.groups.keys() {
        let count = c.shards.iter().filter(|&s| s == g).count();
        max = max.max(count);
        min = min.min(count);
    }
    assert!(max <= min + 1, "max {max} too much larger than min {min}");
}

/// Go's `check_same_config(t, c1, c2)` (and TestBasic's "Historical
/// queries" checks): the same number, shards and groups.
pub fn check_same_config(c1: &Config, c2: &Config) {
    assert_eq!(c1.num, c2.num, "Num wrong");
    assert_eq!(c1.shards, c2.shards, "Shards wrong");
    assert_eq!(
        c1.groups.len(),
        c2.groups.len(),
        "number of Groups is wrong"
    );
    for (gid, sa) in &c1.groups {
        let sa1 = c2.groups.get(gid);
        assert!(
            sa1.is_some_and(|sa1| sa1.len() == sa.len()),
            "len(Groups) wrong"
        );
        if let Some(sa1) = sa1 {
            for j in 0..sa.len() {
                assert_eq!(sa[j], sa1[j], "Groups wrong");
            }
        }
    }
}

/// Asserts that `gid`'s server list in `c` is exactly `expected` (Go's
/// "wrong servers for gid" checks).
pub fn check_servers(c: &Config, gid: Gid, expected: &[&str]) {
    let sa = c.groups.get(&gid).cloned().unwrap_or_default();
    assert!(
        sa.len() == expected.len() && sa.iter().zip(expected).all(|(a, b)| a == b),
        "wrong servers for gid {gid}: {sa:?}"
    );
}

/// What the shared test scenarios ask of a controller's clerk; each series'
/// tests implement it for the clerk they use.
pub trait Admin {
    /// Go's `ck.Query(num)`.
    fn query(&mut self, num: i64) -> impl Future<Output = Config>;
    /// Go's `ck.Move(shard, gid)`.
    fn move_shard(&mut self, shard: usize, gid: Gid) -> impl Future<Output = ()>;
}

/// TestBasic's "Move" part once both groups have joined: each shard in turn
/// is moved to `gid3` (the first half) or `gid4` (the rest), and a Move that
/// changes where the shard is must make a new configuration; afterwards every
/// shard must be where it was moved.
pub async fn check_moves(ck: &mut impl Admin, gid3: Gid, gid4: Gid) {
    let target = |shard: usize| if shard < N_SHARDS / 2 { gid3 } else { gid4 };
    for i in 0..N_SHARDS {
        let cf = ck.query(-1).await;
        ck.move_shard(i, target(i)).await;
        if cf.shards[i] != target(i) {
            let cf1 = ck.query(-1).await;
            assert!(cf1.num > cf.num, "Move should increase Config.Num");
        }
    }
    let cf2 = ck.query(-1).await;
    for i in 0..N_SHARDS {
        let gid = target(i);
        assert!(
            cf2.shards[i] == gid,
            "expected shard {i} on gid {gid} actually {}",
            cf2.shards[i]
        );
    }
}

/// Go's "minimal transfers" checks: every shard that `c2` puts on one of
/// `gids` is on the same group in `other` (the configuration before the
/// joins, or the one after the leaves); otherwise fails with `message`.
pub fn check_minimal_transfers(
    c2: &Config,
    other: &Config,
    gids: impl IntoIterator<Item = Gid>,
    message: &str,
) {
    for gid in gids {
        for j in 0..c2.shards.len() {
            if c2.shards[j] == gid {
                assert!(other.shards[j] == gid, "{message}");
            }
        }
    }
}
