//! Tests beyond Go's: each a scenario built to expose one class of bug that
//! students make in Lab 3 and that Go's tests catch rarely or only by luck,
//! plus the append model check ([`labtest::appends`]) on every history, which
//! does not rely on the linearizability checker.
//!
//! Each test names the bug class it targets; `scripts/mutants/kvraft/` holds
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
use labtest::history::check_clnt_appends;

/// Longest a single operation in these tests may take before the test
/// fails as stuck (virtual time; a correct service needs well under this).
const OP_LIMIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, op: impl std::future::Future<Output = T>) -> T {
    labtest::within(OP_LIMIT, what, op).await
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The servers other than `i`.
fn others(cfg: &Config, i: usize) -> Vec<usize> {
    cfg.all().into_iter().filter(|&j| j != i).collect()
}

/// The current leader, once the cluster has one (a Put just completed).
fn leader(cfg: &Config) -> usize {
    cfg.leader().expect("a leader just committed a Put")
}

/// The start of the 3A tests here: five servers, a Put of `x 0 0 y` to key
/// `k`, then the leader cut off alone. Returns the cluster, the history, the
/// clerk, the old leader and the majority.
async fn leader_cut_off(title: &str) -> (Config, KvLog, Client, usize, Vec<usize>) {
    let cfg = make_config(5, false, -1);
    let log = KvLog::new();
    let mut ck = cfg.make_client(&cfg.all());
    cfg.begin(title);

    cfg.put(&mut ck, "k", &value(0, 0), Some((&log, 0))).await;
    let old = leader(&cfg);
    let majority = others(&cfg, old);
    cfg.partition(&[old], &majority);
    (cfg, log, ck, old, majority)
}

/// Targets a Get served from the leader's local state without going through
/// the log. A leader cut off alone keeps believing it leads (nobody can tell
/// it of a newer term), so if it answers a Get from its own map, it returns a
/// value the majority has already overwritten. The Get must instead wait for
/// the partition to heal and then return the new value.
#[test]
fn minority_leader_serves_no_stale_read_3a() {
    sim::run(async {
        let (cfg, log, _ck, old, majority) =
            leader_cut_off("Test: a leader cut off alone serves no stale Get (3A)").await;

        let mut ck_new = cfg.make_client(&majority);
        within("a Put in the majority", async {
            cfg.put(&mut ck_new, "k", &value(1, 0), Some((&log, 1)))
                .await;
        })
        .await;

        // Only the old leader is reachable from this clerk.
        let mut ck_old = cfg.make_client(&[old]);
        let ends_old = ck_old.ends();
        let get = ck_old.node().spawn({
            let (cfg, log) = (cfg.clone(), log.clone());
            async move { cfg.get(&mut ck_old, "k", Some((&log, 2))).await }
        });
        sim::sleep(ms(500)).await;
        if get.is_finished() {
            let v = get.await.expect("the Get's task");
            panic!(
                "a Get at the old leader, cut off alone, completed with {v:?} \
                 (the majority had already put {:?})",
                value(1, 0)
            );
        }

        cfg.connect_all();
        cfg.connect_client(&ends_old, &cfg.all());
        let v = within("the Get after the partition healed", get)
            .await
            .expect("the Get's task");
        assert_eq!(v, value(1, 0), "stale Get after the partition healed");

        assert_appends_ok(&log.read());
        check_linearizable(&log);
        cfg.end();
    });
}

/// Targets a server that answers a request as soon as *some* entry is
/// applied at the index `start` gave it, without checking that the entry is
/// the request's own. The leader is cut off alone with a clerk's Append in
/// its log; the majority elects a new leader and commits other Appends at
/// those indices; when the partition heals, the old leader applies them.
/// Answering the clerk then would acknowledge an Append that never took
/// effect: it must be in the final value, exactly once.
#[test]
fn replaced_entry_is_not_acknowledged_3a() {
    sim::run(async {
        let (cfg, log, mut ck, old, majority) =
            leader_cut_off("Test: an entry replaced by a new leader's is not acknowledged (3A)")
                .await;

        // This Append reaches only the old leader's log, between two of its
        // heartbeats (a server that checks its leadership on the heartbeats'
        // beat would otherwise notice the new term at the same instant).
        sim::sleep(ms(25)).await;
        let ck_old = cfg.make_client(&[old]);
        let ends_old = ck_old.ends();
        let append = ck_old.node().spawn({
            let (cfg, log) = (cfg.clone(), log.clone());
            let mut ck_old = ck_old;
            async move {
                cfg.append(&mut ck_old, "k", &value(1, 0), Some((&log, 1)))
                    .await
            }
        });

        // The majority commits other Appends at the same indices.
        let mut ck_new = cfg.make_client(&majority);
        for n in 0..10 {
            within("an Append in the majority", async {
                cfg.append(&mut ck_new, "k", &value(2, n), Some((&log, 2)))
                    .await;
            })
            .await;
            // One after the other in virtual time too (a history of
            // operations all at one instant is costly to check).
            sim::sleep(ms(1)).await;
        }

        cfg.connect_all();
        cfg.connect_client(&ends_old, &cfg.all());
        within("the old leader's Append after the partition healed", append)
            .await
            .expect("the Append's task");

        // Strictly after every other operation in virtual time: an
        // operation that starts at the instant another returns counts as
        // concurrent with it.
        sim::sleep(ms(1)).await;
        cfg.get(&mut ck, "k", Some((&log, 0))).await;
        assert_appends_ok(&log.read());
        check_linearizable(&log);
        cfg.end();
    });
}

/// One clerk's loop for the random-keys tests: Appends (half), Puts (a
/// tenth of the rest) and Gets on random keys until `done`, each write a
/// fresh token; returns how many writes it made.
async fn random_client(
    cfg: Config,
    cli: usize,
    mut ck: Client,
    nkeys: usize,
    done: Arc<AtomicBool>,
    log: KvLog,
) {
    let mut j = 0;
    while !done.load(Ordering::SeqCst) {
        let key = sim::gen_range(0..nkeys).to_string();
        let roll = sim::gen_range(0..1000);
        if roll < 500 {
            cfg.append(&mut ck, &key, &value(cli, j), Some((&log, cli)))
                .await;
            j += 1;
        } else if roll < 550 {
            cfg.put(&mut ck, &key, &value(cli, j), Some((&log, cli)))
                .await;
            j += 1;
        } else {
            cfg.get(&mut ck, &key, Some((&log, cli))).await;
        }
        sim::go_sleep(ms(sim::gen_range(0..=20))).await;
    }
}

/// Targets duplicate detection that is missing, keyed wrongly, only done
/// before an op enters the log, or defeated by a clerk that renumbers its
/// retries: on an unreliable network that loses a tenth of all replies, with
/// the leader moving between random partitions, many clerks write fresh
/// values to a few shared keys. Every acknowledged Append must be read
/// exactly once, in an order real time allows (the append model check, not
/// the linearizability checker, which checks the history too).
#[test]
fn random_keys_exactly_once_unreliable_3a() {
    sim::run(async {
        const NCLIENTS: usize = 6;
        const NKEYS: usize = 3;
        let cfg = make_config(5, true, -1);
        let log = KvLog::new();
        let mut ck = cfg.make_client(&cfg.all());
        cfg.begin("Test: unreliable net, partitions, random keys, appends exactly once (3A)");

        let done = Arc::new(AtomicBool::new(false));
        let clients = spawn_clients(&cfg, NCLIENTS, |cli, myck| {
            random_client(cfg.clone(), cli + 1, myck, NKEYS, done.clone(), log.clone())
        });
        for _ in 0..5 {
            sim::sleep(ms(sim::gen_range(800..1200))).await;
            let side: Vec<usize> = (0..cfg.n()).map(|_| sim::gen_range(0..2)).collect();
            let (a, b): (Vec<usize>, Vec<usize>) =
                cfg.all().into_iter().partition(|&i| side[i] == 0);
            cfg.partition(&a, &b);
        }
        sim::sleep(ms(300)).await;
        cfg.connect_all();
        done.store(true, Ordering::SeqCst);
        for client in clients {
            within("a client's last operation", client)
                .await
                .expect("client task");
        }
        sim::sleep(ms(1)).await; // after every other operation (see above)
        for key in 0..NKEYS {
            cfg.get(&mut ck, &key.to_string(), Some((&log, 0))).await;
        }
        assert_appends_ok(&log.read());
        check_linearizable(&log);
        cfg.end();
    });
}

/// Clerks that each append `x <cli> <j> y` to their own key `<cli>`, j = 0,
/// 1, ..., until told to stop (and, with `get_every`, read their key after
/// every so many Appends): every Append must then be in the key exactly
/// once and in order.
struct Appenders {
    ends: Vec<ClientEnds>,
    clients: Vec<sim::JoinHandle<usize>>,
    done: Arc<AtomicBool>,
}

impl Appenders {
    /// One 3B test here in a simulation of its own: three servers on an
    /// unreliable network, Raft state trimmed after every entry, the test's
    /// title, then `n` appenders; then `test(cfg, log, ck, appenders)` with
    /// the cluster, the history, a clerk and them (it ends with
    /// [`Appenders::finish`]).
    fn run<F, Fut>(title: &'static str, n: usize, get_every: Option<usize>, test: F)
    where
        F: FnOnce(Config, KvLog, Client, Appenders) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        sim::run(async move {
            let cfg = make_config(3, true, 1);
            let log = KvLog::new();
            let ck = cfg.make_client(&cfg.all());
            cfg.begin(title);
            let appenders = Appenders::spawn(&cfg, n, get_every, &log);
            test(cfg, log, ck, appenders).await;
        });
    }

    fn spawn(cfg: &Config, n: usize, get_every: Option<usize>, log: &KvLog) -> Appenders {
        let done = Arc::new(AtomicBool::new(false));
        let mut ends = Vec::new();
        let mut clients = Vec::new();
        for cli in 0..n {
            let mut myck = cfg.make_client(&cfg.all());
            ends.push(myck.ends());
            let (cfg, done, log) = (cfg.clone(), done.clone(), log.clone());
            clients.push(myck.node().spawn(async move {
                let mut j = 0;
                while !done.load(Ordering::SeqCst) {
                    let key = cli.to_string();
                    cfg.append(&mut myck, &key, &value(cli, j), Some((&log, cli)))
                        .await;
                    j += 1;
                    if get_every.is_some_and(|every| j % every == 0) {
                        cfg.get(&mut myck, &key, Some((&log, cli))).await;
                    }
                }
                j
            }));
        }
        Appenders {
            ends,
            clients,
            done,
        }
    }

    /// Stops the clerks, reads every key, checks each clerk's Appends and
    /// the whole history, and ends the test.
    async fn finish(self, cfg: &Config, ck: &mut Client, log: &KvLog) {
        self.done.store(true, Ordering::SeqCst);
        let mut counts = Vec::new();
        for client in self.clients {
            let j = within("a client's last Append", client)
                .await
                .expect("client task");
            counts.push(j);
        }
        sim::sleep(ms(1)).await; // after every other operation (see above)
        for (cli, j) in counts.into_iter().enumerate() {
            let v = cfg.get(ck, &cli.to_string(), Some((log, 0))).await;
            check_clnt_appends(cli, &v, j);
        }
        assert_appends_ok(&log.read());
        check_linearizable(log);
        cfg.end();
    }
}

/// Targets a snapshot that loses the duplicate table, or records an index
/// its state does not match. Raft state is trimmed after every entry; in each
/// round, the clerks are cut off from every server in the middle of their
/// Appends (the servers still apply what reached them, and snapshot it), then
/// every server crashes and restarts from its snapshot, and only after a new
/// leader is elected do the clerks get through again and retry. Each retry of
/// an Append that already took effect must be recognised from the snapshot:
/// each clerk's Appends must be in its key exactly once and in order.
#[test]
fn snapshot_restart_keeps_duplicate_table_3b() {
    Appenders::run(
        "Test: unreliable net, restarts, snapshots, retries after restart (3B)",
        4,
        None,
        |cfg, log, mut ck, appenders| async move {
            const ROUNDS: usize = 4;
            let ends = &appenders.ends;
            for _ in 0..ROUNDS {
                // Let the clerks get going, then cut them off mid-request.
                sim::sleep(ms(sim::gen_range(300..500))).await;
                for e in ends {
                    cfg.disconnect_client(e, &cfg.all());
                }
                // What reached a leader commits, applies and is snapshotted.
                sim::sleep(ms(300)).await;
                for i in cfg.all() {
                    cfg.shutdown_server(i);
                }
                for i in cfg.all() {
                    cfg.start_server(i);
                }
                cfg.connect_all();
                // A new leader, restored from its snapshot, before any retry.
                sim::sleep(ms(1500)).await;
                for e in ends {
                    cfg.connect_client(e, &cfg.all());
                }
            }
            sim::sleep(ms(300)).await;
            appenders.finish(&cfg, &mut ck, &log).await;
        },
    );
}

/// The connected servers whose Raft says it leads.
fn connected_leaders(cfg: &Config) -> Vec<usize> {
    cfg.running()
        .into_iter()
        .filter(|(i, kv)| cfg.is_connected(*i) && kv.raft().get_state().1)
        .map(|(i, _)| i)
        .collect()
}

/// A connected leader, once there is one (a correct service elects one
/// within a few seconds on a reliable network).
async fn wait_leader(cfg: &Config) -> usize {
    within("an election", async {
        loop {
            if let Some(&l) = connected_leaders(cfg).first() {
                return l;
            }
            sim::sleep(ms(50)).await;
        }
    })
    .await
}

/// Targets a server that installs a snapshot from its leader but keeps its
/// own, older duplicate table. On an unreliable network, in each round a
/// follower misses the clerks'
/// Appends while cut off; the clerks are cut off in the middle of theirs
/// (what reached the leader still commits and is snapshotted, its replies
/// lost); the follower comes back and, far behind a log trimmed after every
/// entry, installs the leader's snapshot; leadership then moves until that
/// follower leads, and only then may the clerks retry, at it alone. A retry
/// of an Append that the snapshot holds must be recognised: a follower whose
/// table still lacks it applies it a second time, which the Gets it serves
/// show (each clerk reads its key after every Append, and the test reads
/// every key at the end of each round).
#[test]
fn installed_snapshot_replaces_duplicate_table_3b() {
    Appenders::run(
        "Test: a snapshot from the leader replaces the duplicate table (3B)",
        3,
        Some(1),
        |cfg, log, mut ck, appenders| async move {
            const ROUNDS: usize = 4;
            let ends = &appenders.ends;
            for _ in 0..ROUNDS {
                sim::sleep(ms(300)).await;
                // A follower misses the clerks' Appends.
                let lagging = (wait_leader(&cfg).await + 1) % cfg.n();
                cfg.disconnect(lagging);
                sim::sleep(ms(sim::gen_range(400..600))).await;
                // The clerks are cut off mid-request; what reached the leader
                // commits and is snapshotted.
                for e in ends {
                    cfg.disconnect_client(e, &cfg.all());
                }
                sim::sleep(ms(300)).await;
                // The follower installs the leader's snapshot.
                cfg.connect(lagging);
                sim::sleep(ms(500)).await;
                // Leadership moves until the follower leads (a bounded number
                // of tries: a round where it never does tests nothing).
                for _ in 0..8 {
                    let leaders = connected_leaders(&cfg);
                    if leaders == [lagging] {
                        break;
                    }
                    match leaders.into_iter().find(|&l| l != lagging) {
                        Some(l) => {
                            cfg.disconnect(l);
                            sim::sleep(ms(1000)).await;
                            cfg.connect(l);
                        }
                        None => sim::sleep(ms(100)).await,
                    }
                }
                // The clerks retry at the follower alone, then anywhere.
                for e in ends {
                    cfg.connect_client(e, &[lagging]);
                }
                sim::sleep(ms(500)).await;
                // What the follower serves now (if it still leads).
                for cli in 0..ends.len() {
                    cfg.get(&mut ck, &cli.to_string(), Some((&log, 0))).await;
                }
                for e in ends {
                    cfg.connect_client(e, &cfg.all());
                }
            }
            appenders.finish(&cfg, &mut ck, &log).await;
        },
    );
}
