//! Part 3B: snapshots. Ports of Go's kvraft tests TestSnapshotRPC3B ...
//! TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable3B, with Go's
//! parameters and checks (see `common::GenericTest`).

mod common;

use common::*;
use labrpc::sim;

#[test]
fn snapshot_rpc_3b() {
    sim::run(async {
        let nservers = 3;
        let maxraftstate = 1000;
        let (cfg, mut ck) = make_config_and_client(nservers, false, maxraftstate as i64);

        cfg.begin("Test: InstallSnapshot RPC (3B)");

        cfg.put(&mut ck, "a", "A", None).await;
        cfg.check(&mut ck, "a", "A").await;

        // a bunch of puts into the majority partition.
        cfg.partition(&[0, 1], &[2]);
        {
            let mut ck1 = cfg.make_client(&[0, 1]);
            for i in 0..50 {
                cfg.put(&mut ck1, &i.to_string(), &i.to_string(), None)
                    .await;
            }
            sim::sleep(ELECTION_TIMEOUT).await;
            cfg.put(&mut ck1, "b", "B", None).await;
        }

        // check that the majority partition has thrown away
        // most of its log entries.
        let sz = cfg.log_size();
        assert!(
            sz <= 8 * maxraftstate,
            "logs were not trimmed ({sz} > 8*{maxraftstate})"
        );

        // now make group that requires participation of
        // lagging server, so that it has to catch up.
        cfg.partition(&[0, 2], &[1]);
        {
            let mut ck1 = cfg.make_client(&[0, 2]);
            cfg.put(&mut ck1, "c", "C", None).await;
            cfg.put(&mut ck1, "d", "D", None).await;
            cfg.check(&mut ck1, "a", "A").await;
            cfg.check(&mut ck1, "b", "B").await;
            cfg.check(&mut ck1, "1", "1").await;
            cfg.check(&mut ck1, "49", "49").await;
        }

        // now everybody
        cfg.partition(&[0, 1, 2], &[]);

        cfg.put(&mut ck, "e", "E", None).await;
        cfg.check(&mut ck, "c", "C").await;
        cfg.check(&mut ck, "e", "E").await;
        cfg.check(&mut ck, "1", "1").await;

        cfg.end();
    });
}

/// Are the snapshots not too huge? 500 bytes is a generous bound for the
/// operations we're doing here.
#[test]
fn snapshot_size_3b() {
    sim::run(async {
        let nservers = 3;
        let maxraftstate = 1000;
        let maxsnapshotstate = 500;
        let (cfg, mut ck) = make_config_and_client(nservers, false, maxraftstate as i64);

        cfg.begin("Test: snapshot size is reasonable (3B)");

        for _ in 0..200 {
            cfg.put(&mut ck, "x", "0", None).await;
            cfg.check(&mut ck, "x", "0").await;
            cfg.put(&mut ck, "x", "1", None).await;
            cfg.check(&mut ck, "x", "1").await;
        }

        // check that servers have thrown away most of their log entries
        let sz = cfg.log_size();
        assert!(
            sz <= 8 * maxraftstate,
            "logs were not trimmed ({sz} > 8*{maxraftstate})"
        );

        // check that the snapshots are not unreasonably large
        let ssz = cfg.snapshot_size();
        assert!(
            ssz <= maxsnapshotstate,
            "snapshot too large ({ssz} > {maxsnapshotstate})"
        );

        cfg.end();
    });
}

#[test]
fn speed_3b() {
    sim::run(async {
        generic_test_speed("3B", 1000).await;
    });
}

#[test]
fn snapshot_recover_3b() {
    // Test: restarts, snapshots, one client (3B) ...
    GenericTest {
        part: "3B",
        crash: true,
        maxraftstate: 1000,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn snapshot_recover_many_clients_3b() {
    // Test: restarts, snapshots, many clients (3B) ...
    GenericTest {
        part: "3B",
        nclients: 20,
        crash: true,
        maxraftstate: 1000,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn snapshot_unreliable_3b() {
    // Test: unreliable net, snapshots, many clients (3B) ...
    GenericTest {
        part: "3B",
        nclients: 5,
        unreliable: true,
        maxraftstate: 1000,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn snapshot_unreliable_recover_3b() {
    // Test: unreliable net, restarts, snapshots, many clients (3B) ...
    GenericTest {
        part: "3B",
        nclients: 5,
        unreliable: true,
        crash: true,
        maxraftstate: 1000,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_3b() {
    // Test: unreliable net, restarts, partitions, snapshots, many clients (3B) ...
    GenericTest {
        part: "3B",
        nclients: 5,
        unreliable: true,
        crash: true,
        partitions: true,
        maxraftstate: 1000,
        ..GenericTest::BASIC
    }
    .run();
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_3b() {
    // Test: unreliable net, restarts, partitions, snapshots, random keys, many clients (3B) ...
    GenericTest {
        part: "3B",
        nclients: 15,
        nservers: 7,
        unreliable: true,
        crash: true,
        partitions: true,
        maxraftstate: 1000,
        randomkeys: true,
    }
    .run();
}
