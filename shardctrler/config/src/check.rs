//! The tests' checks of a configuration, as both series' Go tests make them:
//! `check` (the right groups, every shard on one of them, even balance) and
//! `check_same_config` (two configurations equal field by field). Given
//! code: they panic with Go's messages, so a failing test says what is wrong.

use crate::{Config, Gid};

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
