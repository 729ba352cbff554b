//! test-mr.sh's seven tests, on the real binaries.
//!
//! Same processes, pass conditions and time limits as the Go script (45 s per
//! process, 120 s in the crash test); each test has its own directory and
//! socket, so they run in parallel. Outputs are compared with `mrsequential`'s
//! the way the script does (`sort mr-out* | grep .`). With `--nocapture`
//! every test prints `TIMING <name> <seconds>` to stderr (see
//! scripts/measure.sh).
//!
//! The default suite runs the tests that sleep on a quick clock; the same
//! tests on Go's clock are ignored there and run by CI (`-- --ignored`, all at
//! once: about as long as `crash_go_clock`, 20–60 s). See [`QUICK`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libtest_mimic::Trial;

use crate::common::{CRASH_LIMIT, PROCESS_LIMIT, Proc, QUICK_LINGER, Sandbox};
use crate::test;

/// The clock of a test: [`GO`] or [`QUICK`].
#[derive(Clone, Copy, Debug)]
struct Clock {
    /// Every duration of the scenario is divided by this: the apps' sleeps
    /// (`mrworker --app-speedup`), the crash test's task timeout
    /// (`mrcoordinator --task-timeout`) and its 1 s between worker restarts.
    speedup: u32,
    /// Whether the coordinator lingers [`QUICK_LINGER`] after the job
    /// instead of Go's 1 s.
    quick_linger: bool,
}

/// Go's clock: jobcount's maps take 2–5 s, mtiming's and rtiming's hold 1 s,
/// early_exit's reduces 3 s, and the crash test has a 10 s task timeout,
/// stalls of up to 10 s and 1 s between restarts.
const GO: Clock = Clock {
    speedup: 1,
    quick_linger: false,
};

/// The default suite's clock for the tests that sleep, ten times faster
/// than [`GO`]: the same processes, checks and limits, and every ratio
/// between the scenario's durations is Go's. Each test then takes about a
/// second of work plus the coordinator's linger, [`QUICK_LINGER`] (the
/// workers' 200 ms polls are not scaled: they are the code under test, not
/// the scenario). Ten times, not more: mtiming's and rtiming's holds (100 ms)
/// must stay long enough for two workers to overlap even when one of them
/// starts late or polls slowly.
///
/// What only Go's durations show (a coordinator that hands out a jobcount
/// map again after less than 2 s) is checked on them in virtual time by
/// `sim_mr` (`job_count_sim` and its seed sweep) and here by the ignored
/// `*_go_clock` tests.
const QUICK: Clock = Clock {
    speedup: 10,
    quick_linger: true,
};

/// The crash test's clock in the default suite, fifty times faster than
/// [`GO`]: a 200 ms task timeout, stalls of up to 200 ms and 20 ms between
/// worker restarts. The test waits out one task timeout for every crash
/// mid-task, often several in a row on its slowest task, so on the
/// [`QUICK`] clock it alone would take 3–8 s. It is no weaker: crashed
/// tasks are handed out again, and stalled workers still often finish after
/// their task was, so duplicate executions (which the atomic renames must
/// make harmless) happen as often as on Go's clock.
const QUICK_CRASH: Clock = Clock {
    speedup: 50,
    quick_linger: true,
};

impl Clock {
    /// `duration` on this clock.
    fn scaled(self, duration: Duration) -> Duration {
        duration / self.speedup
    }

    /// The workers' options for this clock.
    fn worker_options(self) -> Vec<String> {
        vec!["--app-speedup".to_string(), self.speedup.to_string()]
    }

    /// The coordinator's options for this clock: its linger.
    fn coordinator_options(self) -> Vec<String> {
        if self.quick_linger {
            vec!["--linger".to_string(), QUICK_LINGER.to_string()]
        } else {
            Vec::new()
        }
    }

    /// The coordinator's options for this clock in the crash test: also Go's
    /// 10 s task timeout, scaled.
    fn crash_coordinator_options(self) -> Vec<String> {
        let timeout = self.scaled(mapreduce::coordinator::TASK_TIMEOUT);
        let mut options = self.coordinator_options();
        options.extend([
            "--task-timeout".to_string(),
            format!("{}ms", timeout.as_millis()),
        ]);
        options
    }
}

/// A test that sleeps, `(name, body, quick clock)`: its body runs on its
/// quick clock in the default suite and, ignored, on Go's clock as
/// `<name>_go_clock`.
type Clocked = (&'static str, fn(Clock), Clock);

const CLOCKED: [Clocked; 5] = [
    ("map_parallelism", map_parallelism_on, QUICK),
    ("reduce_parallelism", reduce_parallelism_on, QUICK),
    ("job_count", job_count_on, QUICK),
    ("early_exit", early_exit_on, QUICK),
    ("crash", crash_on, QUICK_CRASH),
];

pub fn trials() -> Vec<Trial> {
    let mut trials = trials!(""; wc, indexer);
    for (name, body, quick) in CLOCKED {
        trials.push(test(name, move || body(quick)));
    }
    for (name, body, _) in CLOCKED {
        trials.push(test(format!("{name}_go_clock"), move || body(GO)).with_ignored_flag(true));
    }
    trials
}

/// Starts a coordinator and `workers` workers of `app`, waits for the
/// coordinator and then the workers, and returns the job's output.
fn run_job(sandbox: &Sandbox, app: &str, workers: usize, clock: Clock) -> Vec<String> {
    let mut coordinator = sandbox.coordinator_with(PROCESS_LIMIT, &clock.coordinator_options());
    let options = clock.worker_options();
    let mut children: Vec<Proc> = (0..workers)
        .map(|_| sandbox.worker_with(app, PROCESS_LIMIT, &options))
        .collect();
    let status = coordinator.wait();
    assert!(
        status.success(),
        "coordinator failed: {}",
        coordinator.log()
    );
    for child in &mut children {
        child.wait();
    }
    sandbox.output()
}

// The expected output is computed after the job (the same inputs, so the
// same lines), so that a job that fails at once fails the test at once.

fn wc() {
    let sandbox = Sandbox::new("wc");
    // wc and indexer do not sleep: the clock only sets the linger.
    let output = run_job(&sandbox, "wc", 3, QUICK);
    let expected = sandbox.sequential("wc");
    assert!(expected.len() > 1000, "a real corpus");
    assert!(output == expected, "wc output differs from mrsequential's");
    sandbox.report();
}

fn indexer() {
    let sandbox = Sandbox::new("indexer");
    let output = run_job(&sandbox, "indexer", 2, QUICK);
    let expected = sandbox.sequential("indexer");
    assert!(
        output == expected,
        "indexer output differs from mrsequential's"
    );
    sandbox.report();
}

fn map_parallelism_on(clock: Clock) {
    let sandbox = Sandbox::new("map-parallelism");
    let output = run_job(&sandbox, "mtiming", 2, clock);
    let times = output.iter().filter(|l| l.starts_with("times-")).count();
    assert_eq!(times, 2, "both workers ran maps: {output:?}");
    let parallel = output.iter().any(|l| {
        l.strip_prefix("parallel")
            .is_some_and(|rest| rest.contains(" 2"))
    });
    assert!(parallel, "maps ran in parallel: {output:?}");
    sandbox.report();
}

fn reduce_parallelism_on(clock: Clock) {
    let sandbox = Sandbox::new("reduce-parallelism");
    let output = run_job(&sandbox, "rtiming", 2, clock);
    // grep '^[a-z] 2'
    let parallel = output
        .iter()
        .filter(|l| {
            let b = l.as_bytes();
            b.len() >= 3 && b[0].is_ascii_lowercase() && &b[1..3] == b" 2"
        })
        .count();
    assert!(parallel >= 2, "reduces ran in parallel: {output:?}");
    sandbox.report();
}

fn job_count_on(clock: Clock) {
    let sandbox = Sandbox::new("job-count");
    let output = run_job(&sandbox, "jobcount", 4, clock);
    assert_eq!(output, ["a 8"], "each map task ran exactly once");
    sandbox.report();
}

fn early_exit_on(clock: Clock) {
    let sandbox = Sandbox::new("early-exit");
    let mut processes = vec![sandbox.coordinator_with(PROCESS_LIMIT, &clock.coordinator_options())];
    let options = clock.worker_options();
    processes.extend((0..3).map(|_| sandbox.worker_with("early_exit", PROCESS_LIMIT, &options)));
    // `wait -n`: the first process of the job to exit, whichever it is.
    while !processes.iter_mut().any(|p| p.try_wait().is_some()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let at_first_exit = sandbox.output();
    for p in &mut processes {
        p.wait();
    }
    let output = sandbox.output();
    assert!(
        !output.is_empty(),
        "the job wrote no output; its processes' logs:\n{}",
        sandbox.logs()
    );
    assert_eq!(
        at_first_exit, output,
        "a process exited before the output was final"
    );
    sandbox.report();
}

/// test-mr.sh's crash test on `clock`.
fn crash_on(clock: Clock) {
    let name = if clock.speedup == 1 {
        "crash-go-clock"
    } else {
        "crash"
    };
    let worker_options = Arc::new(clock.worker_options());
    let sandbox = Arc::new(Sandbox::new(name));
    let mut coordinator = sandbox.coordinator_with(CRASH_LIMIT, &clock.crash_coordinator_options());
    let first = sandbox.worker_with("crash", CRASH_LIMIT, &worker_options);
    let done = Arc::new(AtomicBool::new(false));
    let restart_pause = clock.scaled(Duration::from_secs(1));
    // Three loops: while the coordinator is up, run a crash worker, then pause (Go: 1 s).
    let loops: Vec<_> = (0..3)
        .map(|_| {
            let (sandbox, done) = (sandbox.clone(), done.clone());
            let worker_options = worker_options.clone();
            std::thread::spawn(move || {
                while !done.load(Ordering::SeqCst) && sandbox.socket.exists() {
                    sandbox
                        .worker_with("crash", CRASH_LIMIT, &worker_options)
                        .wait();
                    std::thread::sleep(restart_pause);
                }
            })
        })
        .collect();
    let status = coordinator.wait();
    done.store(true, Ordering::SeqCst);
    assert!(
        status.success(),
        "coordinator failed: {}",
        coordinator.log()
    );
    drop(first);
    for l in loops {
        l.join().expect("restart loop");
    }
    let expected = sandbox.sequential("nocrash");
    assert!(
        sandbox.output() == expected,
        "crash output differs from mrsequential nocrash"
    );
    sandbox.report();
}
