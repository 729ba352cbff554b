//! The coordinator: a pure, clock-free state machine.
//!
//! It never reads a clock, sleeps, or touches a socket: every call that needs
//! the time is *given* `now` (time since any fixed origin). That is what lets
//! the real server (wall clock, threads) and the simulated one (virtual clock)
//! share it, and what lets the unit tests below step time by hand.
//!
//! Rules, from the Go lab: every map task must finish before any reduce task
//! is handed out (a reduce reads every map's output); a task that has not been
//! reported done [`TASK_TIMEOUT`] after it was handed out is presumed lost and
//! handed to the next worker that asks; the first report of a task wins and
//! later ones are ignored, which is safe because every attempt writes the
//! same files with atomic renames.

use std::time::Duration;

use crate::protocol::{Assignment, TaskId};

/// A task not reported done within this long is given to another worker.
pub const TASK_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a coordinator process checks [`Coordinator::done`].
pub const DONE_POLL: Duration = Duration::from_millis(100);

/// How long a coordinator process keeps answering once the job is done, so
/// that idle workers (polling every [`crate::worker::WAIT_POLL`]) are told to
/// exit instead of finding the coordinator gone. Go's coordinator sleeps 1 s.
pub const LINGER: Duration = Duration::from_secs(1);

// BEGIN SOLUTION
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Idle,
    /// Handed out; presumed lost once `now >= deadline`.
    Running {
        deadline: Duration,
    },
    Done,
}
// END SOLUTION

/// Which stage the job is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Map,
    Reduce,
    Done,
}

/// The job's bookkeeping: one slot per map task (input file) and per reduce task.
#[derive(Clone, Debug)]
pub struct Coordinator {
    // BEGIN SOLUTION
    files: Vec<String>,
    n_reduce: usize,
    timeout: Duration,
    maps: Vec<Slot>,
    reduces: Vec<Slot>,
    /// How many times a task was handed out again after a timeout.
    reissued: u64,
    // HANDOUT
    // // Lab 1: the job's state: which tasks are idle, running (since when), done
    // END SOLUTION
}

impl Coordinator {
    /// A job with one map task per file and `n_reduce` reduce tasks.
    pub fn new(files: Vec<String>, n_reduce: usize) -> Coordinator {
        // BEGIN SOLUTION
        assert!(n_reduce > 0, "a job needs at least one reduce task");
        Coordinator {
            maps: vec![Slot::Idle; files.len()],
            reduces: vec![Slot::Idle; n_reduce],
            files,
            n_reduce,
            timeout: TASK_TIMEOUT,
            reissued: 0,
        }
        // HANDOUT
        // todo!("Lab 1: Coordinator::new")
        // END SOLUTION
    }

    /// Overrides [`TASK_TIMEOUT`] (`mrcoordinator --task-timeout`; the quick
    /// crash test and the state machine's unit tests use short ones).
    pub fn with_timeout(mut self, timeout: Duration) -> Coordinator {
        assert!(
            !timeout.is_zero(),
            "a zero task timeout reissues every task at once"
        );
        // BEGIN SOLUTION
        self.timeout = timeout;
        self
        // HANDOUT
        // todo!("Lab 1: Coordinator::with_timeout")
        // END SOLUTION
    }

    pub fn phase(&self) -> Phase {
        // BEGIN SOLUTION
        if !all_done(&self.maps) {
            Phase::Map
        } else if !all_done(&self.reduces) {
            Phase::Reduce
        } else {
            Phase::Done
        }
        // HANDOUT
        // todo!("Lab 1: Coordinator::phase")
        // END SOLUTION
    }

    /// True once every reduce task has been reported done.
    pub fn done(&self) -> bool {
        // BEGIN SOLUTION
        self.phase() == Phase::Done
        // HANDOUT
        // todo!("Lab 1: Coordinator::done")
        // END SOLUTION
    }

    /// How many tasks were handed out again because they timed out.
    pub fn reissued(&self) -> u64 {
        // BEGIN SOLUTION
        self.reissued
        // HANDOUT
        // todo!("Lab 1: Coordinator::reissued, tasks handed out again after a timeout")
        // END SOLUTION
    }

    /// The next task for a worker that asks at time `now`.
    pub fn request_task(&mut self, now: Duration) -> Assignment {
        // BEGIN SOLUTION
        match self.phase() {
            Phase::Map => match self.claim(TaskId::Map(0), now) {
                Some(task) => Assignment::Map {
                    task,
                    file: self.files[task].clone(),
                    n_reduce: self.n_reduce,
                },
                None => Assignment::Wait,
            },
            Phase::Reduce => match self.claim(TaskId::Reduce(0), now) {
                Some(task) => Assignment::Reduce {
                    task,
                    n_map: self.files.len(),
                },
                None => Assignment::Wait,
            },
            Phase::Done => Assignment::Exit,
        }
        // HANDOUT
        // todo!("Lab 1: Coordinator::request_task, the next task for a worker")
        // END SOLUTION
    }

    /// Records that `task` finished. Returns false when the report is stale
    /// (the task was already done) or names no task of this job.
    pub fn report_done(&mut self, task: TaskId, _now: Duration) -> bool {
        // BEGIN SOLUTION
        let slot = match task {
            TaskId::Map(i) => self.maps.get_mut(i),
            TaskId::Reduce(i) => self.reduces.get_mut(i),
        };
        match slot {
            Some(slot) if *slot != Slot::Done => {
                // A report from a worker whose task had timed out and been
                // reissued is still good: its files are complete.
                *slot = Slot::Done;
                true
            }
            _ => false,
        }
        // HANDOUT
        // todo!("Lab 1: Coordinator::report_done")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Claims an idle or timed-out slot of the kind of `kind`; returns its index.
    fn claim(&mut self, kind: TaskId, now: Duration) -> Option<usize> {
        let deadline = now + self.timeout;
        let slots = match kind {
            TaskId::Map(_) => &mut self.maps,
            TaskId::Reduce(_) => &mut self.reduces,
        };
        // Fresh tasks first, then ones presumed lost.
        let index = slots.iter().position(|s| *s == Slot::Idle).or_else(|| {
            slots
                .iter()
                .position(|s| matches!(s, Slot::Running { deadline } if *deadline <= now))
        })?;
        if slots[index] != Slot::Idle {
            self.reissued += 1;
        }
        slots[index] = Slot::Running { deadline };
        Some(index)
    }
    // END SOLUTION
}

// BEGIN SOLUTION
fn all_done(slots: &[Slot]) -> bool {
    slots.iter().all(|s| *s == Slot::Done)
}
// END SOLUTION

// BEGIN SOLUTION
#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn coordinator(files: usize, n_reduce: usize) -> Coordinator {
        Coordinator::new((0..files).map(|i| format!("f{i}")).collect(), n_reduce)
    }

    #[test]
    fn maps_then_reduces_then_exit() {
        let mut c = coordinator(2, 2);
        let a0 = c.request_task(secs(0));
        let a1 = c.request_task(secs(0));
        assert!(matches!(a0, Assignment::Map { task: 0, ref file, n_reduce: 2 } if file == "f0"));
        assert!(matches!(a1, Assignment::Map { task: 1, .. }));
        // No reduce before every map is done.
        assert_eq!(c.request_task(secs(1)), Assignment::Wait);
        assert!(c.report_done(TaskId::Map(0), secs(1)));
        assert_eq!(c.request_task(secs(1)), Assignment::Wait);
        assert!(c.report_done(TaskId::Map(1), secs(2)));
        assert_eq!(c.phase(), Phase::Reduce);
        assert_eq!(
            c.request_task(secs(2)),
            Assignment::Reduce { task: 0, n_map: 2 }
        );
        assert_eq!(
            c.request_task(secs(2)),
            Assignment::Reduce { task: 1, n_map: 2 }
        );
        assert!(c.report_done(TaskId::Reduce(1), secs(3)));
        assert!(!c.done());
        assert!(c.report_done(TaskId::Reduce(0), secs(3)));
        assert!(c.done());
        assert_eq!(c.request_task(secs(3)), Assignment::Exit);
        assert_eq!(c.reissued(), 0);
    }

    #[test]
    fn reissues_a_task_after_the_timeout_only() {
        let mut c = coordinator(1, 1);
        assert!(matches!(
            c.request_task(secs(0)),
            Assignment::Map { task: 0, .. }
        ));
        // Just before the timeout the task still belongs to its worker.
        let almost = TASK_TIMEOUT - Duration::from_millis(1);
        assert_eq!(c.request_task(almost), Assignment::Wait);
        assert!(matches!(
            c.request_task(TASK_TIMEOUT),
            Assignment::Map { task: 0, .. }
        ));
        assert_eq!(c.reissued(), 1);
        // The new holder gets a fresh 10 s.
        assert_eq!(c.request_task(TASK_TIMEOUT + secs(9)), Assignment::Wait);
    }

    #[test]
    fn first_report_wins_and_stale_reports_are_ignored() {
        let mut c = coordinator(1, 1).with_timeout(secs(1));
        c.request_task(secs(0));
        c.request_task(secs(5)); // reissued to a second worker
        assert!(c.report_done(TaskId::Map(0), secs(6))); // the slow first worker
        assert!(!c.report_done(TaskId::Map(0), secs(7))); // the second one
        assert!(!c.report_done(TaskId::Map(3), secs(7))); // no such task
        assert!(!c.report_done(TaskId::Reduce(9), secs(7)));
        assert_eq!(c.phase(), Phase::Reduce);
    }

    #[test]
    fn a_report_without_a_request_still_counts() {
        // A worker of a previous coordinator incarnation is not a concern in
        // this lab, but the state machine must not panic on it.
        let mut c = coordinator(1, 1);
        assert!(c.report_done(TaskId::Map(0), secs(0)));
        assert_eq!(c.phase(), Phase::Reduce);
    }

    #[test]
    fn an_empty_job_goes_straight_to_reduce() {
        let mut c = coordinator(0, 3);
        assert_eq!(
            c.request_task(secs(0)),
            Assignment::Reduce { task: 0, n_map: 0 }
        );
    }
}
// END SOLUTION
