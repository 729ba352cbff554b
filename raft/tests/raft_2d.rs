//! Part 2D: log compaction. Ports of Go's 2D tests: `snapcommon` in its five
//! variants, crash-and-restart-all, and snapshot initialisation.
//!
//! These configs use the snapshot applier, which calls `Raft::snapshot` from
//! inside its apply loop every `SNAPSHOT_INTERVAL` commands; a Raft that
//! holds its lock while sending on the apply channel deadlocks here, and the
//! simulation reports the stall or the test times out.

mod common;

use common::*;
use labrpc::sim;

async fn snapcommon(name: &str, disconnect: bool, reliable: bool, crash: bool) {
    let iters = 30;
    let servers = 3;
    let cfg = make_config(servers, !reliable, true);
    cfg.begin(name);

    cfg.one(&rand_int(), servers, true).await;
    let mut leader1 = cfg.check_one_leader().await;

    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }

        if disconnect {
            cfg.disconnect(victim);
            cfg.one(&rand_int(), servers - 1, true).await;
        }
        if crash {
            cfg.crash1(victim);
            cfg.one(&rand_int(), servers - 1, true).await;
        }

        // perhaps send enough to get a snapshot
        let nn = SNAPSHOT_INTERVAL / 2 + sim::gen_range(0..SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            if let Some(raft) = cfg.try_raft(sender) {
                raft.start(&rand_int());
            }
        }

        // let applier threads catch up with the Start()'s
        if !disconnect && !crash {
            // make sure all followers have caught up, so that
            // an InstallSnapshot RPC isn't required for
            // snapshot_basic_2d().
            cfg.one(&rand_int(), servers, true).await;
        } else {
            cfg.one(&rand_int(), servers - 1, true).await;
        }

        let size = cfg.log_size();
        assert!(size < MAX_LOG_SIZE, "Log size too large: {size}");
        if disconnect {
            // reconnect a follower, who maybe behind and
            // needs to receive a snapshot to catch up.
            cfg.connect(victim);
            cfg.one(&rand_int(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
        if crash {
            cfg.start1(victim);
            cfg.connect(victim);
            cfg.one(&rand_int(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
    }
    cfg.end();
}

#[test]
fn snapshot_basic_2d() {
    sim::run(snapcommon("Test (2D): snapshots basic", false, true, false));
}

#[test]
fn snapshot_install_2d() {
    sim::run(snapcommon(
        "Test (2D): install snapshots (disconnect)",
        true,
        true,
        false,
    ));
}

#[test]
fn snapshot_install_unreliable_2d() {
    sim::run(snapcommon(
        "Test (2D): install snapshots (disconnect+unreliable)",
        true,
        false,
        false,
    ));
}

#[test]
fn snapshot_install_crash_2d() {
    sim::run(snapcommon(
        "Test (2D): install snapshots (crash)",
        false,
        true,
        true,
    ));
}

#[test]
fn snapshot_install_unreliable_crash_2d() {
    sim::run(snapcommon(
        "Test (2D): install snapshots (unreliable+crash)",
        false,
        false,
        true,
    ));
}

/// Crashes all servers, then revives all (restart and reconnect).
fn crash_and_revive_all(cfg: &Config) {
    for i in 0..cfg.n() {
        cfg.crash1(i);
    }
    for i in 0..cfg.n() {
        cfg.start1(i);
        cfg.connect(i);
    }
}

/// Do the servers persist the snapshots, and restart using snapshot along
/// with the tail of the log?
#[test]
fn snapshot_all_crash_2d() {
    run_test(3, false, true, |cfg, servers| async move {
        let iters = 5;
        cfg.begin("Test (2D): crash and restart all servers");

        cfg.one(&rand_int(), servers, true).await;

        for _ in 0..iters {
            // perhaps enough to get a snapshot
            let nn = SNAPSHOT_INTERVAL / 2 + sim::gen_range(0..SNAPSHOT_INTERVAL);
            for _ in 0..nn {
                cfg.one(&rand_int(), servers, true).await;
            }

            let index1 = cfg.one(&rand_int(), servers, true).await;

            crash_and_revive_all(&cfg);

            let index2 = cfg.one(&rand_int(), servers, true).await;
            assert!(index2 > index1, "index decreased from {index1} to {index2}");
        }
    });
}

/// Do servers correctly initialize their in-memory copy of the snapshot,
/// making sure that future writes to persistent state don't lose state?
#[test]
fn snapshot_init_2d() {
    run_test(3, false, true, |cfg, servers| async move {
        cfg.begin("Test (2D): snapshot initialization after crash");

        cfg.one(&rand_int(), servers, true).await;

        // enough ops to make a snapshot
        let nn = SNAPSHOT_INTERVAL + 1;
        for _ in 0..nn {
            cfg.one(&rand_int(), servers, true).await;
        }

        crash_and_revive_all(&cfg);

        // a single op, to get something to be written back to persistent storage.
        cfg.one(&rand_int(), servers, true).await;

        crash_and_revive_all(&cfg);

        // do another op to trigger potential bug
        cfg.one(&rand_int(), servers, true).await;
    });
}

/// Beyond Go: once `kill()` returns, the peer writes nothing more to its
/// Persister, not even for a snapshot the service hands it afterwards (a
/// service's apply loop may still be running when the peer is killed).
#[test]
fn snapshot_after_kill_writes_nothing_2d() {
    use labrpc::{Network, Persister, Server};
    use raft::{ApplyMsg, Raft};

    sim::run(async {
        let net = Network::new();
        let node = sim::Node::new("S0");
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let persister = Persister::new();
        let peers = vec![net.make_end("S0-to-S0")];
        let rf = node.enter(|| Raft::make(peers, 0, persister.clone(), tx));
        let server = Server::new(&node);
        server.add_service(rf.service());
        net.add_server("S0", server);
        sim::sleep(RAFT_ELECTION_TIMEOUT * 2).await; // a lone peer elects itself
        let mut commit = async |value: i64| {
            let (index, _) = rf.start(&value).expect("the only peer leads");
            loop {
                match rx.recv().await {
                    Some(ApplyMsg::Command { index: applied, .. }) if applied == index => {
                        return index;
                    }
                    Some(_) => {}
                    None => panic!("the apply channel closed"),
                }
            }
        };
        // While alive, a snapshot is saved (so the check below is not vacuous).
        let first = commit(1).await;
        rf.snapshot(first, vec![1; 10]);
        assert_eq!(
            persister.read_snapshot(),
            vec![1; 10],
            "a live peer saves its snapshot"
        );
        let second = commit(2).await;
        rf.kill();
        let before = (persister.read_raft_state(), persister.read_snapshot());
        rf.snapshot(second, vec![2; 10]);
        sim::sleep(RAFT_ELECTION_TIMEOUT).await;
        assert!(
            (persister.read_raft_state(), persister.read_snapshot()) == before,
            "Raft::snapshot after kill() wrote the Persister"
        );
    });
}
