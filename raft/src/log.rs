//! The replicated log, with the prefix that a snapshot replaced cut off.
// SOLUTION FILE
//!
//! Raft indexes entries from 1. After a snapshot the entries up to and
//! including `base_index` are gone and only their last term is kept (the
//! snapshot's "last included" index and term); `base_index = 0` means no
//! snapshot, with a sentinel term 0 that makes the consistency check at index
//! 0 always succeed. All index arithmetic lives here, so the protocol code in
//! `core` can speak in Raft indices and never in vector offsets.

use crate::messages::Entry;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Log {
    /// Index of the last entry covered by the snapshot (0: none).
    base_index: u64,
    /// Term of the entry at `base_index` (0: none).
    base_term: u64,
    /// Entries `base_index + 1 ..= last_index()`.
    entries: Vec<Entry>,
}

impl Log {
    pub(crate) fn new(base_index: u64, base_term: u64, entries: Vec<Entry>) -> Log {
        Log {
            base_index,
            base_term,
            entries,
        }
    }

    pub(crate) fn base_index(&self) -> u64 {
        self.base_index
    }

    pub(crate) fn base_term(&self) -> u64 {
        self.base_term
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub(crate) fn last_index(&self) -> u64 {
        self.base_index + self.entries.len() as u64
    }

    pub(crate) fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.base_term, |e| e.term)
    }

    /// The term of the entry at `index`, if the log still knows it (the base
    /// entry's term is known; earlier ones are inside the snapshot).
    pub(crate) fn term(&self, index: u64) -> Option<u64> {
        if index == self.base_index {
            Some(self.base_term)
        } else {
            self.get(index).map(|e| e.term)
        }
    }

    /// The entry at `index`, if it is in the log (not in the snapshot).
    pub(crate) fn get(&self, index: u64) -> Option<&Entry> {
        let offset = index.checked_sub(self.base_index + 1)?;
        self.entries.get(offset as usize)
    }

    /// Clones up to `max` entries starting at `from` (which must be in the log).
    pub(crate) fn slice_from(&self, from: u64, max: usize) -> Vec<Entry> {
        internal_assert!(
            from > self.base_index,
            "slice_from({from}) reaches into the snapshot (base {})",
            self.base_index
        );
        let start = ((from - self.base_index - 1) as usize).min(self.entries.len());
        let end = start.saturating_add(max).min(self.entries.len());
        self.entries[start..end].to_vec()
    }

    pub(crate) fn push(&mut self, entry: Entry) {
        internal_debug_assert!(
            entry.term >= self.last_term(),
            "log terms must not decrease"
        );
        self.entries.push(entry);
    }

    /// Removes the entries at `index` and after.
    pub(crate) fn truncate_from(&mut self, index: u64) {
        internal_assert!(index > self.base_index, "cannot truncate into the snapshot");
        self.entries
            .truncate((index - self.base_index - 1) as usize);
    }

    /// Drops every entry up to and including `index`, which becomes the new
    /// base with term `term`. Entries after `index` stay if the log had an
    /// entry `index` with that same term; otherwise the whole log is replaced
    /// (a follower installing a leader's snapshot that its log contradicts).
    pub(crate) fn compact_to(&mut self, index: u64, term: u64) {
        if index <= self.base_index {
            return;
        }
        if self.term(index) == Some(term) {
            let keep_from = (index - self.base_index) as usize;
            self.entries.drain(..keep_from);
        } else {
            self.entries.clear();
        }
        self.base_index = index;
        self.base_term = term;
    }

    /// The first index of the run of entries with term `term` that ends at
    /// `at` (used for the `xindex` hint). Stops at the base of the log.
    pub(crate) fn first_index_of_term_run(&self, at: u64) -> u64 {
        let term = self.term(at);
        let mut index = at;
        while index > self.base_index + 1 && self.term(index - 1) == term {
            index -= 1;
        }
        index
    }

    /// The last index whose entry has term `term`, if the log holds one.
    pub(crate) fn last_index_of_term(&self, term: u64) -> Option<u64> {
        let found = self.entries.iter().rposition(|e| e.term == term);
        match found {
            Some(offset) => Some(self.base_index + 1 + offset as u64),
            None if self.base_index > 0 && self.base_term == term => Some(self.base_index),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(term: u64) -> Entry {
        Entry {
            term,
            command: vec![term as u8],
        }
    }

    fn log_with_terms(base: u64, base_term: u64, terms: &[u64]) -> Log {
        Log::new(base, base_term, terms.iter().map(|&t| entry(t)).collect())
    }

    #[test]
    fn indices_and_terms() {
        let log = log_with_terms(0, 0, &[1, 1, 3]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 3);
        assert_eq!(log.term(0), Some(0));
        assert_eq!(log.term(2), Some(1));
        assert_eq!(log.term(4), None);
        assert_eq!(log.slice_from(2, 10).len(), 2);
        assert_eq!(log.slice_from(4, 10).len(), 0);
    }

    #[test]
    fn compaction_keeps_a_matching_suffix() {
        let mut log = log_with_terms(0, 0, &[1, 1, 2, 2, 3]);
        log.compact_to(3, 2);
        assert_eq!(log.base_index(), 3);
        assert_eq!(log.last_index(), 5);
        assert_eq!(log.term(3), Some(2));
        assert_eq!(log.term(2), None);
        assert_eq!(log.get(4).map(|e| e.term), Some(2));
        // A snapshot the log contradicts replaces the whole log.
        log.compact_to(6, 4);
        assert_eq!((log.base_index(), log.last_index()), (6, 6));
    }

    #[test]
    fn term_runs_for_fast_backup() {
        let log = log_with_terms(2, 1, &[1, 4, 4, 4, 5]);
        assert_eq!(log.first_index_of_term_run(6), 4);
        assert_eq!(log.first_index_of_term_run(3), 3);
        assert_eq!(log.last_index_of_term(4), Some(6));
        assert_eq!(log.last_index_of_term(1), Some(3));
        assert_eq!(log.last_index_of_term(2), None);
    }

    #[test]
    fn truncation() {
        let mut log = log_with_terms(1, 1, &[1, 2, 2]);
        log.truncate_from(3);
        assert_eq!(log.last_index(), 2);
        assert_eq!(log.last_term(), 1);
    }
}
