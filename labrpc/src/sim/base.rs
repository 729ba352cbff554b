//! The runtime's leaf types: what every part of `sim` (and the network above
//! it) names, defined where nothing else is, so that the engines, the context
//! and the observability modules can all use them without importing each other.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};

/// A boxed task future, as stored by both engines.
pub(crate) type BoxTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Identifies a node within one simulation. Node 0 is the test itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(pub(crate) u32);

/// The node the test's own code runs on; it is never killed.
pub(crate) const TEST_NODE: NodeId = NodeId(0);

/// Locks a mutex, ignoring poisoning: a panic inside a task is reported as the
/// test's failure (see `task::spawn_on`), so a poisoned lock carries no news.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}
