//! KV service throughput on a reliable simulated network, in committed
//! client operations per CPU-second.
//!
//! Many clerks issue operations back to back (each one waits for the previous
//! one, as a Clerk must) against a 5-server cluster; the figure is the number
//! of operations that completed (i.e. committed through Raft and were applied)
//! divided by the process CPU time (user + system, from /proc/self/stat), so it
//! does not depend on what else the machine is doing. The reliable simulated
//! network delivers at once, so the whole load runs in almost no virtual time
//! and the figure measures the code: the clerk, labrpc's encoding and
//! dispatch, the KV server, the RSM and Raft (including persisting its state
//! on every change). Run with `cargo bench -p kvraft`.

#![allow(clippy::disallowed_methods)] // allowed: a benchmark measures real time outside the simulation

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use labrpc::sim::{self, Builder};

/// Runs `clients` clerks doing `ops_each` operations (alternating Put and Get
/// on their own key) against 5 servers; prints operations per CPU-second.
fn measure(label: &str, clients: usize, ops_each: usize, maxraftstate: i64) {
    let done = Arc::new(AtomicU64::new(0));
    let virtual_time = Arc::new(AtomicU64::new(0));
    let cpu_before = labtest::bench::process_cpu_time();
    let wall = std::time::Instant::now(); // allowed: the benchmark reports wall time beside CPU time
    let (counted, elapsed) = (done.clone(), virtual_time.clone());
    let report = Builder::new().seed(1).run(async move {
        let cfg = common::make_config(5, false, maxraftstate);
        // Wait for a leader, so the measurement is of steady-state work.
        let mut first = cfg.make_client(&cfg.all());
        first.clerk.get("warm-up").await;
        let start = sim::now();
        let handles = common::spawn_clients(&cfg, clients, |cli, mut ck| {
            let counted = counted.clone();
            async move {
                let key = format!("k{cli}");
                for i in 0..ops_each {
                    if i % 2 == 0 {
                        ck.clerk.put(&key, &format!("v{i}")).await;
                    } else {
                        let v = ck.clerk.get(&key).await;
                        assert_eq!(v, format!("v{}", i - 1));
                    }
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        for handle in handles {
            handle.await.expect("client cancelled");
        }
        elapsed.store((sim::now() - start).as_nanos() as u64, Ordering::Relaxed);
    });
    let wall = wall.elapsed();
    let cpu = labtest::bench::process_cpu_time()
        .saturating_sub(cpu_before)
        .max(Duration::from_millis(10));
    let ops = done.load(Ordering::Relaxed);
    println!(
        "{label:<44} {ops:>6} ops: {:>8.0} ops per CPU-second ({:>6.1} µs CPU per op), \
         {:.1} virtual ms, wall {:.2} s, {report}",
        ops as f64 / cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / ops as f64,
        Duration::from_nanos(virtual_time.load(Ordering::Relaxed)).as_secs_f64() * 1e3,
        wall.as_secs_f64(),
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter argument is ignored.
    measure("1 client, snapshots (maxraftstate 1000)", 1, 5_000, 1000);
    measure("20 clients, snapshots (maxraftstate 1000)", 20, 1_000, 1000);
    measure("100 clients, snapshots (maxraftstate 1000)", 100, 200, 1000);
    measure("20 clients, no snapshots (log grows)", 20, 250, -1);
}
