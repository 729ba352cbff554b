//! Bad input gets a clear error, never a panic, and changes nothing: a Join
//! of GID 0, a Move of a shard that does not exist or to GID 0 (refused by
//! the Clerk before anything is sent, and by a server that gets them
//! anyway), and RPC arguments that do not decode. (Not Go tests: Go's
//! shardmaster did not check its arguments.)

mod common;

use common::Masters;
use shardmaster::{JoinArgs, JoinReply, MoveArgs, MoveReply, N_SHARDS, RequestError, SmStatus};

#[test]
fn clerk_refuses_impossible_requests() {
    Masters::setup("badclerk", 3).run(|cfg| async move {
        let mut ck = cfg.clerk(&[0, 1, 2]);
        let before = cfg.rpc_total();
        let joined = ck.clerk.join(0, vec!["a".into()]).await;
        assert_eq!(joined, Err(RequestError::ReservedGid));
        let moved = ck.clerk.move_shard(N_SHARDS, 1).await;
        assert_eq!(moved, Err(RequestError::NoSuchShard { shard: N_SHARDS }));
        assert_eq!(
            moved.unwrap_err().to_string(),
            "there is no shard 10: shards are 0..10"
        );
        let moved = ck.clerk.move_shard(0, 0).await;
        assert_eq!(moved, Err(RequestError::ReservedGid));
        assert_eq!(cfg.rpc_total(), before, "a refused request sent an RPC");
        assert_eq!(
            ck.query(-1).await.num,
            0,
            "a refused request changed something"
        );
    });
}

#[test]
fn server_refuses_impossible_requests() {
    Masters::setup("badserver", 3).run(|cfg| async move {
        let end = cfg.net().end_to(cfg.name(0));
        let args = JoinArgs {
            gid: 0,
            servers: vec!["a".into()],
        };
        let reply: JoinReply = end.call("ShardMaster.Join", &args).await.unwrap();
        assert_eq!(
            reply.status,
            SmStatus::ErrInvalid(RequestError::ReservedGid)
        );
        let args = MoveArgs { shard: 99, gid: 1 };
        let reply: MoveReply = end.call("ShardMaster.Move", &args).await.unwrap();
        assert_eq!(
            reply.status,
            SmStatus::ErrInvalid(RequestError::NoSuchShard { shard: 99 })
        );
        // Nothing went into the log, and the service still works.
        let mut ck = cfg.clerk(&[0]);
        assert_eq!(ck.query(-1).await.num, 0);
        ck.join(1, &["x"]).await;
        assert_eq!(ck.query(-1).await.num, 1);
    });
}

#[test]
fn undecodable_arguments_fail_the_call_not_the_server() {
    Masters::setup("badrpc", 3).run(|cfg| async move {
        let end = cfg.net().end_to(cfg.name(1));
        let outcome = end
            .call::<_, JoinReply>("ShardMaster.Join", "not a JoinArgs")
            .await;
        assert!(
            matches!(outcome, Err(labrpc::Error::Codec(_))),
            "{outcome:?}"
        );
        let mut ck = cfg.clerk(&[1]);
        ck.join(7, &["x"]).await;
        assert!(ck.query(-1).await.groups.contains_key(&7));
    });
}
