//! The deterministic executor: one thread, virtual time, seeded scheduling.
//!
//! Why our own executor rather than tokio's paused clock: we need four things
//! tokio does not give on stable: (1) every scheduling choice drawn from the
//! test's seed (tokio's `select!` and scheduler use an unseeded RNG), (2)
//! killing a node drops every one of its tasks at once, (3) a stall, where no
//! task can run and no timer is pending, is detected at once instead of hanging,
//! and (4) a panic in any task fails the test that owns it.
//!
//! The loop is simple. Woken tasks wait in a ready list; the executor picks one
//! *at random* (from the seeded RNG, so replays are exact while different seeds
//! explore different interleavings) and polls it. Only when no task is ready
//! does virtual time move: the clock jumps to the earliest pending timer and
//! every timer due at that instant fires. Computation therefore costs no
//! virtual time, and sleeping costs no wall time.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Poll, Wake, Waker};

use super::base::{BoxTask, NodeId, lock};

/// What the executor needs from the run it serves (the simulation context
/// implements it): the executor owns tasks, timers and the clock, and nothing
/// else, so it does not depend on the context.
pub(crate) trait Host {
    /// The run's failure, once one is recorded: the loop stops at its next step.
    fn stop_message(&self) -> Option<String>;
    /// A seeded random index below `len`: which ready task runs next.
    fn pick_index(&self, len: usize) -> usize;
    /// A task's poll panicked outside the task's own panic capture.
    fn report_panic(&self, node: NodeId, payload: &(dyn Any + Send));
}

/// Polls allowed at one virtual instant before the run is declared a livelock
/// (a task that keeps waking itself without ever letting time advance). The
/// busiest correct runs of the suites poll about 30,000 times at one instant;
/// a spinning run reaches this within a second or a few of wall time. (An RPC
/// storm is usually caught sooner by the trace's own limit on network events
/// at one instant.)
const MAX_POLLS_WITHOUT_TIME_ADVANCING: u64 = 2_000_000;

pub(crate) struct Executor {
    clock_nanos: AtomicU64,
    ready: Arc<ReadyList>,
    state: Mutex<State>,
    /// Set while tearing down: new tasks are dropped instead of started.
    closed: AtomicBool,
}

#[derive(Default)]
struct State {
    tasks: BTreeMap<u64, Slot>,
    next_task: u64,
    timers: BTreeMap<(u64, u64), Waker>,
    next_timer: u64,
}

struct Slot {
    node: NodeId,
    /// None while the task is being polled.
    future: Option<BoxTask>,
    waker: Arc<TaskWaker>,
}

#[derive(Default)]
struct ReadyList {
    ids: Mutex<Vec<u64>>,
}

struct TaskWaker {
    id: u64,
    queued: AtomicBool,
    ready: Weak<ReadyList>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst)
            && let Some(ready) = self.ready.upgrade()
        {
            lock(&ready.ids).push(self.id);
        }
    }
}

/// Why a run stopped early.
pub(crate) enum Stop {
    /// Nothing is ready and no timer is pending: nothing can ever happen again.
    Stalled,
    /// The virtual clock would pass the test's time limit.
    TimeLimit,
    Failed(String),
}

impl Executor {
    pub(crate) fn new() -> Executor {
        Executor {
            clock_nanos: AtomicU64::new(0),
            ready: Arc::new(ReadyList::default()),
            state: Mutex::new(State::default()),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn now_nanos(&self) -> u64 {
        self.clock_nanos.load(Ordering::SeqCst)
    }

    pub(crate) fn spawn(&self, node: NodeId, future: BoxTask) -> u64 {
        let mut state = lock(&self.state);
        let id = state.next_task;
        state.next_task += 1;
        if self.closed.load(Ordering::SeqCst) {
            drop(state);
            drop(future);
            return id;
        }
        let waker = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(true),
            ready: Arc::downgrade(&self.ready),
        });
        state.tasks.insert(
            id,
            Slot {
                node,
                future: Some(future),
                waker,
            },
        );
        drop(state);
        lock(&self.ready.ids).push(id);
        id
    }

    /// Drops the task's future (if it is not the one being polled right now,
    /// in which case it is dropped when its poll returns).
    pub(crate) fn abort(&self, id: u64) {
        let removed = lock(&self.state).tasks.remove(&id);
        drop(removed);
    }

    pub(crate) fn kill_node(&self, node: NodeId) {
        let victims: Vec<Slot> = {
            let mut state = lock(&self.state);
            let ids: Vec<u64> = state
                .tasks
                .iter()
                .filter(|(_, slot)| slot.node == node)
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| state.tasks.remove(id)).collect()
        };
        // Dropped outside the lock: a future's destructor may wake or spawn.
        drop(victims);
    }

    /// Registers (or re-registers) a timer; returns its key.
    pub(crate) fn add_timer(
        &self,
        deadline: u64,
        previous: Option<(u64, u64)>,
        waker: &Waker,
    ) -> (u64, u64) {
        let mut state = lock(&self.state);
        if let Some(key) = previous
            && let Some(slot) = state.timers.get_mut(&key)
        {
            slot.clone_from(waker);
            return key;
        }
        let key = (deadline, state.next_timer);
        state.next_timer += 1;
        state.timers.insert(key, waker.clone());
        key
    }

    pub(crate) fn remove_timer(&self, key: (u64, u64)) {
        let removed = lock(&self.state).timers.remove(&key);
        drop(removed);
    }

    /// Runs tasks until `finished()` says so, or the run must stop.
    pub(crate) fn run_until(
        &self,
        host: &dyn Host,
        time_limit_nanos: u64,
        heartbeat: &AtomicU64,
        finished: impl Fn() -> bool,
    ) -> Result<(), Stop> {
        let mut polls_at_this_instant: u64 = 0;
        loop {
            if let Some(message) = host.stop_message() {
                return Err(Stop::Failed(message));
            }
            if finished() {
                return Ok(());
            }
            let next = self.pick_ready(host);
            let Some(id) = next else {
                self.advance_clock(time_limit_nanos)?;
                polls_at_this_instant = 0;
                continue;
            };
            polls_at_this_instant += 1;
            if polls_at_this_instant > MAX_POLLS_WITHOUT_TIME_ADVANCING {
                return Err(Stop::Failed(format!(
                    "livelock: {MAX_POLLS_WITHOUT_TIME_ADVANCING} task polls without virtual time advancing \
                     (a task keeps waking itself without sleeping)"
                )));
            }
            self.poll_task(host, id);
            heartbeat.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn pick_ready(&self, host: &dyn Host) -> Option<u64> {
        let mut ids = lock(&self.ready.ids);
        if ids.is_empty() {
            return None;
        }
        let index = host.pick_index(ids.len());
        Some(ids.swap_remove(index))
    }

    fn advance_clock(&self, time_limit_nanos: u64) -> Result<(), Stop> {
        let due: Vec<Waker> = {
            let mut state = lock(&self.state);
            let Some((&(deadline, _), _)) = state.timers.first_key_value() else {
                return Err(Stop::Stalled);
            };
            if deadline > time_limit_nanos {
                return Err(Stop::TimeLimit);
            }
            self.clock_nanos.fetch_max(deadline, Ordering::SeqCst);
            let later = state.timers.split_off(&(deadline + 1, 0));
            std::mem::replace(&mut state.timers, later)
                .into_values()
                .collect()
        };
        due.into_iter().for_each(Waker::wake);
        Ok(())
    }

    fn poll_task(&self, host: &dyn Host, id: u64) {
        let taken = {
            let mut state = lock(&self.state);
            state.tasks.get_mut(&id).and_then(|slot| {
                slot.waker.queued.store(false, Ordering::SeqCst);
                slot.future.take().map(|f| (f, slot.waker.clone()))
            })
        };
        let Some((mut future, waker)) = taken else {
            return; // killed or aborted after it was woken
        };
        let waker = Waker::from(waker);
        let mut cx = std::task::Context::from_waker(&waker);
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)));
        match outcome {
            Ok(Poll::Pending) => {
                let mut state = lock(&self.state);
                if let Some(slot) = state.tasks.get_mut(&id) {
                    slot.future = Some(future);
                    return;
                }
                // The task was aborted or its node killed while it ran.
                drop(state);
                drop(future);
            }
            Ok(Poll::Ready(())) => {
                let removed = lock(&self.state).tasks.remove(&id);
                drop(removed);
                drop(future);
            }
            Err(payload) => {
                let slot = lock(&self.state).tasks.remove(&id);
                let node = slot.as_ref().map_or(NodeId(u32::MAX), |slot| slot.node);
                drop(slot);
                host.report_panic(node, &*payload);
                drop(future);
            }
        }
    }

    /// Drops every remaining task; used at the end of a run so that tasks
    /// (which hold references back to the context) do not leak.
    pub(crate) fn shut_down(&self) {
        self.closed.store(true, Ordering::SeqCst);
        loop {
            let tasks = std::mem::take(&mut lock(&self.state).tasks);
            if tasks.is_empty() {
                break;
            }
            for (_, slot) in tasks {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| drop(slot)));
            }
        }
        lock(&self.state).timers.clear();
        lock(&self.ready.ids).clear();
    }
}
