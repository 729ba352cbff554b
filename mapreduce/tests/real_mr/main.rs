//! The real-process tests: test-mr.sh's seven ([`test_mr`]) and the bad-input
//! ones ([`bad_input`]), in one test binary whose tests all run at once.
//!
//! Why a custom runner (`harness = false`, with libtest-mimic for libtest's
//! command line and output): these tests spend their time waiting for
//! processes that sleep (jobcount's maps take 2–5 s, mtiming and rtiming hold
//! 1 s, every coordinator lingers after its job), not on the CPU. libtest runs only as
//! many tests at once as there are cores, so on 2 cores the suite took about
//! half the sum of its tests (35–45 s); all at once it takes about as long as
//! its slowest test. `--test-threads N` (or `RUST_TEST_THREADS`) still limits
//! them, e.g. `--test-threads 1` to time each test alone as test-mr.sh does.
//! Filters, `--exact`, `--list`, `--ignored` and `--include-ignored` work as
//! with libtest. Output is not captured: `TIMING <test> <seconds>` lines are
//! printed only with `--nocapture` (scripts/measure.sh collects them).

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

#[path = "../common/mod.rs"]
mod common;

/// `trials!("prefix::"; f, g)`: a [`Trial`] per function, named after it.
macro_rules! trials {
    ($prefix:literal; $($body:ident),* $(,)?) => {
        vec![$(crate::test(concat!($prefix, stringify!($body)), $body)),*]
    };
}

mod bad_input;
mod test_mr;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use libtest_mimic::{Arguments, Failed, Trial};

/// A test: `body` runs on a thread named after the test (as libtest does, so
/// panic messages name it); a panic fails the test with its message.
fn test(name: impl Into<String>, body: impl FnOnce() + Send + 'static) -> Trial {
    let name = name.into();
    Trial::test(name.clone(), move || {
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(body)
            .map_err(|e| Failed::from(format!("cannot start the test thread: {e}")))?;
        thread.join().map_err(|payload| {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            Failed::from(format!("test panicked: {message}"))
        })
    })
}

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    let mut trials = test_mr::trials();
    trials.extend(bad_input::trials());
    if args.test_threads.is_none() {
        let from_env = std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|n| n.parse().ok());
        // Every test at once unless asked otherwise (see the module doc).
        args.test_threads = Some(from_env.unwrap_or(trials.len()).max(1));
    }
    common::SHOW_TIMING.store(args.nocapture, Ordering::SeqCst);
    libtest_mimic::run(&args, trials).exit_code()
}
