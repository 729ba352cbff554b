//! RPC throughput on a reliable simulated network, in RPCs per CPU-second.
//!
//! Go's TestBenchmark makes 100,000 sequential calls (about 22 µs each in 2016).
//! This does the same, and also 100,000 calls from 100 concurrent clients, and
//! reports calls per second of process CPU time (user + system, read from
//! /proc/self/stat), so the figure does not depend on what else the machine is
//! doing. Run with `cargo bench -p labtest --bench rpc_throughput`. It lives in
//! labtest, not labrpc, because it reports with labtest's CPU-time helper and
//! labtest depends on labrpc.

#![allow(clippy::disallowed_methods)] // allowed: a benchmark measures real time outside the simulation

use std::time::Duration;

use labrpc::sim::{self, Builder, Node};
use labrpc::{Network, Server, Service};

const CALLS: u64 = 100_000;

async fn setup() -> (Network, Vec<labrpc::ClientEnd>) {
    let net = Network::new();
    let node = Node::new("server");
    let server = Server::new(&node);
    server.add_service(Service::new("Bench").method("Echo", |x: u64| async move { x + 1 }));
    net.add_server("server", server);
    let ends = (0..100)
        .map(|i| {
            let name = format!("end-{i}");
            let end = net.make_end(&name);
            net.connect(&name, "server");
            net.enable(&name, true);
            end
        })
        .collect();
    (net, ends)
}

fn measure(label: &str, body: impl std::future::Future<Output = ()> + Send + 'static) {
    let cpu_before = labtest::bench::process_cpu_time();
    let wall = std::time::Instant::now();
    let report = Builder::new().seed(1).run(body);
    let wall = wall.elapsed();
    let cpu = labtest::bench::process_cpu_time()
        .saturating_sub(cpu_before)
        .max(Duration::from_millis(10));
    println!(
        "{label:<28} {CALLS} calls: {:>8.0} RPCs per CPU-second ({:.2} µs CPU per RPC), wall {:.2} s, {}",
        CALLS as f64 / cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / CALLS as f64,
        wall.as_secs_f64(),
        report
    );
}

fn main() {
    measure("sequential (Go's benchmark)", async {
        let (net, ends) = setup().await;
        for i in 0..CALLS {
            let reply: u64 = ends[0].call("Bench.Echo", &i).await.unwrap();
            assert_eq!(reply, i + 1);
        }
        assert_eq!(net.count("server"), CALLS as usize);
    });
    measure("100 concurrent clients", async {
        let (net, ends) = setup().await;
        let per_client = CALLS / ends.len() as u64;
        let clients: Vec<_> = ends
            .into_iter()
            .map(|end| {
                sim::spawn(async move {
                    for i in 0..per_client {
                        let _: u64 = end.call("Bench.Echo", &i).await.unwrap();
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        assert_eq!(net.count("server"), CALLS as usize);
    });
}
