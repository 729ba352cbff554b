//! Go's TestForgetMem: does forgetting actually free the memory?
//!
//! Go reads the live heap (`runtime.ReadMemStats().Alloc` after a GC). Rust
//! frees memory when the last owner drops it, so the live heap is the bytes
//! currently allocated, which a counting global allocator (`cap`) reports.
//! The allocator counts the whole process, so this test has a test binary
//! of its own; Go's ratio is kept: after forgetting ten 1 MB values on three
//! peers, the live heap must be at most half of what it was.

mod common;

use std::alloc::System;
use std::time::Duration;

use cap::Cap;
use common::Config;
use labrpc::sim;
use paxos::Fate;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes live on the heap now (Go's `m.Alloc` after `runtime.GC()`).
fn live_heap_bytes() -> usize {
    ALLOCATOR.allocated()
}

#[test]
fn forget_mem() {
    sim::run(async {
        const NPAXOS: usize = 3;
        let cfg = Config::new("gcmem", NPAXOS);
        cfg.begin("Test: Paxos frees forgotten instance memory");

        cfg.start(0, 0, "x");
        cfg.waitn::<String>(0, NPAXOS).await;
        let m0 = live_heap_bytes();

        for i in 1..=10 {
            let big: String = (0..1_000_000)
                .map(|_| char::from(b'a' + sim::gen_range(0..26u8)))
                .collect();
            cfg.start(0, i, &big);
            cfg.waitn::<String>(i, NPAXOS).await;
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
        cfg.passed();
        cfg.cleanup();
    });
}
