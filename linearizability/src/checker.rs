//! The public checks: partition the history, search every partition, combine the verdicts.
//!
//! Partitions are searched concurrently, as Porcupine does with one goroutine each, because the
//! first illegal partition decides the answer: on `c50-bad` some partitions are proven illegal in
//! milliseconds while others would search for minutes, so a sequential checker can hang where a
//! concurrent one answers at once. Rather than one OS thread per partition (a kv test may have
//! hundreds of keys), a few scoped threads time-share resumable searches round-robin in short
//! slices. A shared flag, read after every search step, stops every search as soon as one is
//! illegal or a timer thread sees the deadline pass, so the timeout bounds wall time to within one
//! model step (plus thread wake-up latency).
//!
//! Verdicts combine as in Porcupine: any illegal partition makes the history `Illegal` (even if
//! others timed out); otherwise a timeout makes it `Unknown`; otherwise it is `Ok`.
//!
//! Two limits can bound a check ([`Limits`]): a wall-clock timeout, as in Porcupine, and a budget
//! of search steps per partition. The timeout depends on the machine and its load, so the same
//! history may be decided on one run and `Unknown` on another; fine for a tool, wrong for a test
//! that must replay from its seed. The step budget is deterministic: each partition's search is a
//! function of its operations alone, so whether it finishes within its budget is too, and so is
//! the verdict (a partition found illegal within its budget makes the verdict `Illegal` however
//! the threads were scheduled; without one, every partition runs to its verdict or its budget).
//! With a step budget and no timeout, a check's verdict and, for `Ok` and `Unknown`, every
//! partition's step count are the same on every run.
//!
//! One deliberate difference: Porcupine's verbose mode lets every partition finish after one is
//! found illegal, so that its report is complete; but then a verbose check without timeout hangs on
//! a history like `c50-bad`. Here a verbose check runs in rounds: in the first, every partition
//! searches for at most [`VERBOSE_FIRST_ROUND_STEPS`] steps; each further round doubles that
//! budget for the partitions still undecided. The check ends after the first round that found a
//! partition illegal (or when none is left undecided): the others report `Unknown` and show how
//! far they got. How far that is, like everything else in the report, is a function of the
//! history alone (a step budget, not wall time), so the same history draws the same picture on
//! every run.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::history::{HistoryError, operations_from_events};
use crate::model::{CheckResult, Event, Model, Operation};
use crate::search::{Control, Progress, Search, SearchReport, wall_clock};

/// How long one partition's search runs before yielding its thread to the next partition.
const SLICE: Duration = Duration::from_millis(2);

/// Verbose mode: the step budget of every partition in the first round (see the module
/// documentation); each further round doubles it. When one partition is illegal, the others go on
/// to at most this many steps (about a tenth of a second of CPU each, with the kv model).
pub const VERBOSE_FIRST_ROUND_STEPS: u64 = 100_000;

/// What bounds a check (see the module documentation). The default is no limit at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Stop every search after this much wall time: the verdict is then `Unknown` unless a
    /// partition was already found illegal. Depends on the machine's speed and load.
    pub timeout: Option<Duration>,
    /// Stop a partition's search after this many steps (one linearization attempt or one
    /// backtrack each); that partition is then `Unknown`. Deterministic.
    pub max_steps_per_partition: Option<u64>,
}

impl Limits {
    /// A wall-clock budget only (Porcupine's timeout).
    pub fn timeout(timeout: Duration) -> Limits {
        Limits {
            timeout: Some(timeout),
            max_steps_per_partition: None,
        }
    }

    /// A deterministic budget only: at most `steps` search steps per partition.
    pub fn steps_per_partition(steps: u64) -> Limits {
        Limits {
            timeout: None,
            max_steps_per_partition: Some(steps),
        }
    }
}

impl From<Option<Duration>> for Limits {
    /// A wall-clock budget if `timeout` is `Some` (else no limit at all), and no step budget:
    /// what the functions that take a timeout check with.
    fn from(timeout: Option<Duration>) -> Limits {
        Limits {
            timeout,
            max_steps_per_partition: None,
        }
    }
}

/// Checks a history of operations. `timeout: None` means no limit.
///
/// # Panics
/// If an operation returns before it is called, or if the model's `partition` does not return every
/// index exactly once: both are bugs in the caller, not properties of the history.
pub fn check_operations<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    check(model, history, timeout.into(), false).0
}

/// Like [`check_operations_verbose`], bounded by `limits` (a timeout, a step budget, or both).
pub fn check_operations_verbose_limited<M: Model>(
    model: &M,
    history: Vec<Operation<M::Input, M::Output>>,
    limits: Limits,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>) {
    let (result, partitions) = check(model, &history, limits, true);
    let info = LinearizationInfo {
        history,
        partitions,
    };
    (result, info)
}

/// Like [`check_operations`], and also returns what the search found (the linearization, or the
/// longest partial ones), which [`crate::render_html`] draws.
pub fn check_operations_verbose<M: Model>(
    model: &M,
    history: Vec<Operation<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>) {
    check_operations_verbose_limited(model, history, timeout.into())
}

/// Checks an event history (see [`crate::operations_from_events`] for what makes one well formed).
pub fn check_events<M: Model<Input: Clone, Output: Clone>>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Result<CheckResult, HistoryError> {
    check_events_limited(model, events, timeout.into())
}

/// Like [`check_events`], bounded by `limits`.
pub fn check_events_limited<M: Model<Input: Clone, Output: Clone>>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    limits: Limits,
) -> Result<CheckResult, HistoryError> {
    let history = operations_from_events(events)?;
    Ok(check(model, &history, limits, false).0)
}

/// Verbose form of [`check_events`]; the info's history holds the events as operations.
#[allow(clippy::type_complexity)]
pub fn check_events_verbose<M: Model<Input: Clone, Output: Clone>>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Result<(CheckResult, LinearizationInfo<M::Input, M::Output>), HistoryError> {
    check_events_verbose_limited(model, events, timeout.into())
}

/// Like [`check_events_verbose`], bounded by `limits`.
#[allow(clippy::type_complexity)]
pub fn check_events_verbose_limited<M: Model<Input: Clone, Output: Clone>>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    limits: Limits,
) -> Result<(CheckResult, LinearizationInfo<M::Input, M::Output>), HistoryError> {
    let history = operations_from_events(events)?;
    Ok(check_operations_verbose_limited(model, history, limits))
}

/// What a verbose check found, partition by partition.
#[derive(Clone, Debug)]
pub struct LinearizationInfo<I, O> {
    /// The checked history; all indices below point into it.
    pub history: Vec<Operation<I, O>>,
    pub partitions: Vec<PartitionInfo>,
}

/// The outcome of one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition's operations (indices into the history), in history order.
    pub ops: Vec<usize>,
    /// `Ok`, `Illegal`, or `Unknown` if its search was stopped (timeout, step budget, or another
    /// partition was illegal first).
    pub result: CheckResult,
    /// The search steps it took (see [`Limits::max_steps_per_partition`]). For an `Ok`, `Illegal`
    /// or out-of-budget partition this is a function of its operations alone; for a search
    /// stopped by the timeout or by another partition, how far it got.
    pub steps: u64,
    /// True if its search used its whole step budget (its result is then `Unknown`).
    pub out_of_steps: bool,
    /// Partial linearizations (sequences of history indices), longest first. For an `Ok` partition
    /// the first one is a full linearization.
    pub partial_linearizations: Vec<Vec<usize>>,
    /// For each operation that appears in some partial linearization, the index (into
    /// `partial_linearizations`) of the longest one containing it.
    pub largest: BTreeMap<usize, usize>,
}

impl<I, O> LinearizationInfo<I, O> {
    /// Porcupine's `PartialLinearizations()`: per partition, its partial linearizations.
    pub fn partial_linearizations(&self) -> Vec<Vec<Vec<usize>>> {
        self.partitions
            .iter()
            .map(|p| p.partial_linearizations.clone())
            .collect()
    }

    /// The search steps of every partition together.
    pub fn steps(&self) -> u64 {
        self.partitions.iter().map(|p| p.steps).sum()
    }

    /// The most steps any one partition took: what a step budget per partition is measured
    /// against.
    pub fn max_partition_steps(&self) -> u64 {
        self.partitions.iter().map(|p| p.steps).max().unwrap_or(0)
    }

    /// The partitions whose search used its whole step budget.
    pub fn out_of_steps(&self) -> usize {
        self.partitions.iter().filter(|p| p.out_of_steps).count()
    }
}

/// Searches every non-empty partition; returns the combined verdict and one report per partition.
fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    limits: Limits,
    verbose: bool,
) -> (CheckResult, Vec<PartitionInfo>) {
    validate_intervals(history);
    let partitions = partitions_of(model, history);
    let deadline = limits.timeout.map(|t| wall_clock() + t);
    let control = Control {
        stop: AtomicBool::new(false),
        slice: SLICE,
        max_steps: limits.max_steps_per_partition,
    };
    let searches = partitions.iter().map(|part| {
        let ops = part.iter().map(|&i| &history[i]).collect();
        Search::new(model, ops, verbose)
    });
    let mut pool = Pool {
        queue: Mutex::new(searches.enumerate().collect()),
        finished: Mutex::new(BTreeMap::new()),
        control,
        all_done: AtomicBool::new(false),
        verbose,
    };
    // Non-verbose: one round, ended by the first illegal partition. Verbose: rounds of doubling
    // step budgets, each run to its end by every undecided partition.
    let mut round_steps = verbose.then_some(VERBOSE_FIRST_ROUND_STEPS);
    loop {
        pool.control.max_steps = match (limits.max_steps_per_partition, round_steps) {
            (Some(max), Some(round)) => Some(max.min(round)),
            (max, round) => max.or(round),
        };
        pool.run_all(partitions.len(), deadline);
        let Some(steps) = round_steps else { break };
        let undecided = pool.requeue_out_of_round(limits.max_steps_per_partition);
        if undecided == 0 || pool.stopped() || pool.found_illegal() {
            break;
        }
        round_steps = Some(steps.saturating_mul(2));
    }
    let (finished, unfinished) = pool.into_outcomes();
    let result = verdict(&finished, unfinished.len());
    let infos = partition_infos(&partitions, finished, unfinished);
    (result, infos)
}

/// Illegal if any partition is; else Unknown if some search was stopped (which, without an illegal
/// partition, only the deadline does) or used its step budget; else Ok.
fn verdict<M: Model>(finished: &Finished<'_, M>, unfinished: usize) -> CheckResult {
    if finished.values().any(|(p, _)| *p == Progress::Illegal) {
        CheckResult::Illegal
    } else if unfinished > 0 || finished.values().any(|(p, _)| *p == Progress::Exhausted) {
        CheckResult::Unknown
    } else {
        CheckResult::Ok
    }
}

fn validate_intervals<I, O>(history: &[Operation<I, O>]) {
    for (i, op) in history.iter().enumerate() {
        assert!(
            op.call <= op.return_time,
            "operation {i} returns at {} before its call at {}",
            op.return_time,
            op.call
        );
    }
}

/// The model's partitions, without empty ones, after checking they cover the history exactly.
fn partitions_of<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> Vec<Vec<usize>> {
    let partitions = model.partition(history);
    let mut seen = vec![false; history.len()];
    for &i in partitions.iter().flatten() {
        assert!(
            i < history.len() && !seen[i],
            "Model::partition returned index {i} twice or out of range"
        );
        seen[i] = true;
    }
    assert!(
        seen.iter().all(|&s| s),
        "Model::partition left an operation out"
    );
    partitions.into_iter().filter(|p| !p.is_empty()).collect()
}

type Finished<'a, M> = BTreeMap<usize, (Progress, Search<'a, M>)>;

/// Searches waiting for a thread, and the ones that are done.
struct Pool<'a, M: Model> {
    queue: Mutex<VecDeque<(usize, Search<'a, M>)>>,
    finished: Mutex<Finished<'a, M>>,
    control: Control,
    /// Set when the workers of a round have all returned, to release the timer thread.
    all_done: AtomicBool,
    /// Verbose mode: an illegal partition does not stop the others (the round ends first).
    verbose: bool,
}

impl<'a, M: Model> Pool<'a, M> {
    /// Runs one round of the searches on up to one thread per core (the calling thread is one of
    /// them), plus a timer thread if there is a deadline to enforce.
    #[allow(clippy::disallowed_methods)] // allowed: the checker runs after a simulation, never inside one
    fn run_all(&self, searches: usize, deadline: Option<Instant>) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(searches);
        self.all_done.store(false, Ordering::Release);
        std::thread::scope(|scope| {
            let timer = deadline.map(|d| scope.spawn(move || self.watch(d)));
            // Wakes the timer when this closure ends, even by a panicking model step.
            let _release = Release {
                done: &self.all_done,
                timer: timer.as_ref().map(|t| t.thread().clone()),
            };
            let workers: Vec<_> = (1..threads).map(|_| scope.spawn(|| self.work())).collect();
            self.work();
            for worker in workers {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }

    /// The timer thread: until the workers are done, stops every search at the deadline.
    fn watch(&self, deadline: Instant) {
        while !self.all_done.load(Ordering::Acquire) {
            let now = wall_clock();
            if now >= deadline {
                self.control.stop.store(true, Ordering::Relaxed);
                return;
            }
            // Spurious wake-ups just go round the loop again.
            std::thread::park_timeout(deadline - now);
        }
    }

    /// One thread's loop: take the next search, give it a slice, requeue it or file its verdict.
    fn work(&self) {
        while !self.control.stop.load(Ordering::Relaxed) {
            let Some((index, mut search)) = lock(&self.queue).pop_front() else {
                return;
            };
            let progress = search.run(&self.control);
            match progress {
                Progress::Paused => lock(&self.queue).push_back((index, search)),
                Progress::Linearizable | Progress::Exhausted => {
                    lock(&self.finished).insert(index, (progress, search));
                }
                Progress::Illegal => {
                    lock(&self.finished).insert(index, (progress, search));
                    self.on_illegal();
                }
            }
        }
    }

    /// The verdict is now Illegal: stop everything, except in verbose mode, where the round goes
    /// on so that the report shows the other partitions as far as the round's budget.
    fn on_illegal(&self) {
        if !self.verbose {
            self.control.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the deadline (or, non-verbose, an illegal partition) stopped the searches.
    fn stopped(&self) -> bool {
        self.control.stop.load(Ordering::Relaxed)
    }

    fn found_illegal(&self) -> bool {
        lock(&self.finished)
            .values()
            .any(|(progress, _)| *progress == Progress::Illegal)
    }

    /// After a verbose round: puts the searches that used the round's budget, but not the check's
    /// own (`max_steps`), back in the queue; returns how many are queued.
    fn requeue_out_of_round(&self, max_steps: Option<u64>) -> usize {
        let mut finished = lock(&self.finished);
        let mut queue = lock(&self.queue);
        let out_of_round: Vec<usize> = finished
            .iter()
            .filter(|(_, (progress, search))| {
                *progress == Progress::Exhausted && max_steps.is_none_or(|max| search.steps() < max)
            })
            .map(|(&index, _)| index)
            .collect();
        for index in out_of_round {
            if let Some((_, search)) = finished.remove(&index) {
                queue.push_back((index, search));
            }
        }
        queue.len()
    }

    fn into_outcomes(self) -> (Finished<'a, M>, Vec<(usize, Search<'a, M>)>) {
        let finished = self
            .finished
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let unfinished = self
            .queue
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        (finished, unfinished.into())
    }
}

/// Marks the workers done and wakes the timer thread when dropped.
struct Release<'s> {
    done: &'s AtomicBool,
    timer: Option<std::thread::Thread>,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(timer) = &self.timer {
            timer.unpark();
        }
    }
}

/// Locks a mutex, ignoring poisoning: a panic in a model step propagates out of the thread scope
/// anyway, and the data is only read afterwards.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds each partition's report, translating partition-local operation numbers to history
/// indices.
fn partition_infos<M: Model>(
    partitions: &[Vec<usize>],
    finished: Finished<'_, M>,
    unfinished: Vec<(usize, Search<'_, M>)>,
) -> Vec<PartitionInfo> {
    let done = finished.into_iter().map(|(i, (progress, search))| {
        let result = match progress {
            Progress::Linearizable => CheckResult::Ok,
            Progress::Exhausted | Progress::Paused => CheckResult::Unknown,
            Progress::Illegal => CheckResult::Illegal,
        };
        let out_of_steps = progress == Progress::Exhausted;
        (
            i,
            result,
            out_of_steps,
            search.steps(),
            search.into_report(),
        )
    });
    let stopped = unfinished.into_iter().map(|(i, search)| {
        let steps = search.steps();
        (i, CheckResult::Unknown, false, steps, search.into_report())
    });
    let mut infos: Vec<(usize, PartitionInfo)> = done
        .chain(stopped)
        .map(|(i, result, out_of_steps, steps, report)| {
            let mut info = partition_info(&partitions[i], result, report);
            info.steps = steps;
            info.out_of_steps = out_of_steps;
            (i, info)
        })
        .collect();
    infos.sort_by_key(|(i, _)| *i);
    infos.into_iter().map(|(_, info)| info).collect()
}

fn partition_info(ops: &[usize], result: CheckResult, report: SearchReport) -> PartitionInfo {
    let global = |seq: &Vec<usize>| seq.iter().map(|&local| ops[local]).collect::<Vec<_>>();
    // Longest first; `order[k]` is the new position of old sequence k.
    let mut by_length: Vec<usize> = (0..report.partials.len()).collect();
    by_length.sort_by_key(|&k| std::cmp::Reverse(report.partials[k].len()));
    let mut order = vec![0; by_length.len()];
    for (new, &old) in by_length.iter().enumerate() {
        order[old] = new;
    }
    let partial_linearizations = by_length
        .iter()
        .map(|&k| global(&report.partials[k]))
        .collect();
    let largest = report
        .largest
        .iter()
        .enumerate()
        .filter_map(|(local, best)| best.map(|k| (ops[local], order[k])))
        .collect();
    PartitionInfo {
        ops: ops.to_vec(),
        result,
        steps: 0,
        out_of_steps: false,
        partial_linearizations,
        largest,
    }
}
