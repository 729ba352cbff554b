//! The public checks: partition the history, search every partition, combine the verdicts.
//!
//! Partitions are searched concurrently, as Porcupine does with one goroutine each, because the
//! first illegal partition decides the answer: on `c50-bad` some partitions are proven illegal in
//! milliseconds while others would search for minutes, so a sequential checker can hang where a
//! concurrent one answers at once. Rather than one OS thread per partition (a kv test may have
//! hundreds of keys), a few scoped threads time-share resumable searches round-robin in short
//! slices. A shared flag stops every search as soon as one is illegal or the deadline passes, so the
//! timeout bounds wall time to within about one slice (plus one model step).
//!
//! Verdicts combine as in Porcupine: any illegal partition makes the history `Illegal` (even if
//! others timed out); otherwise a timeout makes it `Unknown`; otherwise it is `Ok`.
//!
//! One deliberate difference: Porcupine's verbose mode lets every partition finish after one is
//! found illegal; here verbose mode stops them too (their report says `Unknown` and shows how far
//! they got), so a verbose check without timeout cannot hang on a history like `c50-bad`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::history::{HistoryError, operations_from_events};
use crate::model::{CheckResult, Event, Model, Operation};
use crate::search::{Control, Progress, Search, SearchReport, wall_clock};

/// How long one partition's search runs before yielding its thread to the next partition.
const SLICE: Duration = Duration::from_millis(2);

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
    check(model, history, timeout, false).0
}

/// Like [`check_operations`], and also returns what the search found (the linearization, or the
/// longest partial ones), which [`crate::render_html`] draws.
pub fn check_operations_verbose<M: Model>(
    model: &M,
    history: Vec<Operation<M::Input, M::Output>>,
    timeout: Option<Duration>,
) -> (CheckResult, LinearizationInfo<M::Input, M::Output>) {
    let (result, partitions) = check(model, &history, timeout, true);
    let info = LinearizationInfo {
        history,
        partitions,
    };
    (result, info)
}

/// Checks an event history (see [`crate::operations_from_events`] for what makes one well formed).
pub fn check_events<M>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Result<CheckResult, HistoryError>
where
    M: Model,
    M::Input: Clone,
    M::Output: Clone,
{
    let history = operations_from_events(events)?;
    Ok(check_operations(model, &history, timeout))
}

/// Verbose form of [`check_events`]; the info's history holds the events as operations.
#[allow(clippy::type_complexity)]
pub fn check_events_verbose<M>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Result<(CheckResult, LinearizationInfo<M::Input, M::Output>), HistoryError>
where
    M: Model,
    M::Input: Clone,
    M::Output: Clone,
{
    let history = operations_from_events(events)?;
    Ok(check_operations_verbose(model, history, timeout))
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
    /// `Ok`, `Illegal`, or `Unknown` if its search was stopped (timeout, or another partition was
    /// illegal first).
    pub result: CheckResult,
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
}

/// Searches every non-empty partition; returns the combined verdict and one report per partition.
fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
    verbose: bool,
) -> (CheckResult, Vec<PartitionInfo>) {
    validate_intervals(history);
    let partitions = partitions_of(model, history);
    let control = Control {
        stop: AtomicBool::new(false),
        timed_out: AtomicBool::new(false),
        deadline: timeout.map(|t| wall_clock() + t),
        slice: SLICE,
    };
    let searches = partitions.iter().map(|part| {
        let ops = part.iter().map(|&i| &history[i]).collect();
        Search::new(model, ops, verbose)
    });
    let pool = Pool {
        queue: Mutex::new(searches.enumerate().collect()),
        finished: Mutex::new(BTreeMap::new()),
        control,
    };
    pool.run_all(partitions.len());
    let (finished, unfinished) = pool.into_outcomes();
    let any_illegal = finished.values().any(|(p, _)| *p == Progress::Illegal);
    let result = if any_illegal {
        CheckResult::Illegal
    } else if !unfinished.is_empty() {
        CheckResult::Unknown
    } else {
        CheckResult::Ok
    };
    let infos = partition_infos(&partitions, finished, unfinished);
    (result, infos)
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
}

impl<'a, M: Model> Pool<'a, M> {
    /// Runs the searches on up to one thread per core (the calling thread is one of them).
    fn run_all(&self, searches: usize) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(searches);
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| self.work());
            }
            self.work();
        });
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
                Progress::Illegal | Progress::Linearizable => {
                    if progress == Progress::Illegal {
                        self.control.stop.store(true, Ordering::Relaxed);
                    }
                    lock(&self.finished).insert(index, (progress, search));
                }
            }
        }
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
            _ => CheckResult::Illegal,
        };
        (i, result, search.into_report(result == CheckResult::Ok))
    });
    let stopped = unfinished
        .into_iter()
        .map(|(i, search)| (i, CheckResult::Unknown, search.into_report(false)));
    let mut infos: Vec<(usize, PartitionInfo)> = done
        .chain(stopped)
        .map(|(i, result, report)| (i, partition_info(&partitions[i], result, report)))
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
        partial_linearizations,
        largest,
    }
}
