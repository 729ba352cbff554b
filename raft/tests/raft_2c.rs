//! Part 2C: persistence. Ports of Go's 2C tests: restarts, Figure 8, an
//! unreliable network with long reordering, and churn.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use labrpc::sim;

#[test]
fn persist1_2c() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2C): basic persistence");

        cfg.one(&11i64, servers, true).await;

        // crash and re-start all
        for i in 0..servers {
            cfg.start1(i);
        }
        for i in 0..servers {
            cfg.disconnect(i);
            cfg.connect(i);
        }

        cfg.one(&12i64, servers, true).await;

        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect(leader1);
        cfg.start1(leader1);
        cfg.connect(leader1);

        cfg.one(&13i64, servers, true).await;

        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect(leader2);
        cfg.one(&14i64, servers - 1, true).await;
        cfg.start1(leader2);
        cfg.connect(leader2);

        cfg.wait(4, servers, None).await; // wait for leader2 to join before killing i3

        let i3 = (cfg.check_one_leader().await + 1) % servers;
        cfg.disconnect(i3);
        cfg.one(&15i64, servers - 1, true).await;
        cfg.start1(i3);
        cfg.connect(i3);

        cfg.one(&16i64, servers, true).await;
    });
}

#[test]
fn persist2_2c() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2C): more persistence");

        let mut index = 1i64;
        for _ in 0..5 {
            cfg.one(&(10 + index), servers, true).await;
            index += 1;

            let leader1 = cfg.check_one_leader().await;

            cfg.disconnect((leader1 + 1) % servers);
            cfg.disconnect((leader1 + 2) % servers);

            cfg.one(&(10 + index), servers - 2, true).await;
            index += 1;

            cfg.disconnect(leader1 % servers);
            cfg.disconnect((leader1 + 3) % servers);
            cfg.disconnect((leader1 + 4) % servers);

            cfg.start1((leader1 + 1) % servers);
            cfg.start1((leader1 + 2) % servers);
            cfg.connect((leader1 + 1) % servers);
            cfg.connect((leader1 + 2) % servers);

            sim::sleep(RAFT_ELECTION_TIMEOUT).await;

            cfg.start1((leader1 + 3) % servers);
            cfg.connect((leader1 + 3) % servers);

            cfg.one(&(10 + index), servers - 2, true).await;
            index += 1;

            cfg.connect((leader1 + 4) % servers);
            cfg.connect(leader1 % servers);
        }

        cfg.one(&1000i64, servers, true).await;
    });
}

#[test]
fn persist3_2c() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2C): partitioned leader and one follower crash, leader restarts");

        cfg.one(&101i64, 3, true).await;

        let leader = cfg.check_one_leader().await;
        cfg.disconnect((leader + 2) % servers);

        cfg.one(&102i64, 2, true).await;

        cfg.crash1(leader % servers);
        cfg.crash1((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.start1(leader % servers);
        cfg.connect(leader % servers);

        cfg.one(&103i64, 2, true).await;

        cfg.start1((leader + 1) % servers);
        cfg.connect((leader + 1) % servers);

        cfg.one(&104i64, servers, true).await;
    });
}

/// Test the scenarios described in Figure 8 of the extended Raft paper. Each
/// iteration asks a leader, if there is one, to insert a command in the Raft
/// log. If there is a leader, that leader will fail quickly with a high
/// probability (perhaps without committing the command), or crash after a
/// while with low probability (most likely committing the command). If the
/// number of alive servers isn't enough to form a majority, perhaps start a
/// new server. The leader in a new term may try to finish replicating log
/// entries that haven't been committed yet.
/// The Figure 8 tests' pause after each round of Start()s: with probability
/// 1/10 up to half an election timeout, else up to 13 ms.
async fn figure8_pause() {
    let ms = if sim::gen_range(0..1000) < 100 {
        sim::gen_range(0..RAFT_ELECTION_TIMEOUT.as_millis() as u64 / 2)
    } else {
        sim::gen_range(0..13)
    };
    sim::go_sleep(Duration::from_millis(ms)).await;
}

#[test]
fn figure8_2c() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2C): Figure 8");

        cfg.one(&rand_int(), 1, true).await;

        let mut nup = servers;
        for _ in 0..1000 {
            let mut leader = None;
            for i in 0..servers {
                if let Some(raft) = cfg.try_raft(i)
                    && raft.start(&rand_int()).is_some()
                {
                    leader = Some(i);
                }
            }

            figure8_pause().await;

            if let Some(leader) = leader {
                cfg.crash1(leader);
                nup -= 1;
            }

            if nup < 3 {
                let s = sim::gen_range(0..servers);
                if cfg.try_raft(s).is_none() {
                    cfg.start1(s);
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }

        for i in 0..servers {
            if cfg.try_raft(i).is_none() {
                cfg.start1(i);
                cfg.connect(i);
            }
        }

        cfg.one(&rand_int(), servers, true).await;
    });
}

#[test]
fn unreliable_agree_2c() {
    run_test(5, true, false, |cfg, servers| async move {
        cfg.begin("Test (2C): unreliable agreement");

        let mut clients = Vec::new();
        for iters in 1..50i64 {
            for j in 0..4i64 {
                let cfg = cfg.clone();
                clients.push(sim::spawn(async move {
                    cfg.one(&(100 * iters + j), 1, true).await;
                }));
            }
            cfg.one(&iters, 1, true).await;
        }

        cfg.set_unreliable(false);

        for client in clients {
            client.await.expect("client task");
        }

        cfg.one(&100i64, servers, true).await;
    });
}

#[test]
fn figure8_unreliable_2c() {
    run_test(5, true, false, |cfg, servers| async move {
        cfg.begin("Test (2C): Figure 8 (unreliable)");

        cfg.one(&sim::gen_range(0..10000i64), 1, true).await;

        let mut nup = servers;
        for iters in 0..1000 {
            if iters == 200 {
                cfg.set_long_reordering(true);
            }
            let mut leader = None;
            for i in 0..servers {
                let ok = cfg.raft(i).start(&sim::gen_range(0..10000i64)).is_some();
                if ok && cfg.is_connected(i) {
                    leader = Some(i);
                }
            }

            figure8_pause().await;

            if let Some(leader) = leader
                && sim::gen_range(0..1000) < RAFT_ELECTION_TIMEOUT.as_millis() / 2
            {
                cfg.disconnect(leader);
                nup -= 1;
            }

            if nup < 3 {
                let s = sim::gen_range(0..servers);
                if !cfg.is_connected(s) {
                    cfg.connect(s);
                    nup += 1;
                }
            }
        }

        for i in 0..servers {
            if !cfg.is_connected(i) {
                cfg.connect(i);
            }
        }

        cfg.one(&sim::gen_range(0..10000i64), servers, true).await;
    });
}

/// Go's `internalChurn`: three clients keep submitting commands while
/// servers are disconnected, crashed and restarted at random; afterwards
/// every command a client saw committed must be in the log.
async fn internal_churn(unreliable: bool) {
    let servers = 5;
    let cfg = make_config(servers, unreliable, false);
    if unreliable {
        cfg.begin("Test (2C): unreliable churn");
    } else {
        cfg.begin("Test (2C): churn");
    }

    let stop = Arc::new(AtomicBool::new(false));

    // create concurrent clients
    let ncli = 3;
    let clients: Vec<_> = (0..ncli)
        .map(|me| sim::spawn(churn_client(cfg.clone(), me, stop.clone())))
        .collect();

    for _ in 0..20 {
        if sim::gen_range(0..1000) < 200 {
            let i = sim::gen_range(0..servers);
            cfg.disconnect(i);
        }

        if sim::gen_range(0..1000) < 500 {
            let i = sim::gen_range(0..servers);
            if cfg.try_raft(i).is_none() {
                cfg.start1(i);
            }
            cfg.connect(i);
        }

        if sim::gen_range(0..1000) < 200 {
            let i = sim::gen_range(0..servers);
            if cfg.try_raft(i).is_some() {
                cfg.crash1(i);
            }
        }

        // Make crash/restart infrequent enough that the peers can often
        // keep up, but not so infrequent that everything has settled
        // down from one change to the next. Pick a value smaller than
        // the election timeout, but not hugely smaller.
        sim::sleep(RAFT_ELECTION_TIMEOUT * 7 / 10).await;
    }

    sim::sleep(RAFT_ELECTION_TIMEOUT).await;
    cfg.set_unreliable(false);
    for i in 0..servers {
        if cfg.try_raft(i).is_none() {
            cfg.start1(i);
        }
        cfg.connect(i);
    }

    stop.store(true, Ordering::SeqCst);

    let mut values = Vec::new();
    for client in clients {
        values.extend(client.await.expect("client failed"));
    }

    sim::sleep(RAFT_ELECTION_TIMEOUT).await;

    let last_index = cfg.one(&rand_int(), servers, true).await;

    let mut really = Vec::new();
    for index in 1..=last_index {
        let v = cfg.wait(index, servers, None).await.expect("committed");
        really.push(as_int(&v));
    }

    for v1 in values {
        assert!(really.contains(&v1), "didn't find a value");
    }
    cfg.end();
}

/// One churn client: returns the values it saw committed.
async fn churn_client(cfg: Config, me: usize, stop: Arc<AtomicBool>) -> Vec<i64> {
    let mut values = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let x = rand_int();
        let mut index = None;
        for i in 0..cfg.n() {
            // try them all, maybe one of them is a leader
            if let Some(raft) = cfg.try_raft(i)
                && let Some((index1, _)) = raft.start(&x)
            {
                index = Some(index1);
            }
        }
        let Some(index) = index else {
            sim::sleep(Duration::from_millis(79 + me as u64 * 17)).await;
            continue;
        };
        // maybe leader will commit our value, maybe not.
        // but don't wait forever.
        for to in [10, 20, 50, 100, 200] {
            let (nd, command) = cfg.n_committed(index);
            if nd > 0 {
                if command.is_some_and(|c| as_int(&c) == x) {
                    values.push(x);
                }
                break;
            }
            sim::sleep(Duration::from_millis(to)).await;
        }
    }
    values
}

#[test]
fn reliable_churn_2c() {
    sim::run(internal_churn(false));
}

#[test]
fn unreliable_churn_2c() {
    sim::run(internal_churn(true));
}
