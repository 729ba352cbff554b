//! The MapReduce applications, compiled in and chosen by name.
//!
//! Go loads `Map` and `Reduce` from a plugin (`wc.so`); Rust has no stable
//! equivalent, so every app of Go's `mrapps/` is a variant of [`AppKind`] and
//! `mrworker wc` picks one by name. Each behaves as its Go original, including
//! the test apps that look at the world: `mtiming`/`rtiming` count the workers
//! running at the same time through marker files and `kill(pid, 0)`,
//! `jobcount` leaves one file per map call, `crash` kills its own worker.
//! Those side effects go through [`Env`] and [`FileStore`], so in a simulation
//! they hit virtual time, simulated nodes and the in-memory store.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::letters::words;
use crate::store::{FileStore, StoreError};

/// One intermediate pair (Go's `mr.KeyValue`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// The apps of Go's `src/mrapps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppKind {
    /// Word count.
    Wc,
    /// Inverted index: word → number of documents and their names.
    Indexer,
    /// Test app: records when maps ran and how many ran at once.
    Mtiming,
    /// Test app: records how many reduces ran at once.
    Rtiming,
    /// Test app: counts map executions through marker files.
    Jobcount,
    /// Test app: some reduces take 3 s, to catch workers that exit early.
    EarlyExit,
    /// Test app: workers crash or stall at random.
    Crash,
    /// The crash app without crashes, as the reference output.
    Nocrash,
}

impl AppKind {
    pub const ALL: [AppKind; 8] = [
        AppKind::Wc,
        AppKind::Indexer,
        AppKind::Mtiming,
        AppKind::Rtiming,
        AppKind::Jobcount,
        AppKind::EarlyExit,
        AppKind::Crash,
        AppKind::Nocrash,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AppKind::Wc => "wc",
            AppKind::Indexer => "indexer",
            AppKind::Mtiming => "mtiming",
            AppKind::Rtiming => "rtiming",
            AppKind::Jobcount => "jobcount",
            AppKind::EarlyExit => "early_exit",
            AppKind::Crash => "crash",
            AppKind::Nocrash => "nocrash",
        }
    }
}

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given to `mrworker`/`mrsequential` is not an app.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown app {name:?}; the apps are: {}", known_apps())]
pub struct UnknownApp {
    pub name: String,
}

fn known_apps() -> String {
    AppKind::ALL.map(AppKind::name).join(", ")
}

impl FromStr for AppKind {
    type Err = UnknownApp;
    fn from_str(name: &str) -> Result<AppKind, UnknownApp> {
        // Accept Go's plugin file names too: "wc.so", "../mrapps/wc.so".
        let base = name.rsplit('/').next().unwrap_or(name);
        let base = base.strip_suffix(".so").unwrap_or(base);
        AppKind::ALL
            .into_iter()
            .find(|app| app.name() == base)
            .ok_or_else(|| UnknownApp {
                name: name.to_string(),
            })
    }
}

/// An app failed (Go's plugins panic in these cases).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("app file operation failed: {0}")]
    Store(#[from] StoreError),
}

/// The longest stall of the `crash` app (Go's `maybeCrash` sleeps up to 10 s).
pub const CRASH_MAX_DELAY: Duration = Duration::from_secs(10);

/// The largest [`App::with_speedup`] factor: beyond it the apps' sleeps
/// (a 2 ms `nparallel` hold at 500) would be shorter than starting a process.
pub const MAX_SPEEDUP: u32 = 100;

/// An app as loaded by one worker: the kind plus its per-process state
/// (jobcount's counter is a Go package-level variable).
#[derive(Debug)]
pub struct App {
    kind: AppKind,
    map_calls: AtomicU64,
    /// Every sleep of the app is divided by this (1: Go's durations).
    speedup: u32,
}

impl App {
    pub fn new(kind: AppKind) -> App {
        App {
            kind,
            map_calls: AtomicU64::new(0),
            speedup: 1,
        }
    }

    /// Runs the app's clock `speedup` times faster: jobcount's 2–5 s maps,
    /// mtiming's and rtiming's 1 s holds, early_exit's 3 s reduces and the
    /// crash app's stalls of up to [`CRASH_MAX_DELAY`] are all divided by it
    /// (`mrworker --app-speedup`). The quick real-process tests use it, with
    /// the coordinator's task timeout divided by the same factor in the
    /// crash test, so every ratio between the durations stays Go's; the
    /// random draws are the same, so a factor of 1 is exactly Go's app.
    pub fn with_speedup(mut self, speedup: u32) -> App {
        assert!(
            (1..=MAX_SPEEDUP).contains(&speedup),
            "the app speedup must be within 1..={MAX_SPEEDUP}, is {speedup}"
        );
        self.speedup = speedup;
        self
    }

    /// `duration` on the app's clock (see [`App::with_speedup`]).
    fn scaled(&self, duration: Duration) -> Duration {
        duration / self.speedup
    }

    pub fn kind(&self) -> AppKind {
        self.kind
    }

    /// Go's `Map(filename, contents)`. `contents` are raw bytes: `crash`
    /// counts bytes, and text apps decode them like Go (an invalid UTF-8
    /// sequence becomes U+FFFD, which is not a letter).
    pub async fn map<E: Env, S: FileStore>(
        &self,
        env: &E,
        store: &S,
        filename: &str,
        contents: &[u8],
    ) -> Result<Vec<KeyValue>, AppError> {
        let text = || String::from_utf8_lossy(contents);
        Ok(match self.kind {
            AppKind::Wc => wc_map(&text()),
            AppKind::Indexer => indexer_map(filename, &text()),
            AppKind::Mtiming => mtiming_map(env, store, self.scaled(NPARALLEL_HOLD)).await?,
            AppKind::Rtiming => ('a'..='j').map(|k| KeyValue::new(k, "1")).collect(),
            AppKind::Jobcount => self.jobcount_map(env, store).await?,
            AppKind::EarlyExit => vec![KeyValue::new(filename, "1")],
            AppKind::Crash | AppKind::Nocrash => {
                if self.kind == AppKind::Crash {
                    maybe_crash(env, self.scaled(CRASH_MAX_DELAY)).await;
                }
                vec![
                    KeyValue::new("a", filename),
                    KeyValue::new("b", filename.len().to_string()),
                    KeyValue::new("c", contents.len().to_string()),
                    KeyValue::new("d", "xyzzy"),
                ]
            }
        })
    }

    /// Go's `Reduce(key, values)`.
    pub async fn reduce<E: Env, S: FileStore>(
        &self,
        env: &E,
        store: &S,
        key: &str,
        values: &[String],
    ) -> Result<String, AppError> {
        Ok(match self.kind {
            AppKind::Wc => wc_reduce(values),
            AppKind::Indexer => format!("{} {}", values.len(), sorted(values).join(",")),
            AppKind::Mtiming => sorted(values).join(" "),
            AppKind::Rtiming => nparallel(env, store, "reduce", self.scaled(NPARALLEL_HOLD))
                .await?
                .to_string(),
            AppKind::Jobcount => count_files(store, "mr-worker-jobcount").await?.to_string(),
            AppKind::EarlyExit => {
                if key.contains("sherlock") || key.contains("tom") {
                    env.sleep(self.scaled(Duration::from_secs(3))).await;
                }
                values.len().to_string()
            }
            AppKind::Crash | AppKind::Nocrash => {
                if self.kind == AppKind::Crash {
                    maybe_crash(env, self.scaled(CRASH_MAX_DELAY)).await;
                }
                sorted(values).join(" ")
            }
        })
    }

    /// Leaves `mr-worker-jobcount-<pid>-<n>`, then takes 2–5 s (on Go's clock).
    async fn jobcount_map<E: Env, S: FileStore>(
        &self,
        env: &E,
        store: &S,
    ) -> Result<Vec<KeyValue>, AppError> {
        let count = self.map_calls.fetch_add(1, Ordering::Relaxed);
        let name = format!("mr-worker-jobcount-{}-{count}", env.pid());
        store.write_atomic(&name, b"x".to_vec()).await?;
        let ms = 2000 + env.random_below(3000);
        env.sleep(self.scaled(Duration::from_millis(ms))).await;
        Ok(vec![KeyValue::new("a", "x")])
    }
}

/// Word count's Map: `(word, "1")` for every word of `text`, in order (Go's
/// `mrapps/wc.go`; also the 2015 lab's `main/wc.go`, crate `mapreduce-2015`).
pub fn wc_map(text: &str) -> Vec<KeyValue> {
    words(text).map(|w| KeyValue::new(w, "1")).collect()
}

/// Word count's Reduce: how many values the word has.
pub fn wc_reduce(values: &[String]) -> String {
    values.len().to_string()
}

fn sorted(values: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = values.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

/// Each distinct word of the document, paired with the document's name.
fn indexer_map(document: &str, text: &str) -> Vec<KeyValue> {
    let distinct: std::collections::BTreeSet<&str> = words(text).collect();
    distinct
        .into_iter()
        .map(|w| KeyValue::new(w, document))
        .collect()
}

async fn mtiming_map<E: Env, S: FileStore>(
    env: &E,
    store: &S,
    hold: Duration,
) -> Result<Vec<KeyValue>, AppError> {
    let ts = env.unix_time();
    let pid = env.pid();
    let n = nparallel(env, store, "map", hold).await?;
    Ok(vec![
        KeyValue::new(format!("times-{pid}"), format!("{ts:.1}")),
        KeyValue::new(format!("parallel-{pid}"), n.to_string()),
    ])
}

/// How long `nparallel` holds on Go's clock.
const NPARALLEL_HOLD: Duration = Duration::from_secs(1);

/// How many workers are in `phase` right now: announce ourselves with
/// `mr-worker-<phase>-<pid>`, count such files whose process is alive, hold
/// for `hold` (Go: a second) so that overlapping workers see each other,
/// then leave.
async fn nparallel<E: Env, S: FileStore>(
    env: &E,
    store: &S,
    phase: &str,
    hold: Duration,
) -> Result<usize, AppError> {
    let prefix = format!("mr-worker-{phase}-");
    let mine = format!("{prefix}{}", env.pid());
    store.write_atomic(&mine, b"x".to_vec()).await?;
    let running = store
        .list()
        .await?
        .iter()
        .filter_map(|name| name.strip_prefix(&prefix)?.parse::<u64>().ok())
        .filter(|&pid| env.is_alive(pid))
        .count();
    env.sleep(hold).await;
    store.remove(&mine).await?;
    Ok(running)
}

async fn count_files<S: FileStore>(store: &S, prefix: &str) -> Result<usize, AppError> {
    let names = store.list().await?;
    Ok(names.iter().filter(|n| n.starts_with(prefix)).count())
}

/// Go's `maybeCrash`: a third of the time exit, a third of the time stall
/// for up to `max_delay` (Go: 10 s), otherwise carry on.
async fn maybe_crash<E: Env>(env: &E, max_delay: Duration) {
    let r = env.random_below(1000);
    if r < 330 {
        env.crash().await;
    } else if r < 660 {
        // At least 1 ms: the bound is positive (asserted where it is set).
        let max_ms = u64::try_from(max_delay.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let ms = env.random_below(max_ms);
        env.sleep(Duration::from_millis(ms)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_round_trip_and_accept_plugin_paths() {
        for app in AppKind::ALL {
            assert_eq!(app.name().parse::<AppKind>(), Ok(app));
        }
        assert_eq!("../mrapps/wc.so".parse::<AppKind>(), Ok(AppKind::Wc));
        let err = "wordcount".parse::<AppKind>().unwrap_err();
        assert!(err.to_string().contains("wc, indexer"), "{err}");
    }

    /// How long (in virtual time) `kind`'s sleeping call takes with `speedup`,
    /// and what it returns, on a store without latency.
    fn timed_call(kind: AppKind, speedup: u32, seed: u64) -> (Duration, String) {
        use crate::sim::{MemStore, Processes, SimEnv};
        use labrpc::sim;
        // Filled in by the simulation's root task (which must be 'static).
        let result = std::sync::Arc::new(std::sync::Mutex::new(None));
        let slot = result.clone();
        sim::Builder::new().seed(seed).run(async move {
            let env = SimEnv::new(1, Processes::default());
            let store = MemStore::with_latency(Duration::ZERO);
            let app = App::new(kind).with_speedup(speedup);
            let start = sim::now();
            let out = match kind {
                AppKind::Jobcount | AppKind::Mtiming => {
                    format!("{:?}", app.map(&env, &store, "f", b"x").await.unwrap())
                }
                _ => app
                    .reduce(&env, &store, "sherlock", &["1".to_string()])
                    .await
                    .unwrap(),
            };
            *slot.lock().unwrap() = Some((sim::now() - start, out));
        });
        let taken = result.lock().unwrap().take();
        taken.expect("the run finished")
    }

    #[test]
    fn a_speedup_divides_every_sleep_and_keeps_the_results() {
        for kind in [
            AppKind::Jobcount,
            AppKind::Mtiming,
            AppKind::Rtiming,
            AppKind::EarlyExit,
        ] {
            for seed in 1..=3 {
                let (go, go_out) = timed_call(kind, 1, seed);
                let (quick, quick_out) = timed_call(kind, 10, seed);
                assert!(go >= Duration::from_secs(1), "{kind}: {go:?}");
                assert_eq!(quick, go / 10, "{kind}, seed {seed}");
                if kind != AppKind::Mtiming {
                    // mtiming's timestamps differ; the rest must not.
                    assert_eq!(quick_out, go_out, "{kind}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "within 1..=100")]
    fn a_zero_speedup_is_refused() {
        let _ = App::new(AppKind::Crash).with_speedup(0);
    }

    #[test]
    fn indexer_emits_each_word_once() {
        let kvs = indexer_map("doc", "b a b A");
        assert_eq!(
            kvs,
            [
                KeyValue::new("A", "doc"),
                KeyValue::new("a", "doc"),
                KeyValue::new("b", "doc")
            ]
        );
    }
}
