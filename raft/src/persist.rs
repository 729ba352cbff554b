//! What Raft keeps on stable storage, and its encoding.
// SOLUTION FILE
//!
//! Figure 2's persistent state (currentTerm, votedFor, log[]) plus the
//! snapshot's last included index and term, which say where the log starts.
//! The snapshot bytes themselves go in the Persister's second slot, saved in
//! the same `Persister::save` call so that state and snapshot never disagree.

use serde::{Deserialize, Serialize};

use crate::log::Log;
use crate::messages::Entry;

/// The persistent state as it is encoded, borrowing the log so that saving
/// does not copy every entry first.
#[derive(Serialize)]
struct StateRef<'a> {
    term: u64,
    voted_for: Option<u64>,
    base_index: u64,
    base_term: u64,
    entries: &'a [Entry],
}

/// The persistent state as it is decoded after a restart.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct PersistentState {
    pub(crate) term: u64,
    pub(crate) voted_for: Option<u64>,
    pub(crate) base_index: u64,
    pub(crate) base_term: u64,
    pub(crate) entries: Vec<Entry>,
}

impl PersistentState {
    pub(crate) fn into_log(self) -> Log {
        Log::new(self.base_index, self.base_term, self.entries)
    }
}

pub(crate) fn encode(term: u64, voted_for: Option<usize>, log: &Log) -> Vec<u8> {
    labrpc::codec::encode(&StateRef {
        term,
        voted_for: voted_for.map(|v| v as u64),
        base_index: log.base_index(),
        base_term: log.base_term(),
        entries: log.entries(),
    })
}

/// Decodes saved state; `None` for a fresh server (nothing saved yet).
/// Corrupt state is a bug (the Persister is exact), so it panics.
pub(crate) fn decode(bytes: &[u8]) -> Option<PersistentState> {
    if bytes.is_empty() {
        return None;
    }
    match labrpc::codec::decode(bytes) {
        Ok(state) => Some(state),
        Err(error) => panic!("raft: cannot decode persisted state: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let log = Log::new(
            5,
            2,
            vec![Entry {
                term: 3,
                command: vec![1, 2, 3],
            }],
        );
        let bytes = encode(3, Some(1), &log);
        let state = decode(&bytes).expect("state");
        assert_eq!(state.term, 3);
        assert_eq!(state.voted_for, Some(1));
        assert_eq!(state.into_log(), log);
        assert!(decode(&[]).is_none());
    }
}
