//! Per-test structured logs, stamped with virtual time and the node's name.
//!
//! Lab code logs through `tracing` with a `topic` field:
//! `tracing::debug!(topic = "vote", "granted vote to S{c} in T{t}")`. Logging
//! is off by default (formatting costs real time in long simulations); set
//! `LAB_LOG` to turn it on:
//!
//! * `LAB_LOG=all` keeps every topic; `LAB_LOG=vote,leader,term` keeps those;
//!   `LAB_LOG=all,-net` keeps all but `net` (the network's own per-message lines).
//!   A topic that is not in [`TOPICS`] is an error that lists them.
//! * The log of a run goes to `<LAB_LOG_DIR>/<test>-<seed>.log` (default
//!   `target/lab-logs` of the workspace) and its path is printed at the end.
//!   Lines stream to the file through a small buffer as they happen, so the
//!   log holds no memory of its own however long it grows (the memory tests,
//!   paxos's `forget_mem` and kvpaxos's `done`, measure the live heap with the
//!   log on as well as off), and a run that dies keeps its log up to then.
//!
//! Because the run is a pure function of its seed, and logging draws no
//! randomness, a failing run can be replayed with logs on and it takes exactly
//! the same path. One line per event:
//!
//! ```text
//!   1234.567 VOTE  S1 granted vote to S2 in T3 key=value
//! ```
//!
//! (virtual milliseconds, topic, node, message, other fields); `scripts/dslogs`
//! pretty-prints these files.

#![allow(clippy::disallowed_methods)] // allowed: writes the log file (no effect on the run)

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::sim::base::lock;
use crate::sim::context::Context;

/// Every topic the labs of this workspace log, with what it covers. `LAB_LOG`
/// may only name these (a typo such as `votee` would otherwise silently give
/// an empty log). Code that logs a topic of its own adds it here. Events
/// without a `topic` field are filed under their level (`info`, `debug`, ...).
pub const TOPICS: &[(&str, &str)] = &[
    ("apply", "entries handed to the service"),
    ("cfg", "shard configurations (shardkv)"),
    ("chaos", "injected faults"),
    ("client", "clerks' requests and replies"),
    ("commit", "commit index moves"),
    ("coord", "the MapReduce coordinator"),
    ("crash", "MapReduce worker crashes"),
    ("ctrl", "the shard controller"),
    ("decide", "Paxos decisions"),
    ("dedup", "duplicate requests detected"),
    ("forget", "Paxos instances forgotten (Done/Min)"),
    ("fwd", "primary/backup forwarding"),
    ("gc", "shard garbage collection"),
    ("get", "Get requests served"),
    ("kv", "key/value operations applied"),
    ("leader", "elections won, leadership lost"),
    ("log", "log appends and truncations"),
    ("master", "the 2015 MapReduce master"),
    ("migrate", "shard migration"),
    (
        "net",
        "every message the network sends, delivers, loses or answers",
    ),
    ("paxos", "Paxos proposer and acceptor steps"),
    ("persist", "saves to the Persister"),
    ("ping", "view service pings"),
    ("poll", "polling loops"),
    ("propose", "Paxos proposals"),
    ("rpc", "RPC retries outside the simulated network"),
    ("rsm", "the replicated state machine layer"),
    ("sm", "the 2015 shard master's configurations"),
    ("snap", "snapshots (kvraft, shardkv)"),
    ("snapshot", "snapshots (Raft)"),
    ("task", "MapReduce tasks"),
    ("term", "term changes"),
    (
        "test",
        "the test harness: crashes, partitions, phases, the failure",
    ),
    ("timer", "election timeouts"),
    ("view", "view changes (viewservice, pbservice)"),
    ("vote", "votes asked for and granted"),
    ("worker", "MapReduce workers"),
    ("xfer", "state transfer to a new backup"),
    ("error", "events without a topic, by level"),
    ("warn", "events without a topic, by level"),
    ("info", "events without a topic, by level"),
    ("debug", "events without a topic, by level"),
    ("trace", "events without a topic, by level"),
];

/// A `LAB_LOG` that names a topic nobody logs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "LAB_LOG={spec:?}: unknown topic {topic:?}. Use `all`, `all,-TOPIC`, or a comma-separated list of: {}",
    known_topics()
)]
pub struct UnknownTopic {
    /// The whole `LAB_LOG` value.
    pub spec: String,
    /// The topic in it that no lab logs.
    pub topic: String,
}

fn known_topics() -> String {
    TOPICS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which topics to keep, from `LAB_LOG`.
#[derive(Clone, Debug, Default)]
pub struct TopicFilter {
    all: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl TopicFilter {
    /// Parses `all`, `vote,leader`, or `all,-net`; every topic named must be
    /// one of [`TOPICS`].
    pub fn parse(spec: &str) -> Result<TopicFilter, UnknownTopic> {
        let mut filter = TopicFilter::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "all" || item == "1" || item == "*" {
                filter.all = true;
                continue;
            }
            let (list, topic) = match item.strip_prefix('-') {
                Some(topic) => (&mut filter.exclude, topic),
                None => (&mut filter.include, item),
            };
            let topic = topic.to_ascii_lowercase();
            if !TOPICS.iter().any(|(name, _)| *name == topic) {
                return Err(UnknownTopic {
                    spec: spec.to_string(),
                    topic,
                });
            }
            list.push(topic);
        }
        Ok(filter)
    }

    /// Whether events of `topic` go to the log.
    pub fn keeps(&self, topic: &str) -> bool {
        let topic = topic.to_ascii_lowercase();
        if self.exclude.contains(&topic) {
            return false;
        }
        self.all || self.include.contains(&topic)
    }
}

/// The log of one run: where its lines go.
pub(crate) struct RunLog {
    filter: TopicFilter,
    /// One lock for the whole file so lines never interleave (the real-time
    /// engine logs from several threads).
    sink: Mutex<Sink>,
    context: std::sync::Weak<Context>,
}

/// The open log file, or why it could not be opened (reported at the end,
/// where the path is printed when it worked).
struct Sink {
    path: PathBuf,
    file: std::io::Result<BufWriter<File>>,
}

impl Sink {
    fn open(path: PathBuf) -> Sink {
        let file = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| File::create(&path))
            .map(BufWriter::new);
        Sink { path, file }
    }

    /// Appends `text`; the first write error is kept and reported at the end.
    fn write(&mut self, text: &str) {
        if let Ok(file) = &mut self.file
            && let Err(error) = file.write_all(text.as_bytes())
        {
            self.file = Err(error);
        }
    }

    /// Flushes the file and says where it is.
    fn finish(&mut self) -> std::io::Result<PathBuf> {
        match &mut self.file {
            Ok(file) => file.flush().map(|()| self.path.clone()),
            Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
        }
    }
}

struct LogSubscriber {
    log: Arc<RunLog>,
}

/// Collects the fields of one event.
#[derive(Default)]
struct Fields {
    topic: Option<String>,
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "topic" => self.topic = Some(value.to_string()),
            "message" => self.message.push_str(value),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "topic" => self.topic = Some(format!("{value:?}").trim_matches('"').to_string()),
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}

impl Subscriber for LogSubscriber {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let topic = fields
            .topic
            .unwrap_or_else(|| event.metadata().level().as_str().to_ascii_lowercase());
        if !self.log.filter.keeps(&topic) {
            return;
        }
        let Some(context) = self.log.context.upgrade() else {
            return;
        };
        let millis = context.now_nanos() as f64 / 1e6;
        let node = context.node_name(Context::current_node());
        let line = format!(
            "{millis:>10.3} {:<5} {node} {}{}\n",
            topic.to_ascii_uppercase(),
            fields.message,
            fields.rest
        );
        lock(&self.log.sink).write(&line);
    }
}

/// Keeps the run's subscriber installed for as long as it lives.
pub(crate) struct LogGuard {
    _default: Option<tracing::subscriber::DefaultGuard>,
    log: Option<Arc<RunLog>>,
}

/// Installs the run's log subscriber on this thread when `LAB_LOG` is set.
///
/// # Panics
/// If `LAB_LOG` names an unknown topic: the test fails at once with the list
/// of topics, before anything runs.
pub(crate) fn install(context: &Arc<Context>) -> LogGuard {
    let Ok(spec) = std::env::var("LAB_LOG") else {
        return LogGuard {
            _default: None,
            log: None,
        };
    };
    let filter = TopicFilter::parse(&spec).unwrap_or_else(|error| panic!("{error}"));
    // The path `run_file_path` gives inside the run (it is not entered yet).
    let path = log_dir().join(format!("{}-{}.log", context.test_name, context.seed));
    let log = Arc::new(RunLog {
        filter,
        sink: Mutex::new(Sink::open(path)),
        context: Arc::downgrade(context),
    });
    let dispatch = tracing::Dispatch::new(LogSubscriber { log: log.clone() });
    context.set_log_dispatch(dispatch.clone());
    LogGuard {
        _default: Some(tracing::dispatcher::set_default(&dispatch)),
        log: Some(log),
    }
}

impl LogGuard {
    /// Writes the run's failure at the end of its log, whatever the topic
    /// filter, so the log file says how the run ended: `FAIL` lines on the
    /// `test` node, the message (every line of it) and the replay command.
    pub(crate) fn record_failure(&self, context: &Context, failure: &crate::sim::Failure) {
        let Some(log) = &self.log else { return };
        let millis = context.now_nanos() as f64 / 1e6;
        let mut lines = String::new();
        let mut message = failure.message.lines();
        let first = message.next().unwrap_or_default();
        let _ = writeln!(
            lines,
            "{millis:>10.3} FAIL  test simulation failed: {first}"
        );
        for line in message {
            let _ = writeln!(lines, "{millis:>10.3} FAIL  test   {line}");
        }
        let _ = writeln!(
            lines,
            "{millis:>10.3} FAIL  test seed {} replay: {}",
            failure.seed, failure.replay
        );
        lock(&log.sink).write(&lines);
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        let Some(log) = self.log.take() else { return };
        match lock(&log.sink).finish() {
            Ok(path) => eprintln!("log: {}", path.display()),
            Err(error) => eprintln!("log: could not write the log file: {error}"),
        }
    }
}

/// Where logs and timelines go: `$LAB_LOG_DIR`, else `$CARGO_TARGET_DIR/lab-logs`,
/// else the workspace's `target/lab-logs`.
pub(crate) fn log_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("LAB_LOG_DIR") {
        return PathBuf::from(dir);
    }
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("lab-logs");
    }
    // Tests run with the package root as CARGO_MANIFEST_DIR; the workspace
    // root is the nearest ancestor with the Cargo.lock (the parent for
    // top-level crates, the grandparent for paxos-series/<crate>).
    match std::env::var("CARGO_MANIFEST_DIR") {
        Ok(dir) => {
            let dir = PathBuf::from(dir);
            let root = dir
                .ancestors()
                .skip(1)
                .find(|a| a.join("Cargo.lock").is_file())
                .unwrap_or_else(|| dir.parent().unwrap_or(&dir));
            root.join("target").join("lab-logs")
        }
        Err(_) => std::env::temp_dir().join("lab-logs"),
    }
}

/// `<log dir>/<test>-<seed><suffix>`: where a run's files go (its log,
/// `.timeline.html`, a kv test's `.history.html`), named by the test: inside a
/// run, the test that started it (in either engine, whichever thread asks);
/// outside one, the libtest thread's test name.
pub fn run_file_path(seed: u64, suffix: &str) -> PathBuf {
    let test = match Context::try_current() {
        Some(context) => context.test_name.to_string(),
        None => std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .unwrap_or("test")
            .replace("::", "-"),
    };
    log_dir().join(format!("{test}-{seed}{suffix}"))
}

/// Writes the run file `suffix` (see [`run_file_path`]) and returns its path.
pub(crate) fn write_run_file(seed: u64, suffix: &str, text: &str) -> std::io::Result<PathBuf> {
    let path = run_file_path(seed, suffix);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_what_they_name() {
        let filter = TopicFilter::parse("all,-net").unwrap();
        assert!(filter.keeps("vote") && filter.keeps("VOTE") && !filter.keeps("net"));
        let filter = TopicFilter::parse("vote, leader").unwrap();
        assert!(filter.keeps("leader") && !filter.keeps("term"));
    }

    #[test]
    fn an_unknown_topic_is_an_error_listing_the_topics() {
        let error = TopicFilter::parse("votee").unwrap_err();
        assert_eq!(error.topic, "votee");
        let message = error.to_string();
        assert!(message.starts_with("LAB_LOG=\"votee\": unknown topic \"votee\""));
        assert!(message.contains("vote, worker, xfer"), "{message}");
        assert!(TopicFilter::parse("all,-nett").is_err(), "exclusions too");
    }

    /// Every `topic = "..."` in the workspace's sources is one of [`TOPICS`],
    /// so `LAB_LOG` can name it.
    #[test]
    fn every_topic_the_workspace_logs_is_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = std::collections::BTreeSet::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if path.is_dir() {
                    if !name.starts_with('.') && name != "target" {
                        dirs.push(path);
                    }
                } else if name.ends_with(".rs")
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    for piece in text.split("topic = \"").skip(1) {
                        let topic = piece.split('"').next().unwrap_or_default();
                        let word = topic.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                        if word && !topic.is_empty() && !TOPICS.iter().any(|(t, _)| *t == topic) {
                            missing.insert(format!("{topic} ({})", path.display()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "add to labrpc::log::TOPICS: {missing:?}"
        );
    }
}
