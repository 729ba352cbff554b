//! Lab 4B of the 2015 series: ports of Go's `shardkv/test_test.go` (MIT
//! 6.824 Spring 2015 at 51803f8, the same file as UCLA CS134's), one
//! `#[test]` per Go test, with Go's scenarios, constants and checks:
//! TestBasic, TestMove (here `move_shards`: `move` is a Rust keyword),
//! TestLimp, TestConcurrent and TestConcurrentUnreliable.
//!
//! Added to Go's checks: every history of client operations goes through
//! the linearizability checker at the end.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Client, Config, rand_int_string};
use labrpc::{sim, timeline};
use paxos_shardkv::N_SHARDS;

/// TestBasic's and TestLimp's 10 keys: random numbers, Put with random values.
async fn put_random_keys(ck: &mut Client) -> (Vec<String>, Vec<String>) {
    let keys: Vec<String> = (0..10).map(|_| rand_int_string()).collect();
    let mut vals = Vec::with_capacity(keys.len());
    for key in &keys {
        vals.push(rand_int_string());
        ck.put(key, vals.last().unwrap()).await;
    }
    (keys, vals)
}

/// Every key must still read its value ("joining" or "leaving" group `g`);
/// then it gets a new one.
async fn check_and_reput(
    ck: &mut Client,
    keys: &[String],
    vals: &mut [String],
    phase: &str,
    g: usize,
) {
    for (key, val) in keys.iter().zip(vals.iter_mut()) {
        let v = ck.get(key).await;
        assert!(
            v == *val,
            "{phase}; wrong value; g={g} k={key} wanted={val} got={v}"
        );
        *val = rand_int_string();
        ck.put(key, val).await;
    }
}

/// Are keys still there after joins? Groups 1 and 2 join, 1 s apart.
async fn check_joins(tc: &Config, ck: &mut Client, keys: &[String], vals: &mut [String]) {
    for g in 1..tc.ngroups() {
        tc.join(g).await;
        sim::sleep(Duration::from_secs(1)).await;
        check_and_reput(ck, keys, vals, "joining", g).await;
    }
}

#[test]
fn basic() {
    Config::test("basic", false, "Test: Basic Join/Leave").run(|tc| async move {
        tc.join(0).await;
        let mut ck = tc.clerk();
        ck.put("a", "x").await;
        ck.append("a", "b").await;
        assert!(ck.get("a").await == "xb", "Get got wrong value");

        let (keys, mut vals) = put_random_keys(&mut ck).await;
        check_joins(&tc, &mut ck, &keys, &mut vals).await;

        // Are keys still there after leaves?
        for g in 0..tc.ngroups() - 1 {
            tc.leave(g).await;
            sim::sleep(Duration::from_secs(1)).await;
            check_and_reput(&mut ck, &keys, &mut vals, "leaving", g).await;
        }
    });
}

#[test]
fn move_shards() {
    Config::test("move", false, "Test: Shards really move").run(|tc| async move {
        tc.join(0).await;
        let mut ck = tc.clerk();

        // Insert one key per shard: "0".."9" (key2shard is (48 + i) % 10).
        let key = |i: usize| char::from(b'0' + i as u8).to_string();
        for i in 0..N_SHARDS {
            ck.put(&key(i), &key(i)).await;
        }

        // Add group 1.
        tc.join(1).await;
        sim::sleep(Duration::from_secs(5)).await;

        // Check that keys are still there.
        for i in 0..N_SHARDS {
            assert!(ck.get(&key(i)).await == key(i), "missing key/value");
        }

        // Remove sockets from group 0.
        tc.deafen(0);

        let count = Arc::new(AtomicUsize::new(0));
        for me in 0..N_SHARDS {
            let mut myck = tc.clerk();
            let count = count.clone();
            // Detached: the Gets of group 0's shards never return.
            drop(myck.node().spawn(async move {
                let v = myck.get(&key(me)).await;
                assert!(v == key(me), "Get({me}) yielded {v}");
                count.fetch_add(1, Ordering::SeqCst);
            }));
        }

        sim::sleep(Duration::from_secs(10)).await;

        let ccc = count.load(Ordering::SeqCst);
        assert!(
            ccc > N_SHARDS / 3 && ccc < 2 * (N_SHARDS / 3),
            "{ccc} keys worked after killing 1/2 of groups; wanted {}",
            N_SHARDS / 2
        );
    });
}

#[test]
fn limp() {
    Config::test(
        "limp",
        false,
        "Test: Reconfiguration with some dead replicas",
    )
    .run(|tc| async move {
        tc.join(0).await;
        let mut ck = tc.clerk();
        ck.put("a", "b").await;
        assert!(ck.get("a").await == "b", "got wrong value");

        // Kill one server from each replica group.
        for gi in 0..tc.ngroups() {
            let ns = tc.ports(gi).len();
            tc.kill(gi, sim::gen_range(0..ns));
        }

        let (keys, mut vals) = put_random_keys(&mut ck).await;
        check_joins(&tc, &mut ck, &keys, &mut vals).await;

        // Are keys still there after leaves?
        for gi in 0..tc.ngroups() - 1 {
            tc.leave(gi).await;
            sim::sleep(Duration::from_secs(2)).await;
            for si in 0..tc.ports(gi).len() {
                tc.kill(gi, si);
            }
            check_and_reput(&mut ck, &keys, &mut vals, "leaving", gi).await;
        }
    });
}

/// Go's `doConcurrent(t, unreliable)`, in TestConcurrent and
/// TestConcurrentUnreliable (`description`, Go's `Test: ...` line).
fn do_concurrent(unreliable: bool, description: &'static str) {
    let tag = format!("concurrent-{unreliable}");
    Config::test(&tag, unreliable, description).run(|tc| async move {
        for gi in 0..tc.ngroups() {
            tc.join(gi).await;
        }

        const NPARA: usize = 11;
        let tasks: Vec<_> = (0..NPARA)
            .map(|me| {
                let mut ck = tc.clerk();
                let mut mymck = tc.shardclerk();
                let gids: Vec<_> = (0..tc.ngroups()).map(|gi| tc.gid(gi)).collect();
                ck.node().spawn(async move {
                    let key = me.to_string();
                    let mut last = String::new();
                    for _ in 0..3 {
                        let nv = rand_int_string();
                        ck.append(&key, &nv).await;
                        last += &nv;
                        let v = ck.get(&key).await;
                        assert!(v == last, "Get({key}) expected {last} got {v}");

                        let gid = gids[sim::gen_range(0..gids.len())];
                        let shard = sim::gen_range(0..N_SHARDS);
                        timeline::mark("shardmaster", &format!("move {shard} to {gid}"));
                        let moved = mymck.move_shard(shard, gid).await;
                        moved.unwrap_or_else(|e| panic!("Move({shard}, {gid}): {e}"));

                        // Go's rand.Int() % 30 ms, zero included.
                        sim::go_sleep(Duration::from_millis(sim::gen_range(0..30))).await;
                    }
                    true
                })
            })
            .collect();
        for task in tasks {
            let ok = task.await.expect("a client task was cancelled");
            assert!(ok, "something is wrong");
        }
    });
}

#[test]
fn concurrent() {
    do_concurrent(false, "Test: Concurrent Put/Get/Move");
}

#[test]
fn concurrent_unreliable() {
    do_concurrent(true, "Test: Concurrent Put/Get/Move (unreliable)");
}
