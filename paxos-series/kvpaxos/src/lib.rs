//! Lab 3B of the 2015 series (MIT 6.824 Spring 2015, UCLA CS134): kvpaxos,
//! a key/value service replicated with Paxos.
//!
//! Every server holds the whole database. A request is agreed on as the
//! value of the next free Paxos instance and applied by every server in
//! instance order, so all replicas go through the same sequence of
//! operations; Gets go through Paxos too, so a Get sees every operation that
//! completed before it started. Each Put and Append runs at most once however
//! often a clerk retries it. Servers call Paxos's `done` after applying, so
//! the Paxos log is forgotten as it is applied and memory stays bounded; a
//! server that missed instances (it was partitioned, say) fills the holes by
//! proposing a no-op for them and learning what was decided.
//!
//! The server ([`KvPaxos`]) is embedded in a labrpc server together with its
//! Paxos peer: [`KvPaxos::services`] gives both services, reached through one
//! listener, as Go's kvpaxos shared its `rpc.Server` with Paxos. The
//! [`Clerk`] retries each request across the servers until one answers.
//!
//! The guide is docs/lab3-paxos-2015.md.

mod client;
mod common;
// BEGIN SOLUTION
mod log;
// END SOLUTION
mod server;

pub use client::Clerk;
pub use common::{GetArgs, GetReply, KvStatus, PutAppendArgs, PutAppendReply, PutOp};
// BEGIN SOLUTION
pub use log::PaxosLog;
pub use server::KvState;
// END SOLUTION
pub use server::{KvPaxos, Op};
