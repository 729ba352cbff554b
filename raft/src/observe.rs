//! What a peer tells the tests about itself, for the failure timeline.
//!
//! From outside, the tests can only ask a peer `get_state()`: its term and
//! whether it leads. That cannot show a candidate, nor how far a peer's log
//! and commit index got, which is what a Raft bug usually is about. So the
//! tests hand each peer an [`Observer`] right after [`Raft::make`]
//! (`raft.set_observer(..)`), and the peer calls it with its [`PeerState`]
//! at once and whenever that state changes. The harness draws what the peer
//! reported: the lanes of the timeline then show what each peer *believed*.
//!
//! Calling the observer is optional for a peer (a harness falls back to
//! polling `get_state()` for a peer that never reports), costs one
//! comparison per input, and must not block: call it outside your locks or
//! at least never while awaiting. [`to_timeline`] is the observer the tests
//! use.
//!
//! [`Raft::make`]: crate::Raft::make

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrpc::timeline;

/// A peer's role (Figure 2's three states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Waits for heartbeats; votes.
    Follower,
    /// Asks for votes after its election timeout.
    Candidate,
    /// Leads its term.
    Leader,
}

impl Role {
    /// The word the timeline uses: `follower`, `candidate` or `leader`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
}

/// What a peer reports about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerState {
    /// The peer's role.
    pub role: Role,
    /// The peer's current term.
    pub term: u64,
    /// The highest index the peer knows to be committed.
    pub commit_index: u64,
    /// The index of its last log entry, counting entries a snapshot replaced
    /// (0 for an empty log): the log's length as the paper counts it.
    pub last_log_index: u64,
    /// The last index its latest snapshot covers (0: no snapshot).
    pub snapshot_index: u64,
}

/// The callback a peer reports its [`PeerState`] to.
pub type Observer = Arc<dyn Fn(&PeerState) + Send + Sync>;

/// The observer the tests hand a peer whose timeline lane is `lane`: draws
/// what the peer reports (its role and term, its log length and commit
/// index as the `log` and `commit` series, a mark at each new snapshot), and
/// from the first report on, the lane ignores the harness's polls.
pub fn to_timeline(lane: &str) -> Observer {
    let lane = lane.to_string();
    // The snapshot index last drawn; a restarted peer starts from 0 again.
    let snapshot = AtomicU64::new(0);
    Arc::new(move |peer: &PeerState| {
        timeline::reported_state(&lane, peer.role.as_str(), Some(peer.term));
        timeline::value(&lane, "log", peer.last_log_index);
        timeline::value(&lane, "commit", peer.commit_index);
        let before = snapshot.swap(peer.snapshot_index, Ordering::Relaxed);
        if peer.snapshot_index != before && peer.snapshot_index > 0 {
            timeline::mark(
                &lane,
                &format!("snapshot up to index {}", peer.snapshot_index),
            );
        }
    })
}
