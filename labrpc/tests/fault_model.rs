//! Statistical checks that the fault model matches Go's labrpc: rates of lost
//! requests and replies, the delay ranges, and long reordering, each over
//! thousands of calls with tolerances several standard deviations wide.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod common;
use common::{assert_rate, many_calls};

use labrpc::sim::{Builder, Node};
use labrpc::{ClientEnd, Error, Network, Server, Service};

const CALLS: u64 = 4000;

fn echo_network(executed: Arc<AtomicU64>) -> (Network, ClientEnd) {
    let net = Network::new();
    let node = Node::new("echo");
    let server = Server::new(&node);
    server.add_service(Service::new("Echo").method("Echo", move |x: u64| {
        let executed = executed.clone();
        async move {
            executed.fetch_add(1, Ordering::SeqCst);
            x
        }
    }));
    net.add_server("echo", server);
    let end = net.make_end("e");
    net.connect("e", "echo");
    net.enable("e", true);
    (net, end)
}

#[test]
fn unreliable_loses_ten_percent_of_requests_and_of_replies() {
    Builder::new().seed(1).run(async {
        let executed = Arc::new(AtomicU64::new(0));
        let (net, end) = echo_network(executed.clone());
        net.set_reliable(false);
        let results = many_calls(&end, CALLS, |i| i).await;
        let ran = executed.load(Ordering::SeqCst) as usize;
        let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
        let lost_requests = results
            .iter()
            .filter(|(_, r)| *r == Err(Error::RequestLost))
            .count();
        let lost_replies = results
            .iter()
            .filter(|(_, r)| *r == Err(Error::ReplyLost))
            .count();
        assert_eq!(ok + lost_requests + lost_replies, CALLS as usize);
        assert_eq!(ran, ok + lost_replies, "a lost reply's handler still ran");
        assert_rate("handlers run", ran, CALLS as usize, 0.9);
        assert_rate("replies delivered", ok, ran, 0.9);
        assert_rate("calls that succeed", ok, CALLS as usize, 0.81);
        assert_eq!(net.count("echo"), ran);
        for (latency, _) in &results {
            assert!(
                *latency < Duration::from_millis(27),
                "unreliable delay {latency:?} not in 0..27 ms"
            );
        }
        let max = results.iter().map(|(l, _)| *l).max().unwrap();
        assert!(
            max >= Duration::from_millis(20),
            "delays never reached 20 ms (max {max:?})"
        );
    });
}

#[test]
fn long_reordering_holds_two_thirds_of_replies_200_to_2199_ms() {
    Builder::new().seed(2).run(async {
        let (net, end) = echo_network(Arc::new(AtomicU64::new(0)));
        net.set_long_reordering(true);
        let results = many_calls(&end, CALLS, |i| i).await;
        let held: Vec<Duration> = results
            .iter()
            .map(|(l, _)| *l)
            .filter(|l| !l.is_zero())
            .collect();
        assert!(results.iter().all(|(_, r)| r.is_ok()));
        assert_rate("replies held", held.len(), CALLS as usize, 2.0 / 3.0);
        let min = held.iter().min().unwrap();
        let max = held.iter().max().unwrap();
        assert!(*min >= Duration::from_millis(200), "{min:?}");
        assert!(*max <= Duration::from_millis(2199), "{max:?}");
        // Go's 200 + rand(1 + rand(2000)) is skewed low: the median is well under 1200 ms.
        let mut sorted = held.clone();
        sorted.sort();
        let median = sorted[sorted.len() / 2];
        assert!(
            median < Duration::from_millis(900),
            "median hold {median:?}"
        );
        // Replies really come back out of order: all calls left together,
        // so a later call that returns sooner than an earlier one overtook it.
        let inversions = results.windows(2).filter(|w| w[1].0 < w[0].0).count();
        assert!(
            inversions > 1000,
            "only {inversions} adjacent replies overtook each other"
        );
    });
}

#[test]
fn unreachable_calls_fail_within_100_ms_or_7_s_with_long_delays() {
    for (long_delays, bound_ms) in [(false, 100u64), (true, 7000)] {
        Builder::new().seed(3).run(async move {
            let (net, end) = echo_network(Arc::new(AtomicU64::new(0)));
            net.enable("e", false);
            net.set_long_delays(long_delays);
            let results = many_calls(&end, CALLS, |i| i).await;
            assert!(results.iter().all(|(_, r)| *r == Err(Error::Unreachable)));
            let max = results.iter().map(|(l, _)| *l).max().unwrap();
            assert!(max < Duration::from_millis(bound_ms), "{max:?}");
            assert!(
                max >= Duration::from_millis(bound_ms * 9 / 10),
                "{max:?} never near {bound_ms} ms"
            );
            assert_eq!(net.count("echo"), 0);
            assert_eq!(net.total_count(), CALLS);
        });
    }
}

#[test]
fn reliable_calls_are_instant_and_counted_with_bytes() {
    Builder::new().seed(4).run(async {
        let (net, end) = echo_network(Arc::new(AtomicU64::new(0)));
        let results = many_calls(&end, CALLS, |i| i).await;
        assert!(results.iter().all(|(l, r)| l.is_zero() && r.is_ok()));
        let expected_bytes: u64 = (0..CALLS)
            .map(|i| 2 * labrpc::codec::encode(&i).len() as u64)
            .sum();
        assert_eq!(net.total_bytes(), expected_bytes);
    });
}
