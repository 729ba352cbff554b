//! The runtime's leaf types: what every part of `sim` (and the network above
//! it) names, defined where nothing else is, so that the engines, the context
//! and the observability modules can all use them without importing each other.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, Once};

/// A boxed task future, as stored by both engines.
pub(crate) type BoxTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Identifies a node within one simulation. Node 0 is the test itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(pub(crate) u32);

/// The node the test's own code runs on; it is never killed.
pub(crate) const TEST_NODE: NodeId = NodeId(0);

/// Locks a mutex, ignoring poisoning: a panic inside a task is reported as the
/// test's failure (see `task::spawn_on`), so a poisoned lock carries no news.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

thread_local! {
    /// Set while a simulation runs its tasks on this thread.
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic happened, and its backtrace if one was asked for.
    static LAST_PANIC: RefCell<Option<PanicSite>> = const { RefCell::new(None) };
}

/// Where a task panicked: `file:line:column`, and the backtrace when
/// `RUST_BACKTRACE` asks for one.
#[derive(Clone, Debug, Default)]
pub(crate) struct PanicSite {
    pub(crate) location: Option<String>,
    pub(crate) backtrace: Option<String>,
}

/// Runs `f` with panics on this thread kept quiet: the panic hook records
/// their place (and backtrace) for the failure report instead of printing,
/// so a failure is printed once, in the runner's block, rather than once by
/// the hook and again by the runner. Panics on other threads, and outside
/// `f`, go to the hook that was installed before.
pub(crate) fn quiet_panics<R>(f: impl FnOnce() -> R) -> R {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET_PANICS.with(Cell::get) {
                let backtrace = std::backtrace::Backtrace::capture();
                let site = PanicSite {
                    location: info.location().map(|l| l.to_string()),
                    backtrace: (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
                        .then(|| short_backtrace(&backtrace.to_string())),
                };
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(site));
            } else {
                previous(info);
            }
        }));
    });
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            QUIET_PANICS.with(|q| q.set(self.0));
        }
    }
    let _restore = Restore(QUIET_PANICS.with(|q| q.replace(true)));
    f()
}

/// The frames between the panic machinery and the thread's start, as the
/// default hook prints them (unless `RUST_BACKTRACE=full`).
#[allow(clippy::disallowed_methods)] // allowed: formats a panic report; RUST_BACKTRACE changes only what is printed
fn short_backtrace(full: &str) -> String {
    if std::env::var("RUST_BACKTRACE").is_ok_and(|v| v == "full") {
        return full.to_string();
    }
    let lines: Vec<&str> = full.lines().collect();
    // A frame is a numbered line (`  12: name`) and the `at` lines under it.
    let frame_of = |marker: &str| lines.iter().position(|l| l.contains(marker));
    let start = frame_of("__rust_end_short_backtrace").map_or(0, |i| {
        // Skip the marker's frame and its `at` lines.
        i + 1
            + lines[i + 1..]
                .iter()
                .take_while(|l| l.trim_start().starts_with("at "))
                .count()
    });
    let end = frame_of("__rust_begin_short_backtrace").unwrap_or(lines.len());
    let mut short = lines[start..end.max(start)].join("\n");
    short.push_str(
        "\nnote: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
    );
    short
}

/// The place of the last quiet panic on this thread, taking it.
pub(crate) fn take_panic_site() -> Option<PanicSite> {
    LAST_PANIC.with(|last| last.borrow_mut().take())
}

thread_local! {
    /// The backtrace of the panic that failed the run, for its report.
    static FAILED_BACKTRACE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps the backtrace of the panic that failed the run for the report.
pub(crate) fn keep_panic_backtrace(backtrace: String) {
    FAILED_BACKTRACE.with(|kept| {
        kept.borrow_mut().get_or_insert(backtrace);
    });
}

/// The backtrace of the panic that failed the run on this thread, if one
/// was captured, taking it.
pub(crate) fn take_panic_backtrace() -> Option<String> {
    FAILED_BACKTRACE.with(|kept| kept.borrow_mut().take())
}
