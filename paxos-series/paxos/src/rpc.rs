//! The Paxos RPC messages. Every message carries its sender's Done value and
//! every reply the responder's, so Min can rise without extra messages.

use serde::{Deserialize, Serialize};

// BEGIN SOLUTION
/// A proposal number: rounds ordered first, then the proposer's index, so
/// two peers never use the same number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ballot {
    pub round: u64,
    pub peer: u64,
}
// END SOLUTION

/// Phase 1a: "promise not to accept proposals numbered below `n`".
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PrepareArgs {
    // BEGIN SOLUTION
    pub seq: i64,
    pub n: Ballot,
    pub from: usize,
    pub done: i64,
    // END SOLUTION
}

/// Phase 1b.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PrepareReply {
    // BEGIN SOLUTION
    pub ok: bool,
    /// The highest number the acceptor has promised (on a refusal).
    pub n_p: Option<Ballot>,
    /// The highest proposal the acceptor accepted, and its value.
    pub n_a: Option<Ballot>,
    #[serde(with = "serde_bytes")]
    pub v_a: Option<Vec<u8>>,
    /// The decided value, when the acceptor knows it (the proposer can stop).
    #[serde(with = "serde_bytes")]
    pub decided: Option<Vec<u8>>,
    /// The instance is below the acceptor's Min.
    pub forgotten: bool,
    pub done: i64,
    // END SOLUTION
}

/// Phase 2a: "accept value `v` as proposal `n`".
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AcceptArgs {
    // BEGIN SOLUTION
    pub seq: i64,
    pub n: Ballot,
    #[serde(with = "serde_bytes")]
    pub v: Vec<u8>,
    pub from: usize,
    pub done: i64,
    // END SOLUTION
}

/// Phase 2b.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AcceptReply {
    // BEGIN SOLUTION
    pub ok: bool,
    pub n_p: Option<Ballot>,
    pub done: i64,
    // END SOLUTION
}

/// "Instance `seq` is decided with value `v`."
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecidedArgs {
    // BEGIN SOLUTION
    pub seq: i64,
    #[serde(with = "serde_bytes")]
    pub v: Vec<u8>,
    pub from: usize,
    pub done: i64,
    // END SOLUTION
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DecidedReply {
    // BEGIN SOLUTION
    pub done: i64,
    // END SOLUTION
}
