//! The Clerk: the client library applications use to talk to the service.
//!
//! It sends each request to the server it believes leads, and on any failure
//! (lost message, wrong leader, timeout) moves on to the next server and tries
//! again, forever, as the lab's Clerk does. Every request carries the clerk's
//! random id and the next sequence number; a retry reuses them, so the servers
//! apply it at most once.

use std::time::Duration;

use labrpc::{ClientEnd, sim};

use crate::common::{GetArgs, GetReply, Outcome, PutAppendArgs, PutAppendReply, SERVICE};

// BEGIN SOLUTION
/// After trying every server without success, pause this long before the
/// next round. Without it a clerk facing instant "wrong leader" replies
/// during an election would spin without ever letting (virtual) time pass.
const ROUND_PAUSE: Duration = Duration::from_millis(20);
// END SOLUTION

/// A client of the KV service. One request at a time (methods take `&mut self`).
pub struct Clerk {
    // BEGIN SOLUTION
    servers: Vec<ClientEnd>,
    client_id: u64,
    seq: u64,
    /// The server that answered last; tried first next time.
    leader: usize,
    /// Where the current request started its round of servers.
    first_tried: usize,
    // HANDOUT
    // // 3A: your clerk's state (the servers it was given, ...)
    // END SOLUTION
}

impl Clerk {
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        // BEGIN SOLUTION
        assert!(!servers.is_empty(), "a clerk needs at least one server");
        Clerk {
            servers,
            client_id: sim::random_u64() >> 2,
            seq: 0,
            leader: 0,
            first_tried: 0,
        }
        // HANDOUT
        // todo!("3A: Clerk::new")
        // END SOLUTION
    }

    pub fn client_id(&self) -> u64 {
        // BEGIN SOLUTION
        self.client_id
        // HANDOUT
        // todo!("3A: Clerk::client_id")
        // END SOLUTION
    }

    /// The current value of `key`, or "" if it has none.
    pub async fn get(&mut self, key: &str) -> String {
        // BEGIN SOLUTION
        self.seq += 1;
        self.first_tried = self.leader;
        let args = GetArgs {
            key: key.to_string(),
            client_id: self.client_id,
            seq: self.seq,
        };
        loop {
            let end = &self.servers[self.leader];
            if let Ok(reply) = end
                .call::<_, GetReply>(&format!("{SERVICE}.Get"), &args)
                .await
            {
                match reply.err {
                    Outcome::Ok => return reply.value,
                    Outcome::ErrNoKey => return String::new(),
                    Outcome::ErrWrongLeader => {}
                }
            }
            self.next_server().await;
        }
        // HANDOUT
        // todo!("3A: Clerk::get, retry until a leader answers")
        // END SOLUTION
    }

    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, "Put").await;
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, "Append").await;
    }

    async fn put_append(&mut self, key: &str, value: &str, method: &str) {
        // BEGIN SOLUTION
        self.seq += 1;
        self.first_tried = self.leader;
        let args = PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            client_id: self.client_id,
            seq: self.seq,
        };
        let method = format!("{SERVICE}.{method}");
        loop {
            let end = &self.servers[self.leader];
            if let Ok(reply) = end.call::<_, PutAppendReply>(&method, &args).await
                && reply.err == Outcome::Ok
            {
                return;
            }
            self.next_server().await;
        }
        // HANDOUT
        // todo!("3A: Clerk::put and Clerk::append, retry until a leader answers")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Moves on to the next server, pausing after each full round.
    async fn next_server(&mut self) {
        self.leader = (self.leader + 1) % self.servers.len();
        if self.leader == self.first_tried {
            sim::sleep(ROUND_PAUSE).await;
        }
    }
    // END SOLUTION
}
