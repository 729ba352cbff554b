//! The vocabulary of the checker: what a sequential specification (a [`Model`]) looks like, what a
//! recorded history is made of ([`Operation`]s or [`Event`]s) and what a check answers ([`CheckResult`]).
//!
//! A model is a trait with associated types rather than Porcupine's `any`-typed struct of closures: the
//! compiler then checks that a history and a model fit together, and the search never downcasts.
//! `step` returns `Option<State>` (`None` = "this output is impossible from this state"), which is
//! Porcupine's `(bool, state)` without the meaningless state on failure.

use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification of an object, e.g. a register or a key/value store.
///
/// `step` must be a pure function: the search calls it many times, in any order, from several threads
/// (partitions are checked in parallel, hence the `Sync` bounds).
pub trait Model: Sync {
    /// What a client asked for (e.g. `get("x")`).
    type Input: Debug + Sync;
    /// What the client was told (e.g. the value read).
    type Output: Debug + Sync;
    /// The object's state. `Eq + Hash` because the search caches (linearized set, state) pairs it has
    /// already explored; two states that compare equal must behave identically.
    type State: Clone + Eq + Hash + Debug + Send;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies `input` to `state`: `Some(next)` if the object could have answered `output`, `None`
    /// if that answer is impossible from `state`.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// True if this operation, with this output, never changes the state: `step` returns either
    /// `None` or a state equal to its input, from any state (a read; a failed compare-and-set).
    ///
    /// Optional, for speed: the search then linearizes such an operation as soon as it is legal and
    /// never tries it anywhere else. That loses nothing: in any linearization, an operation that
    /// could already go now can be moved to the front, since it leaves the state as it found it.
    /// Saying true for an operation that can change the state makes verdicts wrong.
    fn is_read_only(&self, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (input, output);
        false
    }

    /// Splits a history into independent sub-histories (P-compositionality), given as indices into
    /// `history`. The model must guarantee that the history is linearizable iff every part is; `init`
    /// and `step` then describe one part (e.g. a single key). Each index must appear in exactly one part.
    /// The default keeps the whole history together.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A short name for one part of [`Model::partition`] (`ops` are its indices into `history`), used
    /// by the HTML report's partition picker, e.g. `key "x"`. The default, `None`, numbers them.
    fn describe_partition(
        &self,
        history: &[Operation<Self::Input, Self::Output>],
        ops: &[usize],
    ) -> Option<String> {
        let _ = (history, ops);
        None
    }

    /// A short human-readable label for an operation, used by the HTML report.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// A human-readable description of a state, used by the HTML report.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// One completed operation: `client_id` called it at `call` with `input` and got `output` at
/// `return_time`.
///
/// The interval `[call, return_time]` is closed: an operation returning at `t` and one called at `t`
/// are concurrent, so either order is allowed. Times are in any unit (the kv tests use virtual-time
/// nanoseconds); only their order matters. `client_id` only chooses the row in the HTML report: it
/// is not a sequencing constraint.
///
/// An operation that never returned (a crashed client, a timed-out request) can still be recorded: give
/// it an output the model accepts as "unknown" and a `return_time` after every other event, so it may
/// take effect at any point after its call, or never observably (this is what the log parsers do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    pub client_id: usize,
    pub input: I,
    pub call: i64,
    pub output: O,
    pub return_time: i64,
}

/// One half of an operation in an event-style history, where the position of an event in the list
/// is its time (so no two events are simultaneous). `id` pairs a call with its return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<I, O> {
    pub client_id: usize,
    pub id: usize,
    pub kind: EventKind<I, O>,
}

/// Whether an [`Event`] is a call (carrying the input) or a return (carrying the output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind<I, O> {
    Call(I),
    Return(O),
}

/// The verdict of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckResult {
    /// The history is linearizable.
    Ok,
    /// The history is not linearizable (some partition has no linearization).
    Illegal,
    /// The check was stopped by its timeout before reaching a verdict. Callers usually treat this as
    /// "no bug found", as the Go labs do.
    Unknown,
}

impl std::fmt::Display for CheckResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self {
            CheckResult::Ok => "Ok",
            CheckResult::Illegal => "Illegal",
            CheckResult::Unknown => "Unknown",
        };
        f.write_str(word)
    }
}
