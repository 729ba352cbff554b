//! The clerk (Go's client.go, which the 2015 lab provides and students may
//! extend for duplicate detection): looks the key's group up in its cached
//! configuration and tries that group's servers in turn; Get returns on `Ok`
//! or `ErrNoKey`, Put and Append on `Ok`; `ErrWrongGroup` stops the round.
//! After a round it sleeps 100 ms and asks the shardmaster for the latest
//! configuration. The cached configuration starts as configuration 0 (no
//! groups), so the first request sleeps and queries at once.
//!
//! Go dialled the server's socket for every call; this clerk makes one end
//! per server name and reuses it, which behaves the same (such an end is
//! never disabled) without growing the network's table of ends.

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::{ClientEnd, sim};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shardmaster::Config;

use crate::common::{
    GetArgs, GetReply, Outcome, PutAppendArgs, PutAppendReply, PutOp, SERVICE, key2shard,
};
use crate::server::MakeEnd;

/// Go's pause before asking the shardmaster again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// What a round makes of one reply: done with this value, stop the round
/// (wrong group), or try the next server.
enum Verdict {
    Done(String),
    WrongGroup,
    Next,
}

/// A client of the sharded service. One request at a time (the methods take
/// `&mut self`).
pub struct Clerk {
    sm: shardmaster::Clerk,
    config: Config,
    make_end: MakeEnd,
    ends: BTreeMap<String, ClientEnd>,
    // BEGIN SOLUTION
    /// A random identity, and the number of this clerk's last request.
    client: u64,
    last_id: u64,
    // END SOLUTION
}

impl Clerk {
    /// Go's `MakeClerk(shardmasters)`: `masters` reach the shardmaster's
    /// servers, `make_end` the groups' servers by name.
    pub fn new(masters: Vec<ClientEnd>, make_end: MakeEnd) -> Clerk {
        Clerk {
            sm: shardmaster::Clerk::new(masters),
            config: Config::default(),
            make_end,
            ends: BTreeMap::new(),
            // BEGIN SOLUTION
            client: sim::random_u64(),
            last_id: 0,
            // END SOLUTION
        }
    }

    /// The next request's clerk id and number (the student's part: Go's
    /// provided clerk had none).
    fn next_request(&mut self) -> (u64, u64) {
        // BEGIN SOLUTION
        self.last_id += 1;
        (self.client, self.last_id)
        // HANDOUT
        // todo!("P4B: Clerk::next_request, what a request needs to take effect once")
        // END SOLUTION
    }

    /// Sends `args` as `method` to the servers of `key`'s group until
    /// `verdict` says a reply is final; keeps trying forever.
    async fn call<A, R>(
        &mut self,
        key: &str,
        method: &str,
        args: &A,
        verdict: fn(R) -> Verdict,
    ) -> String
    where
        A: Serialize + Sync,
        R: DeserializeOwned + Send + 'static,
    {
        let method = format!("{SERVICE}.{method}");
        loop {
            let gid = self.config.shards[key2shard(key)];
            let servers = self.config.groups.get(&gid).cloned().unwrap_or_default();
            for name in servers {
                let end = self.end(&name);
                let Ok(reply) = end.call::<A, R>(&method, args).await else {
                    continue;
                };
                match verdict(reply) {
                    Verdict::Done(value) => return value,
                    Verdict::WrongGroup => break,
                    Verdict::Next => {}
                }
            }
            sim::sleep(RETRY_PAUSE).await;
            self.config = self.sm.query(-1).await;
        }
    }

    /// The end to server `name`, made on first use.
    fn end(&mut self, name: &str) -> ClientEnd {
        let ends = &mut self.ends;
        ends.entry(name.into())
            .or_insert_with(|| (self.make_end)(name))
            .clone()
    }

    /// The value of `key`, "" if it was never written. Keeps trying forever.
    pub async fn get(&mut self, key: &str) -> String {
        let (client, id) = self.next_request();
        let args = GetArgs {
            key: key.to_string(),
            // BEGIN SOLUTION
            client,
            id,
            // END SOLUTION
        };
        self.call(key, "Get", &args, |reply: GetReply| match reply.status {
            Outcome::Ok | Outcome::ErrNoKey => Verdict::Done(reply.value),
            Outcome::ErrWrongGroup => Verdict::WrongGroup,
            #[allow(unreachable_patterns)] // the handout's Outcome has no other variant
            _ => Verdict::Next,
        })
        .await
    }

    /// Go's `PutAppend`: sets (or appends to) the value of `key`, once.
    async fn put_append(&mut self, key: &str, value: &str, op: PutOp) {
        let (client, id) = self.next_request();
        let args = PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            op,
            // BEGIN SOLUTION
            client,
            id,
            // END SOLUTION
        };
        self.call(
            key,
            "PutAppend",
            &args,
            |reply: PutAppendReply| match reply.status {
                Outcome::Ok => Verdict::Done(String::new()),
                Outcome::ErrWrongGroup => Verdict::WrongGroup,
                #[allow(unreachable_patterns)] // the handout's Outcome has no other variant
                _ => Verdict::Next,
            },
        )
        .await;
    }

    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOp::Put).await;
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOp::Append).await;
    }
}
