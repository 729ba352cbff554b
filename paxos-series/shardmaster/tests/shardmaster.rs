//! Lab 4A of the 2015 series: ports of Go's `shardmaster/test_test.go`
//! (MIT 6.824 Spring 2015, the same file as UCLA CS134's), one test per Go
//! test, with Go's scenarios, constants and checks: TestBasic (its seven
//! parts in order on one cluster), TestUnreliable and TestFreshQuery.

mod common;

use common::{Client, Masters, check};
use labrpc::sim::{self, JoinHandle};
use shardconfig::check::{check_moves, check_same_config, check_servers};
use shardmaster::{Config, Gid, N_SHARDS};

/// Go's `nservers`, the same in every test.
const NSERVERS: usize = 3;

/// Go's concurrent leave/join (TestBasic's and TestUnreliable's): `npara`
/// tasks, task `i` made by `client(i, gid)` for GID i + 1 (it joins GID
/// gid + 1000 and GID gid, then leaves gid + 1000); then Query(-1) through
/// `ck` must have exactly those GIDs.
async fn concurrent_leave_join<F>(npara: usize, ck: &mut Client, client: F)
where
    F: Fn(usize, Gid) -> JoinHandle<()>,
{
    let gids: Vec<Gid> = (0..npara).map(|i| i as Gid + 1).collect();
    let tasks: Vec<_> = (0..npara).map(|i| client(i, gids[i])).collect();
    for task in tasks {
        task.await.unwrap();
    }
    check(&gids, ck).await;
}

/// Go's minimal-transfer checks: every shard that `a` gives one of the
/// GIDs 1..=`ngids` is on the same GID in `b`.
fn check_kept(a: &Config, b: &Config, ngids: usize, message: &str) {
    for gid in 1..=ngids as Gid {
        for j in 0..N_SHARDS {
            if a.shards[j] == gid {
                assert!(b.shards[j] == gid, "{message}");
            }
        }
    }
}

#[test]
fn basic() {
    Masters::setup("basic", NSERVERS).run(|cfg| async move {
        let mut ck = cfg.clerk(&[0, 1, 2]);

        cfg.begin("Test: Basic leave/join");
        let mut cfa: Vec<Config> = Vec::with_capacity(6);
        cfa.push(ck.query(-1).await);
        check(&[], &mut ck).await;

        let gid1: Gid = 1;
        ck.join(gid1, &["x", "y", "z"]).await;
        check(&[gid1], &mut ck).await;
        cfa.push(ck.query(-1).await);

        let gid2: Gid = 2;
        ck.join(gid2, &["a", "b", "c"]).await;
        check(&[gid1, gid2], &mut ck).await;
        cfa.push(ck.query(-1).await);

        ck.join(gid2, &["a", "b", "c"]).await;
        check(&[gid1, gid2], &mut ck).await;
        cfa.push(ck.query(-1).await);

        let cfx = ck.query(-1).await;
        check_servers(&cfx, gid1, &["x", "y", "z"]);
        check_servers(&cfx, gid2, &["a", "b", "c"]);

        ck.leave(gid1).await;
        check(&[gid2], &mut ck).await;
        cfa.push(ck.query(-1).await);

        ck.leave(gid1).await;
        check(&[gid2], &mut ck).await;
        cfa.push(ck.query(-1).await);
        cfg.passed();

        cfg.begin("Test: Historical queries");
        for expected in &cfa {
            let c = ck.query(expected.num as i64).await;
            // Go compares c's groups against the recorded ones, as this does.
            check_same_config(&c, expected);
        }
        cfg.passed();

        cfg.begin("Test: Move");
        {
            let gid3: Gid = 503;
            ck.join(gid3, &["3a", "3b", "3c"]).await;
            let gid4: Gid = 504;
            ck.join(gid4, &["4a", "4b", "4c"]).await;
            check_moves(&mut ck, gid3, gid4).await;
            ck.leave(gid3).await;
            ck.leave(gid4).await;
        }
        cfg.passed();

        cfg.begin("Test: Concurrent leave/join");
        const NPARA: usize = 10;
        concurrent_leave_join(NPARA, &mut ck, |i, gid| {
            // cka[i % 3] joins twice, cka[(i + 1) % 3] leaves (Go's clerks
            // hold no state, so fresh ones are the same).
            let first = cfg.clerk(&[i % NSERVERS]);
            let mut second = cfg.clerk(&[(i + 1) % NSERVERS]);
            let mut ck = first;
            ck.node().spawn(async move {
                ck.join(gid + 1000, &["a", "b", "c"]).await;
                ck.join(gid, &["a", "b", "c"]).await;
                second.leave(gid + 1000).await;
            })
        })
        .await;
        cfg.passed();

        cfg.begin("Test: Min advances after joins");
        for i in 0..NSERVERS {
            assert!(
                cfg.sm(i).paxos().min() > 0,
                "Min() for {} did not advance",
                cfg.name(i)
            );
        }
        cfg.passed();

        cfg.begin("Test: Minimal transfers after joins");
        let c1 = ck.query(-1).await;
        for i in 0..5 {
            ck.join((NPARA + 1 + i) as Gid, &["a", "b", "c"]).await;
        }
        let c2 = ck.query(-1).await;
        check_kept(&c2, &c1, NPARA, "non-minimal transfer after Join()s");
        cfg.passed();

        cfg.begin("Test: Minimal transfers after leaves");
        for i in 0..5 {
            ck.leave((NPARA + 1 + i) as Gid).await;
        }
        let c3 = ck.query(-1).await;
        check_kept(&c2, &c3, NPARA, "non-minimal transfer after Leave()s");
        cfg.passed();
    });
}

#[test]
fn unreliable() {
    Masters::setup("unrel", NSERVERS).run(|cfg| async move {
        // Go leaves the servers reliable: "the assignment doesn't require
        // the shardmaster to detect duplicate client requests".
        let mut ck = cfg.clerk(&[0, 1, 2]);

        cfg.begin("Test: Concurrent leave/join, failure");
        const NPARA: usize = 20;
        concurrent_leave_join(NPARA, &mut ck, |_, gid| {
            let cfg = cfg.clone();
            let node = cfg.clerk(&[1]).node();
            node.spawn(async move {
                // cka[1 + rand() % 2] for each request.
                let cka = || cfg.clerk(&[1 + sim::gen_range(0..2)]);
                cka().join(gid + 1000, &["a", "b", "c"]).await;
                cka().join(gid, &["a", "b", "c"]).await;
                cka().leave(gid + 1000).await;
                // Server 0 won't be able to hear any RPCs.
                cfg.deafen(0);
            })
        })
        .await;
        cfg.passed();
    });
}

#[test]
fn fresh_query() {
    Masters::setup("fresh", NSERVERS).run(|cfg| async move {
        let mut ck1 = cfg.clerk(&[1]);

        cfg.begin("Test: Query() returns latest configuration");
        let portx = cfg.rename(0);
        let mut ck0 = cfg.clerk_of(&[&portx]);
        ck1.join(1001, &["a", "b", "c"]).await;
        let c = ck0.query(-1).await;
        assert!(
            c.groups.contains_key(&1001),
            "Query(-1) produced a stale configuration"
        );
        cfg.passed();
    });
}
