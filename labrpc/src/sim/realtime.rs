//! Real-time mode (`LAB_REALTIME=1`): the same tests on tokio's multi-threaded
//! runtime and the real clock.
//!
//! Virtual time makes computation free, which can hide code that is too slow
//! (a leader that holds a lock while encoding a huge log, say). This mode runs
//! the very same test code with real parallelism and real sleeps to flush such
//! bugs out. Replaying a seed is not promised here: thread scheduling is real.
//! The API is the same: tasks still belong to nodes, and killing a node aborts
//! every one of its tasks.

#![allow(clippy::disallowed_methods)] // allowed: this module *is* the real-time engine

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use tokio::task::AbortHandle;

use super::base::{BoxTask, NodeId, lock};

/// The live tasks, by id, with their node and the handle that aborts them.
type TaskTable = Mutex<BTreeMap<u64, (NodeId, AbortHandle)>>;

pub(crate) struct RealCore {
    start: std::time::Instant,
    handle: tokio::runtime::Handle,
    next_task: AtomicU64,
    /// Shared with every task's wrapper, which removes its own entry.
    tasks: Arc<TaskTable>,
    pub(crate) failed: tokio::sync::Notify,
}

impl RealCore {
    pub(crate) fn new(handle: tokio::runtime::Handle) -> RealCore {
        RealCore {
            start: std::time::Instant::now(),
            handle,
            next_task: AtomicU64::new(0),
            tasks: Arc::new(Mutex::new(BTreeMap::new())),
            failed: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn now_nanos(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Starts `task` on tokio; `on_panic` reports a panic that escaped the
    /// task's own panic capture (see `task::spawn_on`).
    pub(crate) fn spawn(
        &self,
        node: NodeId,
        task: BoxTask,
        on_panic: impl FnOnce(Box<dyn Any + Send>) + Send + 'static,
    ) -> u64 {
        let id = self.next_task.fetch_add(1, Ordering::SeqCst);
        let table = Arc::clone(&self.tasks);
        let wrapped = async move {
            if let Err(payload) = AssertUnwindSafe(task).catch_unwind().await {
                on_panic(payload);
            }
            lock(&table).remove(&id);
        };
        // Hold the table lock across the spawn so a fast task cannot remove its
        // entry before it is inserted.
        let mut tasks = lock(&self.tasks);
        let join = self.handle.spawn(wrapped);
        tasks.insert(id, (node, join.abort_handle()));
        id
    }

    pub(crate) fn abort(&self, id: u64) {
        if let Some((_, handle)) = lock(&self.tasks).remove(&id) {
            handle.abort();
        }
    }

    pub(crate) fn kill_node(&self, node: NodeId) {
        let mut tasks = lock(&self.tasks);
        let ids: Vec<u64> = tasks
            .iter()
            .filter(|(_, (n, _))| *n == node)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some((_, handle)) = tasks.remove(&id) {
                handle.abort();
            }
        }
    }

    pub(crate) fn abort_all(&self) {
        for (_, (_, handle)) in std::mem::take(&mut *lock(&self.tasks)) {
            handle.abort();
        }
    }
}
