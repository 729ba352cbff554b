//! Tests beyond Go's: each a scenario built to expose one class of bug that
//! students make in Lab 4B and that Go's tests catch rarely or only by luck.
//! Every test records its history and checks it with the append model check
//! ([`labtest::appends`]), which does not rely on the linearizability
//! checker, besides comparing each key's final value with what was written.
//!
//! Each test names the bug class it targets; `scripts/mutants/shardkv/` holds
//! those bugs as mutants of the reference, and docs/testing.md the fraction of
//! seeds in which each test catches them.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use labrpc::sim;
use labtest::appends::{assert_appends_ok, value};
use labtest::history::{KvLog, timed};
use linearizability::models::kv::KvInput;
use shardkv::Clerk;

/// Longest a single operation may take before the test fails as stuck
/// (virtual time; a correct service needs well under this).
const OP_LIMIT: Duration = Duration::from_secs(10);

/// The keys, one per shard ("0".."9" fall in ten different shards).
const NKEYS: usize = 10;

async fn within<T>(what: &str, op: impl std::future::Future<Output = T>) -> T {
    labtest::within(OP_LIMIT, what, op).await
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn keys() -> Vec<String> {
    (0..NKEYS).map(|i| i.to_string()).collect()
}

async fn get(ck: &mut Clerk, log: &KvLog, cli: usize, key: &str) -> String {
    let op = async { ck.get(key).await };
    within(
        &format!("Get({key})"),
        timed(Some(log), cli, KvInput::get(key), op),
    )
    .await
}

async fn put(ck: &mut Clerk, log: &KvLog, cli: usize, key: &str, v: &str) {
    let op = async {
        ck.put(key, v).await;
        String::new()
    };
    within(
        &format!("Put({key})"),
        timed(Some(log), cli, KvInput::put(key, v), op),
    )
    .await;
}

async fn append(ck: &mut Clerk, log: &KvLog, cli: usize, key: &str, v: &str) {
    let op = async {
        ck.append(key, v).await;
        String::new()
    };
    let input = KvInput::append(key, v);
    within(&format!("Append({key})"), timed(Some(log), cli, input, op)).await;
}

/// One test here in a simulation of its own: the opening every test shares
/// (three groups, `make_config(3, unreliable, maxraftstate)`, group 0
/// joined, `value(0, i)` put into each key i), then `test(cfg, log, ck, va)`
/// with the cluster, the history, the test's clerk and the values (the test
/// prints its title first), then `  ... Passed`.
fn run_test<F, Fut>(unreliable: bool, maxraftstate: i64, test: F)
where
    F: FnOnce(Cluster, KvLog, Clerk, Vec<String>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    sim::run(async move {
        let cfg = make_config(3, unreliable, maxraftstate);
        let log = KvLog::new();
        let mut ck = cfg.make_client(&cfg.ctl());
        cfg.join(0).await;
        let va = put_all(&mut ck, &log).await;
        test(cfg, log, ck, va).await;
        println!("  ... Passed");
    });
}

/// Puts `value(0, i)` into key i; returns the values.
async fn put_all(ck: &mut Clerk, log: &KvLog) -> Vec<String> {
    let mut va = Vec::new();
    for (i, key) in keys().iter().enumerate() {
        let v = value(0, i);
        put(ck, log, 0, key, &v).await;
        va.push(v);
    }
    va
}

/// Every key holds exactly what was written to it, and the whole history
/// passes the append model check.
async fn check_all(ck: &mut Clerk, log: &KvLog, va: &[String]) {
    // Strictly after every other operation in virtual time: an operation
    // that starts at the instant another returns counts as concurrent with it.
    sim::sleep(ms(1)).await;
    for (i, key) in keys().iter().enumerate() {
        let v = get(ck, log, 0, key).await;
        assert!(
            v == va[i],
            "Get({key}): expected:\n{}\nreceived:\n{v}",
            va[i]
        );
    }
    assert_appends_ok(&log.read());
}

/// One appender per key, each with its own clerk (client `1 + key`), writing
/// fresh tokens with a random pause of up to `pause_ms` between Appends.
struct Appenders {
    done: Arc<AtomicBool>,
    handles: Vec<sim::JoinHandle<String>>,
}

impl Appenders {
    fn start(cfg: &Cluster, log: &KvLog, va: &[String], pause_ms: u64) -> Appenders {
        let done = Arc::new(AtomicBool::new(false));
        let handles = keys()
            .into_iter()
            .enumerate()
            .map(|(i, key)| {
                let mut ck = cfg.make_client(&cfg.ctl());
                let (done, log, mut v) = (done.clone(), log.clone(), va[i].clone());
                sim::spawn(async move {
                    let mut j = 0;
                    while !done.load(Ordering::SeqCst) {
                        let x = value(1 + i, j);
                        append(&mut ck, &log, 1 + i, &key, &x).await;
                        v += &x;
                        j += 1;
                        sim::go_sleep(ms(sim::gen_range(0..=pause_ms))).await;
                    }
                    v
                })
            })
            .collect();
        Appenders { done, handles }
    }

    /// Stops them and returns each key's expected value.
    async fn stop(self) -> Vec<String> {
        self.done.store(true, Ordering::SeqCst);
        let mut va = Vec::new();
        for handle in self.handles {
            va.push(
                within("an appender's last Append", handle)
                    .await
                    .expect("appender"),
            );
        }
        va
    }

    /// Stops them and checks every key and the history (the end of a test).
    async fn finish(self, ck: &mut Clerk, log: &KvLog) {
        let va = self.stop().await;
        check_all(ck, log, &va).await;
    }
}

/// Targets a shard served as soon as the new configuration assigns it,
/// before its data has arrived. Group 101 joins and at once the previous
/// owner of its new shards goes down, so their data cannot arrive; Gets
/// for those keys must wait (and then return the old values), not answer
/// from an empty shard.
#[test]
fn shard_not_served_before_it_arrives_4b() {
    run_test(false, -1, |cfg, log, mut ck, va| async move {
        println!("Test (4B): a shard is not served before its data arrives ...");

        cfg.join(1).await;
        cfg.shutdown_group(0);

        // One clerk per key, all at once; those of shards that stay with
        // group 100 wait for it, the others for group 100's data too.
        let mut gets = Vec::new();
        for (i, key) in keys().into_iter().enumerate() {
            let mut ck1 = cfg.make_client(&cfg.ctl());
            let log = log.clone();
            gets.push((
                i,
                sim::spawn(async move { get(&mut ck1, &log, 11 + i, &key).await }),
            ));
        }
        sim::sleep(ms(1000)).await;
        for (i, handle) in &gets {
            if handle.is_finished() {
                panic!(
                    "Get({i}) completed while the only group with its data was down \
                     (expected {:?})",
                    va[*i]
                );
            }
        }
        cfg.start_group(0);
        for (i, handle) in gets {
            let v = within("a Get after the old owner came back", handle)
                .await
                .expect("Get task");
            assert!(v == va[i], "Get({i}): expected {:?}, received {v:?}", va[i]);
        }
        check_all(&mut ck, &log, &va).await;
    });
}

/// Targets a shard handed over without its duplicate table, and snapshots
/// that leave it out. On an unreliable network (a tenth of all replies lost)
/// shards move every few hundred milliseconds while every key gets Appends;
/// a clerk whose reply was lost retries, often at the shard's next owner,
/// which must recognise the retry. Each Append must be in its key exactly
/// once, in order.
#[test]
fn moved_shard_keeps_duplicate_table_4b() {
    run_test(true, 200, |cfg, log, mut ck, va| async move {
        println!("Test (4B): unreliable net, shards move with their duplicate tables ...");
        let appenders = Appenders::start(&cfg, &log, &va, 20);

        for round in 0..4 {
            let (a, b) = if round % 2 == 0 { (1, 2) } else { (0, 1) };
            sim::sleep(ms(sim::gen_range(200..400))).await;
            cfg.join(a).await;
            sim::sleep(ms(sim::gen_range(200..400))).await;
            cfg.join(b).await;
            sim::sleep(ms(sim::gen_range(200..400))).await;
            cfg.leave(if round % 2 == 0 { 0 } else { 2 }).await;
        }
        sim::sleep(ms(500)).await;

        cfg.net().set_reliable(true);
        appenders.finish(&mut ck, &log).await;
    });
}

/// Targets configurations applied out of order or skipped, a configuration
/// applied while the previous one's shards are still moving, and a shard
/// handed over before its previous owner stopped serving it. Configuration
/// changes follow each other faster than shards can move, while every key
/// gets Appends, and one server of each group misses some of them (down,
/// then restarted); snapshots are small. Each key must end up holding
/// exactly what was appended to it.
#[test]
fn rapid_reconfiguration_4b() {
    run_test(false, 300, |cfg, log, mut ck, va| async move {
        println!("Test (4B): configuration changes faster than shards move ...");
        let appenders = Appenders::start(&cfg, &log, &va, 10);

        let changes: [(bool, usize); 9] = [
            (true, 1),
            (true, 2),
            (false, 0),
            (false, 1),
            (true, 0),
            (false, 2),
            (true, 1),
            (true, 2),
            (false, 1),
        ];
        for (step, &(join, gi)) in changes.iter().enumerate() {
            if step == 3 {
                for g in 0..cfg.ngroups() {
                    cfg.shutdown_server(g, 0);
                }
            }
            if step == 6 {
                for g in 0..cfg.ngroups() {
                    cfg.start_server(g, 0);
                }
            }
            if join {
                cfg.join(gi).await;
            } else {
                cfg.leave(gi).await;
            }
            sim::sleep(ms(sim::gen_range(0..150))).await;
        }
        sim::sleep(ms(1000)).await;

        appenders.finish(&mut ck, &log).await;
    });
}
