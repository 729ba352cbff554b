//! Bad input gets a clear error, never a panic: a decided value read as the
//! wrong type, the value of a forgotten or pending instance, and RPC
//! arguments that do not decode. (Not a Go test: the Go API had no types to
//! get wrong.)

mod common;

use std::time::Duration;

use common::Config;
use labrpc::sim;
use paxos::{Error, Fate};

#[test]
fn undecodable_value_is_a_decode_error() {
    sim::run(async {
        let cfg = Config::new("badvalue", 3);
        cfg.start(0, 0, "hello");
        cfg.waitn::<String>(0, 3).await;
        let px = cfg.px(1);
        assert_eq!(
            px.status::<String>(0),
            Ok(Fate::Decided("hello".to_string()))
        );
        match px.status::<u8>(0) {
            Err(Error::Decode { seq: 0, .. }) => {}
            other => panic!("expected a decode error, got {other:?}"),
        }
        let message = px.decided::<(u64, u64, u64)>(0).unwrap_err().to_string();
        assert!(message.contains("instance 0"), "{message}");
        cfg.cleanup();
    });
}

#[test]
fn value_of_a_forgotten_or_pending_instance_is_a_clear_error() {
    sim::run(async {
        let cfg = Config::new("badforgotten", 3);
        assert_eq!(cfg.px(0).decided::<i64>(5), Err(Error::Pending { seq: 5 }));
        cfg.start(0, 0, &7i64);
        cfg.waitn::<i64>(0, 3).await;
        for i in 0..3 {
            cfg.px(i).done(0);
        }
        // Each peer proposes an instance of its own, so every peer hears
        // every other's Done value (as in Go's TestForget).
        for i in 0..3 {
            cfg.start(i, 1 + i as i64, &8i64);
        }
        let px = cfg.px(2);
        for _ in 0..10 {
            if px.min() == 1 {
                break;
            }
            sim::sleep(Duration::from_secs(1)).await;
        }
        assert_eq!(px.min(), 1);
        assert_eq!(px.status::<i64>(0), Ok(Fate::Forgotten));
        let error = px.decided::<i64>(0).unwrap_err();
        assert_eq!(error, Error::Forgotten { seq: 0, min: 1 });
        assert_eq!(
            error.to_string(),
            "paxos instance 0 is forgotten (this peer's Min is 1)"
        );
        cfg.cleanup();
    });
}

#[test]
fn undecodable_rpc_arguments_fail_the_call_not_the_peer() {
    sim::run(async {
        let cfg = Config::new("badrpc", 3);
        let end = cfg.client_end(0);
        let outcome = end
            .call::<_, paxos::PrepareReply>("Paxos.Prepare", "not a PrepareArgs")
            .await;
        assert!(
            matches!(outcome, Err(labrpc::Error::Codec(_))),
            "{outcome:?}"
        );
        // The peer still works.
        cfg.start(0, 0, &1i64);
        cfg.waitn::<i64>(0, 3).await;
        cfg.cleanup();
    });
}
