//! Go's TestForgetMem: does forgetting actually free the memory?
//!
//! The live heap is measured as `common::heap` says, which is why this test
//! has a test binary of its own. Go's ratio is kept: after forgetting ten
//! 1 MB values on three peers, the live heap must be at most half of what it
//! was.

mod common;
#[path = "common/heap.rs"]
mod heap;

use std::time::Duration;

use common::Config;
use heap::live_heap_bytes;
use labrpc::sim;
use paxos::Fate;

/// Go's `npaxos`.
const NPAXOS: usize = 3;

#[test]
fn forget_mem() {
    let description = "Test: Paxos frees forgotten instance memory";
    Config::test("gcmem", NPAXOS, description, |cfg| async move {
        cfg.agree(0, 0, "x").await;
        let m0 = live_heap_bytes();

        for i in 1..=10 {
            let big: String = (0..1_000_000)
                .map(|_| char::from(b'a' + sim::gen_range(0..26u8)))
                .collect();
            cfg.agree(0, i, &big).await;
        }
        let m1 = live_heap_bytes();

        for i in 0..NPAXOS {
            cfg.px(i).done(10);
        }
        for i in 0..NPAXOS {
            cfg.start(i, 11 + i as i64, "z");
        }
        sim::sleep(Duration::from_secs(3)).await;
        for i in 0..NPAXOS {
            let min = cfg.px(i).min();
            assert_eq!(min, 11, "expected Min() 11, got {min}");
        }
        let m2 = live_heap_bytes();
        println!(
            "  live heap: {m0} bytes, {m1} with ten 1 MB values decided, {m2} after forgetting"
        );
        assert!(
            m2 <= m1 / 2,
            "memory use did not shrink enough ({m2} > {m1} / 2)"
        );

        let mut again = Vec::new();
        for seq in 0..NPAXOS as i64 {
            again.push(sim::random_string(20));
            for i in 0..NPAXOS {
                let px = cfg.px(i);
                let fate = px.status::<String>(seq).unwrap();
                assert_eq!(
                    fate,
                    Fate::Forgotten,
                    "seq {seq} < Min() {} but not Forgotten",
                    px.min()
                );
                px.start(seq, &again[seq as usize]);
            }
        }
        sim::sleep(Duration::from_secs(1)).await;
        for seq in 0..NPAXOS as i64 {
            for i in 0..NPAXOS {
                let px = cfg.px(i);
                let fate = px.status::<String>(seq).unwrap();
                assert!(
                    fate == Fate::Forgotten && fate != Fate::Decided(again[seq as usize].clone()),
                    "seq {seq} < Min() {} but not Forgotten",
                    px.min()
                );
            }
        }
    });
}
