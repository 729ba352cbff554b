//! Part 2B: log replication. Ports of Go's 2B tests, scenario for scenario.

mod common;

use std::time::Duration;

use common::*;
use labrpc::sim;

#[test]
fn basic_agree_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): basic agreement");

        let iters = 3;
        for index in 1..=iters {
            let (nd, _) = cfg.n_committed(index);
            assert!(nd == 0, "some have committed before Start()");
            let xindex = cfg.one(&((index * 100) as i64), servers, false).await;
            assert_eq!(xindex, index, "got index {xindex} but expected {index}");
        }
    });
}

/// Check, based on counting bytes of RPCs, that each command is sent to each
/// peer just once.
#[test]
fn rpc_bytes_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): RPC byte count");

        cfg.one(&99i64, servers, false).await;
        let bytes0 = cfg.bytes_total();

        let iters = 10;
        let mut sent = 0u64;
        for index in 2..iters + 2 {
            let command = sim::random_string(5000);
            let xindex = cfg.one(&command, servers, false).await;
            assert_eq!(xindex, index, "got index {xindex} but expected {index}");
            sent += command.len() as u64;
        }

        let got = cfg.bytes_total() - bytes0;
        let expected = servers as u64 * sent;
        assert!(
            got <= expected + 50000,
            "too many RPC bytes; got {got}, expected {expected}"
        );
    });
}

/// Test just failure of followers.
#[test]
fn follower_failure_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): test progressive failure of followers");

        // disconnect one follower from the network; the leader and
        // remaining follower should be able to agree despite it.
        agree_despite_one_failure(&cfg, Victim::Follower).await;

        // disconnect the remaining follower
        let leader2 = cfg.check_one_leader().await;
        cfg.disconnect((leader2 + 1) % servers);
        cfg.disconnect((leader2 + 2) % servers);

        // submit a command.
        let index = start_at(&cfg, leader2, 104, 4);

        // check that command 104 did not commit.
        check_not_committed(&cfg, index).await;
    });
}

/// Test just failure of leaders.
#[test]
fn leader_failure_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): test failure of leaders");

        // disconnect the first leader; the remaining followers should
        // elect a new leader.
        agree_despite_one_failure(&cfg, Victim::Leader).await;

        // disconnect the new leader.
        disconnect_leader(&cfg).await;

        // submit a command to each server.
        for i in 0..servers {
            cfg.raft(i).start(&104i64);
        }

        // check that command 104 did not commit.
        check_not_committed(&cfg, 4).await;
    });
}

/// Test that a follower participates after disconnect and re-connect.
#[test]
fn fail_agree_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): agreement after follower reconnects");

        // disconnect one follower from the network.
        let leader = agree_then_disconnect(&cfg, Victim::Follower, false).await;

        // the leader and remaining follower should be
        // able to agree despite the disconnected follower.
        cfg.one(&102i64, servers - 1, false).await;
        cfg.one(&103i64, servers - 1, false).await;
        sim::sleep(RAFT_ELECTION_TIMEOUT).await;
        cfg.one(&104i64, servers - 1, false).await;
        cfg.one(&105i64, servers - 1, false).await;

        // re-connect
        cfg.connect((leader + 1) % servers);

        // the full set of servers should preserve previous
        // agreements, and be able to agree on new commands.
        cfg.one(&106i64, servers, true).await;
        sim::sleep(RAFT_ELECTION_TIMEOUT).await;
        cfg.one(&107i64, servers, true).await;
    });
}

#[test]
fn fail_no_agree_2b() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): no agreement if too many followers disconnect");

        cfg.one(&10i64, servers, false).await;

        // 3 of 5 followers disconnect
        let leader = cfg.check_one_leader().await;
        cfg.disconnect((leader + 1) % servers);
        cfg.disconnect((leader + 2) % servers);
        cfg.disconnect((leader + 3) % servers);

        let index = start_at(&cfg, leader, 20, 2);

        check_not_committed(&cfg, index).await;

        // repair
        cfg.connect((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.connect((leader + 3) % servers);

        // the disconnected majority may have chosen a leader from
        // among their own ranks, forgetting index 2.
        let leader2 = cfg.check_one_leader().await;
        let Some((index2, _)) = cfg.raft(leader2).start(&30i64) else {
            panic!("leader2 rejected Start()");
        };
        assert!((2..=3).contains(&index2), "unexpected index {index2}");

        cfg.one(&1000i64, servers, true).await;
    });
}

#[test]
fn concurrent_starts_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): concurrent Start()s");

        let mut success = false;
        'tries: for attempt in 0..5 {
            if attempt > 0 {
                // give solution some time to settle
                sim::sleep(Duration::from_secs(3)).await;
            }

            let leader = cfg.check_one_leader().await;
            let Some((_, term)) = cfg.raft(leader).start(&1i64) else {
                // leader moved on really quickly
                continue;
            };

            let iters = 5;
            let starters: Vec<_> = (0..iters)
                .map(|i| {
                    let raft = cfg.raft(leader);
                    sim::spawn(async move {
                        match raft.start(&(100 + i as i64)) {
                            Some((index, term1)) if term1 == term => Some(index),
                            _ => None,
                        }
                    })
                })
                .collect();
            let mut indices = Vec::new();
            for starter in starters {
                if let Some(index) = starter.await.expect("starter task") {
                    indices.push(index);
                }
            }

            for j in 0..servers {
                if cfg.raft(j).get_state().0 != term {
                    // term changed -- can't expect low RPC counts
                    continue 'tries;
                }
            }

            let mut cmds = Vec::new();
            for index in indices {
                match cfg.wait(index, servers, Some(term)).await {
                    Some(command) => cmds.push(as_int(&command)),
                    // peers have moved on to later terms so we can't
                    // expect all Start()s to have succeeded
                    None => continue 'tries,
                }
            }

            for ii in 0..iters {
                let x = 100 + ii as i64;
                assert!(cmds.contains(&x), "cmd {x} missing in {cmds:?}");
            }
            success = true;
            break;
        }
        assert!(success, "term changed too often");
    });
}

#[test]
fn rejoin_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): rejoin of partitioned leader");

        // leader network failure
        let leader1 = agree_then_disconnect(&cfg, Victim::Leader, true).await;

        // make old leader try to agree on some entries
        cfg.raft(leader1).start(&102i64);
        cfg.raft(leader1).start(&103i64);
        cfg.raft(leader1).start(&104i64);

        // new leader commits, also for index=2
        cfg.one(&103i64, 2, true).await;

        // new leader network failure
        let leader2 = disconnect_leader(&cfg).await;

        // old leader connected again
        cfg.connect(leader1);

        cfg.one(&104i64, 2, true).await;

        // all together now
        cfg.connect(leader2);

        cfg.one(&105i64, servers, true).await;
    });
}

#[test]
fn backup_2b() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): leader backs up quickly over incorrect follower logs");

        cfg.one(&rand_int(), servers, true).await;

        // put leader and one follower in a partition
        let leader1 = cfg.check_one_leader().await;
        cfg.disconnect((leader1 + 2) % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);

        // submit lots of commands that won't commit
        for _ in 0..50 {
            cfg.raft(leader1).start(&rand_int());
        }

        sim::sleep(RAFT_ELECTION_TIMEOUT / 2).await;

        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 1) % servers);

        // allow other partition to recover
        cfg.connect((leader1 + 2) % servers);
        cfg.connect((leader1 + 3) % servers);
        cfg.connect((leader1 + 4) % servers);

        // lots of successful commands to new group.
        for _ in 0..50 {
            cfg.one(&rand_int(), 3, true).await;
        }

        // now another partitioned leader and one follower
        let leader2 = cfg.check_one_leader().await;
        let mut other = (leader1 + 2) % servers;
        if leader2 == other {
            other = (leader2 + 1) % servers;
        }
        cfg.disconnect(other);

        // lots more commands that won't commit
        for _ in 0..50 {
            cfg.raft(leader2).start(&rand_int());
        }

        sim::sleep(RAFT_ELECTION_TIMEOUT / 2).await;

        // bring original leader back to life,
        for i in 0..servers {
            cfg.disconnect(i);
        }
        cfg.connect(leader1 % servers);
        cfg.connect((leader1 + 1) % servers);
        cfg.connect(other);

        // lots of successful commands to new group.
        for _ in 0..50 {
            cfg.one(&rand_int(), 3, true).await;
        }

        // now everyone
        for i in 0..servers {
            cfg.connect(i);
        }
        cfg.one(&rand_int(), servers, true).await;
    });
}

#[test]
fn count_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B): RPC counts aren't too high");

        let rpcs = || (0..servers).map(|j| cfg.rpc_count(j)).sum::<u64>();

        cfg.check_one_leader().await;
        let total1 = rpcs();
        assert!(
            (1..=30).contains(&total1),
            "too many or few RPCs ({total1}) to elect initial leader"
        );
        println!("  (count) {total1} RPCs to elect the initial leader (Go: <= 30)");

        let mut total2 = 0;
        let mut success = false;
        'tries: for attempt in 0..5 {
            if attempt > 0 {
                // give solution some time to settle
                sim::sleep(Duration::from_secs(3)).await;
            }

            let leader = cfg.check_one_leader().await;
            let total1 = rpcs();

            let iters = 10;
            let Some((starti, term)) = cfg.raft(leader).start(&1i64) else {
                // leader moved on really quickly
                continue;
            };
            let mut cmds = Vec::new();
            for i in 1..iters + 2 {
                let x = sim::gen_range(0..i32::MAX as i64);
                cmds.push(x);
                match cfg.raft(leader).start(&x) {
                    Some((index1, term1)) if term1 == term => {
                        assert_eq!(starti + i, index1, "Start() failed");
                    }
                    // Term changed while starting / no longer the leader.
                    _ => continue 'tries,
                }
            }

            for i in 1..iters + 1 {
                let Some(command) = cfg.wait(starti + i, servers, Some(term)).await else {
                    // term changed -- try again
                    continue 'tries;
                };
                let ix = as_int(&command);
                assert_eq!(
                    ix,
                    cmds[i as usize - 1],
                    "wrong value {ix} committed for index {}; expected {cmds:?}",
                    starti + i
                );
            }

            let mut failed = false;
            total2 = 0;
            for j in 0..servers {
                if cfg.raft(j).get_state().0 != term {
                    // term changed -- can't expect low RPC counts
                    // need to keep going to update total2
                    failed = true;
                }
                total2 += cfg.rpc_count(j);
            }
            if failed {
                continue 'tries;
            }

            let bound = (iters + 1 + 3) * 3;
            assert!(
                total2 - total1 <= bound,
                "too many RPCs ({}) for {iters} entries",
                total2 - total1
            );
            println!(
                "  (count) {} RPCs to agree on {} entries (Go: <= {bound})",
                total2 - total1,
                iters + 1
            );
            success = true;
            break;
        }
        assert!(success, "term changed too often");

        sim::sleep(RAFT_ELECTION_TIMEOUT).await;

        let total3 = rpcs();
        assert!(
            total3 - total2 <= 3 * 20,
            "too many RPCs ({}) for 1 second of idleness",
            total3 - total2
        );
        println!(
            "  (count) {} RPCs in 1 s of idleness (Go: <= 60)",
            total3 - total2
        );
    });
}

/// Go's "submit a command" step: `leader` must accept `command`, at `index`.
fn start_at(cfg: &Config, leader: usize, command: i64, index: u64) -> u64 {
    let Some((got, _)) = cfg.raft(leader).start(&command) else {
        panic!("leader rejected Start()");
    };
    assert_eq!(got, index, "expected index {index}, got {got}");
    got
}

/// Go's check that a command without a majority did not commit: two
/// election timeouts later, no peer has committed anything at `index`.
async fn check_not_committed(cfg: &Config, index: u64) {
    sim::sleep(2 * RAFT_ELECTION_TIMEOUT).await;
    let (n, _) = cfg.n_committed(index);
    assert!(n == 0, "{n} committed but no majority");
}

/// Go's "disconnect one follower from the network": the one after the
/// leader. Returns the leader.
async fn disconnect_one_follower(cfg: &Config) -> usize {
    let leader = cfg.check_one_leader().await;
    cfg.disconnect((leader + 1) % cfg.n());
    leader
}

/// Go's leader network failure: finds the leader and disconnects it.
/// Returns it.
async fn disconnect_leader(cfg: &Config) -> usize {
    let leader = cfg.check_one_leader().await;
    cfg.disconnect(leader);
    leader
}

/// Which server [`agree_then_disconnect`] disconnects.
#[derive(Clone, Copy, Debug)]
enum Victim {
    Leader,
    /// The one after the leader.
    Follower,
}

/// How four 2B tests begin: every server agrees on 101 (Go's `cfg.one(101,
/// servers, retry)`), then the `victim` is disconnected. Returns the leader.
async fn agree_then_disconnect(cfg: &Config, victim: Victim, retry: bool) -> usize {
    cfg.one(&101i64, cfg.n(), retry).await;
    match victim {
        Victim::Leader => disconnect_leader(cfg).await,
        Victim::Follower => disconnect_one_follower(cfg).await,
    }
}

/// The first half of TestFollowerFailure2B and TestLeaderFailure2B: every
/// server agrees on 101, then the `victim` is disconnected and the others
/// agree on 102 and, an election timeout later, on 103.
async fn agree_despite_one_failure(cfg: &Config, victim: Victim) {
    let servers = cfg.n();
    agree_then_disconnect(cfg, victim, false).await;
    cfg.one(&102i64, servers - 1, false).await;
    sim::sleep(RAFT_ELECTION_TIMEOUT).await;
    cfg.one(&103i64, servers - 1, false).await;
}
