//! Checks of the 2015 network profile against the 2015 labs' sockets: the
//! unreliable rates (statistically, over thousands of calls, with tolerances
//! five standard deviations wide), instant failures, no call timeout, no
//! reordering, kill, deafness, cut links, partitions, the delaying proxy and
//! the counters. One claim per test.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod common;
use common::{assert_rate, many_calls};

use labrpc::sim::{self, Builder, Node};
use labrpc::{ClientEnd, Error, Listener, Network, PathError, Profile, Server, Service};

const CALLS: u64 = 4000;

/// A server on its own node whose `Echo.Echo` counts its runs and, for a
/// non-zero argument, sleeps that many milliseconds before echoing.
struct Echo {
    node: Node,
    listener: Listener,
    executed: Arc<AtomicU64>,
}

impl Echo {
    /// How many calls its handler has run.
    fn executed(&self) -> u64 {
        self.executed.load(Ordering::SeqCst)
    }
}

/// An [`Echo`] server listening at `path`.
fn echo_server(net: &Network, path: &str) -> Echo {
    let node = Node::new(path);
    let server = Server::new(&node);
    let executed = Arc::new(AtomicU64::new(0));
    let counter = executed.clone();
    server.add_service(Service::new("Echo").method("Echo", move |ms: u64| {
        let executed = counter.clone();
        async move {
            sim::sleep(Duration::from_millis(ms)).await;
            executed.fetch_add(1, Ordering::SeqCst);
            ms
        }
    }));
    let listener = net.listen(path, server);
    Echo {
        node,
        listener,
        executed,
    }
}

/// [`Echo`] servers at `paths`, started in that order.
fn echo_servers<const N: usize>(net: &Network, paths: [&str; N]) -> [Echo; N] {
    paths.map(|path| echo_server(net, path))
}

/// Most tests' opening: an [`Echo`] server at "s", and an end to it.
fn echo_and_end(net: &Network) -> (Echo, ClientEnd) {
    let s = echo_server(net, "s");
    let end = net.end_to("s");
    (s, end)
}

/// Calls `Echo.Echo` with `ms`. Like every call, the request leaves at
/// once; the future waits for the outcome.
fn echo(
    end: &ClientEnd,
    ms: u64,
) -> impl Future<Output = Result<u64, Error>> + Send + 'static + use<> {
    end.call("Echo.Echo", &ms)
}

fn net2015() -> Network {
    Network::with_profile(Profile::Go2015)
}

#[test]
fn unreliable_loses_ten_percent_of_requests_then_twenty_percent_of_replies() {
    Builder::new().seed(11).run(async {
        let net = net2015();
        let s = echo_server(&net, "s");
        s.listener.set_unreliable(true);
        let end = net.end_to("s");
        let results = many_calls(&end, CALLS, |_| 0).await;
        // Let detached handlers of dropped replies finish.
        sim::sleep(Duration::from_millis(1)).await;
        let count = |e: Error| results.iter().filter(|(_, r)| *r == Err(e.clone())).count();
        let ok = results.iter().filter(|(_, r)| r.is_ok()).count();
        let lost_requests = count(Error::RequestLost);
        let lost_replies = count(Error::ReplyLost);
        let n = CALLS as usize;
        assert_eq!(ok + lost_requests + lost_replies, n);
        let ran = s.executed() as usize;
        assert_eq!(
            ran,
            ok + lost_replies,
            "a dropped reply's handler still runs"
        );
        assert_rate("requests lost", lost_requests, n, 0.10);
        assert_rate(
            "replies lost of the requests served",
            lost_replies,
            ran,
            0.20,
        );
        assert_rate("replies lost overall", lost_replies, n, 0.18);
        assert_rate("calls that succeed", ok, n, 0.72);
        assert_eq!(s.listener.accepted_count(), CALLS);
        assert_eq!(s.listener.served_count() as usize, ran);
        assert!(
            results.iter().all(|(latency, _)| latency.is_zero()),
            "failures and replies are instant"
        );
    });
}

#[test]
fn reliable_calls_are_instant_and_in_order() {
    Builder::new().seed(12).run(async {
        let net = net2015();
        let (s, end) = echo_and_end(&net);
        let results = many_calls(&end, CALLS, |_| 0).await;
        assert!(results.iter().all(|(l, r)| l.is_zero() && r.is_ok()));
        assert_eq!(s.listener.served_count(), CALLS);
        // No reordering: a reply is never held back, so each call takes
        // exactly as long as its handler, and calls made one after another
        // come back one after another.
        let calls: Vec<_> = (0..50u64)
            .map(|i| {
                let call = echo(&end, 100 + i);
                let start = sim::now();
                sim::spawn(async move { (call.await, start.elapsed()) })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            let (reply, latency) = call.await.unwrap();
            let ms = 100 + i as u64;
            assert_eq!(reply, Ok(ms));
            assert_eq!(latency, Duration::from_millis(ms));
        }
    });
}

#[test]
fn calls_have_no_timeout() {
    Builder::new()
        .seed(13)
        .time_limit(Duration::from_secs(4000))
        .run(async {
            let net = net2015();
            let (_s, end) = echo_and_end(&net);
            let start = sim::now();
            let reply: u64 = end.call("Echo.Echo", &3_000_000u64).await.unwrap();
            assert_eq!(reply, 3_000_000);
            assert_eq!(start.elapsed(), Duration::from_secs(3000));
        });
}

#[test]
fn missing_path_and_closed_listener_fail_at_once() {
    Builder::new().seed(14).run(async {
        let net = net2015();
        let s = echo_server(&net, "s");
        let nowhere = net.end_to("nowhere");
        let start = sim::now();
        assert_eq!(echo(&nowhere, 0).await, Err(Error::Unreachable));
        s.listener.close();
        assert!(!net.path_exists("s"), "closing removes the socket file");
        let end = net.end_to("s");
        assert_eq!(echo(&end, 0).await, Err(Error::Unreachable));
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(s.executed(), 0);
        assert_eq!(s.listener.accepted_count(), 0);
    });
}

#[test]
fn kill_lets_accepted_calls_complete() {
    Builder::new().seed(15).run(async {
        let net = net2015();
        let (s, end) = echo_and_end(&net);
        let in_flight = echo(&end, 1000);
        sim::sleep(Duration::from_millis(10)).await;
        s.listener.close();
        assert_eq!(
            echo(&end, 0).await,
            Err(Error::Unreachable),
            "a new call to a killed server fails"
        );
        assert_eq!(in_flight.await, Ok(1000), "the accepted call completes");
    });
}

#[test]
fn killed_server_can_still_send_until_its_code_stops() {
    Builder::new().seed(16).run(async {
        let net = net2015();
        let [b, a] = echo_servers(&net, ["b", "a"]);
        a.listener.close();
        let to_b = net.end_to("b");
        let sent = a.node.spawn(async move { echo(&to_b, 0).await });
        assert_eq!(sent.await.unwrap(), Ok(0));
        assert_eq!(b.executed(), 1);
    });
}

#[test]
fn deaf_server_sends_but_cannot_be_reached() {
    Builder::new().seed(17).run(async {
        let net = net2015();
        let [a, _b] = echo_servers(&net, ["a", "b"]);
        net.unlink("a").unwrap();
        let to_a = net.end_to("a");
        assert_eq!(echo(&to_a, 0).await, Err(Error::Unreachable));
        let (to_b, to_self) = (net.end_to("b"), net.end_to("a"));
        let outcomes = a
            .node
            .spawn(async move { (echo(&to_b, 0).await, echo(&to_self, 0).await) })
            .await
            .unwrap();
        assert_eq!(outcomes.0, Ok(0), "a deaf server can still send");
        assert_eq!(
            outcomes.1,
            Err(Error::Unreachable),
            "calls to itself through its own path fail too"
        );
        assert_eq!(net.unlink("a"), Err(PathError::NotFound("a".into())));
    });
}

#[test]
fn removing_one_link_cuts_only_its_users() {
    Builder::new().seed(18).run(async {
        let net = net2015();
        let _vs = echo_server(&net, "vs");
        net.link("vs", "vsa").unwrap();
        assert_eq!(net.link("vs", "vsa"), Err(PathError::Exists("vsa".into())));
        let (via_link, direct) = (net.end_to("vsa"), net.end_to("vs"));
        assert_eq!(echo(&via_link, 0).await, Ok(0));
        net.unlink("vsa").unwrap();
        assert_eq!(echo(&via_link, 0).await, Err(Error::Unreachable));
        assert_eq!(echo(&direct, 0).await, Ok(0));
        // A renamed socket is reached only by its new name.
        net.rename("vs", "vs-new").unwrap();
        assert_eq!(echo(&direct, 0).await, Err(Error::Unreachable));
        let renamed = net.end_to("vs-new");
        assert_eq!(echo(&renamed, 0).await, Ok(0));
    });
}

/// Five servers p0..p4; returns their nodes and an end matrix ends[i][j].
fn five(net: &Network) -> (Vec<Node>, Vec<Vec<ClientEnd>>) {
    let nodes: Vec<Node> = (0..5)
        .map(|i| echo_server(net, &format!("p{i}")).node)
        .collect();
    let ends = (0..5)
        .map(|_| (0..5).map(|j| net.end_to(&format!("p{j}"))).collect())
        .collect();
    (nodes, ends)
}

async fn reaches(node: &Node, end: &ClientEnd, ms: u64) -> bool {
    let end = end.clone();
    node.spawn(async move { echo(&end, ms).await.is_ok() })
        .await
        .unwrap()
}

#[test]
fn partition_is_a_symmetric_relation_of_up_to_three_groups() {
    Builder::new().seed(19).run(async {
        let net = net2015();
        let (nodes, ends) = five(&net);
        net.partition(&[vec!["p0", "p2"], vec!["p1", "p3"], vec!["p4"]])
            .unwrap();
        let group = [0, 1, 0, 1, 2];
        for i in 0..5 {
            for j in 0..5 {
                assert_eq!(
                    reaches(&nodes[i], &ends[i][j], 0).await,
                    group[i] == group[j],
                    "p{i} -> p{j}"
                );
            }
        }
        // A client (the test itself) is never partitioned.
        for end in &ends[0] {
            assert_eq!(echo(end, 0).await, Ok(0));
        }
        // A server in no group is isolated; everyone reaches itself.
        net.partition(&[vec!["p0", "p1"]]).unwrap();
        assert!(!reaches(&nodes[2], &ends[2][3], 0).await);
        assert!(reaches(&nodes[2], &ends[2][2], 0).await);
        assert!(reaches(&nodes[0], &ends[0][1], 0).await);
        net.heal();
        assert!(reaches(&nodes[2], &ends[2][3], 0).await);
    });
}

#[test]
fn partition_applies_to_new_calls_only() {
    Builder::new().seed(20).run(async {
        let net = net2015();
        let (nodes, ends) = five(&net);
        let end = ends[0][1].clone();
        let in_flight = nodes[0].spawn(async move { echo(&end, 500).await });
        sim::sleep(Duration::from_millis(10)).await;
        net.partition(&[vec!["p0"], vec!["p1", "p2", "p3", "p4"]])
            .unwrap();
        assert!(!reaches(&nodes[0], &ends[0][1], 0).await);
        assert_eq!(in_flight.await.unwrap(), Ok(500));
    });
}

#[test]
fn partition_fails_on_a_killed_server() {
    Builder::new().seed(21).run(async {
        let net = net2015();
        let p0 = echo_server(&net, "p0");
        p0.listener.close();
        assert_eq!(
            net.partition(&[vec!["p0"]]),
            Err(PathError::NotFound("p0".into()))
        );
    });
}

#[test]
fn proxy_delays_calls_one_at_a_time() {
    Builder::new().seed(22).run(async {
        let net = net2015();
        let s1 = echo_server(&net, "s1");
        let proxy = net.proxy("s1").unwrap();
        assert!(net.path_exists("s1x"));
        let end = net.end_to("s1");
        let start = sim::now();
        assert_eq!(echo(&end, 0).await, Ok(0));
        assert_eq!(start.elapsed(), Duration::ZERO, "no delay by default");
        proxy.set_delay(Duration::from_secs(4));
        let first = echo(&end, 0);
        let second = echo(&end, 0);
        let start = sim::now();
        let first = sim::spawn(async move { (first.await, sim::now()) });
        let second = sim::spawn(async move { (second.await, sim::now()) });
        let (first, second) = (first.await.unwrap(), second.await.unwrap());
        assert_eq!((first.0, second.0), (Ok(0), Ok(0)));
        assert_eq!(first.1 - start, Duration::from_secs(4));
        assert_eq!(
            second.1 - start,
            Duration::from_secs(8),
            "the proxy takes the second call only after the first"
        );
        // The proxy dials the real server when it takes the call: a server
        // killed during the delay is not reached.
        let late = echo(&end, 0);
        sim::sleep(Duration::from_secs(1)).await;
        s1.listener.close();
        assert_eq!(late.await, Err(Error::Unreachable));
        assert_eq!(s1.executed(), 3);
    });
}

#[test]
fn counters_split_accepted_and_served_calls() {
    Builder::new().seed(23).run(async {
        let net = net2015();
        let (s, end) = echo_and_end(&net);
        for _ in 0..10 {
            echo(&end, 0).await.unwrap();
        }
        assert_eq!(
            (s.listener.accepted_count(), s.listener.served_count()),
            (10, 10)
        );
        s.listener.set_unreliable(true);
        let mut lost_requests = 0;
        for _ in 0..200 {
            if echo(&end, 0).await == Err(Error::RequestLost) {
                lost_requests += 1;
            }
        }
        assert!(lost_requests > 0);
        assert_eq!(s.listener.accepted_count(), 210);
        assert_eq!(s.listener.served_count(), 210 - lost_requests);
        s.listener.close();
        let _ = echo(&end, 0).await;
        assert_eq!(
            s.listener.accepted_count(),
            210,
            "nothing is accepted after kill"
        );
        assert_eq!(net.total_count(), 211);
    });
}

#[test]
fn same_seed_same_digest_under_faults() {
    let scenario = || async {
        let net = net2015();
        let (nodes, ends) = five(&net);
        let mut calls = Vec::new();
        for round in 0..20u64 {
            if round % 5 == 0 {
                let k = sim::gen_range(0..5usize);
                let groups = [
                    vec![format!("p{k}")],
                    (0..5)
                        .filter(|&j| j != k)
                        .map(|j| format!("p{j}"))
                        .collect(),
                ];
                net.partition(&groups).unwrap();
            }
            for i in 0..5 {
                let end = ends[i][(i + 1 + round as usize) % 5].clone();
                let ms = sim::gen_range(0..50u64);
                calls.push(nodes[i].spawn(async move { echo(&end, ms).await.is_ok() }));
            }
            sim::sleep(Duration::from_millis(20)).await;
        }
        for call in calls {
            let _ = call.await;
        }
    };
    let a = Builder::new().seed(24).run(scenario());
    let b = Builder::new().seed(24).run(scenario());
    assert_eq!(a.digest, b.digest);
    assert!(a.events > 100);
}

#[test]
fn the_2015_operations_refuse_a_2023_network() {
    let outcome = Builder::new().seed(25).try_run(async {
        let net = Network::new();
        let _ = net.unlink("x");
    });
    let failure = outcome.expect_err("a 2023 network has no paths");
    failure.assert_message_contains("2015 profile");
}

#[test]
fn add_server_listens_and_delete_server_kills() {
    Builder::new().seed(26).run(async {
        let net = net2015();
        let node = Node::new("s");
        let server = Server::new(&node);
        server.add_service(Service::new("Echo").method("Echo", |x: u64| async move { x }));
        net.add_server("s", server);
        let listener = net.listener("s").expect("add_server listens");
        let end = net.end_to("s");
        assert_eq!(echo(&end, 7).await, Ok(7));
        assert_eq!((net.count("s"), listener.served_count()), (1, 1));
        net.delete_server("s");
        assert!(listener.is_closed());
        assert_eq!(echo(&end, 7).await, Err(Error::Unreachable));
    });
}
