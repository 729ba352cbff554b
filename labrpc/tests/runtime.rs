//! The simulation runtime's promises: virtual time, node crashes, failure
//! detection, replay, and determinism of the whole trace.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::sim::{self, Builder, Node};
use labrpc::{Error, Network, Server, Service};

#[test]
fn sleeping_costs_virtual_time_only() {
    sim::run(async {
        let start = sim::now();
        sim::sleep(Duration::from_secs(100)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(100));
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    sim::run(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                sim::spawn(async move {
                    sim::sleep(Duration::from_millis(ms)).await;
                    order
                        .lock()
                        .unwrap()
                        .push((ms, sim::now().since_start().as_millis()));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![(10, 10), (20, 20), (30, 30)]);
    });
}

#[test]
fn timeout_returns_elapsed_or_value() {
    sim::run(async {
        let slow = sim::timeout(
            Duration::from_millis(50),
            sim::sleep(Duration::from_secs(1)),
        )
        .await;
        assert_eq!(slow, Err(sim::Elapsed));
        assert_eq!(sim::now().since_start(), Duration::from_millis(50));
        let fast = sim::timeout(Duration::from_secs(1), async { 7 }).await;
        assert_eq!(fast, Ok(7));
    });
}

#[test]
fn killing_a_node_drops_all_its_tasks_at_once() {
    sim::run(async {
        let node = Node::new("victim");
        let ticks = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let ticks = ticks.clone();
            node.spawn(async move {
                loop {
                    sim::sleep(Duration::from_millis(10)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        let waiter = node.spawn(sim::sleep(Duration::from_secs(10)));
        sim::sleep(Duration::from_millis(105)).await;
        node.kill();
        let at_kill = ticks.load(Ordering::SeqCst);
        assert_eq!(at_kill, 30);
        assert_eq!(waiter.await, Err(sim::Cancelled));
        sim::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            ticks.load(Ordering::SeqCst),
            at_kill,
            "a killed node's task ran after the crash"
        );
        assert!(!node.is_alive());
        let late = node.spawn(async { 1 });
        assert_eq!(
            late.await,
            Err(sim::Cancelled),
            "a dead node must not run new tasks"
        );
    });
}

#[test]
fn enter_makes_spawn_land_on_the_node() {
    sim::run(async {
        let node = Node::new("S7");
        let handle = node.enter(|| sim::spawn(async { sim::current_node().name().to_string() }));
        assert_eq!(handle.await.unwrap(), "S7");
        let inner = node.enter(|| {
            sim::spawn(async {
                sim::sleep(Duration::from_secs(5)).await;
            })
        });
        node.kill();
        assert_eq!(inner.await, Err(sim::Cancelled));
    });
}

#[test]
fn nodes_of_one_name_debug_apart() {
    sim::run(async {
        let (a, b) = (Node::new("worker"), Node::new("worker"));
        let (a, b) = (format!("{a:?}"), format!("{b:?}"));
        assert_ne!(a, b);
        assert!(
            a.starts_with("Node { id: ") && a.ends_with(r#", name: "worker" }"#),
            "{a}"
        );
    });
}

#[test]
fn abort_cancels_one_task() {
    sim::run(async {
        let task = sim::spawn(sim::sleep(Duration::from_secs(5)));
        task.abort();
        assert_eq!(task.await, Err(sim::Cancelled));
    });
}

#[test]
fn a_panic_in_any_task_fails_the_test_with_its_seed() {
    let failure = Builder::new()
        .seed(77)
        .try_run(async {
            let node = Node::new("S3");
            node.spawn(async {
                sim::sleep(Duration::from_millis(5)).await;
                panic!("invariant broken");
            });
            sim::sleep(Duration::from_secs(1)).await;
        })
        .unwrap_err();
    assert_eq!(failure.seed, 77);
    failure.assert_message_contains("S3");
    failure.assert_message_contains("invariant broken");
    assert_eq!(failure.at, Duration::from_millis(5));
    assert!(
        failure.replay.starts_with("LAB_SEED=77 cargo test"),
        "{}",
        failure.replay
    );
}

#[test]
fn a_stall_is_reported_at_once() {
    let failure = Builder::new()
        .try_run(async {
            let (_tx, rx) = tokio::sync::oneshot::channel::<()>();
            let keep = _tx;
            let _ = rx.await;
            drop(keep);
        })
        .unwrap_err();
    failure.assert_message_contains("stall");
}

#[test]
fn the_time_limit_is_120_virtual_seconds() {
    let failure = Builder::new()
        .try_run(async {
            sim::sleep(Duration::from_secs(121)).await;
        })
        .unwrap_err();
    failure.assert_message_contains("120 seconds");
    let ok = Builder::new().try_run(async {
        sim::sleep(Duration::from_secs(119)).await;
    });
    assert!(ok.is_ok());
}

#[test]
fn a_livelock_without_time_advancing_is_caught() {
    let failure = Builder::new()
        .try_run(async {
            loop {
                sim::yield_now().await;
            }
        })
        .unwrap_err();
    failure.assert_message_contains("livelock");
}

#[test]
fn replay_command_names_this_test() {
    let failure = Builder::new()
        .seed(4242)
        .try_run(async { panic!("boom") })
        .unwrap_err();
    assert!(
        failure
            .replay
            .contains("-p labrpc --test runtime -- --exact replay_command_names_this_test"),
        "{}",
        failure.replay
    );
}

#[test]
fn realtime_mode_runs_the_same_code() {
    let report = Builder::new()
        .realtime(true)
        .try_run(async {
            let net = Network::new();
            let node = Node::new("echo");
            let server = Server::new(&node);
            server.add_service(Service::new("Echo").method("Echo", |x: u64| async move { x + 1 }));
            net.add_server("echo", server);
            let end = net.make_end("e");
            net.connect("e", "echo");
            net.enable("e", true);
            let reply: u64 = end.call("Echo.Echo", &41u64).await.unwrap();
            assert_eq!(reply, 42);
            sim::sleep(Duration::from_millis(20)).await;
            node.kill();
            let after: Result<u64, Error> = end.call("Echo.Echo", &1u64).await;
            assert!(after.is_err());
        })
        .unwrap();
    assert!(report.elapsed >= Duration::from_millis(20));
    let failure = Builder::new()
        .realtime(true)
        .try_run(async {
            sim::spawn(async { panic!("real-time panic") });
            sim::sleep(Duration::from_secs(5)).await;
        })
        .unwrap_err();
    failure.assert_message_contains("real-time panic");
}

#[test]
fn a_failure_draws_the_timeline() {
    let failure = Builder::new()
        .seed(9)
        .try_run(async {
            use labrpc::timeline::{self, Band};
            let peers: Vec<Node> = (0..3).map(|i| Node::new(&format!("S{i}"))).collect();
            for (i, _) in peers.iter().enumerate() {
                timeline::state(&format!("S{i}"), "follower", Some(1));
            }
            sim::sleep(Duration::from_millis(300)).await;
            timeline::state("S0", "candidate", Some(2));
            timeline::state("S0", "leader", Some(2));
            timeline::band_start("S2", Band::Disconnected);
            sim::sleep(Duration::from_millis(500)).await;
            peers[1].kill();
            timeline::mark("S0", "start(101) at index 1");
            sim::sleep(Duration::from_millis(400)).await;
            let _restarted = Node::new("S1");
            timeline::band_end("S2", Band::Disconnected);
            sim::sleep(Duration::from_millis(200)).await;
            panic!("term 2 has 2 (>1) leaders");
        })
        .unwrap_err();
    let path = failure
        .timeline
        .clone()
        .expect("a timeline was recorded, so it must be drawn");
    let html = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "S0",
        "S1",
        "S2",
        "leader T2",
        "crashed",
        "disconnected",
        "start(101) at index 1",
        "(&gt;1) leaders",
    ] {
        assert!(html.contains(needle), "timeline lacks {needle:?}");
    }
    assert!(failure.to_string().contains("timeline:"));
    #[allow(clippy::disallowed_methods)] // allowed: the test's own option, read after the run
    let keep = std::env::var("KEEP_TIMELINE").is_ok();
    if !keep {
        let _ = std::fs::remove_file(path);
    }
}

/// A task that never returns to the executor cannot be stopped from inside;
/// the wall-clock watchdog notices, prints the seed and replay command, and
/// ends the test process. Checked by running this very test in a child process.
#[test]
fn the_watchdog_ends_a_task_that_never_yields() {
    #[allow(clippy::disallowed_methods)] // allowed: tells the re-run child process from the parent
    let child = std::env::var("LAB_WATCHDOG_CHILD").is_ok();
    if child {
        sim::run(async {
            let mut spins: u64 = 0;
            loop {
                spins = std::hint::black_box(spins.wrapping_add(1));
            }
        });
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        // Without --nocapture: the message must get past libtest's capture.
        .args(["--exact", "the_watchdog_ends_a_task_that_never_yields"])
        .env("LAB_WATCHDOG_CHILD", "1")
        .env("LAB_WATCHDOG_SECS", "0.3")
        .env("LAB_SEED", "31337")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("without returning to the executor"),
        "{stderr}"
    );
    assert!(stderr.contains("LAB_SEED=31337"), "{stderr}");
}
