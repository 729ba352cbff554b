//! Tasks and nodes.
//!
//! Every task belongs to a node: a simulated machine. Killing a node drops all
//! of its tasks at once, which is how a test crashes a server: nothing of the
//! crashed instance runs after the crash, not even a half-finished RPC handler.
//! A restarted server is a brand-new node that starts clean.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use futures::FutureExt;

use super::base::{NodeId, lock};
use super::context::Context;

/// The error of a [`JoinHandle`] whose task was killed or aborted before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the task was cancelled (its node was killed or the task aborted)")]
pub struct Cancelled;

struct JoinState<T> {
    result: Option<Result<T, Cancelled>>,
    /// Set once the task has finished or was cancelled (the result may have
    /// been taken by the handle since).
    finished: bool,
    waiter: Option<Waker>,
}

/// Awaits a task's output. Dropping it detaches the task; it keeps running.
pub struct JoinHandle<T> {
    state: Arc<Mutex<JoinState<T>>>,
    task: Option<u64>,
    context: Arc<Context>,
}

impl<T> JoinHandle<T> {
    /// Stops the task; awaiting the handle then yields `Err(Cancelled)`.
    pub fn abort(&self) {
        if let Some(task) = self.task {
            self.context.abort_task(task);
        }
    }

    /// True once the task has finished, one way or another.
    pub fn is_finished(&self) -> bool {
        lock(&self.state).finished
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, Cancelled>;
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut state = lock(&self.state);
        match state.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                state.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Held by the running task; on drop without a result, the task was cancelled.
struct Completer<T> {
    state: Arc<Mutex<JoinState<T>>>,
}

impl<T> Completer<T> {
    fn finish(&self, result: Result<T, Cancelled>) {
        let waiter = {
            let mut state = lock(&self.state);
            if state.finished {
                return;
            }
            state.finished = true;
            state.result = Some(result);
            state.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        self.finish(Err(Cancelled));
    }
}

pub(crate) fn spawn_on<F>(context: &Arc<Context>, node: NodeId, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let state = Arc::new(Mutex::new(JoinState {
        result: None,
        finished: false,
        waiter: None,
    }));
    let completer = Completer {
        state: state.clone(),
    };
    let task = context.spawn_task(
        node,
        Box::pin(async move {
            // The panic is caught here, inside the task, so that it is the
            // run's failure *before* the completer is dropped and the handle
            // reports Cancelled: a waiter (the runner waiting for the test's
            // body, a test awaiting this task) then never sees the cancellation
            // without the failure, in either engine.
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(output) => completer.finish(Ok(output)),
                Err(payload) => {
                    Context::current().task_panicked(Context::current_node(), &*payload);
                    drop(completer);
                }
            }
        }),
    );
    // When the node is dead the task (and its completer) was dropped already,
    // so the handle reports Cancelled.
    JoinHandle {
        state,
        task,
        context: context.clone(),
    }
}

/// Starts a task on the current node.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let context = Context::current();
    spawn_on(&context, Context::current_node(), future)
}

/// A simulated machine: a name and a set of tasks that die together.
#[derive(Clone)]
pub struct Node {
    id: NodeId,
    name: Arc<str>,
    context: Arc<Context>,
}

/// Names need not be unique (every MapReduce worker is `worker`), so the id,
/// unique within the simulation, is shown too.
impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id.0)
            .field("name", &self.name)
            .finish()
    }
}

impl Node {
    /// A new, live node. Names are for logs and need not be unique.
    pub fn new(name: &str) -> Node {
        let context = Context::current();
        let id = context.new_node(name);
        crate::timeline::node_started(name);
        Node {
            id,
            name: Arc::from(name),
            context,
        }
    }

    /// The node's name (for logs and the timeline).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the node has not been killed.
    pub fn is_alive(&self) -> bool {
        self.context.node_alive(self.id)
    }

    /// Starts a task owned by this node. On a dead node the task never runs.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.context, self.id, future)
    }

    /// Runs synchronous code as if on this node: tasks it spawns with
    /// [`spawn`](super::spawn) belong to this node. This is how a test calls a
    /// constructor such as `Raft::make` "on" a server.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        self.context.enter(self.id, f)
    }

    /// Crashes the node: every task it owns is dropped now, and tasks spawned
    /// onto it later never run.
    ///
    /// A task may kill its own node (a server crashing itself). It cannot be
    /// dropped while it is running, so its synchronous code after `kill()`
    /// still runs, up to its next `.await`, which never returns: the task is
    /// dropped there. Return right after killing your own node, and do not
    /// write state you mean to lose between the kill and that point.
    pub fn kill(&self) {
        if self.context.kill_node(self.id) {
            crate::trace::record_node_event(&self.context, "kill", &self.name);
            crate::timeline::band_start(&self.name, crate::timeline::Band::Crashed);
        }
    }

    pub(crate) fn id(&self) -> NodeId {
        self.id
    }

    pub(crate) fn from_id(id: NodeId) -> Node {
        let context = Context::current();
        let name = context.node_name(id);
        Node { id, name, context }
    }
}

/// The node the calling code runs on.
pub fn current_node() -> Node {
    let context = Context::current();
    let id = Context::current_node();
    let name = context.node_name(id);
    Node { id, name, context }
}
