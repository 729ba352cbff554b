//! The shardkv Clerk, as Go's: look up the key's group in the cached
//! configuration, try each of its servers; on `ErrWrongGroup` (or after
//! trying them all) sleep 100 ms and fetch the latest configuration.
//!
//! One difference from Go: Go calls `make_end` for every attempt, creating a
//! new end each time; this Clerk makes one end per server name and reuses it,
//! which behaves the same (ends made by `make_end` are never disabled) without
//! growing the network's table of ends on every retry.

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::{ClientEnd, sim};
use shardctrler::Config;

use crate::common::{
    GetArgs, GetReply, Outcome, PutAppendArgs, PutAppendOp, PutAppendReply, SERVICE, key2shard,
};
use crate::server::MakeEnd;

// BEGIN SOLUTION
use rsm::ClientTag;

/// Pause before asking the controller again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
// END SOLUTION

/// A client of the sharded service. One request at a time.
pub struct Clerk {
    // BEGIN SOLUTION
    sm: shardctrler::Clerk,
    config: Config,
    make_end: MakeEnd,
    ends: BTreeMap<String, ClientEnd>,
    /// This clerk's id and the number of its last request.
    last: ClientTag,
    // HANDOUT
    // // 4B: your clerk's state
    // END SOLUTION
}

impl Clerk {
    /// Go's `MakeClerk(ctrlers, make_end)`.
    pub fn new(ctrlers: Vec<ClientEnd>, make_end: MakeEnd) -> Clerk {
        // BEGIN SOLUTION
        Clerk {
            sm: shardctrler::Clerk::new(ctrlers),
            config: Config::default(),
            make_end,
            ends: BTreeMap::new(),
            last: ClientTag {
                client_id: sim::random_u64() >> 2,
                seq: 0,
            },
        }
        // HANDOUT
        // todo!("4B: Clerk::new")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Numbers this clerk's next request.
    fn next_tag(&mut self) -> ClientTag {
        self.last.seq += 1;
        self.last
    }

    fn end(&mut self, name: &str) -> ClientEnd {
        let make_end = &self.make_end;
        self.ends
            .entry(name.to_string())
            .or_insert_with(|| make_end(name))
            .clone()
    }

    /// The servers of the group that owns `key`'s shard in the cached configuration.
    fn servers_for(&self, key: &str) -> Vec<String> {
        let gid = self.config.shards[key2shard(key)];
        self.config.groups.get(&gid).cloned().unwrap_or_default()
    }
    // END SOLUTION

    /// The current value of `key`, or "" if it has none. Keeps trying forever.
    pub async fn get(&mut self, key: &str) -> String {
        // BEGIN SOLUTION
        let args = GetArgs {
            key: key.to_string(),
            tag: self.next_tag(),
        };
        let method = format!("{SERVICE}.Get");
        loop {
            for name in self.servers_for(key) {
                let reply = self.end(&name).call::<_, GetReply>(&method, &args).await;
                match reply {
                    Ok(reply) if matches!(reply.err, Outcome::Ok | Outcome::ErrNoKey) => {
                        return reply.value;
                    }
                    Ok(reply) if reply.err == Outcome::ErrWrongGroup => break,
                    _ => {} // not ok, or not the leader: try the next server
                }
            }
            sim::sleep(RETRY_PAUSE).await;
            self.config = self.sm.query(-1).await;
        }
        // HANDOUT
        // todo!("4B: Clerk::get")
        // END SOLUTION
    }

    pub async fn put(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutAppendOp::Put).await;
    }

    pub async fn append(&mut self, key: &str, value: &str) {
        self.put_append(key, value, PutAppendOp::Append).await;
    }

    async fn put_append(&mut self, key: &str, value: &str, op: PutAppendOp) {
        // BEGIN SOLUTION
        let args = PutAppendArgs {
            key: key.to_string(),
            value: value.to_string(),
            op,
            tag: self.next_tag(),
        };
        let method = format!("{SERVICE}.PutAppend");
        loop {
            for name in self.servers_for(key) {
                let reply = self
                    .end(&name)
                    .call::<_, PutAppendReply>(&method, &args)
                    .await;
                match reply {
                    Ok(reply) if reply.err == Outcome::Ok => return,
                    Ok(reply) if reply.err == Outcome::ErrWrongGroup => break,
                    _ => {}
                }
            }
            sim::sleep(RETRY_PAUSE).await;
            self.config = self.sm.query(-1).await;
        }
        // HANDOUT
        // todo!("4B: Clerk::put and Clerk::append")
        // END SOLUTION
    }
}
