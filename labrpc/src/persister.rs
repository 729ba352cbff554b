//! Stable storage for one Raft peer, with Go's semantics.
//!
//! `save` replaces the Raft state and the snapshot together, atomically, so a
//! crash never separates a snapshot from the log that follows it. Cloning a
//! `Persister` shares it (like passing Go's `*Persister`); [`Persister::copy`]
//! makes an independent copy. The test harnesses model a crash the way Go's do:
//! the crashed instance keeps its old `Persister` (any late write by it goes
//! there and is lost), and the restarted instance gets a copy of what was saved
//! before the crash. Saved bytes are immutable and shared, so a copy is cheap.

use std::sync::{Arc, Mutex};

use crate::sim::base::lock;

#[derive(Default)]
struct Stored {
    raft_state: Arc<[u8]>,
    snapshot: Arc<[u8]>,
}

/// One peer's durable storage.
#[derive(Clone, Default)]
pub struct Persister {
    stored: Arc<Mutex<Stored>>,
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Persister {{ raft_state: {} bytes, snapshot: {} bytes }}",
            self.raft_state_size(),
            self.snapshot_size()
        )
    }
}

impl Persister {
    /// Empty storage.
    pub fn new() -> Persister {
        Persister::default()
    }

    /// An independent persister holding the same bytes.
    pub fn copy(&self) -> Persister {
        let stored = lock(&self.stored);
        Persister {
            stored: Arc::new(Mutex::new(Stored {
                raft_state: stored.raft_state.clone(),
                snapshot: stored.snapshot.clone(),
            })),
        }
    }

    /// Atomically replaces both the Raft state and the snapshot.
    pub fn save(&self, raft_state: &[u8], snapshot: &[u8]) {
        let raft_state = Arc::from(raft_state);
        let snapshot = Arc::from(snapshot);
        let mut stored = lock(&self.stored);
        stored.raft_state = raft_state;
        stored.snapshot = snapshot;
    }

    /// A copy of the saved Raft state (empty if none).
    pub fn read_raft_state(&self) -> Vec<u8> {
        lock(&self.stored).raft_state.to_vec()
    }

    /// A copy of the saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Vec<u8> {
        lock(&self.stored).snapshot.to_vec()
    }

    /// Size of the saved Raft state, in bytes.
    pub fn raft_state_size(&self) -> usize {
        lock(&self.stored).raft_state.len()
    }

    /// Size of the saved snapshot, in bytes.
    pub fn snapshot_size(&self) -> usize {
        lock(&self.stored).snapshot.len()
    }
}

/// One server's stable storage as a test harness keeps it across crashes and
/// restarts (Go configs' `saved[i]`), with their crash model written once.
///
/// [`crash`](SavedState::crash) swaps in an independent copy: the dying
/// instance keeps the old `Persister`, so whatever it still writes after the
/// crash is lost. [`restart`](SavedState::restart) hands the next instance a
/// copy of what was saved (or an empty Persister the first time). Iterating
/// over `&SavedState` yields its Persister, if any, so
/// `saved.iter().flatten()` walks every server's storage.
#[derive(Clone, Debug, Default)]
pub struct SavedState {
    current: Option<Persister>,
}

impl SavedState {
    /// The server crashed: later writes by the dying instance are lost.
    pub fn crash(&mut self) {
        if let Some(persister) = &self.current {
            self.current = Some(persister.copy());
        }
    }

    /// Storage for the next instance: a copy of what was saved, kept here too.
    pub fn restart(&mut self) -> Persister {
        let persister = self
            .current
            .as_ref()
            .map_or_else(Persister::new, Persister::copy);
        self.current = Some(persister.clone());
        persister
    }

    /// The storage of the current (or last) instance, if it ever started.
    pub fn persister(&self) -> Option<&Persister> {
        self.current.as_ref()
    }
}

impl<'a> IntoIterator for &'a SavedState {
    type Item = &'a Persister;
    type IntoIter = std::option::Iter<'a, Persister>;
    fn into_iter(self) -> Self::IntoIter {
        self.current.iter()
    }
}
