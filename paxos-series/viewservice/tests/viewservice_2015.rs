//! Port of the 2015 viewservice test (`viewservice/test_test.go`, Test1):
//! one test with nine checks in order, on the 2015 network profile.
//!
//! The three clerks are only names (Go: `port("1")` ...): they ping under
//! them and never listen. Every loop sleeps one PingInterval per iteration,
//! as in Go, so the viewservice ticks between iterations.

mod common;

use std::time::Duration;

use common::VsLab;
use labrpc::sim;
use labrpc::{Network, Profile};
use labtest::Cluster;
use viewservice::{Clerk, DEAD_PINGS, PING_INTERVAL, View, ViewServer};

const VSHOST: &str = "viewserver-v";
/// How often the timeline records the view.
const TIMELINE_POLL: Duration = Duration::from_millis(10);

/// Go's `check(t, ck, p, b, n)`.
async fn check(ck: &Clerk, p: &str, b: &str, n: u64) {
    let view = ck.get().await.unwrap_or_default();
    assert_eq!(
        view.primary, p,
        "wanted primary {p:?}, got {:?}",
        view.primary
    );
    assert_eq!(view.backup, b, "wanted backup {b:?}, got {:?}", view.backup);
    if n != 0 {
        assert_eq!(view.viewnum, n, "wanted viewnum {n}, got {}", view.viewnum);
    }
    let primary = ck.primary().await;
    assert_eq!(primary, p, "wanted primary {p:?}, got {primary:?}");
}

/// Runs `test` in a simulation of its own, on the 2015 network profile,
/// with the viewservice started (Go's `vs := StartServer(vshost)`): a
/// one-server labtest cluster listening at `VSHOST`.
fn run<F, Fut>(test: F)
where
    F: FnOnce(Network, Cluster<VsLab>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    sim::run(async move {
        let net = Network::with_profile(Profile::Go2015);
        let vs = Cluster::named(&net, vec![VSHOST.to_string()]);
        vs.start(0, |_| ViewServer::start(VSHOST));
        vs.spawn_observer(TIMELINE_POLL);
        test(net, vs).await;
    });
}

/// Go's ping loops, `for i := 0; i < rounds; i++ { ...; if done { break };
/// time.Sleep(PingInterval) }`: runs `round` (its pings, then whether the
/// loop is done) up to `rounds` times, one PingInterval apart, and stops as
/// soon as it says true. (A loop that carries a view from one round to the
/// next stays a loop: a round's future only borrows.)
async fn ping_rounds<F: Future<Output = bool>>(rounds: u64, mut round: impl FnMut() -> F) {
    for _ in 0..rounds {
        if round().await {
            break;
        }
        sim::sleep(PING_INTERVAL).await;
    }
}

/// Go's `vx, _ := ck.Get(); ck.Ping(vx.Viewnum)`: `ck` acks the view it
/// gets, which it returns.
async fn ack_view(ck: &Clerk) -> View {
    let view = ck.get().await.unwrap_or_default();
    let _ = ck.ping(view.viewnum).await;
    view
}

fn clerk(net: &Network, me: &str) -> Clerk {
    Clerk::new(me, net.end_to(VSHOST))
}

fn begin(description: &str) {
    println!("Test1: {description} ...");
    tracing::info!(topic = "test", "{description}");
}

fn passed() {
    labtest::passed("");
}

#[test]
fn test1() {
    run(|net, vs| async move {
        let ck1 = clerk(&net, "1");
        let ck2 = clerk(&net, "2");
        let ck3 = clerk(&net, "3");

        assert_eq!(ck1.primary().await, "", "there was a primary too soon");

        // Very first primary.
        begin("First primary");
        ping_rounds(DEAD_PINGS * 2, || async {
            let view = ck1.ping(0).await.unwrap_or_default();
            view.primary == ck1.me()
        })
        .await;
        check(&ck1, ck1.me(), "", 1).await;
        passed();

        // Very first backup.
        begin("First backup");
        {
            let vx = ck1.get().await.unwrap_or_default();
            ping_rounds(DEAD_PINGS * 2, || async {
                let _ = ck1.ping(1).await;
                let view = ck2.ping(0).await.unwrap_or_default();
                view.backup == ck2.me()
            })
            .await;
            check(&ck1, ck1.me(), ck2.me(), vx.viewnum + 1).await;
        }
        passed();

        // The primary dies; the backup should take over.
        begin("Backup takes over if primary fails");
        {
            let _ = ck1.ping(2).await;
            let vx = ck2.ping(2).await.unwrap_or_default();
            ping_rounds(DEAD_PINGS * 2, || async {
                let v = ck2.ping(vx.viewnum).await.unwrap_or_default();
                v.primary == ck2.me() && v.backup.is_empty()
            })
            .await;
            check(&ck2, ck2.me(), "", vx.viewnum + 1).await;
        }
        passed();

        // Revive ck1: it should become the backup.
        begin("Restarted server becomes backup");
        {
            let vx = ack_view(&ck2).await;
            ping_rounds(DEAD_PINGS * 2, || async {
                let _ = ck1.ping(0).await;
                let v = ck2.ping(vx.viewnum).await.unwrap_or_default();
                v.primary == ck2.me() && v.backup == ck1.me()
            })
            .await;
            check(&ck2, ck2.me(), ck1.me(), vx.viewnum + 1).await;
        }
        passed();

        // Start ck3 and kill the primary (ck2): the backup (ck1) should
        // become primary and ck3 backup, in a single view change, with no
        // period without a backup.
        begin("Idle third server becomes backup if primary fails");
        {
            let mut vx = ack_view(&ck2).await;
            for _ in 0..DEAD_PINGS * 2 {
                let _ = ck3.ping(0).await;
                let v = ck1.ping(vx.viewnum).await.unwrap_or_default();
                if v.primary == ck1.me() && v.backup == ck3.me() {
                    break;
                }
                vx = v;
                sim::sleep(PING_INTERVAL).await;
            }
            check(&ck1, ck1.me(), ck3.me(), vx.viewnum + 1).await;
        }
        passed();

        // Kill and immediately restart the primary: does the viewservice
        // conclude it is down even though it is pinging?
        begin("Restarted primary treated as dead");
        {
            let vx = ack_view(&ck1).await;
            ping_rounds(DEAD_PINGS * 2, || async {
                let _ = ck1.ping(0).await;
                let _ = ck3.ping(vx.viewnum).await;
                let v = ck3.get().await.unwrap_or_default();
                v.primary != ck1.me()
            })
            .await;
            let vy = ck3.get().await.unwrap_or_default();
            assert_eq!(
                vy.primary,
                ck3.me(),
                "expected primary={}, got {}",
                ck3.me(),
                vy.primary
            );
        }
        passed();

        // Set up a view with just ck3 as primary, for the next test.
        begin("Dead backup is removed from view");
        {
            ping_rounds(DEAD_PINGS * 3, || async {
                ack_view(&ck3).await;
                false
            })
            .await;
            let v = ck3.get().await.unwrap_or_default();
            assert!(
                v.primary == ck3.me() && v.backup.is_empty(),
                "wrong primary or backup: {v}"
            );
        }
        passed();

        // Does the viewservice wait for the ack of a view before starting
        // the next one?
        begin("Viewserver waits for primary to ack view");
        {
            // Set up p=ck3 b=ck1, but do not ack.
            let vx = ck1.get().await.unwrap_or_default();
            ping_rounds(DEAD_PINGS * 3, || async {
                let _ = ck1.ping(0).await;
                let _ = ck3.ping(vx.viewnum).await;
                let v = ck1.get().await.unwrap_or_default();
                v.viewnum > vx.viewnum
            })
            .await;
            check(&ck1, ck3.me(), ck1.me(), vx.viewnum + 1).await;
            let vy = ck1.get().await.unwrap_or_default();
            // ck3 is the primary, but it never acked: let it die and check
            // that ck1 is not promoted.
            ping_rounds(DEAD_PINGS * 3, || async {
                let v = ck1.ping(vy.viewnum).await.unwrap_or_default();
                v.viewnum > vy.viewnum
            })
            .await;
            check(&ck2, ck3.me(), ck1.me(), vy.viewnum).await;
        }
        passed();

        // If the old servers die, a new (uninitialized) server must not
        // take over.
        begin("Uninitialized server can't become primary");
        {
            ping_rounds(DEAD_PINGS * 2, || async {
                let v = ack_view(&ck1).await;
                let _ = ck2.ping(0).await;
                let _ = ck3.ping(v.viewnum).await;
                false
            })
            .await;
            ping_rounds(DEAD_PINGS * 2, || async {
                let _ = ck2.ping(0).await;
                false
            })
            .await;
            let vz = ck2.get().await.unwrap_or_default();
            assert_ne!(
                vz.primary,
                ck2.me(),
                "uninitialized backup promoted to primary"
            );
        }
        passed();

        vs.stop(0);
    });
}

/// A killed viewservice answers nothing: calls to it fail at once.
#[test]
fn killed_viewservice_answers_nothing() {
    run(|net, vs| async move {
        let ck = clerk(&net, "1");
        assert!(ck.ping(0).await.is_ok());
        vs.stop(0);
        assert!(ck.ping(0).await.is_err());
        assert_eq!(ck.primary().await, "");
    });
}

/// Bad input: a request that does not decode as Ping's arguments fails that
/// call with a codec error, and the viewservice keeps serving.
#[test]
fn undecodable_ping_fails_the_call_not_the_viewservice() {
    run(|net, _vs| async move {
        let end = net.end_to(VSHOST);
        let reply = end
            .call::<_, Option<viewservice::common::PingReply>>("ViewServer.Ping", &"not a ping")
            .await;
        assert!(
            matches!(reply, Err(labrpc::Error::Codec(ref m)) if m.contains("ViewServer.Ping")),
            "{reply:?}"
        );
        let ck = clerk(&net, "1");
        assert_eq!(ck.ping(0).await.map(|v| v.primary).as_deref(), Ok("1"));
    });
}
