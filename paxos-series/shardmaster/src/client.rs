//! The clerk (Go's client.go, which students do not change): each request
//! tries every server in order until one answers, sleeping 100 ms after a
//! round in which none did, and never gives up.

use std::time::Duration;

use labrpc::ClientEnd;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shardconfig::{Config, Gid};

use crate::common::{
    JoinArgs, JoinReply, LeaveArgs, LeaveReply, MoveArgs, MoveReply, QueryArgs, QueryReply,
    RequestError, SERVICE, SmStatus,
};

/// Go's sleep after every server failed once.
const ROUND_PAUSE: Duration = Duration::from_millis(100);

/// A client of the shard master. One request at a time (the methods take
/// `&mut self`).
pub struct Clerk {
    servers: Vec<ClientEnd>,
}

/// A reply that carries a [`SmStatus`].
trait Status {
    fn status(&self) -> &SmStatus;
}

macro_rules! status {
    ($($reply:ty),*) => {
        $(impl Status for $reply {
            fn status(&self) -> &SmStatus {
                &self.status
            }
        })*
    };
}
status!(JoinReply, LeaveReply, MoveReply, QueryReply);

impl Clerk {
    /// Go's `MakeClerk(servers)`.
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        assert!(!servers.is_empty(), "shardmaster: a clerk needs a server");
        Clerk { servers }
    }

    /// Configuration `num`, or the latest if `num` is -1 (or not reached
    /// yet): the latest reflects every change completed before the call.
    pub async fn query(&mut self, num: i64) -> Config {
        let reply: QueryReply = self.call("Query", &QueryArgs { num }).await;
        reply.config
    }

    /// Adds group `gid` with `servers` and rebalances. GID 0 is an error,
    /// and nothing is sent.
    pub async fn join(&mut self, gid: Gid, servers: Vec<String>) -> Result<(), RequestError> {
        let args = JoinArgs { gid, servers };
        args.validate()?;
        outcome(self.call::<_, JoinReply>("Join", &args).await.status)
    }

    /// Removes group `gid` (nothing happens to the shards if it is not
    /// there) and rebalances.
    pub async fn leave(&mut self, gid: Gid) {
        let _: LeaveReply = self.call("Leave", &LeaveArgs { gid }).await;
    }

    /// Go's `Move(shard, gid)`: assigns `shard` to `gid`. A shard beyond
    /// `N_SHARDS` or GID 0 is an error, and nothing is sent.
    pub async fn move_shard(&mut self, shard: usize, gid: Gid) -> Result<(), RequestError> {
        let args = MoveArgs { shard, gid };
        args.validate()?;
        outcome(self.call::<_, MoveReply>("Move", &args).await.status)
    }

    /// Calls `method` on each server in turn until one answers with
    /// anything but [`SmStatus::ErrKilled`].
    async fn call<A, R>(&self, method: &str, args: &A) -> R
    where
        A: Serialize,
        R: DeserializeOwned + Status + Send + 'static,
    {
        let method = format!("{SERVICE}.{method}");
        let answered = |reply: &R| *reply.status() != SmStatus::ErrKilled;
        labrpc::call_until(&self.servers, &method, args, ROUND_PAUSE, answered).await
    }
}

/// A final status as a `Result`.
fn outcome(status: SmStatus) -> Result<(), RequestError> {
    match status {
        SmStatus::ErrInvalid(error) => Err(error),
        SmStatus::Ok | SmStatus::ErrKilled => Ok(()),
    }
}
