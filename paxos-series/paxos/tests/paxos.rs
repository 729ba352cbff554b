//! Lab 3A of the 2015 series: ports of Go's `paxos/test_test.go` (MIT 6.824
//! Spring 2015, the same file as UCLA CS134's), one `#[test]` per Go test,
//! with Go's scenarios, constants and checks. TestForgetMem, which measures
//! the process's live heap, has a test binary of its own (forget_mem.rs).
//!
//! Go's goroutines that loop with `runtime.Gosched()` (TestManyForget) sleep
//! 1 ms per iteration here instead: virtual time only moves when every task
//! waits, so a task that only yields would stop the clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use common::Config;
use common::repartition::spawn_repartition;
use labrpc::sim;
use labtest::run::Setup;

#[test]
fn basic() {
    const NPAXOS: usize = 3;
    Config::setup("basic", NPAXOS).run(|cfg| async move {
        cfg.begin("Test: Single proposer");
        cfg.agree(0, 0, "hello").await;
        cfg.passed();

        cfg.begin("Test: Many proposers, same value");
        for i in 0..NPAXOS {
            cfg.start(i, 1, &77i64);
        }
        cfg.waitn::<i64>(1, NPAXOS).await;
        cfg.passed();

        cfg.begin("Test: Many proposers, different values");
        cfg.start_each(&[(0, 2, 100i64), (1, 2, 101), (2, 2, 102)]);
        cfg.waitn::<i64>(2, NPAXOS).await;
        cfg.passed();

        cfg.begin("Test: Out-of-order instances");
        cfg.start_each(&[(0, 7, 700i64), (0, 6, 600), (1, 5, 500)]);
        cfg.waitn::<i64>(7, NPAXOS).await;
        cfg.start_each(&[(0, 4, 400i64), (1, 3, 300)]);
        for seq in [6, 5, 4, 3] {
            cfg.waitn::<i64>(seq, NPAXOS).await;
        }
        assert_eq!(cfg.px(0).max(), 7, "wrong Max()");
        cfg.passed();
    });
}

#[test]
fn deaf() {
    const NPAXOS: usize = 5;
    Config::test("deaf", NPAXOS, "Test: Deaf proposer", |cfg| async move {
        cfg.agree(0, 0, "hello").await;

        cfg.deafen(0);
        cfg.deafen(NPAXOS - 1);

        cfg.start(1, 1, "goodbye");
        cfg.waitmajority::<String>(1).await;
        sim::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            cfg.ndecided::<String>(1),
            NPAXOS - 2,
            "a deaf peer heard about a decision"
        );

        cfg.start(0, 1, "xxx");
        cfg.waitn::<String>(1, NPAXOS - 1).await;
        sim::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            cfg.ndecided::<String>(1),
            NPAXOS - 1,
            "a deaf peer heard about a decision"
        );

        cfg.start(NPAXOS - 1, 1, "yyy");
        cfg.waitn::<String>(1, NPAXOS).await;
    });
}

#[test]
fn forget() {
    const NPAXOS: usize = 6;
    Config::test("gc", NPAXOS, "Test: Forgetting", |cfg| async move {
        // Initial Min() correct?
        for i in 0..NPAXOS {
            let m = cfg.px(i).min();
            assert!(m <= 0, "wrong initial Min() {m}");
        }

        cfg.start_each(&[
            (0, 0, "00"),
            (1, 1, "11"),
            (2, 2, "22"),
            (0, 6, "66"),
            (1, 7, "77"),
        ]);

        cfg.waitn::<String>(0, NPAXOS).await;
        for i in 0..NPAXOS {
            let m = cfg.px(i).min();
            assert_eq!(m, 0, "wrong Min() {m}; expected 0");
        }

        cfg.waitn::<String>(1, NPAXOS).await;
        for i in 0..NPAXOS {
            let m = cfg.px(i).min();
            assert_eq!(m, 0, "wrong Min() {m}; expected 0");
        }

        // Everyone Done() -> Min() changes?
        for i in 0..NPAXOS {
            cfg.px(i).done(0);
        }
        for i in 1..NPAXOS {
            cfg.px(i).done(1);
        }
        for i in 0..NPAXOS {
            cfg.start(i, 8 + i as i64, "xx");
        }
        let mut allok = false;
        for _ in 0..12 {
            allok = (0..NPAXOS).all(|i| cfg.px(i).min() == 1);
            if allok {
                break;
            }
            sim::sleep(Duration::from_secs(1)).await;
        }
        assert!(allok, "Min() did not advance after Done()");
    });
}

#[test]
fn many_forget() {
    const NPAXOS: usize = 3;
    const MAXSEQ: i64 = 20;
    Config::setup("manygc", NPAXOS).run(|cfg| async move {
        cfg.set_all_unreliable(true);

        cfg.begin("Test: Lots of forgetting");

        let starter = {
            let cfg = cfg.clone();
            sim::spawn(async move {
                let mut na: Vec<i64> = (0..MAXSEQ).collect();
                labrpc::sim::with_rng(|rng| {
                    use labrpc::rand::seq::SliceRandom;
                    na.shuffle(rng)
                });
                for seq in na {
                    let j = sim::gen_range(0..NPAXOS);
                    let v = sim::random_u64() as i64;
                    cfg.start(j, seq, &v);
                    sim::sleep(Duration::from_millis(1)).await;
                }
            })
        };

        let done = Arc::new(AtomicBool::new(false));
        let forgetter = {
            let (cfg, done) = (cfg.clone(), done.clone());
            sim::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    let seq = sim::gen_range(0..MAXSEQ);
                    let px = cfg.px(sim::gen_range(0..NPAXOS));
                    if seq >= px.min() {
                        let fate = px
                            .status::<i64>(seq)
                            .unwrap_or_else(|e| panic!("Status({seq}): {e}"));
                        if fate.is_decided() {
                            px.done(seq);
                        }
                    }
                    sim::sleep(Duration::from_millis(1)).await;
                }
            })
        };

        sim::sleep(Duration::from_secs(5)).await;
        done.store(true, Ordering::SeqCst);
        forgetter.await.unwrap();
        starter.await.unwrap();
        cfg.set_all_unreliable(false);
        sim::sleep(Duration::from_secs(2)).await;

        for seq in 0..MAXSEQ {
            for i in 0..NPAXOS {
                let px = cfg.px(i);
                if seq >= px.min() {
                    px.status::<i64>(seq)
                        .unwrap_or_else(|e| panic!("Status({seq}): {e}"));
                }
            }
        }
        cfg.passed();
    });
}

/// Does Max() work after Done()s?
#[test]
fn done_max() {
    const NPAXOS: usize = 3;
    let description = "Test: Paxos Max() after Done()s";
    Config::test("donemax", NPAXOS, description, |cfg| async move {
        cfg.agree(0, 0, "x").await;
        for i in 1..=10 {
            cfg.agree(0, i, "y").await;
        }
        for i in 0..NPAXOS {
            cfg.px(i).done(10);
        }
        // Propagate messages so everyone knows about Done(10).
        for i in 0..NPAXOS {
            cfg.start(i, 10, "z");
        }
        sim::sleep(Duration::from_secs(2)).await;
        for i in 0..NPAXOS {
            let mx = cfg.px(i).max();
            assert_eq!(
                mx, 10,
                "Max() did not return correct result 10 after calling Done(); returned {mx}"
            );
        }
    });
}

#[test]
fn rpc_count() {
    const NPAXOS: usize = 3;
    let description = "Test: RPC counts aren't too high";
    Config::test("count", NPAXOS, description, |cfg| async move {
        let total = |cfg: &Config| (0..NPAXOS).map(|j| cfg.rpc_count(j)).sum::<u64>();
        let ninst1 = 5;
        let mut seq = 0;
        for _ in 0..ninst1 {
            cfg.agree(0, seq, "x").await;
            seq += 1;
        }
        sim::sleep(Duration::from_secs(2)).await;

        let total1 = total(&cfg);
        // Per agreement: 3 prepares, 3 accepts, 3 decides.
        let expected1 = (ninst1 * NPAXOS * NPAXOS) as u64;
        assert!(
            total1 <= expected1,
            "too many RPCs for serial Start()s; {ninst1} instances, got {total1}, expected {expected1}"
        );

        let ninst2 = 5;
        for i in 0..ninst2 {
            for j in 0..NPAXOS {
                cfg.start(j, seq, &((j + i * 10) as i64));
            }
            cfg.waitn::<i64>(seq, NPAXOS).await;
            seq += 1;
        }
        sim::sleep(Duration::from_secs(2)).await;

        let total2 = total(&cfg) - total1;
        // Worst case per agreement: proposer 1 prepares, accepts and decides
        // once (9), proposer 2 prepares and accepts twice (15), proposer 3
        // three times (21).
        let expected2 = (ninst2 * NPAXOS * 15) as u64;
        assert!(
            total2 <= expected2,
            "too many RPCs for concurrent Start()s; {ninst2} instances, got {total2}, expected {expected2}"
        );
        println!(
            "  RPCs: {total1} for {ninst1} serial agreements, {total2} for {ninst2} concurrent ones"
        );
    });
}

/// Many agreements, at most 5 in flight, no failures (TestMany), or at most
/// 3 with unreliable RPC (TestManyUnreliable).
fn many_agreements(tag: &str, description: &'static str, unreliable: bool, in_flight: i64) {
    const NPAXOS: usize = 3;
    const NINST: i64 = 50;
    Config::test(tag, NPAXOS, description, move |cfg| async move {
        for i in 0..NPAXOS {
            cfg.set_unreliable(i, unreliable);
            cfg.start(i, 0, &0i64);
        }
        for seq in 1..NINST {
            // Only a few active instances (Go: to limit file descriptors).
            while seq >= in_flight && cfg.ndecided::<i64>(seq - in_flight) < NPAXOS {
                sim::sleep(Duration::from_millis(20)).await;
            }
            for i in 0..NPAXOS {
                cfg.start(i, seq, &(seq * 10 + i as i64));
            }
        }
        while !(1..NINST).all(|seq| cfg.ndecided::<i64>(seq) >= NPAXOS) {
            sim::sleep(Duration::from_millis(100)).await;
        }
    });
}

#[test]
fn many() {
    many_agreements("many", "Test: Many instances", false, 5);
}

/// A peer starts up, with a proposal, after the others decided; then
/// another peer would start without a proposal (disabled in Go too).
#[test]
fn old() {
    const NPAXOS: usize = 5;
    Setup::new(|| Config::slots("old", NPAXOS)).run(|cfg| async move {
        cfg.begin("Test: Minority proposal ignored");
        cfg.make(1);
        cfg.make(2);
        cfg.make(3);
        cfg.start(1, 1, &111i64);
        cfg.waitmajority::<i64>(1).await;

        cfg.make(0);
        cfg.start(0, 1, &222i64);
        cfg.waitn::<i64>(1, 4).await;
        cfg.passed();
    });
}

#[test]
fn many_unreliable() {
    many_agreements("manyun", "Test: Many instances, unreliable RPC", true, 3);
}

#[test]
fn partition() {
    const NPAXOS: usize = 5;
    Config::setup("partition", NPAXOS).run(|cfg| async move {
        let mut seq = 0;

        cfg.begin("Test: No decision if partitioned");
        cfg.part(&[&[0, 2], &[1, 3], &[4]]);
        cfg.start(1, seq, &111i64);
        cfg.checkmax::<i64>(seq, 0).await;
        cfg.passed();

        cfg.begin("Test: Decision in majority partition");
        cfg.part(&[&[0], &[1, 2, 3], &[4]]);
        sim::sleep(Duration::from_secs(2)).await;
        cfg.waitmajority::<i64>(seq).await;
        cfg.passed();

        cfg.begin("Test: All agree after full heal");
        cfg.start(0, seq, &1000i64); // poke them
        cfg.start(4, seq, &1004i64);
        cfg.heal();
        cfg.waitn::<i64>(seq, NPAXOS).await;
        cfg.passed();

        cfg.begin("Test: One peer switches partitions");
        for _ in 0..20 {
            seq += 1;
            cfg.part(&[&[0, 1, 2], &[3, 4]]);
            cfg.start(0, seq, &(seq * 10));
            cfg.start(3, seq, &(seq * 10 + 1));
            cfg.waitmajority::<i64>(seq).await;
            assert!(cfg.ndecided::<i64>(seq) <= 3, "too many decided");
            cfg.part(&[&[0, 1], &[2, 3, 4]]);
            cfg.waitn::<i64>(seq, NPAXOS).await;
        }
        cfg.passed();

        cfg.begin("Test: One peer switches partitions, unreliable");
        for _ in 0..20 {
            seq += 1;
            cfg.set_all_unreliable(true);
            cfg.part(&[&[0, 1, 2], &[3, 4]]);
            for i in 0..NPAXOS {
                cfg.start(i, seq, &(seq * 10 + i as i64));
            }
            cfg.waitn::<i64>(seq, 3).await;
            assert!(cfg.ndecided::<i64>(seq) <= 3, "too many decided");
            cfg.part(&[&[0, 1], &[2, 3, 4]]);
            cfg.set_all_unreliable(false);
            cfg.waitn::<i64>(seq, 5).await;
        }
        cfg.passed();
        // Go's deferred part({}, {}, {}), then cleanup.
        cfg.part(&[]);
    });
}

#[test]
fn lots() {
    const NPAXOS: usize = 5;
    Config::setup("lots", NPAXOS).run(|cfg| async move {
        cfg.set_all_unreliable(true);
        cfg.begin("Test: Many requests, changing partitions");

        let done = Arc::new(AtomicBool::new(false));
        let seq = Arc::new(AtomicI64::new(0));

        // Re-partition periodically.
        let repartition = {
            let cfg = cfg.clone();
            spawn_repartition(NPAXOS, done.clone(), move |groups| cfg.part(groups))
        };

        // Periodically start a new instance.
        let starter = {
            let (cfg, done, seq) = (cfg.clone(), done.clone(), seq.clone());
            sim::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    // How many instances are in progress?
                    let sq = seq.load(Ordering::SeqCst);
                    let nd = (0..sq)
                        .filter(|&i| cfg.ndecided::<i64>(i) == NPAXOS)
                        .count() as i64;
                    if sq - nd < 10 {
                        for i in 0..NPAXOS {
                            cfg.start(i, sq, &sim::gen_range(0..10i64));
                        }
                        seq.fetch_add(1, Ordering::SeqCst);
                    }
                    sim::go_sleep(Duration::from_millis(sim::gen_range(0..300))).await;
                }
            })
        };

        // Periodically check that decisions are consistent.
        let checker = {
            let (cfg, done, seq) = (cfg.clone(), done.clone(), seq.clone());
            sim::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    for i in 0..seq.load(Ordering::SeqCst) {
                        cfg.ndecided::<i64>(i);
                    }
                    sim::go_sleep(Duration::from_millis(sim::gen_range(0..300))).await;
                }
            })
        };

        sim::sleep(Duration::from_secs(20)).await;
        done.store(true, Ordering::SeqCst);
        repartition.await.unwrap();
        starter.await.unwrap();
        checker.await.unwrap();

        // Repair, then check that all instances decided.
        cfg.set_all_unreliable(false);
        cfg.heal();
        sim::sleep(Duration::from_secs(5)).await;
        let started = seq.load(Ordering::SeqCst);
        for i in 0..started {
            cfg.waitmajority::<i64>(i).await;
        }
        println!("  {started} instances started");
        cfg.passed();
        cfg.part(&[]);
    });
}
