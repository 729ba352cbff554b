//! Part 3A: the key/value service without snapshots. Ports of Go's
//! kvraft tests TestBasic3A ... TestPersistPartitionUnreliableLinearizable3A,
//! with Go's parameters and checks (see `common::GenericTest`).

mod common;

use std::time::Duration;

use common::*;
use labrpc::sim;

#[test]
fn basic_3a() {
    // Test: one client (3A) ...
    GenericTest {
        part: "3A",
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn speed_3a() {
    sim::run(async {
        generic_test_speed("3A", -1).await;
    });
}

#[test]
fn concurrent_3a() {
    // Test: many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn unreliable_3a() {
    // Test: unreliable net, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        unreliable: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn unreliable_one_key_3a() {
    sim::run(async {
        let nservers = 3;
        let (cfg, mut ck) = make_config_and_client(nservers, true, -1);

        cfg.begin("Test: concurrent append to same key, unreliable (3A)");

        cfg.put(&mut ck, "k", "", None).await;

        const NCLIENT: usize = 5;
        const UPTO: usize = 10;
        let client_cfg = cfg.clone();
        spawn_clients_and_wait(&cfg, NCLIENT, move |me, mut myck| {
            let cfg = client_cfg.clone();
            async move {
                for n in 0..UPTO {
                    cfg.append(&mut myck, "k", &format!("x {me} {n} y"), None)
                        .await;
                }
            }
        })
        .await;

        let counts = vec![UPTO; NCLIENT];
        let vx = cfg.get(&mut ck, "k", None).await;
        labtest::history::check_concurrent_appends(&vx, &counts);

        cfg.end();
    });
}

/// Submit a request in the minority partition and check that the request
/// doesn't go through until the partition heals. The leader in the original
/// network ends up in the minority partition.
#[test]
fn one_partition_3a() {
    sim::run(async {
        let nservers = 5;
        let (cfg, mut ck) = make_config_and_client(nservers, false, -1);

        cfg.put(&mut ck, "1", "13", None).await;

        cfg.begin("Test: progress in majority (3A)");

        let (p1, p2) = cfg.make_partition();
        cfg.partition(&p1, &p2);

        let mut ckp1 = cfg.make_client(&p1); // connect ckp1 to p1
        let ckp2a = cfg.make_client(&p2); // connect ckp2a to p2
        let ckp2b = cfg.make_client(&p2); // connect ckp2b to p2

        cfg.put(&mut ckp1, "1", "14", None).await;
        cfg.check(&mut ckp1, "1", "14").await;

        cfg.end();

        cfg.begin("Test: no progress in minority (3A)");
        let (ends2a, ends2b) = (ckp2a.ends(), ckp2b.ends());
        let done0 = ckp2a.node().spawn({
            let cfg = cfg.clone();
            let mut ckp2a = ckp2a;
            async move { cfg.put(&mut ckp2a, "1", "15", None).await }
        });
        let done1 = ckp2b.node().spawn({
            let cfg = cfg.clone();
            let mut ckp2b = ckp2b;
            async move { cfg.get(&mut ckp2b, "1", None).await } // different clerk in p2
        });

        sim::sleep(Duration::from_secs(1)).await;
        assert!(!done0.is_finished(), "Put in minority completed");
        assert!(!done1.is_finished(), "Get in minority completed");

        cfg.check(&mut ckp1, "1", "14").await;
        cfg.put(&mut ckp1, "1", "16", None).await;
        cfg.check(&mut ckp1, "1", "16").await;

        cfg.end();

        cfg.begin("Test: completion after heal (3A)");

        cfg.connect_all();
        cfg.connect_client(&ends2a, &cfg.all());
        cfg.connect_client(&ends2b, &cfg.all());

        sim::sleep(ELECTION_TIMEOUT).await;

        if sim::timeout(Duration::from_millis(30 * 100), done0)
            .await
            .is_err()
        {
            panic!("Put did not complete");
        }
        // Go's select on the Get has a `default` case, so it does not wait
        // for the Get: its completion is not checked either.
        let _ = done1.is_finished();

        cfg.check(&mut ck, "1", "15").await;

        cfg.end();
    });
}

#[test]
fn many_partitions_one_client_3a() {
    // Test: partitions, one client (3A) ...
    GenericTest {
        part: "3A",
        partitions: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn many_partitions_many_clients_3a() {
    // Test: partitions, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        partitions: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn persist_one_client_3a() {
    // Test: restarts, one client (3A) ...
    GenericTest {
        part: "3A",
        crash: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn persist_concurrent_3a() {
    // Test: restarts, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        crash: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn persist_concurrent_unreliable_3a() {
    // Test: unreliable net, restarts, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        unreliable: true,
        crash: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn persist_partition_3a() {
    // Test: restarts, partitions, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        crash: true,
        partitions: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn persist_partition_unreliable_3a() {
    // Test: unreliable net, restarts, partitions, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 5,
        unreliable: true,
        crash: true,
        partitions: true,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn persist_partition_unreliable_linearizable_3a() {
    // Test: unreliable net, restarts, partitions, random keys, many clients (3A) ...
    GenericTest {
        part: "3A",
        nclients: 15,
        nservers: 7,
        unreliable: true,
        crash: true,
        partitions: true,
        randomkeys: true,
        ..GenericTest::BASIC
    }
    .run();
}
