//! The search for a linearization of one partition: Wing & Gong's backtracking, with Lowe's cache.
//!
//! The history is a doubly linked list of call and return entries sorted by time (calls before
//! returns at equal times: intervals are closed). Walking the list from its head, a call entry is an
//! operation that may be linearized now: if the model accepts it and the resulting (set of linearized
//! operations, state) pair is new, its call and return are lifted out of the list and the walk
//! restarts. Reaching a return entry means some operation had to take effect before that point and
//! none could: undo the last choice (unlift it) and try the entry after it. An empty list is a
//! linearization; backtracking with nothing to undo means there is none.
//!
//! Two configurations with the same linearized set and the same state have the same future, so the
//! cache of visited pairs prunes everything explored twice (Lowe, "Testing for linearizability",
//! 2017). The linearized set's hash is kept incrementally (XOR of a fixed random word per operation,
//! i.e. Zobrist hashing), so a step costs O(1) plus the model's own hashing.
//!
//! Reads get a shortcut when the model declares them (`Model::is_read_only`): a read that is legal
//! now is linearized at once and, if that leads nowhere, the search backtracks past it instead of
//! trying other operations first, because any linearization could have taken the read first.
//!
//! The search is resumable: [`Search::run`] works until it is done or its time slice is used up,
//! which lets the driver in `checker.rs` time-share many partitions over a few threads. It reads a
//! shared stop flag after every step, so an illegal partition elsewhere or the deadline stops it
//! within one model step.
//!
//! A *step* is one turn of the search loop: one attempt to linearize the operation under the cursor
//! (at most one `Model::step` and one cache lookup), or one backtrack. The search counts its steps,
//! and a step budget ([`Control::max_steps`]) ends it as [`Progress::Exhausted`]. Unlike a deadline,
//! the count does not depend on the machine, its load or the other partitions: a partition's steps
//! are a function of its operations alone, so a budget in steps gives the same verdict on every run.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hashbrown::HashTable;

use crate::model::{Model, Operation};

/// How often (in search steps) the search looks at the clock to end its time slice.
const CHECK_CLOCK_EVERY: u64 = 32;

/// What a call to [`Search::run`] ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    Linearizable,
    Illegal,
    /// Out of time slice, or asked to stop: call `run` again to continue.
    Paused,
    /// Used its whole step budget without a verdict: the partition's answer is `Unknown`.
    Exhausted,
}

/// Shared controls of all the searches of one check.
pub(crate) struct Control {
    /// Set when the check's outcome is known (an illegal partition) or its deadline passed; read
    /// after every search step, so a stop takes effect within one model step.
    pub stop: AtomicBool,
    /// How long a search runs before yielding its thread to the next partition.
    pub slice: Duration,
    /// The most steps one partition's search may take (`None`: no limit).
    pub max_steps: Option<u64>,
}

/// The wall clock, for time slices and the timeout. The checker runs after a simulation has ended,
/// never inside one, so real time is what bounds it.
#[allow(clippy::disallowed_methods)] // allowed: the checker runs outside simulations, on real time
pub(crate) fn wall_clock() -> Instant {
    Instant::now()
}

/// The history of one partition as a linked list of entries. Node 0 is the head sentinel and the
/// last node the tail sentinel; in between, the call and return entries sorted by time.
struct EntryList {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// The (partition-local) operation of each entry node.
    op: Vec<usize>,
    /// For a call node, its return node; `NOT_A_CALL` for returns and sentinels.
    matching: Vec<usize>,
}

const NOT_A_CALL: usize = usize::MAX;
const HEAD: usize = 0;

impl EntryList {
    fn new<I, O>(ops: &[&Operation<I, O>]) -> EntryList {
        // (time, is_return, op): sorting puts calls before returns at equal times.
        let mut entries: Vec<(i64, bool, usize)> = Vec::with_capacity(2 * ops.len());
        for (i, op) in ops.iter().enumerate() {
            entries.push((op.call, false, i));
            entries.push((op.return_time, true, i));
        }
        entries.sort_unstable();
        let nodes = entries.len() + 2;
        let mut list = EntryList {
            next: (1..=nodes).collect(),
            prev: (0..nodes).map(|i| i.wrapping_sub(1)).collect(),
            op: vec![usize::MAX; nodes],
            matching: vec![NOT_A_CALL; nodes],
        };
        let mut call_node = vec![0; ops.len()];
        for (k, &(_, is_return, op)) in entries.iter().enumerate() {
            let node = k + 1;
            list.op[node] = op;
            if is_return {
                list.matching[call_node[op]] = node;
            } else {
                call_node[op] = node;
            }
        }
        list
    }

    fn first(&self) -> usize {
        self.next[HEAD]
    }

    fn is_empty(&self) -> bool {
        self.first() == self.next.len() - 1
    }

    fn is_call(&self, node: usize) -> bool {
        self.matching[node] != NOT_A_CALL
    }

    fn unlink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = next;
        self.prev[next] = prev;
    }

    /// Undoes `unlink(node)`; valid because lifts are undone in reverse order (dancing links).
    fn relink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = node;
        self.prev[next] = node;
    }

    /// Removes a call and its return from the list.
    fn lift(&mut self, call: usize) {
        self.unlink(call);
        self.unlink(self.matching[call]);
    }

    fn unlift(&mut self, call: usize) {
        self.relink(self.matching[call]);
        self.relink(call);
    }
}

/// The set of linearized operations, with an incrementally maintained hash.
struct Bitset {
    words: Vec<u64>,
    hash: u64,
}

impl Bitset {
    fn new(bits: usize) -> Bitset {
        Bitset {
            words: vec![0; bits.div_ceil(64)],
            hash: 0,
        }
    }

    /// Flips bit `i` (set or clear: the callers know which).
    fn toggle(&mut self, i: usize) {
        self.words[i / 64] ^= 1 << (i % 64);
        self.hash ^= mix(i as u64 + 1);
    }
}

/// SplitMix64's finaliser: a cheap bijection with good avalanche.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Visited (linearized set, state) pairs. The sets live in one flat arena of words; the table
/// holds each entry's full hash next to its index, so probing past a non-matching entry touches
/// no other memory, and a lookup allocates nothing.
struct Cache<S> {
    table: HashTable<(u64, u32)>,
    states: Vec<S>,
    words: Vec<u64>,
    width: usize,
}

impl<S: Clone + Eq + Hash> Cache<S> {
    fn new(width: usize) -> Self {
        Cache {
            table: HashTable::new(),
            states: Vec::new(),
            words: Vec::new(),
            width,
        }
    }

    fn set_of(&self, entry: u32) -> &[u64] {
        let start = entry as usize * self.width;
        &self.words[start..start + self.width]
    }

    fn matches(&self, entry: u32, set: &Bitset, state: &S) -> bool {
        // A plain loop: sets are a few words, too short for a `memcmp` call to pay off.
        let same_set = self
            .set_of(entry)
            .iter()
            .zip(&set.words)
            .all(|(a, b)| a == b);
        same_set && self.states[entry as usize] == *state
    }

    /// Records the pair; false if it was already there.
    fn insert_if_new(&mut self, set: &Bitset, state: &S) -> bool {
        let mut hasher = rustc_hash::FxHasher::default();
        state.hash(&mut hasher);
        let hash = mix(set.hash ^ hasher.finish());
        let found = self
            .table
            .find(hash, |&(h, e)| h == hash && self.matches(e, set, state));
        if found.is_some() {
            return false;
        }
        let entry = u32::try_from(self.states.len()).expect("fewer than 2^32 cache entries");
        self.states.push(state.clone());
        self.words.extend_from_slice(&set.words);
        self.table.insert_unique(hash, (hash, entry), |&(h, _)| h);
        true
    }
}

/// Remembers, for every operation, the longest partial linearization that contained it: the
/// material of the HTML report's "how far did the search get".
struct PartialTracker {
    best_len: Vec<usize>,
    best: Vec<Option<usize>>,
    sequences: Vec<Vec<usize>>,
}

impl PartialTracker {
    fn new(ops: usize) -> Self {
        PartialTracker {
            best_len: vec![0; ops],
            best: vec![None; ops],
            sequences: Vec::new(),
        }
    }

    /// Called with the current linearization prefix each time the search backtracks (and once at
    /// the end). A snapshot is kept only if it is the longest yet for one of its operations, so no
    /// two snapshots are equal and there are at most ops² of them.
    fn record(&mut self, prefix: impl Iterator<Item = usize> + Clone, len: usize) {
        if !prefix.clone().any(|op| self.best_len[op] < len) {
            return;
        }
        let index = self.sequences.len();
        self.sequences.push(prefix.clone().collect());
        for op in prefix {
            if self.best_len[op] < len {
                self.best_len[op] = len;
                self.best[op] = Some(index);
            }
        }
    }
}

/// What a finished (or abandoned) search leaves behind, with operations as indices into the
/// partition's `ops`.
pub(crate) struct SearchReport {
    /// Distinct partial linearizations (verbose only), and for each operation the index of the
    /// longest one containing it.
    pub partials: Vec<Vec<usize>>,
    pub largest: Vec<Option<usize>>,
}

/// One choice of the current linearization prefix.
struct Frame<S> {
    /// The call node of the operation linearized.
    node: usize,
    /// The state before it.
    before: S,
    /// A read linearized as soon as it could be: undoing it leaves nothing else to try.
    forced: bool,
}

/// The resumable search over one partition.
pub(crate) struct Search<'a, M: Model> {
    model: &'a M,
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    list: EntryList,
    linearized: Bitset,
    cache: Cache<M::State>,
    /// The current linearization prefix.
    stack: Vec<Frame<M::State>>,
    state: M::State,
    cursor: usize,
    partial: Option<PartialTracker>,
    /// Steps taken so far, over every call to `run`.
    steps: u64,
}

impl<'a, M: Model> Search<'a, M> {
    pub fn new(model: &'a M, ops: Vec<&'a Operation<M::Input, M::Output>>, verbose: bool) -> Self {
        let list = EntryList::new(&ops);
        let n = ops.len();
        Search {
            model,
            cursor: list.first(),
            list,
            linearized: Bitset::new(n),
            cache: Cache::new(n.div_ceil(64)),
            stack: Vec::new(),
            state: model.init(),
            partial: verbose.then(|| PartialTracker::new(n)),
            ops,
            steps: 0,
        }
    }

    /// The steps taken so far (see the module documentation).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Searches until a verdict, the end of the step budget or of the time slice, or a stop
    /// request.
    pub fn run(&mut self, control: &Control) -> Progress {
        let slice_end = wall_clock() + control.slice;
        loop {
            if self.list.is_empty() {
                return Progress::Linearizable;
            }
            if control.max_steps.is_some_and(|max| self.steps >= max) {
                return Progress::Exhausted;
            }
            // On a return entry, or after a dead end, undo the last choice.
            self.steps += 1;
            let alive = self.list.is_call(self.cursor) && self.try_linearize();
            if !alive && !self.backtrack() {
                return Progress::Illegal;
            }
            if control.stop.load(Ordering::Relaxed) {
                return Progress::Paused;
            }
            if self.steps.is_multiple_of(CHECK_CLOCK_EVERY) && wall_clock() >= slice_end {
                return Progress::Paused;
            }
        }
    }

    /// Tries to linearize the operation whose call is under the cursor; false if that proves the
    /// current configuration dead (the caller must backtrack).
    fn try_linearize(&mut self) -> bool {
        let node = self.cursor;
        let op = self.list.op[node];
        let operation = self.ops[op];
        let Some(next) = self
            .model
            .step(&self.state, &operation.input, &operation.output)
        else {
            self.cursor = self.list.next[node];
            return true;
        };
        // A legal read can always go first (see `Model::is_read_only`): it is the only choice
        // worth trying here, so if it leads nowhere, nothing does.
        let forced = self.model.is_read_only(&operation.input, &operation.output);
        self.linearized.toggle(op);
        if self.cache.insert_if_new(&self.linearized, &next) {
            let before = std::mem::replace(&mut self.state, next);
            self.stack.push(Frame {
                node,
                before,
                forced,
            });
            self.list.lift(node);
            self.cursor = self.list.first();
            return true;
        }
        // Seen before, and not on the current path (those sets are smaller): a dead end.
        self.linearized.toggle(op);
        self.cursor = self.list.next[node];
        !forced
    }

    /// Undoes the last choice that had alternatives; false if there is none (the partition is not
    /// linearizable).
    fn backtrack(&mut self) -> bool {
        if let Some(partial) = &mut self.partial {
            let list = &self.list;
            let prefix = self.stack.iter().map(|frame| list.op[frame.node]);
            partial.record(prefix, self.stack.len());
        }
        while let Some(frame) = self.stack.pop() {
            self.state = frame.before;
            self.linearized.toggle(self.list.op[frame.node]);
            self.list.unlift(frame.node);
            self.cursor = self.list.next[frame.node];
            if !frame.forced {
                return true;
            }
        }
        false
    }

    /// Consumes the search, keeping what the verbose tracker learnt.
    pub fn into_report(self) -> SearchReport {
        let Some(mut partial) = self.partial else {
            return SearchReport {
                partials: Vec::new(),
                largest: Vec::new(),
            };
        };
        // The current prefix: the linearization if one was found, else how far a stopped search got
        // (an illegal search ends with an empty stack, which records nothing).
        let list = &self.list;
        let prefix = self.stack.iter().map(|frame| list.op[frame.node]);
        partial.record(prefix, self.stack.len());
        SearchReport {
            partials: partial.sequences,
            largest: partial.best,
        }
    }
}
