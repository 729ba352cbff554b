//! Bad input gets a clear error, never a lost group: a value in a group's
//! Paxos log that is not an operation is skipped (the group keeps serving),
//! and a server started with an index outside its group is refused with a
//! message that says so. (Not Go tests: Go's API had no types to get wrong.)

mod common;

use common::Config;
use labrpc::sim;
use labrpc::{Network, Profile};
use labtest::run::Setup;
use paxos_shardkv::ShardKv;

#[test]
fn a_value_that_is_not_an_op_is_skipped() {
    Setup::new(|| Config::setup("badop", false, true)).run(|tc| async move {
        tc.join(0).await;
        let mut ck = tc.clerk();
        ck.put("a", "x").await;
        // A peer of group 0 proposes a number where an Op belongs.
        let px = tc.server(0, 0).paxos().clone();
        px.start(px.max() + 1, &u64::MAX);
        ck.append("a", "y").await;
        assert_eq!(ck.get("a").await, "xy");
    });
}

#[test]
fn a_server_index_outside_its_group_is_a_clear_error() {
    let failure = sim::Builder::new()
        .seed(1)
        .try_run(async {
            let net = Network::with_profile(Profile::Go2015);
            let group = net.make_ends_to(&["g0", "g1", "g2"]);
            let masters = net.make_ends_to(&["m0"]);
            let make_end = {
                let net = net.clone();
                std::sync::Arc::new(move |name: &str| net.end_to(name))
            };
            ShardKv::start_server(100, masters, group, 5, make_end);
        })
        .expect_err("a server with me = 5 of 3 must not start");
    assert!(
        failure
            .message
            .contains("me = 5 but group 100 has only 3 servers"),
        "{}",
        failure.message
    );
}
