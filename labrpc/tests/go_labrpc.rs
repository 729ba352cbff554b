//! Ports of Go's `labrpc/test_test.go`, run in simulation.
//!
//! Each test keeps the Go scenario and checks; where Go measured wall time
//! (Regression1's 30 ms, Killed's 100 ms) we measure virtual time, which is
//! exact here rather than approximate.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use labrpc::sim::{self, JoinHandle, Node};
use labrpc::{ClientEnd, Error, Network, Server, Service};

/// Go's JunkServer: a few handlers of different types.
fn junk_service(log: Arc<AtomicUsize>) -> Service {
    Service::new("JunkServer")
        .method("Handler1", |args: String| async move {
            args.parse::<i64>().unwrap_or(-1)
        })
        .method(
            "Handler2",
            |args: i64| async move { format!("handler2-{args}") },
        )
        .method("Handler3", |args: i64| async move {
            sim::sleep(Duration::from_secs(20)).await;
            -args
        })
        .method("Handler4", |_args: (String, i64)| async move {
            "pointer".to_string()
        })
        .method("Handler6", move |args: String| {
            let log = log.clone();
            async move {
                log.fetch_add(1, Ordering::SeqCst);
                args.len()
            }
        })
        .method("Handler7", |args: usize| async move { "y".repeat(args) })
}

/// One server "server99" with the junk service, on its own node.
fn junk_server(net: &Network) -> (Node, Arc<AtomicUsize>) {
    let node = Node::new("server99");
    let log = Arc::new(AtomicUsize::new(0));
    let server = Server::new(&node);
    server.add_service(junk_service(log.clone()));
    net.add_server("server99", server);
    (node, log)
}

/// Go's usual opening: a network with the junk server, and the end
/// "end1-99" connected to it, and `enabled` (or not yet).
fn junk_network(enabled: bool) -> (Network, ClientEnd) {
    let net = Network::new();
    junk_server(&net);
    let end = if enabled {
        connected_end(&net, "end1-99")
    } else {
        disabled_end(&net, "end1-99")
    };
    (net, end)
}

/// Calls Handler2 with `arg`, which must succeed, and checks its reply.
async fn call_handler2(end: &ClientEnd, arg: i64) {
    let reply: String = end.call("JunkServer.Handler2", &arg).await.unwrap();
    assert_eq!(reply, format!("handler2-{arg}"));
}

/// Calls Handler1 with "9099", which must succeed, and checks it read the number.
async fn call_handler1(end: &ClientEnd) {
    let reply: i64 = end.call("JunkServer.Handler1", "9099").await.unwrap();
    assert_eq!(reply, 9099);
}

/// Spawns `task(i)` for each `i` in `0..n`, in order, as Go's tests start
/// their goroutines.
fn spawn_each<F: Future + Send + 'static>(
    n: i64,
    task: impl Fn(i64) -> F,
) -> Vec<JoinHandle<F::Output>>
where
    F::Output: Send + 'static,
{
    (0..n).map(|i| sim::spawn(task(i))).collect()
}

/// An end `name` connected to "server99", and enabled.
fn connected_end(net: &Network, name: &str) -> ClientEnd {
    let end = disabled_end(net, name);
    net.enable(name, true);
    end
}

/// An end `name` connected to "server99", but not enabled (calls fail).
fn disabled_end(net: &Network, name: &str) -> ClientEnd {
    let end = net.make_end(name);
    net.connect(name, "server99");
    end
}

#[test]
fn basic() {
    sim::run(async {
        let (_net, end) = junk_network(true);
        call_handler2(&end, 111).await;
        call_handler1(&end).await;
    });
}

#[test]
fn types() {
    sim::run(async {
        let (_net, end) = junk_network(true);
        let reply: String = end
            .call("JunkServer.Handler4", &("x".to_string(), 7i64))
            .await
            .unwrap();
        assert_eq!(reply, "pointer");
        // A caller that disagrees with the handler about types gets a codec
        // error back instead of a crash inside the network.
        let wrong: Result<i64, Error> = end.call("JunkServer.Handler4", &5u8).await;
        assert!(matches!(wrong, Err(Error::Codec(_))), "{wrong:?}");
        let wrong_reply: Result<bool, Error> = end.call("JunkServer.Handler2", &1i64).await;
        assert!(
            matches!(wrong_reply, Err(Error::Codec(_))),
            "{wrong_reply:?}"
        );
    });
}

#[test]
fn disconnect() {
    sim::run(async {
        let (net, end) = junk_network(false);
        let reply: Result<String, Error> = end.call("JunkServer.Handler2", &111i64).await;
        assert_eq!(
            reply,
            Err(Error::Unreachable),
            "unexpected reply on a disabled end"
        );
        net.enable("end1-99", true);
        call_handler1(&end).await;
    });
}

#[test]
fn counts() {
    sim::run(async {
        let (net, end) = junk_network(true);
        for i in 0..17i64 {
            call_handler2(&end, i).await;
        }
        assert_eq!(net.count("server99"), 17);
        assert_eq!(net.total_count(), 17);
    });
}

#[test]
fn bytes() {
    sim::run(async {
        let (net, end) = junk_network(true);
        // Go sends 17 strings of about 284 bytes; its gob bounds [4828, 6000]
        // hold for bincode too (a 2-byte length prefix instead of gob's header).
        for i in 0..17 {
            let args = format!("{}{i:02}", "x".repeat(282));
            let reply: usize = end.call("JunkServer.Handler6", &args).await.unwrap();
            assert_eq!(reply, 284);
        }
        let n = net.total_bytes();
        assert!(
            (4828..=6000).contains(&n),
            "wrong byte count {n}, expected 4828..=6000"
        );
        for _ in 0..17 {
            let reply: String = end.call("JunkServer.Handler7", &107usize).await.unwrap();
            assert_eq!(reply.len(), 107);
        }
        let nn = net.total_bytes() - n;
        assert!(
            (1800..=2500).contains(&nn),
            "wrong byte count {nn}, expected 1800..=2500"
        );
    });
}

#[test]
fn concurrent_many() {
    sim::run(async {
        let net = Network::new();
        junk_server(&net);
        const CLIENTS: usize = 20;
        const RPCS: i64 = 10;
        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let end = connected_end(&net, &format!("end-{c}"));
            clients.push(sim::spawn(async move {
                let mut ok = 0;
                for j in 0..RPCS {
                    let arg = (c as i64) * 100 + j;
                    call_handler2(&end, arg).await;
                    ok += 1;
                }
                ok
            }));
        }
        let mut total = 0;
        for client in clients {
            total += client.await.unwrap();
        }
        assert_eq!(total, CLIENTS as i64 * RPCS);
        assert_eq!(net.count("server99"), CLIENTS * RPCS as usize);
    });
}

#[test]
fn unreliable() {
    sim::run(async {
        let net = Network::new();
        net.set_reliable(false);
        junk_server(&net);
        let mut calls = Vec::new();
        for c in 0..300i64 {
            let end = connected_end(&net, &format!("end-{c}"));
            calls.push(sim::spawn(async move {
                let reply: Result<String, Error> = end.call("JunkServer.Handler2", &c).await;
                if let Ok(reply) = &reply {
                    assert_eq!(*reply, format!("handler2-{c}"));
                }
                reply.is_ok()
            }));
        }
        let mut ok = 0;
        for call in calls {
            ok += usize::from(call.await.unwrap());
        }
        assert!(
            ok != 0 && ok != 300,
            "{ok} of 300 calls succeeded on an unreliable network"
        );
    });
}

#[test]
fn concurrent_one() {
    sim::run(async {
        let (net, end) = junk_network(true);
        let calls = spawn_each(20, |i| {
            let end = end.clone();
            async move { call_handler2(&end, 100 + i).await }
        });
        for call in calls {
            call.await.unwrap();
        }
        assert_eq!(net.count("server99"), 20);
    });
}

/// Regression: calls stuck on a disabled end must not delay or leak into a
/// call made after the end is enabled.
#[test]
fn regression1() {
    sim::run(async {
        let (net, end) = junk_network(false);
        let stuck = spawn_each(20, |i| {
            end.call::<_, String>("JunkServer.Handler2", &(100 + i))
        });
        sim::sleep(Duration::from_millis(10)).await;
        net.enable("end1-99", true);
        let start = sim::now();
        call_handler2(&end, 99).await;
        assert!(
            start.elapsed() < Duration::from_millis(30),
            "RPC took too long after enable"
        );
        for call in stuck {
            assert_eq!(call.await.unwrap(), Err(Error::Unreachable));
        }
        assert_eq!(net.count("server99"), 1, "wrong number of RPCs delivered");
    });
}

/// A call whose server is deleted while the handler runs fails within 100 ms
/// and never delivers a late success.
#[test]
fn killed() {
    sim::run(async {
        let (net, end) = junk_network(true);
        let call = sim::spawn(end.call::<_, i64>("JunkServer.Handler3", &99i64));
        sim::sleep(Duration::from_secs(1)).await;
        assert!(!call.is_finished(), "Handler3 should not have returned yet");
        sim::sleep(Duration::from_millis(100)).await;
        assert!(!call.is_finished(), "Handler3 should not have returned yet");
        net.delete_server("server99");
        let deleted_at = sim::now();
        let outcome = call.await.unwrap();
        assert_eq!(outcome, Err(Error::ServerDead));
        let took = deleted_at.elapsed();
        assert!(
            took <= Duration::from_millis(100),
            "Handler3 returned {took:?} after DeleteServer()"
        );
    });
}

/// Killing the server's node stops its handler at once, and the call fails
/// within 100 ms even though the end stays enabled.
#[test]
fn killed_node() {
    sim::run(async {
        let net = Network::new();
        let (node, _) = junk_server(&net);
        let end = connected_end(&net, "end1-99");
        let call = sim::spawn(end.call::<_, i64>("JunkServer.Handler3", &99i64));
        sim::sleep(Duration::from_secs(1)).await;
        node.kill();
        let killed_at = sim::now();
        assert_eq!(call.await.unwrap(), Err(Error::ServerDead));
        assert!(killed_at.elapsed() <= Duration::from_millis(100));
    });
}

#[test]
fn unknown_method_fails_the_test_naming_it() {
    // (method called, what the failure must name)
    for (method, named) in [
        ("JunkServer.NoSuchMethod", "JunkServer.NoSuchMethod"),
        ("Nope.Handler2", "\"Nope\""),
    ] {
        let failure = sim::Builder::new()
            .try_run(async move {
                let (_net, end) = junk_network(true);
                let _: Result<i64, Error> = end.call(method, &1i64).await;
            })
            .expect_err("a call to an unknown method or service must fail the test");
        failure.assert_message_contains(named);
    }
}

#[test]
fn delete_end_and_reconnect() {
    sim::run(async {
        let (net, end) = junk_network(true);
        net.delete_end("end1-99");
        let reply: Result<String, Error> = end.call("JunkServer.Handler2", &1i64).await;
        assert_eq!(reply, Err(Error::Unreachable));
        let again = connected_end(&net, "end1-99");
        call_handler2(&again, 1).await;
    });
}
