//! The run's trace digest: a fingerprint of everything the network did.
//!
//! Every message sent, delivered, dropped or answered, and every node crash, is
//! folded, in order and with its virtual time, into a 64-bit FNV-1a hash. Two
//! runs of the same test with the same seed must end with the same digest; a
//! different digest means something escaped the seed (the wall clock, OS
//! randomness, hash-map order), and the determinism test catches it. Events are
//! also emitted as `tracing` events with topic `net` for the logs.
//!
//! The trace is kept on the run's context (as an extension), and this module
//! reaches down to it: the runtime itself records nothing here.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use crate::sim::base::lock;
use crate::sim::context::Context;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Network events allowed at one virtual instant before the run is declared
/// an RPC storm: peers answering one another at once, forever, so that virtual
/// time never moves (a leader that ignores higher terms, a follower that
/// truncates on every AppendEntries). The busiest correct runs of the suites
/// reach about 15,000 (kvraft's speed tests, whose reliable network takes no
/// time per operation); a storm reaches this limit within seconds of wall time.
pub(crate) const MAX_EVENTS_AT_ONE_INSTANT: u64 = 300_000;

/// A running FNV-1a hash over the text of every traced event.
#[derive(Clone, Debug)]
pub(crate) struct Trace {
    hash: u64,
    events: u64,
    /// The virtual time of the latest event, and how many events it has had.
    instant_nanos: u64,
    events_at_instant: u64,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            hash: FNV_OFFSET,
            events: 0,
            instant_nanos: 0,
            events_at_instant: 0,
        }
    }
}

impl Write for Trace {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for byte in s.bytes() {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
        Ok(())
    }
}

impl Trace {
    fn digest(&self) -> u64 {
        self.hash
    }

    fn events(&self) -> u64 {
        self.events
    }

    /// Folds in one event; returns how many events this instant has had.
    fn record(&mut self, now_nanos: u64, event: std::fmt::Arguments<'_>) -> u64 {
        self.events += 1;
        if now_nanos == self.instant_nanos {
            self.events_at_instant += 1;
        } else {
            self.instant_nanos = now_nanos;
            self.events_at_instant = 1;
        }
        let _ = writeln!(self, "{now_nanos} {event}");
        self.events_at_instant
    }
}

/// The run's digest so far and how many events went into it.
pub(crate) fn digest(context: &Context) -> (u64, u64) {
    let trace = context.extension::<Mutex<Trace>>();
    let trace = lock(&trace);
    (trace.digest(), trace.events())
}

/// Folds one event, stamped with the current time, into the run's trace, and
/// fails the run when one virtual instant has had too many (see
/// [`MAX_EVENTS_AT_ONE_INSTANT`]; virtual time only, as real time always moves).
fn record(context: &Context, event: std::fmt::Arguments<'_>) {
    let now = context.now_nanos();
    let at_instant = lock(&context.extension::<Mutex<Trace>>()).record(now, event);
    if at_instant == MAX_EVENTS_AT_ONE_INSTANT && !context.is_realtime() {
        context.fail(format!(
            "livelock (RPC storm): {MAX_EVENTS_AT_ONE_INSTANT} network events at {:.3} s of virtual \
             time without time advancing (peers answering one another at once, forever: e.g. a \
             leader that ignores a higher term, or a follower that rejects or truncates on every \
             AppendEntries and is retried at once)",
            now as f64 / 1e9
        ));
    }
}

/// Who talks to whom over each end, for the log's `NET` lines: end names
/// are random strings, the nodes at either end are what a reader follows.
#[derive(Default)]
struct EndLabels(Mutex<BTreeMap<String, String>>);

/// Notes that `from` (a node) is calling `to` (a server) over `end`; the
/// network calls it only when the log is on (the digest never sees this).
pub(crate) fn label_end(context: &Context, end: &str, from: &str, to: Option<&str>) {
    let label = format!("{from} -> {}", to.unwrap_or("(unconnected)"));
    let labels = context.extension::<EndLabels>();
    let mut labels = lock(&labels.0);
    if labels.get(end) != Some(&label) {
        labels.insert(end.to_string(), label);
    }
}

/// Records one network event: `kind` (send, deliver, drop-request, ...), the
/// end it came from, the method, and a detail such as a byte count. The log
/// line names the sender and the receiver (see [`label_end`]) rather than
/// the end.
pub(crate) fn record_rpc_event(
    context: &Context,
    kind: &str,
    end: &str,
    method: &str,
    detail: u64,
) {
    record(context, format_args!("{kind} {end} {method} {detail}"));
    if tracing::enabled!(tracing::Level::TRACE) {
        let labels = context.extension::<EndLabels>();
        let label = lock(&labels.0).get(end).cloned();
        let route = label.unwrap_or_else(|| format!("via {end}"));
        if detail > 0 {
            tracing::trace!(topic = "net", "{kind} {method} {route} ({detail} bytes)");
        } else {
            tracing::trace!(topic = "net", "{kind} {method} {route}");
        }
    }
}

/// Records a node-level event (kill).
pub(crate) fn record_node_event(context: &Context, kind: &str, node: &str) {
    record(context, format_args!("{kind} {node}"));
    tracing::debug!(topic = "net", "{kind} node {node}");
}
