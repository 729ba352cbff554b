#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! labtools: the student's loop around the lab tests.
//!
//! * `dstest` (`scripts/dstest`): runs chosen tests many times, in parallel,
//!   each run with its own seed; live progress; keeps the logs of failed runs;
//!   a failed / total / mean ± std table at the end.
//! * `dslogs` (`scripts/dslogs`): pretty-prints a lab log, one column per
//!   peer, coloured by topic, with topic filters.
//! * `mutants` (`scripts/mutants/run`): plants known bugs (patches) in a scratch
//!   copy of the reference and reports how many seeds of the tests catch each.
//!
//! See `scripts/README.md`.

pub mod discover;
pub mod grade;
pub mod handout;
pub mod logline;
pub mod markers;
pub mod mutants;
pub mod pretty;
pub mod runner;
pub mod seeds;
pub mod stats;

/// The end of a tool's `main`: the exit code its run chose, or, if the run
/// failed, the error on stderr after the tool's name (`dstest: ...`) and
/// exit status 2 (bad usage or setup, as opposed to failing tests).
pub fn exit_code(
    tool: &str,
    run: Result<std::process::ExitCode, String>,
) -> std::process::ExitCode {
    run.unwrap_or_else(|error| {
        eprintln!("{tool}: {error}");
        std::process::ExitCode::from(2)
    })
}
