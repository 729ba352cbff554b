//! Lab 3B of the 2015 series: ports of Go's `kvpaxos/test_test.go` (MIT
//! 6.824 Spring 2015, the same file as UCLA CS134's), one `#[test]` per Go
//! test, with Go's scenarios, constants and checks. TestDone, which measures
//! the process's live heap, has a test binary of its own (done.rs).
//!
//! Added to Go's checks: the histories of the tests whose clients run
//! concurrently go through the linearizability checker at the end.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::repartition::spawn_repartition;
use common::{Client, Config, check, check_appends, next_value};
use labrpc::sim::{self, JoinHandle};

/// Runs `f` on the client's node; the client comes back with the result.
fn spawn_client<F, Fut, T>(ck: Client, f: F) -> JoinHandle<(Client, T)>
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = (Client, T)> + Send + 'static,
    T: Send + 'static,
{
    let node = ck.node();
    node.spawn(f(ck))
}

/// Go's "Concurrent clients" part (in TestBasic and TestUnreliable): 20
/// rounds of 15 clients made by `clerk`, each putting a random value to "b"
/// or getting it once; after each round every clerk of `cka` reads the same
/// value.
async fn concurrent_clients(cka: &mut [Client], clerk: impl Fn() -> Client) {
    for _ in 0..20 {
        const NPARA: usize = 15;
        let tasks: Vec<_> = (0..NPARA)
            .map(|_| {
                spawn_client(clerk(), |mut myck| async move {
                    if sim::gen_range(0..1000) < 500 {
                        let v = sim::random_u64().to_string();
                        myck.put("b", &v).await;
                    } else {
                        myck.get("b").await;
                    }
                    (myck, ())
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let mut va = Vec::new();
        for ck in cka.iter_mut() {
            va.push(ck.get("b").await);
        }
        for (i, v) in va.iter().enumerate() {
            assert!(*v == va[0], "mismatch; 0 got {}, {i} got {v}", va[0]);
        }
    }
}

/// Go's Puts and checks of "a" in TestBasic and TestUnreliable, through
/// `ck` (a clerk of every server) and `cka` (a clerk of each server alone).
async fn basic_puts(ck: &mut Client, cka: &mut [Client]) {
    ck.put("a", "aa").await;
    check(ck, "a", "aa").await;
    cka[1].put("a", "aaa").await;
    check(&mut cka[2], "a", "aaa").await;
    check(&mut cka[1], "a", "aaa").await;
    check(ck, "a", "aaa").await;
}

#[test]
fn basic() {
    const NSERVERS: usize = 3;
    Config::run_with_clerks(
        "basic",
        NSERVERS,
        false,
        |cfg, mut ck, mut cka| async move {
            cfg.begin("Test: Basic put/append/get");
            ck.append("app", "x").await;
            ck.append("app", "y").await;
            check(&mut ck, "app", "xy").await;
            basic_puts(&mut ck, &mut cka).await;
            cfg.passed();

            cfg.begin("Test: Concurrent clients");
            concurrent_clients(&mut cka, || cfg.clerk(&[sim::gen_range(0..NSERVERS)])).await;
            cfg.passed();
        },
    );
}

#[test]
fn partition() {
    const NSERVERS: usize = 5;
    Config::setup("partition", NSERVERS, false).run(|cfg| async move {
        let mut cka: Vec<Option<Client>> = (0..NSERVERS).map(|i| Some(cfg.clerk(&[i]))).collect();
        let ck = |cka: &mut Vec<Option<Client>>, i: usize| -> Client { cka[i].take().unwrap() };

        cfg.begin("Test: No partition");
        cfg.part(&[&[0, 1, 2, 3, 4]]);
        let mut c0 = ck(&mut cka, 0);
        let mut c2 = ck(&mut cka, 2);
        let mut c3 = ck(&mut cka, 3);
        let mut c4 = ck(&mut cka, 4);
        c0.put("1", "12").await;
        c2.put("1", "13").await;
        check(&mut c3, "1", "13").await;
        cfg.passed();

        cfg.begin("Test: Progress in majority");
        cfg.part(&[&[2, 3, 4], &[0, 1]]);
        c2.put("1", "14").await;
        check(&mut c4, "1", "14").await;
        cfg.passed();

        cfg.begin("Test: No progress in minority");
        let done0 = spawn_client(c0, |mut c| async move {
            c.put("1", "15").await;
            (c, ())
        });
        let done1 = spawn_client(ck(&mut cka, 1), |mut c| async move {
            let v = c.get("1").await;
            (c, v)
        });
        sim::sleep(Duration::from_secs(1)).await;
        assert!(!done0.is_finished(), "Put in minority completed");
        assert!(!done1.is_finished(), "Get in minority completed");
        check(&mut c4, "1", "14").await;
        c3.put("1", "16").await;
        check(&mut c4, "1", "16").await;
        cfg.passed();

        cfg.begin("Test: Completion after heal");
        cfg.part(&[&[0, 2, 3, 4], &[1]]);
        let Ok(joined) = sim::timeout(Duration::from_millis(30 * 100), done0).await else {
            panic!("Put did not complete");
        };
        let (mut c0, ()) = joined.unwrap();
        assert!(!done1.is_finished(), "Get in minority completed");
        check(&mut c4, "1", "15").await;
        check(&mut c0, "1", "15").await;

        cfg.part(&[&[0, 1, 2], &[3, 4]]);
        let Ok(joined) = sim::timeout(Duration::from_millis(100 * 100), done1).await else {
            panic!("Get did not complete");
        };
        let (mut c1, _) = joined.unwrap();
        check(&mut c1, "1", "15").await;
        cfg.passed();
    });
}

#[test]
fn unreliable() {
    const NSERVERS: usize = 3;
    Config::run_with_clerks("un", NSERVERS, true, |cfg, mut ck, mut cka| async move {
        cfg.begin("Test: Basic put/get, unreliable");
        basic_puts(&mut ck, &mut cka).await;
        cfg.passed();

        cfg.begin("Test: Sequence of puts, unreliable");
        for _ in 0..6 {
            const NCLI: usize = 5;
            let tasks: Vec<_> = (0..NCLI)
                .map(|me| {
                    spawn_client(cfg.randclerk(), move |mut myck| async move {
                        let key = me.to_string();
                        let mut vv = myck.get(&key).await;
                        for x in ["0", "1", "2"] {
                            myck.append(&key, x).await;
                            vv = next_value(&vv, x);
                        }
                        sim::sleep(Duration::from_millis(100)).await;
                        assert!(myck.get(&key).await == vv, "wrong value");
                        assert!(myck.get(&key).await == vv, "wrong value");
                        (myck, true)
                    })
                })
                .collect();
            for task in tasks {
                let (_, ok) = task.await.unwrap();
                assert!(ok, "failure");
            }
        }
        cfg.passed();

        cfg.begin("Test: Concurrent clients, unreliable");
        concurrent_clients(&mut cka, || cfg.randclerk()).await;
        cfg.passed();

        cfg.begin("Test: Concurrent Append to same key, unreliable");
        // checkAppends checks this part; the linearizability checker's
        // search is exponential in concurrent Appends without Gets.
        cfg.stop_recording();
        ck.put("k", "").await;
        const NCLI: usize = 5;
        let tasks: Vec<_> = (0..NCLI)
            .map(|me| {
                spawn_client(cfg.randclerk(), move |mut myck| async move {
                    let mut n = 0;
                    while n < 5 {
                        myck.append("k", &format!("x {me} {n} y")).await;
                        n += 1;
                    }
                    (myck, n)
                })
            })
            .collect();
        let mut counts = Vec::new();
        for task in tasks {
            let (_, n) = task.await.unwrap();
            counts.push(n);
        }
        let vx = ck.get("k").await;
        check_appends(&vx, &counts);
        for (i, c) in cka.iter_mut().enumerate() {
            let vi = c.get("k").await;
            assert!(vi == vx, "mismatch; 0 got {vx}, {i} got {vi}");
        }
        cfg.passed();
    });
}

#[test]
fn hole() {
    const NSERVERS: usize = 5;
    Config::setup("hole", NSERVERS, false).run(|cfg| async move {
        cfg.begin("Test: Tolerates holes in paxos sequence");
        for _ in 0..5 {
            cfg.heal();
            let mut ck2 = cfg.clerk(&[2]);
            ck2.put("q", "q").await;

            let done = Arc::new(AtomicBool::new(false));
            const NCLIENTS: usize = 10;
            let tasks: Vec<_> = (0..NCLIENTS)
                .map(|cli| {
                    let mut cka: Vec<Client> = (0..NSERVERS).map(|i| cfg.clerk(&[i])).collect();
                    let done = done.clone();
                    let node = cka[0].node();
                    node.spawn(async move {
                        let key = cli.to_string();
                        let mut last = String::new();
                        cka[0].put(&key, &last).await;
                        while !done.load(Ordering::SeqCst) {
                            let ci = sim::gen_range(0..2);
                            if sim::gen_range(0..1000) < 500 {
                                let nv = sim::random_u64().to_string();
                                cka[ci].put(&key, &nv).await;
                                last = nv;
                            } else {
                                let v = cka[ci].get(&key).await;
                                assert!(
                                    v == last,
                                    "{cli}: wrong value, key {key}, wanted {last}, got {v}"
                                );
                            }
                        }
                        true
                    })
                })
                .collect();

            sim::sleep(Duration::from_secs(3)).await;
            cfg.part(&[&[2, 3, 4], &[0, 1]]);

            // Can the majority make progress even though the minority
            // servers were interrupted in the middle of Paxos agreements?
            check(&mut ck2, "q", "q").await;
            ck2.put("q", "qq").await;
            check(&mut ck2, "q", "qq").await;

            // Restore the network, wait for all clients to exit.
            cfg.heal();
            done.store(true, Ordering::SeqCst);
            let mut ok = true;
            for task in tasks {
                ok = ok && task.await.unwrap();
            }
            assert!(ok, "something is wrong");
            check(&mut ck2, "q", "qq").await;
        }
        cfg.passed();
    });
}

#[test]
fn many_partition() {
    const NSERVERS: usize = 5;
    const NCLIENTS: usize = 10;
    Config::setup("many", NSERVERS, true).run(|cfg| async move {
        cfg.begin("Test: Many clients, changing partitions");
        cfg.heal();
        let done = Arc::new(AtomicBool::new(false));

        // Re-partition periodically.
        let repartition = {
            let cfg = cfg.clone();
            spawn_repartition(NSERVERS, done.clone(), move |groups| cfg.part(groups))
        };

        let tasks: Vec<_> = (0..NCLIENTS)
            .map(|cli| {
                let done = done.clone();
                spawn_client(cfg.randclerk(), move |mut myck| async move {
                    let key = cli.to_string();
                    let mut last = String::new();
                    myck.put(&key, &last).await;
                    while !done.load(Ordering::SeqCst) {
                        if sim::gen_range(0..1000) < 500 {
                            let nv = sim::random_u64().to_string();
                            myck.append(&key, &nv).await;
                            last = next_value(&last, &nv);
                        } else {
                            let v = myck.get(&key).await;
                            assert!(
                                v == last,
                                "{cli}: get wrong value, key {key}, wanted {last}, got {v}"
                            );
                        }
                    }
                    (myck, true)
                })
            })
            .collect();

        sim::sleep(Duration::from_secs(20)).await;
        done.store(true, Ordering::SeqCst);
        repartition.await.unwrap();
        cfg.heal();

        let mut ok = true;
        for task in tasks {
            let (_, z) = task.await.unwrap();
            ok = ok && z;
        }
        if ok {
            cfg.passed();
        }
    });
}
