//! The messages Raft exchanges: log entries, the three RPCs, and what it hands
//! to the service above it.
//!
//! These are plain data. They are serialized with `labrpc::codec` on the wire
//! and in the Persister, so every field is part of the format; the names follow
//! the Raft paper (Figure 2) and the lab's hints (`XTerm`/`XIndex`/`XLen`).

use serde::{Deserialize, Serialize};

/// One log entry: the term in which a leader received the command, and the
/// command itself, already serialized by the service (Raft never looks inside).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    // BEGIN SOLUTION
    /// The term in which the leader created the entry.
    pub term: u64,
    /// Encoded as one length-prefixed block of bytes rather than a sequence
    /// of integers: Raft persists its log on every change, and byte-by-byte
    /// encoding of commands dominated the cost.
    #[serde(with = "serde_bytes")]
    pub command: Vec<u8>,
    // HANDOUT
    // // 2B: what a log entry holds (the command arrives already serialized)
    // END SOLUTION
}

/// RequestVote arguments (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    // BEGIN SOLUTION
    /// The candidate's term.
    pub term: u64,
    /// The candidate asking for the vote.
    pub candidate_id: usize,
    /// Index of the candidate's last log entry.
    pub last_log_index: u64,
    /// Term of the candidate's last log entry.
    pub last_log_term: u64,
    // HANDOUT
    // // 2A: RequestVote's arguments (Figure 2)
    // END SOLUTION
}

/// RequestVote reply (Figure 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    // BEGIN SOLUTION
    /// The voter's current term, for the candidate to update itself.
    pub term: u64,
    /// Whether the candidate got the vote.
    pub vote_granted: bool,
    // HANDOUT
    // // 2A: RequestVote's results (Figure 2)
    // END SOLUTION
}

/// AppendEntries arguments (Figure 2). An empty `entries` is a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    // BEGIN SOLUTION
    /// The leader's term.
    pub term: u64,
    /// The leader, so followers can redirect clients.
    pub leader_id: usize,
    /// Index of the entry just before the new ones.
    pub prev_log_index: u64,
    /// Term of that entry.
    pub prev_log_term: u64,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// The leader's commit index.
    pub leader_commit: u64,
    // HANDOUT
    // // 2A: AppendEntries' arguments (Figure 2)
    // END SOLUTION
}

/// AppendEntries reply, with the hints for fast log backup.
///
/// When `success` is false because the logs disagree, the follower says where:
/// * `xterm`: the term of its entry at `prev_log_index`, or `None` if its log
///   is too short to have one;
/// * `xindex`: the first index it holds with term `xterm`;
/// * `xlen`: its log length (last index + 1).
///
/// The leader then skips a whole conflicting term per round trip instead of
/// one entry (the lab's "fast backup", TestBackup2B depends on it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    // BEGIN SOLUTION
    /// The follower's current term, for the leader to update itself.
    pub term: u64,
    /// Whether the follower had the entry at `prev_log_index` with `prev_log_term`.
    pub success: bool,
    /// See above: the term of the conflicting entry, if any.
    pub xterm: Option<u64>,
    /// See above: the first index with term `xterm`.
    pub xindex: u64,
    /// See above: the follower's log length.
    pub xlen: u64,
    // HANDOUT
    // // 2A: AppendEntries' results (Figure 2), and fast-backup hints if you like
    // END SOLUTION
}

/// InstallSnapshot arguments (Figure 13), sent in one piece (no `offset`/`done`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    // BEGIN SOLUTION
    /// The leader's term.
    pub term: u64,
    /// The leader.
    pub leader_id: usize,
    /// The snapshot replaces all entries up to and including this index.
    pub last_included_index: u64,
    /// Term of that last included entry.
    pub last_included_term: u64,
    #[serde(with = "serde_bytes")]
    /// The snapshot itself.
    pub data: Vec<u8>,
    // HANDOUT
    // // 2D: InstallSnapshot's arguments (Figure 13)
    // END SOLUTION
}

/// InstallSnapshot reply (Figure 13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    // BEGIN SOLUTION
    /// The receiver's current term, for the leader to update itself.
    pub term: u64,
    // HANDOUT
    // // 2D: InstallSnapshot's results (Figure 13)
    // END SOLUTION
}

/// What Raft delivers, in log order, on the apply channel.
///
/// Go's `ApplyMsg` has two flags (`CommandValid`, `SnapshotValid`) of which
/// exactly one is set; an enum says that directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command: apply it to the state machine.
    Command {
        /// The command's log index.
        index: u64,
        /// The term in which it was committed.
        term: u64,
        /// The command, as the service encoded it.
        command: Vec<u8>,
    },
    /// A snapshot from the leader: replace the state machine's state with it.
    /// Every later message continues from `index + 1`.
    Snapshot {
        /// The last log index the snapshot covers.
        index: u64,
        /// The term of that entry.
        term: u64,
        /// The service's state, as it encoded it.
        data: Vec<u8>,
    },
}

impl ApplyMsg {
    /// The log index this message brings the state machine up to.
    pub fn index(&self) -> u64 {
        match self {
            ApplyMsg::Command { index, .. } | ApplyMsg::Snapshot { index, .. } => *index,
        }
    }

    /// Decodes a command that was submitted with [`crate::Raft::start`].
    /// Returns `None` for a snapshot or a command of another type.
    pub fn decode_command<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        match self {
            ApplyMsg::Command { command, .. } => labrpc::codec::decode(command).ok(),
            ApplyMsg::Snapshot { .. } => None,
        }
    }
}
