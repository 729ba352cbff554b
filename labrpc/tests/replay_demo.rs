//! A deliberately failing test, to see what a failure looks like and that its
//! replay command reproduces it. Ignored by default; run it with
//!
//! ```text
//! cargo test -p labrpc --test replay_demo -- --ignored
//! ```
//!
//! It fails for about half of all seeds. Copy the `replay:` line it prints and
//! run it: the same failure comes back, at the same virtual time, with the
//! same trace digest. Add `LAB_LOG=all` in front to get the run's log.

use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::{Network, Server, Service};

#[test]
#[ignore = "fails on purpose: demonstrates seeds and replay"]
fn deliberately_failing_example() {
    sim::run(async {
        let net = Network::new();
        net.set_reliable(false);
        let node = Node::new("S0");
        let server = Server::new(&node);
        server.add_service(Service::new("Echo").method("Echo", |x: u32| async move { x }));
        net.add_server("S0", server);
        let end = net.make_end("client");
        net.connect("client", "S0");
        net.enable("client", true);
        let mut delivered = 0;
        for i in 0..6u32 {
            if end.call::<_, u32>("Echo.Echo", &i).await.is_ok() {
                delivered += 1;
            }
            sim::sleep(Duration::from_millis(10)).await;
        }
        tracing::info!(topic = "test", "{delivered} of 6 calls delivered");
        // Wrong on purpose: an unreliable network loses about 19 % of calls.
        assert_eq!(delivered, 6, "the unreliable network lost a call");
    });
}
