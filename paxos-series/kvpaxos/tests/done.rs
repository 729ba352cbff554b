//! Go's TestDone: does the server free the Paxos log's memory?
//!
//! The live heap is measured as paxos's test `heap` module says (Go reads
//! `runtime.ReadMemStats().Alloc` after a GC), which is why this test has a
//! test binary of its own. Go's bound is kept: after 2 rounds of ten 1 MB Puts, the live
//! heap may exceed the starting one by at most 3 servers x 10 items x 1 MB x
//! 2 (the database itself is 30 MB of it).

mod common;
#[path = "../../paxos/tests/common/heap.rs"]
mod heap;

use std::time::Duration;

use common::{Config, check};
use heap::live_heap_bytes;
use labrpc::sim;

#[test]
fn done() {
    sim::run(async {
        const NSERVERS: usize = 3;
        // No history: Go checks no linearizability here, and the history
        // would keep every 1 MB value alive.
        let cfg = Config::new("done", NSERVERS, false, false);
        let (mut ck, mut cka) = cfg.clerks();

        cfg.begin("Test: server frees Paxos log memory...");
        ck.put("a", "aa").await;
        check(&mut ck, "a", "aa").await;
        let m0 = live_heap_bytes();

        const SZ: usize = 1_000_000;
        const ITEMS: usize = 10;
        for _ in 0..2 {
            for i in 0..ITEMS {
                let key = i.to_string();
                let value: String = (0..SZ)
                    .map(|_| char::from(sim::gen_range(1..=100u8)))
                    .collect();
                ck.put(&key, &value).await;
                check(&mut cka[i % NSERVERS], &key, &value).await;
            }
        }

        // Put and Get to each of the replicas, in case the Done information
        // is piggybacked on the Paxos proposer messages.
        for _ in 0..2 {
            for c in cka.iter_mut() {
                c.put("a", "aa").await;
                check(c, "a", "aa").await;
            }
        }
        sim::sleep(Duration::from_secs(1)).await;

        let m1 = live_heap_bytes();
        println!("  Memory: before {m0}, after {m1}");
        let allowed = m0 + NSERVERS * ITEMS * SZ * 2;
        assert!(
            m1 <= allowed,
            "Memory use did not shrink enough (Used: {m1}, allowed: {allowed})."
        );
        cfg.passed();
        cfg.cleanup();
    });
}
