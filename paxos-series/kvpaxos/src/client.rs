//! The clerk (Go's client.go): sends each request to one server after
//! another until one answers, and never gives up.

use labrpc::ClientEnd;

use crate::common::PutOp;
// BEGIN SOLUTION
use std::time::Duration;

use labrpc::sim;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common::{GetArgs, GetReply, KvStatus, PutAppendArgs, PutAppendReply};

/// Pause after every server failed once, so a clerk whose servers are all
/// dead or unreachable does not spin.
const ROUND_PAUSE: Duration = Duration::from_millis(10);
// END SOLUTION

/// A client of the service. One request at a time (the methods take
/// `&mut self`).
pub struct Clerk {
    servers: Vec<ClientEnd>,
    // BEGIN SOLUTION
    /// A random identity, and the number of this clerk's last request.
    client: u64,
    last_id: u64,
    // END SOLUTION
}

impl Clerk {
    /// Go's `MakeClerk(servers)`.
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        assert!(!servers.is_empty(), "kvpaxos: a clerk needs a server");
        Clerk {
            servers,
            // BEGIN SOLUTION
            client: sim::random_u64(),
            last_id: 0,
            // END SOLUTION
        }
    }

    /// The value of `key`, "" if it was never written. Keeps trying forever.
    pub async fn get(&mut self, key: &str) -> String {
        // BEGIN SOLUTION
        let args = |client, id| GetArgs {
            key: key.to_string(),
            client,
            id,
        };
        let answered = |reply: &GetReply| reply.status != KvStatus::ErrKilled;
        let reply = self.request("KVPaxos.Get", args, answered).await;
        match reply.status {
            KvStatus::Ok => reply.value,
            _ => String::new(),
        }
        // HANDOUT
        // let _ = (key, &self.servers);
        // todo!("3B: Clerk::get")
        // END SOLUTION
    }

    /// Go's `PutAppend`: sets (or appends to) the value of `key`, once.
    async fn put_append(&mut self, key: &str, value: &str, op: PutOp) {
        // BEGIN SOLUTION
        let args = |client, id| PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            op,
            client,
            id,
        };
        let done = |reply: &PutAppendReply| reply.status == KvStatus::Ok;
        self.request("KVPaxos.PutAppend", args, done).await;
        // HANDOUT
        // let _ = (key, value, op, &self.servers);
        // todo!("3B: Clerk::put_append")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Sends this clerk's next request: numbers it, builds its arguments
    /// with `args(client, id)`, and calls `method` on one server after
    /// another until a reply is one that `accept` takes.
    async fn request<A, R>(
        &mut self,
        method: &str,
        args: impl FnOnce(u64, u64) -> A,
        accept: impl Fn(&R) -> bool,
    ) -> R
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        self.last_id += 1;
        let args = args(self.client, self.last_id);
        labrpc::call_until(&self.servers, method, &args, ROUND_PAUSE, accept).await
    }
    // END SOLUTION

    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOp::Put).await;
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOp::Append).await;
    }
}
