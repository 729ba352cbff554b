//! Running one simulated test: seeds, limits, failure reports, replay commands.
//!
//! `sim::run(async { .. })` is the whole interface a test needs. The seed is
//! random unless `LAB_SEED=<n>` fixes it, so repeated runs explore and any
//! failure can be replayed exactly. A run fails on a panic in any task, on a
//! stall (nothing can ever happen again), when virtual time passes the test's
//! limit (120 s, as in the Go labs), or when a task spins without letting
//! virtual time advance (caught in the loop, and by a wall-clock watchdog
//! thread for a task that never yields at all). Every failure names the seed
//! and prints the one command that replays it. Every run ends by printing
//! `seed <n> trace <digest>`.

#![allow(clippy::disallowed_methods)] // allowed: the runner lives outside the simulation (seeding, watchdog, the real-time engine)

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use super::base::TEST_NODE;
use super::context::{Context, Engine};
use super::executor::{Executor, Stop};
use super::realtime::RealCore;
use super::task::spawn_on;

/// The Go labs fail any test that runs longer than this.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Wall-clock seconds a simulation may go without virtual time advancing
/// before the watchdog declares that a task is spinning.
const DEFAULT_WATCHDOG: Duration = Duration::from_secs(60);

/// What a successful run reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The seed that replays the run.
    pub seed: u64,
    /// Digest of the run's trace (every network event with its virtual time).
    pub digest: u64,
    /// How many events went into the digest.
    pub events: u64,
    /// Virtual (or, in real-time mode, real) time the run took.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seed {} trace {:016x}", self.seed, self.digest)
    }
}

/// Why a run failed, with what it takes to replay it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The seed that replays the run.
    pub seed: u64,
    /// The panic message (or why the run stopped).
    pub message: String,
    /// Virtual time at which the run stopped.
    pub at: Duration,
    /// Digest of the trace up to the failure.
    pub digest: u64,
    /// A shell command that replays this run.
    pub replay: String,
    /// The HTML timeline of the run, when the test recorded one.
    pub timeline: Option<std::path::PathBuf>,
    /// The backtrace of the panic that failed the run, when `RUST_BACKTRACE`
    /// asked for one (the panic itself is not printed separately). Boxed to
    /// keep `Failure` small.
    pub backtrace: Option<Box<str>>,
}

impl Failure {
    /// Asserts that the failure's message mentions `text`, and shows the
    /// message if it does not: for tests of how runs fail.
    #[track_caller]
    pub fn assert_message_contains(&self, text: &str) {
        assert!(
            self.message.contains(text),
            "the failure's message does not mention {text:?}: {}",
            self.message
        );
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "simulation failed: {}", self.message)?;
        writeln!(f, "  seed:   {}", self.seed)?;
        writeln!(
            f,
            "  at:     {:.3} s of virtual time",
            self.at.as_secs_f64()
        )?;
        writeln!(f, "  trace:  {:016x}", self.digest)?;
        write!(f, "  replay: {}", self.replay)?;
        if let Some(path) = &self.timeline {
            write!(f, "\n  timeline: {}", path.display())?;
        }
        if let Some(backtrace) = &self.backtrace {
            write!(f, "\n  backtrace of the panic:\n{backtrace}")?;
        }
        Ok(())
    }
}

/// Configures one simulated run. `Builder::new()` reads `LAB_SEED` and
/// `LAB_REALTIME` from the environment; the setters override them.
#[derive(Clone, Debug)]
pub struct Builder {
    seed: u64,
    realtime: bool,
    time_limit: Duration,
    watchdog: Duration,
    test_name: Option<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// A run configured from the environment: `LAB_SEED` (else a random seed), `LAB_REALTIME`, the default time limit.
    pub fn new() -> Builder {
        let seed = env_u64("LAB_SEED").unwrap_or_else(fresh_seed);
        let realtime = std::env::var("LAB_REALTIME").is_ok_and(|v| !v.is_empty() && v != "0");
        let watchdog = env_secs("LAB_WATCHDOG_SECS").unwrap_or(DEFAULT_WATCHDOG);
        Builder {
            seed,
            realtime,
            time_limit: DEFAULT_TIME_LIMIT,
            watchdog,
            test_name: None,
        }
    }

    /// Runs with this seed.
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = seed;
        self
    }

    /// Runs on tokio's multi-threaded runtime in real time instead of simulating.
    pub fn realtime(mut self, realtime: bool) -> Builder {
        self.realtime = realtime;
        self
    }

    /// Fails the run if virtual time would pass `limit`.
    pub fn time_limit(mut self, limit: Duration) -> Builder {
        self.time_limit = limit;
        self
    }

    /// Names the test in the replay command (default: the libtest thread name).
    pub fn test_name(mut self, name: &str) -> Builder {
        self.test_name = Some(name.to_string());
        self
    }

    /// The seed the run will use.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// Runs the test; on failure prints the report and panics, which fails the
    /// calling `#[test]`. The report is the only place the failure is printed:
    /// the task's panic was kept quiet, and this panic is raised with
    /// `resume_unwind`, which fails the test without printing it again.
    pub fn run<F>(self, test: F) -> Report
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self.try_run(test) {
            Ok(report) => {
                println!("{report}");
                report
            }
            Err(failure) => {
                eprintln!("\n{failure}");
                if std::env::var("LAB_LOG").is_err() {
                    eprintln!("  log:    LAB_LOG=all {}", failure.replay);
                }
                eprintln!();
                std::panic::resume_unwind(Box::new(format!(
                    "simulation failed (seed {}): {}",
                    failure.seed, failure.message
                )));
            }
        }
    }

    /// Runs the test and returns how it ended.
    pub fn try_run<F>(self, test: F) -> Result<Report, Failure>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if self.realtime {
            self.run_real(test)
        } else {
            self.run_simulated(test)
        }
    }

    fn run_simulated<F>(&self, test: F) -> Result<Report, Failure>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let context = Context::new(self.seed, &self.file_name(), Engine::Sim(Executor::new()));
        let Engine::Sim(executor) = &context.engine else {
            unreachable!()
        };
        // Before the watchdog: a bad LAB_LOG panics here, with nothing to stop.
        let log = crate::log::install(&context);
        let heartbeat = Arc::new(AtomicU64::new(0));
        let watchdog = Watchdog::start(self, heartbeat.clone());
        let outcome = super::base::quiet_panics(|| {
            context.enter(TEST_NODE, || {
                let root = spawn_on(&context, TEST_NODE, test);
                let limit = self.time_limit.as_nanos() as u64;
                executor.run_until(&*context, limit, &heartbeat, || root.is_finished())
            })
        });
        watchdog.stop();
        let result = self.outcome(&context, outcome);
        if let Err(failure) = &result {
            log.record_failure(&context, failure);
        }
        context.enter(TEST_NODE, || executor.shut_down());
        result
    }

    fn run_real<F>(&self, test: F) -> Result<Report, Failure>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_time()
            .build()
            .expect("could not build the tokio runtime for LAB_REALTIME");
        let context = Context::new(
            self.seed,
            &self.file_name(),
            Engine::Real(RealCore::new(runtime.handle().clone())),
        );
        let Engine::Real(real) = &context.engine else {
            unreachable!()
        };
        let log = crate::log::install(&context);
        let limit = self.time_limit;
        let outcome = runtime.block_on(async {
            let root = context.enter(TEST_NODE, || spawn_on(&context, TEST_NODE, test));
            let failed = real.failed.notified();
            tokio::pin!(failed);
            failed.as_mut().enable();
            if context.failure().is_some() {
                return Err(Stop::Failed(context.failure().unwrap_or_default()));
            }
            let root = tokio::time::timeout(limit, root);
            tokio::pin!(root);
            std::future::poll_fn(|cx| {
                if failed.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(Stop::Failed(context.failure().unwrap_or_default())));
                }
                root.as_mut().poll(cx).map(|finished| match finished {
                    Ok(Ok(())) => Ok(()),
                    // The test's own node is never killed and its task never
                    // aborted: a cancelled body panicked, and the panic was
                    // recorded before the cancellation (see `task::spawn_on`).
                    Ok(Err(_cancelled)) => {
                        Err(Stop::Failed(context.failure().unwrap_or_else(|| {
                            "the test's body was cancelled without a recorded failure".to_string()
                        })))
                    }
                    Err(_) => Err(Stop::TimeLimit),
                })
            })
            .await
        });
        real.abort_all();
        let result = self.outcome(&context, outcome);
        if let Err(failure) = &result {
            log.record_failure(&context, failure);
        }
        drop(runtime);
        result
    }

    /// The name the run's files (log, timeline, history) carry: the libtest
    /// thread's name, which is the test's path, else the configured name.
    fn file_name(&self) -> String {
        std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .or(self.test_name.as_deref())
            .unwrap_or("test")
            .replace("::", "-")
    }

    fn outcome(&self, context: &Context, outcome: Result<(), Stop>) -> Result<Report, Failure> {
        let at = Duration::from_nanos(context.now_nanos());
        let backtrace = super::base::take_panic_backtrace().map(String::into_boxed_str);
        let (digest, events) = crate::trace::digest(context);
        let message = match outcome {
            Ok(()) => match context.failure() {
                None => {
                    return Ok(Report {
                        seed: self.seed,
                        digest,
                        events,
                        elapsed: at,
                    });
                }
                Some(message) => message,
            },
            Err(Stop::Failed(message)) => message,
            Err(Stop::TimeLimit) => format!(
                "test took longer than {} seconds of virtual time",
                self.time_limit.as_secs()
            ),
            Err(Stop::Stalled) => "stall: every task is blocked and no timer is pending, \
                 so nothing can ever happen again (a deadlock, or a wait on a channel nobody sends to)"
                .to_string(),
        };
        let replay = replay_command(self.seed, self.test_name.as_deref());
        let timeline = write_timeline(context, self.seed, &message, &replay);
        Err(Failure {
            seed: self.seed,
            message,
            at,
            digest,
            replay,
            timeline,
            backtrace,
        })
    }
}

/// Draws the run's timeline, if the test recorded one.
fn write_timeline(
    context: &Context,
    seed: u64,
    message: &str,
    replay: &str,
) -> Option<std::path::PathBuf> {
    use crate::timeline::ContextTimeline as _;
    if context.timeline().is_empty() {
        return None;
    }
    let title = format!(
        "{} — seed {seed}",
        std::thread::current().name().unwrap_or("test")
    );
    let failure = format!("{message}\nreplay: {replay}");
    let html = context
        .timeline()
        .render(&title, context.now_nanos(), Some(&failure));
    crate::log::write_run_file(seed, ".timeline.html", &html).ok()
}

/// Runs a simulated test configured from the environment; see [`Builder`].
pub fn run<F>(test: F) -> Report
where
    F: Future<Output = ()> + Send + 'static,
{
    Builder::new().run(test)
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a non-negative integer"),
    }
}

/// A duration in seconds from the environment, fractions allowed (`0.5`).
fn env_secs(name: &str) -> Option<Duration> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse::<f64>() {
        Ok(secs) if (0.0..=1e9).contains(&secs) => Some(Duration::from_secs_f64(secs)),
        _ => panic!("{name}={value:?} is not a number of seconds (0 or more)"),
    }
}

/// A fresh seed for an exploring run, drawn outside the simulation.
#[allow(clippy::disallowed_types)] // allowed: picks the seed a run without LAB_SEED starts from (and prints)
fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    // Keep seeds short enough to type.
    hasher.finish() % 1_000_000_000_000
}

/// The command that replays this test with this seed, worked out from the
/// running test binary:
/// `LAB_SEED=<seed> cargo test -p <pkg> --test <target> -- --exact <test> --include-ignored`.
pub fn replay_command(seed: u64, test_name: Option<&str>) -> String {
    let thread = std::thread::current();
    let test = test_name
        .map(str::to_string)
        .or_else(|| thread.name().filter(|n| *n != "main").map(str::to_string));
    let package = std::env::var("CARGO_PKG_NAME")
        .ok()
        .or_else(package_from_workspace);
    let target = test_target(package.as_deref());
    let mut command = format!("LAB_SEED={seed} cargo test");
    if let Some(package) = &package {
        command.push_str(&format!(" -p {package}"));
    }
    if let Some(target) = target {
        command.push(' ');
        command.push_str(&target);
    }
    if let Some(test) = test {
        // --include-ignored so the command also replays tests marked #[ignore].
        command.push_str(&format!(" -- --exact {test} --include-ignored"));
    }
    command
}

/// The package of the running test binary when cargo did not say (the binary
/// was run directly, as scripts do): the workspace member with a
/// `tests/<target>.rs`, found from the current directory upwards.
fn package_from_workspace() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let target = stem.rsplit_once('-').map_or(stem, |(name, _hash)| name);
    let cwd = std::env::current_dir().ok()?;
    for dir in cwd.ancestors() {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut members: Vec<std::path::PathBuf> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        members.sort();
        members.push(dir.to_path_buf());
        for member in members {
            if member.join("tests").join(format!("{target}.rs")).exists()
                && let Some(name) = manifest_package_name(&member.join("Cargo.toml"))
            {
                return Some(name);
            }
        }
    }
    None
}

/// The `name` of the `[package]` in a Cargo.toml, read without a TOML parser.
fn manifest_package_name(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_string());
        }
    }
    None
}

/// `--test <name>` for an integration-test binary, `--lib` for unit tests,
/// `--example <name>` for examples.
fn test_target(package: Option<&str>) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let name = stem.rsplit_once('-').map_or(stem, |(name, _hash)| name);
    let in_examples = exe
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == "examples");
    if in_examples {
        return Some(format!("--example {name}"));
    }
    let lib_name = package.map(|p| p.replace('-', "_"));
    let manifest = std::env::var("CARGO_MANIFEST_DIR").ok();
    let is_integration = manifest.as_ref().is_some_and(|dir| {
        std::path::Path::new(dir)
            .join("tests")
            .join(format!("{name}.rs"))
            .exists()
    });
    if lib_name.as_deref() == Some(name) && !is_integration {
        Some("--lib".to_string())
    } else {
        Some(format!("--test {name}"))
    }
}

/// A wall-clock thread that notices a simulation stuck inside one poll (a
/// task in an endless loop that never awaits): the executor cannot notice that
/// itself, so the watchdog reports it and ends the process.
struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(builder: &Builder, heartbeat: Arc<AtomicU64>) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let limit = builder.watchdog;
        let seed = builder.seed;
        let replay = replay_command(seed, builder.test_name.as_deref());
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("lab-watchdog".into())
            .spawn(move || watch(&flag, &heartbeat, limit, seed, &replay))
            .ok();
        Watchdog { stop, thread }
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn watch(stop: &AtomicBool, heartbeat: &AtomicU64, limit: Duration, seed: u64, replay: &str) {
    let tick = Duration::from_millis(250).min(limit);
    let mut last = heartbeat.load(Ordering::Relaxed);
    let mut quiet_since = std::time::Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::park_timeout(tick);
        let now = heartbeat.load(Ordering::Relaxed);
        if now != last {
            last = now;
            quiet_since = std::time::Instant::now();
        } else if quiet_since.elapsed() >= limit && !stop.load(Ordering::SeqCst) {
            // Written to the real stderr, not with eprintln!: libtest captures
            // the macros' output (also from threads the test spawned), and the
            // process ends before it could print what it captured.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\nsimulation failed: a task has been running for {} s of wall time without returning \
                 to the executor (an endless loop with no .await, or a blocking call such as \
                 Mutex::blocking_lock)\n  seed:   {seed}\n  replay: {replay}\n",
                limit.as_secs()
            );
            std::process::exit(101);
        }
    }
}
