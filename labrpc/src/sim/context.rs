//! The per-test simulation context: everything one simulated test shares.
//!
//! A context holds the seed and the one random generator every random choice
//! draws from, the table of nodes, the first failure, and the engine that runs
//! tasks (the deterministic executor, or tokio in real-time mode). What the
//! observability modules record about a run (the trace digest, the failure
//! timeline) hangs on the context as typed extensions: those modules sit above
//! the runtime and reach down to it, and the runtime never names them. It is reached through a thread-local that is set while the test's
//! code runs: the deterministic executor runs everything on the test's own
//! thread, and in real-time mode every task is wrapped so that the thread-local
//! is set on whichever tokio worker polls it. Lab code never touches the context
//! directly; it calls the free functions of [`crate::sim`].

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::base::{BoxTask, NodeId, TEST_NODE, lock, panic_message};
use super::executor::Executor;
use super::realtime::RealCore;

pub(crate) struct NodeInfo {
    pub(crate) name: Arc<str>,
    pub(crate) alive: bool,
}

/// Which engine runs the tasks.
pub(crate) enum Engine {
    Sim(Executor),
    Real(RealCore),
}

pub(crate) struct Context {
    pub(crate) seed: u64,
    /// The test this run belongs to, for naming its files: the libtest
    /// thread's name where the run started (in real-time mode the tasks run on
    /// tokio's workers, whose names say nothing about the test).
    pub(crate) test_name: Arc<str>,
    pub(crate) engine: Engine,
    rng: Mutex<ChaCha8Rng>,
    nodes: Mutex<BTreeMap<NodeId, NodeInfo>>,
    failure: Mutex<Option<String>>,
    /// The log subscriber, re-installed around every poll in real-time mode
    /// (tokio's worker threads do not have the test thread's default).
    log_dispatch: std::sync::OnceLock<tracing::Dispatch>,
    /// Per-run state of the modules above the runtime, one value per type
    /// (see [`Context::extension`]).
    extensions: Mutex<BTreeMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

thread_local! {
    static CURRENT_CONTEXT: RefCell<Option<Arc<Context>>> = const { RefCell::new(None) };
    static CURRENT_NODE: std::cell::Cell<NodeId> = const { std::cell::Cell::new(TEST_NODE) };
}

impl Context {
    pub(crate) fn new(seed: u64, test_name: &str, engine: Engine) -> Arc<Context> {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            TEST_NODE,
            NodeInfo {
                name: Arc::from("test"),
                alive: true,
            },
        );
        Arc::new(Context {
            seed,
            test_name: Arc::from(test_name),
            engine,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
            nodes: Mutex::new(nodes),
            failure: Mutex::new(None),
            log_dispatch: std::sync::OnceLock::new(),
            extensions: Mutex::new(BTreeMap::new()),
        })
    }

    /// The context of the simulation this thread is running, if any.
    pub(crate) fn try_current() -> Option<Arc<Context>> {
        CURRENT_CONTEXT.with(|c| c.borrow().clone())
    }

    pub(crate) fn current() -> Arc<Context> {
        Self::try_current().expect(
            "labrpc::sim: not inside a simulation (wrap the test body in labrpc::sim::run(async { .. }))",
        )
    }

    pub(crate) fn current_node() -> NodeId {
        CURRENT_NODE.with(|n| n.get())
    }

    /// Runs `f` with this context and `node` as the current ones, restoring the
    /// previous values afterwards (also when `f` panics).
    pub(crate) fn enter<R>(self: &Arc<Self>, node: NodeId, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<Arc<Context>>, NodeId);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT_CONTEXT.with(|c| *c.borrow_mut() = self.0.take());
                CURRENT_NODE.with(|n| n.set(self.1));
            }
        }
        let previous_context = CURRENT_CONTEXT.with(|c| c.borrow_mut().replace(self.clone()));
        let previous_node = CURRENT_NODE.with(|n| n.replace(node));
        let _restore = Restore(previous_context, previous_node);
        f()
    }

    pub(crate) fn set_log_dispatch(&self, dispatch: tracing::Dispatch) {
        let _ = self.log_dispatch.set(dispatch);
    }

    /// This run's value of type `T`, created with `T::default()` on first use.
    /// The trace digest and the timeline keep their per-run state here.
    pub(crate) fn extension<T: Any + Send + Sync + Default>(&self) -> Arc<T> {
        let mut extensions = lock(&self.extensions);
        let value = extensions
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        Arc::clone(value)
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("an extension is stored under its own type"))
    }

    pub(crate) fn with_rng<R>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        f(&mut lock(&self.rng))
    }

    /// Records the first failure of the run; the engine stops at its next step.
    pub(crate) fn fail(&self, message: String) {
        let mut failure = lock(&self.failure);
        if failure.is_none() {
            *failure = Some(message);
        }
        drop(failure);
        if let Engine::Real(real) = &self.engine {
            real.failed.notify_one();
        }
    }

    pub(crate) fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    /// Records a panic of a task on `node` as the run's failure.
    /// The panic's place is in the message when the hook recorded it (see
    /// `base::quiet_panics`); its backtrace, if any, stays for the runner.
    pub(crate) fn task_panicked(&self, node: NodeId, payload: &(dyn Any + Send)) {
        let location = super::base::take_panic_site()
            .map(|site| {
                if let Some(backtrace) = site.backtrace {
                    // Put back for the runner's report.
                    super::base::keep_panic_backtrace(backtrace);
                }
                site.location
            })
            .unwrap_or_default();
        let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
        self.fail(format!(
            "a task on node {} panicked{at}: {}",
            self.node_name(node),
            panic_message(payload)
        ));
    }

    pub(crate) fn new_node(&self, name: &str) -> NodeId {
        let mut nodes = lock(&self.nodes);
        let id = NodeId(nodes.len() as u32);
        nodes.insert(
            id,
            NodeInfo {
                name: Arc::from(name),
                alive: true,
            },
        );
        id
    }

    pub(crate) fn node_name(&self, id: NodeId) -> Arc<str> {
        lock(&self.nodes)
            .get(&id)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| Arc::from("?"))
    }

    pub(crate) fn node_alive(&self, id: NodeId) -> bool {
        lock(&self.nodes).get(&id).is_some_and(|n| n.alive)
    }

    /// Marks the node dead and drops all its tasks. Returns false if it was dead.
    pub(crate) fn kill_node(&self, id: NodeId) -> bool {
        assert_ne!(id, TEST_NODE, "the test's own node cannot be killed");
        {
            let mut nodes = lock(&self.nodes);
            match nodes.get_mut(&id) {
                Some(info) if info.alive => info.alive = false,
                _ => return false,
            }
        }
        match &self.engine {
            Engine::Sim(executor) => executor.kill_node(id),
            Engine::Real(real) => real.kill_node(id),
        }
        true
    }

    /// Starts a task on `node`; returns its id, or None when the node is dead.
    pub(crate) fn spawn_task(self: &Arc<Self>, node: NodeId, task: BoxTask) -> Option<u64> {
        if !self.node_alive(node) {
            return None;
        }
        let task = Box::pin(InNode {
            context: self.clone(),
            node,
            inner: task,
        });
        Some(match &self.engine {
            Engine::Sim(executor) => executor.spawn(node, task),
            Engine::Real(real) => {
                let reporter = self.clone();
                real.spawn(node, task, move |payload| {
                    reporter.task_panicked(node, &*payload)
                })
            }
        })
    }

    pub(crate) fn abort_task(&self, task: u64) {
        match &self.engine {
            Engine::Sim(executor) => executor.abort(task),
            Engine::Real(real) => real.abort(task),
        }
    }

    pub(crate) fn is_realtime(&self) -> bool {
        matches!(self.engine, Engine::Real(_))
    }

    /// Virtual (or, in real-time mode, real) nanoseconds since the run started.
    pub(crate) fn now_nanos(&self) -> u64 {
        match &self.engine {
            Engine::Sim(executor) => executor.now_nanos(),
            Engine::Real(real) => real.now_nanos(),
        }
    }
}

/// The deterministic executor's view of the run it serves.
impl super::executor::Host for Context {
    fn stop_message(&self) -> Option<String> {
        self.failure()
    }

    fn pick_index(&self, len: usize) -> usize {
        self.with_rng(|rng| rng.random_range(0..len))
    }

    fn report_panic(&self, node: NodeId, payload: &(dyn Any + Send)) {
        self.task_panicked(node, payload);
    }
}

/// Sets the context and node thread-locals around every poll of a task, so
/// that `sim::spawn`, `sim::now` and friends work from any thread that polls it.
struct InNode {
    context: Arc<Context>,
    node: NodeId,
    inner: BoxTask,
}

impl Future for InNode {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let context = this.context.clone();
        let mut poll = || context.enter(this.node, || this.inner.as_mut().poll(cx));
        match (&context.engine, context.log_dispatch.get()) {
            (Engine::Real(_), Some(dispatch)) => tracing::dispatcher::with_default(dispatch, poll),
            _ => poll(),
        }
    }
}
