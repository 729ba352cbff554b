//! Part 2A: leader election. Ports of Go's TestInitialElection2A,
//! TestReElection2A and TestManyElections2A.

mod common;

use common::*;
use labrpc::sim;

#[test]
fn initial_election_2a() {
    run_test(3, false, false, |cfg, _| async move {
        cfg.begin("Test (2A): initial election");

        // is a leader elected?
        cfg.check_one_leader().await;

        // sleep a bit to avoid racing with followers learning of the
        // election, then check that all peers agree on the term.
        sim::sleep(std::time::Duration::from_millis(50)).await;
        let term1 = cfg.check_terms();
        assert!(term1 >= 1, "term is {term1}, but should be at least 1");

        // does the leader+term stay the same if there is no network failure?
        sim::sleep(2 * RAFT_ELECTION_TIMEOUT).await;
        let term2 = cfg.check_terms();
        if term1 != term2 {
            println!("warning: term changed even though there were no failures");
        }

        // there should still be a leader.
        cfg.check_one_leader().await;
    });
}

#[test]
fn re_election_2a() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2A): election after network failure");

        let leader1 = cfg.check_one_leader().await;

        // if the leader disconnects, a new one should be elected.
        cfg.disconnect(leader1);
        cfg.check_one_leader().await;

        // if the old leader rejoins, that shouldn't disturb the new leader.
        // and the old leader should switch to follower.
        cfg.connect(leader1);
        let leader2 = cfg.check_one_leader().await;

        // if there's no quorum, no new leader should be elected.
        cfg.disconnect(leader2);
        cfg.disconnect((leader2 + 1) % servers);
        sim::sleep(2 * RAFT_ELECTION_TIMEOUT).await;

        // check that the one connected server does not think it is the leader.
        cfg.check_no_leader();

        // if a quorum arises, it should elect a leader.
        cfg.connect((leader2 + 1) % servers);
        cfg.check_one_leader().await;

        // re-join of last node shouldn't prevent leader from existing.
        cfg.connect(leader2);
        cfg.check_one_leader().await;
    });
}

#[test]
fn many_elections_2a() {
    run_test(7, false, false, |cfg, servers| async move {
        cfg.begin("Test (2A): multiple elections");

        cfg.check_one_leader().await;

        let iters = 10;
        for _ in 1..iters {
            // disconnect three nodes
            let i1 = sim::gen_range(0..servers);
            let i2 = sim::gen_range(0..servers);
            let i3 = sim::gen_range(0..servers);
            cfg.disconnect(i1);
            cfg.disconnect(i2);
            cfg.disconnect(i3);

            // either the current leader should still be alive,
            // or the remaining four should elect a new one.
            cfg.check_one_leader().await;

            cfg.connect(i1);
            cfg.connect(i2);
            cfg.connect(i3);
        }
        cfg.check_one_leader().await;
    });
}
