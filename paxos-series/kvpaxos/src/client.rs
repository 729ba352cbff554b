//! The clerk (Go's client.go): sends each request to one server after
//! another until one answers, and never gives up.

use labrpc::ClientEnd;

use crate::common::PutOp;
// BEGIN SOLUTION
use std::time::Duration;

use labrpc::sim;

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
        self.last_id += 1;
        let args = GetArgs {
            key: key.to_string(),
            client: self.client,
            id: self.last_id,
        };
        loop {
            for end in &self.servers {
                if let Ok(reply) = end.call::<_, GetReply>("KVPaxos.Get", &args).await {
                    match reply.status {
                        KvStatus::Ok => return reply.value,
                        KvStatus::ErrNoKey => return String::new(),
                        KvStatus::ErrKilled => {}
                    }
                }
            }
            sim::sleep(ROUND_PAUSE).await;
        }
        // HANDOUT
        // let _ = (key, &self.servers);
        // todo!("3B: Clerk::get")
        // END SOLUTION
    }

    /// Go's `PutAppend`: sets (or appends to) the value of `key`, once.
    async fn put_append(&mut self, key: &str, value: &str, op: PutOp) {
        // BEGIN SOLUTION
        self.last_id += 1;
        let args = PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            op,
            client: self.client,
            id: self.last_id,
        };
        loop {
            for end in &self.servers {
                let reply = end.call::<_, PutAppendReply>("KVPaxos.PutAppend", &args);
                if let Ok(PutAppendReply {
                    status: KvStatus::Ok,
                }) = reply.await
                {
                    return;
                }
            }
            sim::sleep(ROUND_PAUSE).await;
        }
        // HANDOUT
        // let _ = (key, value, op, &self.servers);
        // todo!("3B: Clerk::put_append")
        // END SOLUTION
    }

    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOp::Put).await;
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutOp::Append).await;
    }
}
