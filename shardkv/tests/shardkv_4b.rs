//! Part 4B: the sharded key/value service, with shard migration and both
//! challenges. Ports of every test in Go's shardkv/test_test.go (2024):
//! TestStaticShards, TestRejection, TestJoinLeave, TestSnapshot,
//! TestMissChange, TestConcurrent1-3, TestUnreliable1-3, TestChallenge1Delete,
//! TestChallenge2Unaffected and TestChallenge2Partial.
//!
//! Go writes each test's reconfigurations as one call a line; here the
//! longer scripts of joins, leaves, crashes and pauses are [`Step`] tables
//! run in the same order, and the opening, the background clients and the
//! checks that the tests share are written once ([`run_test`], [`World`],
//! [`Clients`]). Each test prints its title once its world is built (nothing
//! prints before it).

mod common;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use labrpc::sim;
use labtest::history::{KvLog, timed, timed_write};
use linearizability::models::kv::KvInput;
use shardkv::{Clerk, key2shard};
use tokio::sync::mpsc;

use Step::*;

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

/// One step of a test's script, each one Go call: the controller's joins
/// and leaves, whole groups crashing and restarting, and pauses.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// `cfg.join(gi)`.
    Join(usize),
    /// `cfg.leave(gi)`.
    Leave(usize),
    /// `cfg.ShutdownGroup(gi)`.
    ShutdownGroup(usize),
    /// `cfg.StartGroup(gi)`.
    StartGroup(usize),
    /// `time.Sleep(ms * time.Millisecond)`, in virtual time.
    SleepMs(u64),
}

/// How TestConcurrent1 and TestUnreliable2/3 begin moving shards while their
/// clients run: group 1 joins, then group 2, then group 0 leaves.
const JOIN_1_2_LEAVE_0: &[Step] = &[
    SleepMs(150),
    Join(1),
    SleepMs(500),
    Join(2),
    SleepMs(500),
    Leave(0),
];

/// A test's world: Go's `cfg` (reached through `Deref`), the test's own
/// clerk `ck`, and the keys `ka` it put with the values `va` they should
/// hold.
struct World {
    cfg: Cluster,
    ck: Clerk,
    ka: Vec<String>,
    va: Vec<String>,
}

impl Deref for World {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.cfg
    }
}

/// One Go test in a simulation of its own: Go's opening of every test
/// ([`start`]), then `test` (which prints the test's title first), then Go's
/// `  ... Passed`.
fn run_test<F, Fut>(unreliable: bool, maxraftstate: i64, joins: &'static [usize], test: F)
where
    F: FnOnce(World) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    sim::run(async move {
        let cfg = start(unreliable, maxraftstate, joins).await;
        test(cfg).await;
        println!("  ... Passed");
    });
}

/// Go's opening of every test: `make_config(t, 3, unreliable,
/// maxraftstate)`, `ck := cfg.makeClient(cfg.ctl)` and `cfg.join(gi)` for
/// each of `joins`, in order.
async fn start(unreliable: bool, maxraftstate: i64, joins: &[usize]) -> World {
    let cfg = make_config(3, unreliable, maxraftstate);
    let ck = cfg.make_client(&cfg.ctl());
    for &gi in joins {
        cfg.join(gi).await;
    }
    let (ka, va) = (Vec::new(), Vec::new());
    World { cfg, ck, ka, va }
}

impl World {
    /// Puts the keys "0".."n-1" (multiple shards) with `len`-character random
    /// values through `ck`, recording each Put in `log` if there is one.
    async fn put_keys(&mut self, n: usize, len: usize, log: Option<&KvLog>) {
        for i in 0..n {
            self.ka.push(i.to_string()); // ensure multiple shards
            self.va.push(randstring(len));
            let (key, value) = (&self.ka[i], &self.va[i]);
            let put = self.ck.put(key, value);
            timed_write(log, 0, KvInput::put(key, value), put).await;
        }
    }

    /// Checks that each key holds its value.
    async fn check_all(&mut self) {
        self.check_first(self.ka.len()).await;
    }

    /// Checks that each of the first `n` keys holds its value.
    async fn check_first(&mut self, n: usize) {
        for i in 0..n {
            check(&mut self.ck, &self.ka[i], &self.va[i]).await;
        }
    }

    /// For every key: checks it, appends a fresh `len`-character random
    /// string and remembers it.
    async fn check_and_append(&mut self, len: usize) {
        for i in 0..self.ka.len() {
            check(&mut self.ck, &self.ka[i], &self.va[i]).await;
            let x = randstring(len);
            self.ck.append(&self.ka[i], &x).await;
            self.va[i] += &x;
        }
    }

    /// Runs a script, one step after the other.
    async fn steps(&self, steps: &[Step]) {
        for &step in steps {
            match step {
                Join(gi) => self.join(gi).await,
                Leave(gi) => self.leave(gi).await,
                ShutdownGroup(gi) => self.shutdown_group(gi),
                StartGroup(gi) => self.start_group(gi),
                SleepMs(n) => sim::sleep(ms(n)).await,
            }
        }
    }

    /// Crashes every group, then restarts every group.
    fn restart_all_groups(&self) {
        for gi in 0..self.ngroups() {
            self.shutdown_group(gi);
        }
        for gi in 0..self.ngroups() {
            self.start_group(gi);
        }
    }

    /// Go's background Gets of TestStaticShards and TestRejection: for each
    /// key a fresh clerk on `ctl` (only one call allowed per client) gets it
    /// and sends `verdict(key, expected, got)`, empty when the value is right.
    fn spawn_gets(
        &self,
        ctl: &Ctrler,
        verdict: fn(&str, &str, &str) -> String,
    ) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        for i in 0..self.ka.len() {
            let mut ck1 = self.make_client(ctl); // only one call allowed per client
            let (key, value, tx) = (self.ka[i].clone(), self.va[i].clone(), tx.clone());
            sim::spawn(async move {
                let v = ck1.get(&key).await;
                let _ = tx.send(verdict(&key, &value, &v));
            });
        }
        rx
    }

    /// Go's appenders of the concurrent tests, one per key, each with its own
    /// clerk, appending `len`-character strings with `pause` between appends
    /// (`None`: none at all; `Some(ZERO)`: the random pause of
    /// [`UNPACED_PAUSE_MS`]). Each returns its key's expected value.
    fn start_appenders(&self, len: usize, pause: Option<Duration>) -> Clients<String> {
        Clients::start(self, self.ka.len(), |i, mut ck1, done| {
            let (key, mut v) = (self.ka[i].clone(), self.va[i].clone());
            async move {
                while !done.load(Ordering::SeqCst) {
                    let x = randstring(len);
                    ck1.append(&key, &x).await;
                    v += &x;
                    match pause {
                        Some(Duration::ZERO) => {
                            let pause = sim::gen_range(0..=UNPACED_PAUSE_MS);
                            sim::go_sleep(ms(pause)).await;
                        }
                        Some(pause) => sim::sleep(pause).await,
                        None => {}
                    }
                }
                v
            }
        })
    }

    /// The concurrent tests' ending: stops the appenders, each after its
    /// current append, and checks every key.
    async fn stop_and_check(&mut self, appenders: Clients<String>) {
        self.va = appenders.stop().await;
        self.check_all().await;
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

/// Background clients, as in Go's concurrent tests: `n` tasks, each with its
/// own clerk on the main controller, each running until told to stop.
struct Clients<T> {
    done: Arc<AtomicBool>,
    handles: Vec<sim::JoinHandle<T>>,
}

impl<T: Send + 'static> Clients<T> {
    /// Starts client `i` of `0..n` as `client(i, its clerk, the stop flag)`.
    fn start<F>(
        cfg: &Cluster,
        n: usize,
        mut client: impl FnMut(usize, Clerk, Arc<AtomicBool>) -> F,
    ) -> Clients<T>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let done = Arc::new(AtomicBool::new(false));
        let handles = (0..n)
            .map(|i| {
                let ck1 = cfg.make_client(&cfg.ctl());
                sim::spawn(client(i, ck1, done.clone()))
            })
            .collect();
        Clients { done, handles }
    }

    /// Tells them to stop (Go's `atomic.StoreInt32(&done, 1)`).
    fn signal(&self) {
        self.done.store(true, Ordering::SeqCst);
    }

    /// Tells them to stop, waits for each to finish, and returns what each
    /// returned.
    async fn stop(self) -> Vec<T> {
        self.signal();
        let mut out = Vec::new();
        for handle in self.handles {
            out.push(handle.await.expect("a client was cancelled"));
        }
        out
    }
}

// test static 2-way sharding, without shard movement.
#[test]
fn static_shards_4b() {
    run_test(false, -1, &[0, 1], |mut cfg| async move {
        println!("Test (4B): static shards ...");
        let n = 10;
        cfg.put_keys(n, 20, None).await;
        cfg.check_all().await;

        // make sure that the data really is sharded by shutting down one
        // shard and checking that some Get()s don't succeed.
        cfg.shutdown_group(1);
        cfg.checklogs(); // forbid snapshots

        let mut rx = cfg.spawn_gets(&cfg.ctl(), |key, value, v| {
            if v != value {
                format!("Get({key}): expected:\n{value}\nreceived:\n{v}")
            } else {
                String::new()
            }
        });

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
        cfg.check_all().await;
    });
}

// do servers reject operations on shards for which they are not responsible?
#[test]
fn rejection_4b() {
    run_test(false, -1, &[0, 1], |mut cfg| async move {
        println!("Test (4B): rejection ...");
        let n = 10;
        cfg.put_keys(n, 20, None).await;
        cfg.check_all().await;

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
        let mut rx = cfg.spawn_gets(&ctl1, |key, value, v| {
            if v == value {
                String::new()
            } else if v.is_empty() {
                // if v is "", it probably means that a k/v group returned
                // a value for a key even though that key's shard wasn't
                // assigned to the group.
                format!("Get({key}): returned a value, but server should have rejected the request due to wrong shard")
            } else {
                format!("Get({key}): expected:\n{value}\nreceived:\n{v}")
            }
        });

        // wait a bit, only about half the Gets should succeed.
        let ndone = count_completions(&mut rx).await;
        assert_eq!(ndone, n / 2, "expected {} completions; got {ndone}", n / 2);
    });
}

#[test]
fn join_leave_4b() {
    run_test(false, -1, &[0], |mut cfg| async move {
        println!("Test (4B): join then leave ...");
        cfg.put_keys(10, 5, None).await;
        cfg.check_all().await;

        cfg.join(1).await;
        cfg.check_and_append(5).await;

        cfg.leave(0).await;
        cfg.check_and_append(5).await;

        // allow time for shards to transfer.
        sim::sleep(Duration::from_secs(1)).await;

        cfg.checklogs();
        cfg.shutdown_group(0);

        cfg.check_all().await;
    });
}

#[test]
fn snapshot_4b() {
    run_test(false, 1000, &[0], |mut cfg| async move {
        println!("Test (4B): snapshots, join, and leave ...");
        cfg.put_keys(30, 20, None).await;
        cfg.check_all().await;

        cfg.steps(&[Join(1), Join(2), Leave(0)]).await;
        cfg.check_and_append(20).await;

        cfg.steps(&[Leave(1), Join(0)]).await;
        cfg.check_and_append(20).await;

        sim::sleep(Duration::from_secs(1)).await;
        cfg.check_all().await;
        sim::sleep(Duration::from_secs(1)).await;

        cfg.checklogs();

        cfg.restart_all_groups();

        cfg.check_all().await;
    });
}

#[test]
fn miss_change_4b() {
    run_test(false, 1000, &[0], |mut cfg| async move {
        println!("Test (4B): servers miss configuration changes...");
        cfg.put_keys(10, 20, None).await;
        cfg.check_all().await;

        cfg.join(1).await;

        for gi in 0..cfg.ngroups() {
            cfg.shutdown_server(gi, 0);
        }

        cfg.steps(&[Join(2), Leave(1), Leave(0)]).await;
        cfg.check_and_append(20).await;

        cfg.join(1).await;
        cfg.check_and_append(20).await;

        for gi in 0..cfg.ngroups() {
            cfg.start_server(gi, 0);
        }
        cfg.check_and_append(20).await;

        sim::sleep(Duration::from_secs(2)).await;

        for gi in 0..cfg.ngroups() {
            cfg.shutdown_server(gi, 1);
        }

        cfg.steps(&[Join(0), Leave(2)]).await;
        cfg.check_and_append(20).await;

        for gi in 0..cfg.ngroups() {
            cfg.start_server(gi, 1);
        }
        cfg.check_all().await;
    });
}

#[test]
fn concurrent1_4b() {
    run_test(false, 100, &[0], |mut cfg| async move {
        println!("Test (4B): concurrent puts and configuration changes...");
        cfg.put_keys(10, 5, None).await;
        let appenders = cfg.start_appenders(5, Some(ms(10)));

        cfg.steps(JOIN_1_2_LEAVE_0).await;
        cfg.steps(&[
            ShutdownGroup(0),
            SleepMs(100),
            ShutdownGroup(1),
            SleepMs(100),
            ShutdownGroup(2),
            Leave(2),
            SleepMs(100),
            StartGroup(0),
            StartGroup(1),
            StartGroup(2),
            SleepMs(100),
            Join(0),
            Leave(1),
            SleepMs(500),
            Join(1),
            SleepMs(1000),
        ])
        .await;

        cfg.stop_and_check(appenders).await;
    });
}

// this tests the various sources from which a re-starting group might need
// to fetch shard contents.
#[test]
fn concurrent2_4b() {
    run_test(false, -1, &[1, 0, 2], |mut cfg| async move {
        println!("Test (4B): more concurrent puts and configuration changes...");
        cfg.put_keys(10, 1, None).await;
        let appenders = cfg.start_appenders(1, Some(ms(50)));

        cfg.steps(&[
            Leave(0),
            Leave(2),
            SleepMs(3000),
            Join(0),
            Join(2),
            Leave(1),
            SleepMs(3000),
            Join(1),
            Leave(0),
            Leave(2),
            SleepMs(3000),
            ShutdownGroup(1),
            ShutdownGroup(2),
            SleepMs(1000),
            StartGroup(1),
            StartGroup(2),
            SleepMs(2000),
        ])
        .await;

        cfg.stop_and_check(appenders).await;
    });
}

#[test]
fn concurrent3_4b() {
    run_test(false, 300, &[0], |mut cfg| async move {
        println!("Test (4B): concurrent configuration change and restart...");
        cfg.put_keys(10, 1, None).await;
        // Go's appenders here never pause; see UNPACED_PAUSE_MS.
        let appenders = cfg.start_appenders(1, Some(Duration::ZERO));

        let t0 = sim::now();
        while t0.elapsed() < Duration::from_secs(12) {
            cfg.join(2).await;
            cfg.join(1).await;
            sim::go_sleep(ms(sim::gen_range(0..900))).await;
            cfg.restart_all_groups();
            sim::go_sleep(ms(sim::gen_range(0..900))).await;
            cfg.leave(1).await;
            cfg.leave(2).await;
            sim::go_sleep(ms(sim::gen_range(0..900))).await;
        }

        sim::sleep(Duration::from_secs(2)).await;

        cfg.stop_and_check(appenders).await;
    });
}

#[test]
fn unreliable1_4b() {
    run_test(true, 100, &[0], |mut cfg| async move {
        println!("Test (4B): unreliable 1...");
        let n = 10;
        cfg.put_keys(n, 5, None).await;

        cfg.steps(&[Join(1), Join(2), Leave(0)]).await;

        for ii in 0..n * 2 {
            let i = ii % n;
            check(&mut cfg.ck, &cfg.ka[i], &cfg.va[i]).await;
            let x = randstring(5);
            cfg.ck.append(&cfg.ka[i], &x).await;
            cfg.va[i] += &x;
        }

        cfg.steps(&[Join(0), Leave(1)]).await;

        for ii in 0..n * 2 {
            let i = ii % n;
            check(&mut cfg.ck, &cfg.ka[i], &cfg.va[i]).await;
        }
    });
}

/// TestUnreliable2/3's reconfigurations while their clients run.
async fn unreliable_reconfigurations(cfg: &World) {
    cfg.steps(JOIN_1_2_LEAVE_0).await;
    cfg.steps(&[
        SleepMs(500),
        Leave(1),
        SleepMs(500),
        Join(1),
        Join(0),
        SleepMs(2000),
    ])
    .await;
}

#[test]
fn unreliable2_4b() {
    run_test(true, 100, &[0], |mut cfg| async move {
        println!("Test (4B): unreliable 2...");
        cfg.put_keys(10, 5, None).await;
        let appenders = cfg.start_appenders(5, None);

        unreliable_reconfigurations(&cfg).await;

        appenders.signal();
        cfg.net().set_reliable(true);
        cfg.stop_and_check(appenders).await;
    });
}

#[test]
fn unreliable3_4b() {
    run_test(true, 100, &[0], |mut cfg| async move {
        println!("Test (4B): unreliable 3...");
        let log = KvLog::new();
        let n = 10;
        cfg.put_keys(n, 5, Some(&log)).await;

        let clients = Clients::start(&cfg, n, |i, mut ck1, done| {
            let (log, ka) = (log.clone(), cfg.ka.clone());
            async move {
                while !done.load(Ordering::SeqCst) {
                    let key = &ka[sim::gen_range(0..n)];
                    let nv = randstring(5);
                    if sim::gen_range(0..1000) < 500 {
                        let append = ck1.append(key, &nv);
                        timed_write(Some(&log), i, KvInput::append(key, &nv), append).await;
                    } else if sim::gen_range(0..1000) < 100 {
                        let put = ck1.put(key, &nv);
                        timed_write(Some(&log), i, KvInput::put(key, &nv), put).await;
                    } else {
                        timed(Some(&log), i, KvInput::get(key), ck1.get(key)).await;
                    }
                }
            }
        });

        unreliable_reconfigurations(&cfg).await;

        clients.signal();
        cfg.net().set_reliable(true);
        clients.stop().await;

        labtest::history::check_linearizable(log.read());
    });
}

// optional test to see whether servers are deleting shards for which they
// are no longer responsible.
#[test]
fn challenge1_delete_4b() {
    // "1" means force snapshot after every log entry.
    run_test(false, 1, &[0], |mut cfg| async move {
        println!("Test: shard deletion (challenge 1) ...");

        // 30,000 bytes of total values.
        let n = 30;
        cfg.put_keys(n, 1000, None).await;
        cfg.check_first(3).await;

        for _ in 0..2 {
            cfg.steps(&[Join(1), Leave(0), Join(2), SleepMs(3000)])
                .await;
            cfg.check_first(3).await;
            cfg.steps(&[Leave(1), Join(0), Leave(2), SleepMs(3000)])
                .await;
            cfg.check_first(3).await;
        }

        cfg.steps(&[Join(1), Join(2)]).await;
        for _ in 0..3 {
            sim::sleep(Duration::from_secs(1)).await;
            cfg.check_first(3).await;
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

        cfg.check_all().await;
    });
}

// optional test to see whether servers can handle shards that are not
// affected by a config change while the config change is underway
#[test]
fn challenge2_unaffected_4b() {
    // JOIN 100 (in the opening)
    run_test(true, 100, &[0], |mut cfg| async move {
        println!("Test: unaffected shard access (challenge 2) ...");

        // Do a bunch of puts to keys in all shards
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let mut va: Vec<String> = vec!["100".to_string(); n];
        for i in 0..n {
            cfg.ck.put(&ka[i], &va[i]).await;
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
                cfg.ck.put(&ka[i], &va[i]).await;
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
                check(&mut cfg.ck, &ka[i], &va[i]).await;
                cfg.ck.put(&ka[i], &format!("{}-1", va[i])).await;
                check(&mut cfg.ck, &ka[i], &format!("{}-1", va[i])).await;
            }
        }
    });
}

// optional test to see whether servers can handle operations on shards that
// have been received as a part of a config migration when the entire
// migration has not yet completed.
#[test]
fn challenge2_partial_4b() {
    run_test(true, 100, &[], |mut cfg| async move {
        println!("Test: partial migration shard access (challenge 2) ...");

        // JOIN 100 + 101 + 102
        cfg.joinm(&[0, 1, 2], &cfg.ctl()).await;

        // Give the implementation some time to reconfigure
        sim::sleep(Duration::from_secs(1)).await;

        // Do a bunch of puts to keys in all shards
        let n = 10;
        let ka: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let va: Vec<String> = vec!["100".to_string(); n];
        for i in 0..n {
            cfg.ck.put(&ka[i], &va[i]).await;
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
                check(&mut cfg.ck, &ka[i], &va[i]).await;
                cfg.ck.put(&ka[i], &format!("{}-2", va[i])).await;
                check(&mut cfg.ck, &ka[i], &format!("{}-2", va[i])).await;
            }
        }
    });
}

/// Go's `check`: `Get(key)` must return `value`.
pub async fn check(ck: &mut Clerk, key: &str, value: &str) {
    let v = ck.get(key).await;
    assert!(v == value, "Get({key}): expected:\n{value}\nreceived:\n{v}");
}
