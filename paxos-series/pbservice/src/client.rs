//! The pbservice Clerk: finds the primary through the viewservice, caches
//! it, and retries every request until the primary answers.
//!
//! Go's clerk: Get returns "" for a key never set; Put and Append retry
//! until done; between two failed tries it sleeps one PingInterval (the lab
//! page's advice), so a client never floods the viewservice: it asks the
//! viewservice only when the cached primary fails it.

use labrpc::sim;
use serde::Serialize;
use serde::de::DeserializeOwned;
use viewservice::PING_INTERVAL;

use crate::common::{GetArgs, GetReply, Op, PutAppendArgs, PutAppendReply, SERVICE, Status};
use crate::dialer::Dialer;

/// A client of the primary/backup service; one request at a time.
pub struct Clerk {
    vs: viewservice::Clerk,
    dialer: Dialer,
    /// The primary the last view named ("" before the first look-up).
    primary: String,
    // BEGIN SOLUTION
    client_id: u64,
    seq: u64,
    // END SOLUTION
}

impl Clerk {
    /// Go's `MakeClerk(vshost, me)`: `vs` reaches the viewservice, `dialer`
    /// makes this clerk's ends to the servers.
    pub fn new(vs: viewservice::Clerk, dialer: Dialer) -> Clerk {
        Clerk {
            vs,
            dialer,
            primary: String::new(),
            // BEGIN SOLUTION
            // Random ids keep clerks apart; the top bits stay clear so ids
            // print compactly in logs.
            client_id: sim::random_u64() >> 4,
            seq: 0,
            // END SOLUTION
        }
    }

    /// Forgets the cached primary and waits a PingInterval before the next try.
    async fn refresh_primary(&mut self) {
        sim::sleep(PING_INTERVAL).await;
        self.primary = self.vs.primary().await;
    }

    /// Sends `args` to `method` of the primary until it answers with a
    /// reply that `done` accepts. Without a cached primary it asks the
    /// viewservice, waiting a PingInterval while there is none; after any
    /// other answer or a lost call it refreshes the primary.
    async fn call<A, R>(&mut self, method: &str, args: &A, done: impl Fn(&R) -> bool) -> R
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        loop {
            if self.primary.is_empty() {
                self.primary = self.vs.primary().await;
                if self.primary.is_empty() {
                    sim::sleep(PING_INTERVAL).await;
                    continue;
                }
            }
            let end = self.dialer.end(&self.primary);
            match end.call::<_, R>(&format!("{SERVICE}.{method}"), args).await {
                Ok(reply) if done(&reply) => return reply,
                _ => self.refresh_primary().await,
            }
        }
    }

    /// The current value of `key`, or "" if it was never set. Retries until
    /// the primary answers.
    pub async fn get(&mut self, key: &str) -> String {
        let args = GetArgs {
            key: key.to_string(),
        };
        let answered = |r: &GetReply| matches!(r.status, Status::Ok | Status::NoKey);
        let reply = self.call("Get", &args, answered).await;
        match reply.status {
            Status::Ok => reply.value,
            _ => String::new(),
        }
    }

    /// Go's `PutAppend(key, value, op)`: retries until the primary confirms.
    pub async fn put_append(&mut self, key: &str, value: &str, op: Op) {
        // BEGIN SOLUTION
        self.seq += 1;
        // END SOLUTION
        let args = PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            op,
            // BEGIN SOLUTION
            client_id: self.client_id,
            seq: self.seq,
            // END SOLUTION
        };
        let confirmed = |r: &PutAppendReply| r.status == Status::Ok;
        self.call::<_, PutAppendReply>("PutAppend", &args, confirmed)
            .await;
    }

    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, Op::Put).await;
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, Op::Append).await;
    }
}
