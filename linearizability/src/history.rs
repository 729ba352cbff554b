//! Recording histories and converting between the two history shapes.
//!
//! The checker itself only knows [`Operation`]s. An event list is turned into operations whose times
//! are the events' positions: events are never simultaneous, so the result is checked exactly as the
//! event list would be, and partitioning, caching and the HTML report need only one code path.
//!
//! [`OpLog`] is the recorder the lab tests share between client tasks, like the Go tests' `OpLog`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::{Event, EventKind, Operation};

/// A malformed event history.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HistoryError {
    #[error("event {position}: call id {id} is used twice")]
    DuplicateCall { position: usize, id: usize },
    #[error("event {position}: return id {id} has no earlier call")]
    ReturnWithoutCall { position: usize, id: usize },
    #[error(
        "call id {id} (event {position}) never returns; record a return with an \"unknown\" output at the end"
    )]
    MissingReturn { position: usize, id: usize },
}

/// Pairs calls with returns; each operation's `call`/`return_time` is its events' positions.
///
/// Operations come out in the order of their calls. Every call needs a return: a pending operation
/// should be given an explicit return (with an output the model reads as "unknown") at the end.
pub fn operations_from_events<I: Clone, O: Clone>(
    events: &[Event<I, O>],
) -> Result<Vec<Operation<I, O>>, HistoryError> {
    let returns = return_positions(events)?;
    let mut ops = Vec::with_capacity(returns.len());
    for (position, event) in events.iter().enumerate() {
        let EventKind::Call(input) = &event.kind else {
            continue;
        };
        let id = event.id;
        let &(return_time, output) = returns
            .get(&id)
            .ok_or(HistoryError::MissingReturn { position, id })?;
        ops.push(Operation {
            client_id: event.client_id,
            input: input.clone(),
            call: position as i64,
            output: output.clone(),
            return_time: return_time as i64,
        });
    }
    Ok(ops)
}

/// The events of a history of operations: each operation's call and return, ordered by time, calls
/// before returns at equal times (intervals are closed, as the checker reads them), ids the
/// operations' indices. The inverse of [`operations_from_events`] up to the times.
pub fn events_from_operations<I: Clone, O: Clone>(history: &[Operation<I, O>]) -> Vec<Event<I, O>> {
    let mut timed: Vec<(i64, bool, usize)> = Vec::with_capacity(2 * history.len());
    for (i, op) in history.iter().enumerate() {
        timed.push((op.call, false, i));
        timed.push((op.return_time, true, i));
    }
    timed.sort_unstable();
    timed
        .into_iter()
        .map(|(_, is_return, i)| Event {
            client_id: history[i].client_id,
            id: i,
            kind: if is_return {
                EventKind::Return(history[i].output.clone())
            } else {
                EventKind::Call(history[i].input.clone())
            },
        })
        .collect()
}

/// Checks that ids are used by one call and at most one later return; maps id to its return.
fn return_positions<I, O>(
    events: &[Event<I, O>],
) -> Result<BTreeMap<usize, (usize, &O)>, HistoryError> {
    let mut open = BTreeSet::new();
    let mut called = BTreeSet::new();
    let mut returns = BTreeMap::new();
    for (position, event) in events.iter().enumerate() {
        let id = event.id;
        match &event.kind {
            EventKind::Call(_) if !called.insert(id) => {
                return Err(HistoryError::DuplicateCall { position, id });
            }
            EventKind::Call(_) => {
                open.insert(id);
            }
            EventKind::Return(_) if !open.remove(&id) => {
                return Err(HistoryError::ReturnWithoutCall { position, id });
            }
            EventKind::Return(output) => {
                returns.insert(id, (position, output));
            }
        }
    }
    Ok(returns)
}

/// A shared, append-only log of completed operations: clone it into every client task, `append`
/// each operation once it returns, and `read` the history at the end of the test.
#[derive(Debug)]
pub struct OpLog<I, O> {
    ops: Arc<Mutex<Vec<Operation<I, O>>>>,
}

impl<I, O> Clone for OpLog<I, O> {
    fn clone(&self) -> Self {
        OpLog {
            ops: Arc::clone(&self.ops),
        }
    }
}

impl<I, O> Default for OpLog<I, O> {
    fn default() -> Self {
        OpLog {
            ops: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<I: Clone, O: Clone> OpLog<I, O> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one completed operation.
    pub fn append(&self, op: Operation<I, O>) {
        // A panicking client task must not hide the history from the checker: ignore poisoning.
        self.ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(op);
    }

    /// A copy of everything recorded so far.
    pub fn read(&self) -> Vec<Operation<I, O>> {
        self.ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: usize, v: u8) -> Event<u8, u8> {
        Event {
            client_id: id,
            id,
            kind: EventKind::Call(v),
        }
    }

    fn ret(id: usize, v: u8) -> Event<u8, u8> {
        Event {
            client_id: id,
            id,
            kind: EventKind::Return(v),
        }
    }

    #[test]
    fn events_become_operations_timed_by_position() {
        let ops =
            operations_from_events(&[call(7, 1), call(3, 2), ret(7, 10), ret(3, 20)]).unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!((ops[0].input, ops[0].call, ops[0].return_time), (1, 0, 2));
        assert_eq!((ops[1].output, ops[1].call, ops[1].return_time), (20, 1, 3));
    }

    #[test]
    fn malformed_event_histories_are_errors() {
        assert_eq!(
            operations_from_events(&[ret(1, 0)]),
            Err(HistoryError::ReturnWithoutCall { position: 0, id: 1 })
        );
        assert_eq!(
            operations_from_events(&[call(1, 0), ret(1, 0), call(1, 0)]),
            Err(HistoryError::DuplicateCall { position: 2, id: 1 })
        );
        assert_eq!(
            operations_from_events(&[call(1, 0), call(2, 0), ret(2, 0)]),
            Err(HistoryError::MissingReturn { position: 0, id: 1 })
        );
    }

    #[test]
    fn op_log_is_shared_between_clones() {
        let log = OpLog::new();
        let other = log.clone();
        other.append(Operation {
            client_id: 0,
            input: 1u8,
            call: 0,
            output: 2u8,
            return_time: 1,
        });
        assert_eq!(log.len(), 1);
        assert_eq!(log.read()[0].output, 2);
    }
}
