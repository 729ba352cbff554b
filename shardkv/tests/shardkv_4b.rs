//! Part 4B: the sharded key/value service, with shard migration and both
//! challenges. Ports of every test in Go's shardkv/test_test.go (2024):
//! TestStaticShards, TestRejection, TestJoinLeave, TestSnapshot,
//! TestMissChange, TestConcurrent1-3, TestUnreliable1-3, TestChallenge1Delete,
//! TestChallenge2Unaffected and TestChallenge2Partial.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use labrpc::sim;
use linearizability::Operation;
use linearizability::models::kv::{KvInput, KvOutput};
use shardkv::{Clerk, key2shard};
use tokio::sync::mpsc;

/// On a reliable network the simulated network delivers at once, so a client
/// operation can take no virtual time at all, and an appender that never
/// pauses (Go's TestConcurrent3) would keep the clock from ever reaching the
/// end of the test. Such appenders therefore wait a random 0..=this many
/// virtual milliseconds between two appends (never inside one). On the
/// unreliable network every message takes 0-26 ms, so TestUnreliable2/3's
/// appenders run unpaced, as in Go.
const UNPACED_PAUSE_MS: u64 = 20;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The keys "0".."n-1" (multiple shards) and `len`-character random values,
/// Put through `ck`.
async fn put_keys(ck: &mut Clerk, n: usize, len: usize) -> (Vec<String>, Vec<String>) {
    let mut ka = Vec::with_capacity(n);
    let mut va = Vec::with_capacity(n);
    for i in 0..n {
        ka.push(i.to_string()); // ensure multiple shards
        va.push(randstring(len));
        ck.put(&ka[i], &va[i]).await;
    }
    (ka, va)
}

/// For every key: check it, append a fresh random string, remember it.
async fn check_and_append(ck: &mut Clerk, ka: &[String], va: &mut [String], len: usize) {
    for i in 0..ka.len() {
        check(ck, &ka[i], &va[i]).await;
        let x = randstring(len);
        ck.append(&ka[i], &x).await;
        va[i] += &x;
    }
}

async fn check_all(ck: &mut Clerk, ka: &[String], va: &[String]) {
    for i in 0..ka.len() {
        check(ck, &ka[i], &va[i]).await;
    }
}

/// Go's "wait a bit" loop: counts completions until 2 s pass without one;
/// a non-empty message is a failure.
async fn count_completions(rx: &mut mpsc::UnboundedReceiver<String>) -> usize {
    let mut ndone = 0;
    loop {
        match sim::timeout(Duration::from_secs(2), rx.recv()).await {
            Ok(Some(err)) => {
                assert!(err.is_empty(), "{err}");
                ndone += 1;
            }
            Ok(None) | Err(sim::Elapsed) => return ndone,
        }
    }
}

/// Background appenders, one per key, as in the concurrent tests.
struct Appenders {
    done: Arc<AtomicBool>,
    va: Arc<Mutex<Vec<String>>>,
    handles: Vec<sim::JoinHandle<()>>,
}

impl Appenders {
    /// One appender per key, each with its own clerk, appending `len`-character
    /// strings with `pause` between appends (`None`: none at all; `Some(ZERO)`:
    /// the random pause of [`UNPACED_PAUSE_MS`]).
    fn start(
        cfg: &Cluster,
        ka: &[String],
        va: Vec<String>,
        len: usize,
        pause: Option<Duration>,
    ) -> Appenders {
        let done = Arc::new(AtomicBool::new(false));
        let va = Arc::new(Mutex::new(va));
        let mut handles = Vec::new();
        for (i, key) in ka.iter().enumerate() {
            let mut ck1 = cfg.make_client(&cfg.ctl());
            let (done, va, key) = (done.clone(), va.clone(), key.clone());
            handles.push(sim::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    let x = randstring(len);
                    ck1.append(&key, &x).await;
                    va.lock().unwrap()[i] += &x;
                    match pause {
                        Some(Duration::ZERO) => {
                            let pause = sim::gen_range(0..=UNPACED_PAUSE_MS);
                            sim::go_sleep(ms(pause)).await;
                        }
                        Some(pause) => sim::sleep(pause).await,
                        None => {}
                    }
                }
            }));
        }
        Appenders { done, va, handles }
    }

    /// Stops them, waits for each to finish its current append, and returns
    /// the expected values.
    async fn stop(self) -> Vec<String> {
        self.done.store(true, Ordering::SeqCst);
        for handle in self.handles {
            handle.await.expect("an appender was cancelled");
        }
        self.va.lock().unwrap().clone()
    }
}

// test static 2-way sharding, without shard movement.
#[test]
fn static_shards_4b() {
    sim::run(async {
        println!("Test (4B): static shards ...");
        let cfg = make_config(3, false, -1);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;
        cfg.join(1).await;

        let n = 10;
        let (ka, va) = put_keys(&mut ck, n, 20).await;
        check_all(&mut ck, &ka, &va).await;

        // make sure that the data really is sharded by shutting down one
        // shard and checking that some Get()s don't succeed.
        cfg.shutdown_group(1);
        cfg.checklogs(); // forbid snapshots

        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..n {
            let mut ck1 = cfg.make_client(&cfg.ctl()); // only one call allowed per client
            let (key, value, tx) = (ka[i].clone(), va[i].clone(), tx.clone());
            sim::spawn(async move {
                let v = ck1.get(&key).await;
                let _ = tx.send(if v != value {
                    format!("Get({key}): expected:\n{value}\nreceived:\n{v}")
                } else {
                    String::new()
                });
            });
        }

        // wait a bit, only about half the Gets should succeed.
        let ndone = count_completions(&mut rx).await;
        assert_eq!(
            ndone,
            n / 2,
            "expected {} completions with one shard dead; got {ndone}",
            n / 2
        );

        // bring the crashed shard/group back to life.
        cfg.start_group(1);
        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

// do servers reject operations on shards for which they are not responsible?
#[test]
fn rejection_4b() {
    sim::run(async {
        println!("Test (4B): rejection ...");
        let cfg = make_config(3, false, -1);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;
        cfg.join(1).await;

        let n = 10;
        let (ka, va) = put_keys(&mut ck, n, 20).await;
        check_all(&mut ck, &ka, &va).await;

        // now create a separate controller that thinks there is only one
        // group, handling all shards. the k/v servers talk to the original
        // controller, so the k/v servers still think the shards are divided
        // between the two k/v groups.
        let ctl1 = cfg.start_ctrler_service();
        cfg.ctljoin(0, &ctl1).await;

        // ask clients that talk to ctl1 to fetch keys. they'll send all
        // requests to a single k/v group. half the requests should be
        // rejected due to being sent to a k/v group that doesn't think it is
        // handling the shard.
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..n {
            let mut ck1 = cfg.make_client(&ctl1);
            let (key, value, tx) = (ka[i].clone(), va[i].clone(), tx.clone());
            sim::spawn(async move {
                let v = ck1.get(&key).await;
                let _ = tx.send(if v == value {
                    String::new()
                } else if v.is_empty() {
                    // if v is "", it probably means that a k/v group returned
                    // a value for a key even though that key's shard wasn't
                    // assigned to the group.
                    format!("Get({key}): returned a value, but server should have rejected the request due to wrong shard")
                } else {
                    format!("Get({key}): expected:\n{value}\nreceived:\n{v}")
                });
            });
        }

        // wait a bit, only about half the Gets should succeed.
        let ndone = count_completions(&mut rx).await;
        assert_eq!(ndone, n / 2, "expected {} completions; got {ndone}", n / 2);
        println!("  ... Passed");
    });
}

#[test]
fn join_leave_4b() {
    sim::run(async {
        println!("Test (4B): join then leave ...");
        let cfg = make_config(3, false, -1);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let (ka, mut va) = put_keys(&mut ck, n, 5).await;
        check_all(&mut ck, &ka, &va).await;

        cfg.join(1).await;
        check_and_append(&mut ck, &ka, &mut va, 5).await;

        cfg.leave(0).await;
        check_and_append(&mut ck, &ka, &mut va, 5).await;

        // allow time for shards to transfer.
        sim::sleep(Duration::from_secs(1)).await;

        cfg.checklogs();
        cfg.shutdown_group(0);

        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

#[test]
fn snapshot_4b() {
    sim::run(async {
        println!("Test (4B): snapshots, join, and leave ...");
        let cfg = make_config(3, false, 1000);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 30;
        let (ka, mut va) = put_keys(&mut ck, n, 20).await;
        check_all(&mut ck, &ka, &va).await;

        cfg.join(1).await;
        cfg.join(2).await;
        cfg.leave(0).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;

        cfg.leave(1).await;
        cfg.join(0).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;

        sim::sleep(Duration::from_secs(1)).await;
        check_all(&mut ck, &ka, &va).await;
        sim::sleep(Duration::from_secs(1)).await;

        cfg.checklogs();

        cfg.shutdown_group(0);
        cfg.shutdown_group(1);
        cfg.shutdown_group(2);

        cfg.start_group(0);
        cfg.start_group(1);
        cfg.start_group(2);

        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

#[test]
fn miss_change_4b() {
    sim::run(async {
        println!("Test (4B): servers miss configuration changes...");
        let cfg = make_config(3, false, 1000);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let (ka, mut va) = put_keys(&mut ck, n, 20).await;
        check_all(&mut ck, &ka, &va).await;

        cfg.join(1).await;

        cfg.shutdown_server(0, 0);
        cfg.shutdown_server(1, 0);
        cfg.shutdown_server(2, 0);

        cfg.join(2).await;
        cfg.leave(1).await;
        cfg.leave(0).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;

        cfg.join(1).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;

        cfg.start_server(0, 0);
        cfg.start_server(1, 0);
        cfg.start_server(2, 0);
        check_and_append(&mut ck, &ka, &mut va, 20).await;

        sim::sleep(Duration::from_secs(2)).await;

        cfg.shutdown_server(0, 1);
        cfg.shutdown_server(1, 1);
        cfg.shutdown_server(2, 1);

        cfg.join(0).await;
        cfg.leave(2).await;
        check_and_append(&mut ck, &ka, &mut va, 20).await;

        cfg.start_server(0, 1);
        cfg.start_server(1, 1);
        cfg.start_server(2, 1);
        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

#[test]
fn concurrent1_4b() {
    sim::run(async {
        println!("Test (4B): concurrent puts and configuration changes...");
        let cfg = make_config(3, false, 100);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let (ka, va) = put_keys(&mut ck, n, 5).await;
        let appenders = Appenders::start(&cfg, &ka, va, 5, Some(ms(10)));

        sim::sleep(ms(150)).await;
        cfg.join(1).await;
        sim::sleep(ms(500)).await;
        cfg.join(2).await;
        sim::sleep(ms(500)).await;
        cfg.leave(0).await;

        cfg.shutdown_group(0);
        sim::sleep(ms(100)).await;
        cfg.shutdown_group(1);
        sim::sleep(ms(100)).await;
        cfg.shutdown_group(2);

        cfg.leave(2).await;

        sim::sleep(ms(100)).await;
        cfg.start_group(0);
        cfg.start_group(1);
        cfg.start_group(2);

        sim::sleep(ms(100)).await;
        cfg.join(0).await;
        cfg.leave(1).await;
        sim::sleep(ms(500)).await;
        cfg.join(1).await;

        sim::sleep(Duration::from_secs(1)).await;

        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

// this tests the various sources from which a re-starting group might need
// to fetch shard contents.
#[test]
fn concurrent2_4b() {
    sim::run(async {
        println!("Test (4B): more concurrent puts and configuration changes...");
        let cfg = make_config(3, false, -1);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(1).await;
        cfg.join(0).await;
        cfg.join(2).await;

        let n = 10;
        let (ka, va) = put_keys(&mut ck, n, 1).await;
        let appenders = Appenders::start(&cfg, &ka, va, 1, Some(ms(50)));

        cfg.leave(0).await;
        cfg.leave(2).await;
        sim::sleep(ms(3000)).await;
        cfg.join(0).await;
        cfg.join(2).await;
        cfg.leave(1).await;
        sim::sleep(ms(3000)).await;
        cfg.join(1).await;
        cfg.leave(0).await;
        cfg.leave(2).await;
        sim::sleep(ms(3000)).await;

        cfg.shutdown_group(1);
        cfg.shutdown_group(2);
        sim::sleep(ms(1000)).await;
        cfg.start_group(1);
        cfg.start_group(2);

        sim::sleep(Duration::from_secs(2)).await;

        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

#[test]
fn concurrent3_4b() {
    sim::run(async {
        println!("Test (4B): concurrent configuration change and restart...");
        let cfg = make_config(3, false, 300);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let (ka, va) = put_keys(&mut ck, n, 1).await;
        // Go's appenders here never pause; see UNPACED_PAUSE_MS.
        let appenders = Appenders::start(&cfg, &ka, va, 1, Some(Duration::ZERO));

        let t0 = sim::now();
        while t0.elapsed() < Duration::from_secs(12) {
            cfg.join(2).await;
            cfg.join(1).await;
            sim::go_sleep(ms(sim::gen_range(0..900))).await;
            cfg.shutdown_group(0);
            cfg.shutdown_group(1);
            cfg.shutdown_group(2);
            cfg.start_group(0);
            cfg.start_group(1);
            cfg.start_group(2);
            sim::go_sleep(ms(sim::gen_range(0..900))).await;
            cfg.leave(1).await;
            cfg.leave(2).await;
            sim::go_sleep(ms(sim::gen_range(0..900))).await;
        }

        sim::sleep(Duration::from_secs(2)).await;

        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

#[test]
fn unreliable1_4b() {
    sim::run(async {
        println!("Test (4B): unreliable 1...");
        let cfg = make_config(3, true, 100);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let (ka, mut va) = put_keys(&mut ck, n, 5).await;

        cfg.join(1).await;
        cfg.join(2).await;
        cfg.leave(0).await;

        for ii in 0..n * 2 {
            let i = ii % n;
            check(&mut ck, &ka[i], &va[i]).await;
            let x = randstring(5);
            ck.append(&ka[i], &x).await;
            va[i] += &x;
        }

        cfg.join(0).await;
        cfg.leave(1).await;

        for ii in 0..n * 2 {
            let i = ii % n;
            check(&mut ck, &ka[i], &va[i]).await;
        }
        println!("  ... Passed");
    });
}

#[test]
fn unreliable2_4b() {
    sim::run(async {
        println!("Test (4B): unreliable 2...");
        let cfg = make_config(3, true, 100);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let (ka, va) = put_keys(&mut ck, n, 5).await;
        let appenders = Appenders::start(&cfg, &ka, va, 5, None);

        sim::sleep(ms(150)).await;
        cfg.join(1).await;
        sim::sleep(ms(500)).await;
        cfg.join(2).await;
        sim::sleep(ms(500)).await;
        cfg.leave(0).await;
        sim::sleep(ms(500)).await;
        cfg.leave(1).await;
        sim::sleep(ms(500)).await;
        cfg.join(1).await;
        cfg.join(0).await;

        sim::sleep(Duration::from_secs(2)).await;

        appenders.done.store(true, Ordering::SeqCst);
        cfg.net().set_reliable(true);
        let va = appenders.stop().await;
        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

#[test]
fn unreliable3_4b() {
    sim::run(async {
        println!("Test (4B): unreliable 3...");
        let cfg = make_config(3, true, 100);
        let begin = sim::now();
        let since = move || (sim::now() - begin).as_nanos() as i64;
        let operations: Arc<Mutex<Vec<Operation<KvInput, KvOutput>>>> = Arc::default();

        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        let n = 10;
        let mut ka = Vec::new();
        for i in 0..n {
            ka.push(i.to_string()); // ensure multiple shards
            let value = randstring(5);
            let start = since();
            ck.put(&ka[i], &value).await;
            let end = since();
            operations.lock().unwrap().push(Operation {
                client_id: 0,
                input: KvInput::put(ka[i].clone(), value),
                call: start,
                output: KvOutput::default(),
                return_time: end,
            });
        }

        let done = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for i in 0..n {
            let mut ck1 = cfg.make_client(&cfg.ctl());
            let (done, operations, ka) = (done.clone(), operations.clone(), ka.clone());
            handles.push(sim::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    let ki = sim::gen_range(0..n);
                    let nv = randstring(5);
                    let start = since();
                    let (input, output) = if sim::gen_range(0..1000) < 500 {
                        ck1.append(&ka[ki], &nv).await;
                        (KvInput::append(ka[ki].clone(), nv), KvOutput::default())
                    } else if sim::gen_range(0..1000) < 100 {
                        ck1.put(&ka[ki], &nv).await;
                        (KvInput::put(ka[ki].clone(), nv), KvOutput::default())
                    } else {
                        let value = ck1.get(&ka[ki]).await;
                        (KvInput::get(ka[ki].clone()), KvOutput { value })
                    };
                    let end = since();
                    operations.lock().unwrap().push(Operation {
                        client_id: i,
                        input,
                        call: start,
                        output,
                        return_time: end,
                    });
                }
            }));
        }

        sim::sleep(ms(150)).await;
        cfg.join(1).await;
        sim::sleep(ms(500)).await;
        cfg.join(2).await;
        sim::sleep(ms(500)).await;
        cfg.leave(0).await;
        sim::sleep(ms(500)).await;
        cfg.leave(1).await;
        sim::sleep(ms(500)).await;
        cfg.join(1).await;
        cfg.join(0).await;

        sim::sleep(Duration::from_secs(2)).await;

        done.store(true, Ordering::SeqCst);
        cfg.net().set_reliable(true);
        for handle in handles {
            handle.await.expect("a client was cancelled");
        }

        let history = std::mem::take(&mut *operations.lock().unwrap());
        labtest::history::check_linearizable(history);
        println!("  ... Passed");
    });
}

// optional test to see whether servers are deleting shards for which they
// are no longer responsible.
#[test]
fn challenge1_delete_4b() {
    sim::run(async {
        println!("Test: shard deletion (challenge 1) ...");
        // "1" means force snapshot after every log entry.
        let cfg = make_config(3, false, 1);
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;

        // 30,000 bytes of total values.
        let n = 30;
        let (ka, va) = put_keys(&mut ck, n, 1000).await;
        check_all(&mut ck, &ka[..3], &va[..3]).await;

        for _ in 0..2 {
            cfg.join(1).await;
            cfg.leave(0).await;
            cfg.join(2).await;
            sim::sleep(Duration::from_secs(3)).await;
            check_all(&mut ck, &ka[..3], &va[..3]).await;
            cfg.leave(1).await;
            cfg.join(0).await;
            cfg.leave(2).await;
            sim::sleep(Duration::from_secs(3)).await;
            check_all(&mut ck, &ka[..3], &va[..3]).await;
        }

        cfg.join(1).await;
        cfg.join(2).await;
        for _ in 0..3 {
            sim::sleep(Duration::from_secs(1)).await;
            check_all(&mut ck, &ka[..3], &va[..3]).await;
        }

        let total = cfg.total_persisted_size();
        // 27 keys should be stored once. 3 keys should also be stored in
        // client dup tables. everything on 3 replicas. plus slop.
        let expected = 3 * (((n - 3) * 1000) + 2 * 3 * 1000 + 6000);
        println!("info: {total} bytes of Raft state and snapshots (limit {expected})");
        assert!(
            total <= expected,
            "snapshot + persisted Raft state are too big: {total} > {expected}"
        );

        check_all(&mut ck, &ka, &va).await;
        println!("  ... Passed");
    });
}

// optional test to see whether servers can handle shards that are not
// affected by a config change while the config change is underway
#[test]
fn challenge2_unaffected_4b() {
    sim::run(async {
        println!("Test: unaffected shard access (challenge 2) ...");
        let cfg = make_config(3, true, 100);
        let mut ck = cfg.make_client(&cfg.ctl());

        // JOIN 100
        cfg.join(0).await;

        // Do a bunch of puts to keys in all shards
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let mut va: Vec<String> = vec!["100".to_string(); n];
        for i in 0..n {
            ck.put(&ka[i], &va[i]).await;
        }

        // JOIN 101
        cfg.join(1).await;

        // QUERY to find shards now owned by 101
        let c = cfg.ctl().ck.lock().await.query(-1).await;
        let gid1 = cfg.gid(1);
        let owned: Vec<bool> = c.shards.iter().map(|&gid| gid == gid1).collect();

        // Wait for migration to new config to complete, and for clients to
        // start using this updated config. Gets to any key k such that
        // owned[shard(k)] == true should now be served by group 101.
        sim::sleep(Duration::from_secs(1)).await;
        for i in 0..n {
            // (As in Go, this indexes `owned` by key index, not by shard.)
            if owned[i] {
                va[i] = "101".to_string();
                ck.put(&ka[i], &va[i]).await;
            }
        }

        // KILL 100
        cfg.shutdown_group(0);

        // LEAVE 100
        // 101 doesn't get a chance to migrate things previously owned by 100
        cfg.leave(0).await;

        // Wait to make sure clients see new config
        sim::sleep(Duration::from_secs(1)).await;

        // And finally: check that gets/puts for 101-owned keys still complete
        for i in 0..n {
            let shard = usize::from(ka[i].as_bytes()[0]) % 10;
            if owned[shard] {
                check(&mut ck, &ka[i], &va[i]).await;
                ck.put(&ka[i], &format!("{}-1", va[i])).await;
                check(&mut ck, &ka[i], &format!("{}-1", va[i])).await;
            }
        }
        println!("  ... Passed");
    });
}

// optional test to see whether servers can handle operations on shards that
// have been received as a part of a config migration when the entire
// migration has not yet completed.
#[test]
fn challenge2_partial_4b() {
    sim::run(async {
        println!("Test: partial migration shard access (challenge 2) ...");
        let cfg = make_config(3, true, 100);
        let mut ck = cfg.make_client(&cfg.ctl());

        // JOIN 100 + 101 + 102
        cfg.joinm(&[0, 1, 2], &cfg.ctl()).await;

        // Give the implementation some time to reconfigure
        sim::sleep(Duration::from_secs(1)).await;

        // Do a bunch of puts to keys in all shards
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let va: Vec<String> = vec!["100".to_string(); n];
        for i in 0..n {
            ck.put(&ka[i], &va[i]).await;
        }

        // QUERY to find shards owned by 102
        let c = cfg.ctl().ck.lock().await.query(-1).await;
        let gid2 = cfg.gid(2);
        let owned: Vec<bool> = c.shards.iter().map(|&gid| gid == gid2).collect();

        // KILL 100
        cfg.shutdown_group(0);

        // LEAVE 100 + 102
        // 101 can get old shards from 102, but not from 100. 101 should start
        // serving shards that used to belong to 102 as soon as possible
        cfg.leavem(&[0, 2]).await;

        // Give the implementation some time to start reconfiguration
        // And to migrate 102 -> 101
        sim::sleep(Duration::from_secs(1)).await;

        // And finally: check that gets/puts for 101-owned keys now complete
        for i in 0..n {
            let shard = key2shard(&ka[i]);
            if owned[shard] {
                check(&mut ck, &ka[i], &va[i]).await;
                ck.put(&ka[i], &format!("{}-2", va[i])).await;
                check(&mut ck, &ka[i], &format!("{}-2", va[i])).await;
            }
        }
        println!("  ... Passed");
    });
}

/// Go's `check`: `Get(key)` must return `value`.
pub async fn check(ck: &mut Clerk, key: &str, value: &str) {
    let v = ck.get(key).await;
    assert!(v == value, "Get({key}): expected:\n{value}\nreceived:\n{v}");
}
