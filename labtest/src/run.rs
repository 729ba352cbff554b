//! One test in a simulation of its own, set up and torn down by its harness:
//! the opening and closing every Go test of the Paxos series repeats (make
//! the servers, run the scenario, Go's deferred `cleanup`), written once;
//! and [`assert_same_run`], a lab's determinism test.
//!
//! A harness offers a [`Setup`] of itself (its constructor, to be called
//! once the simulation runs) and implements [`Teardown`]; a test is then
//!
//! ```ignore
//! Config::setup("basic", 3).run(|cfg| async move {
//!     cfg.begin("Test: Single proposer");
//!     // ...
//!     cfg.passed();
//! });
//! ```

use std::future::Future;

use labrpc::sim;

/// What a harness does once the test's scenario is over: Go's deferred
/// `cleanup(...)` (and whatever else the harness checks at the end).
pub trait Teardown {
    /// Ends the test: kills the servers, and so on.
    fn teardown(&self);
}

/// A test's harness, made once the test's simulation runs (servers are
/// nodes of the simulation, so they cannot be made before it).
pub struct Setup<S>(S);

impl<H, S> Setup<S>
where
    H: Teardown + Clone + Send + 'static,
    S: FnOnce() -> H + Send + 'static,
{
    /// The harness that `make` makes.
    pub fn new(make: S) -> Setup<S> {
        Setup(make)
    }

    /// Runs one test in a simulation of its own: makes the harness, runs
    /// the scenario `test` on a clone of it, then [`Teardown::teardown`].
    pub fn run<F, Fut>(self, test: F)
    where
        F: FnOnce(H) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        sim::run(async move {
            let harness = (self.0)();
            test(harness.clone()).await;
            harness.teardown();
        });
    }
}

/// Runs `test` twice on `seed`, each time in a simulation of its own: both
/// runs must end with the same trace digest at the same virtual time (a run
/// is a function of its seed).
pub fn assert_same_run<F, Fut>(seed: u64, test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let run = || sim::Builder::new().seed(seed).run(test());
    let (a, b) = (run(), run());
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.elapsed, b.elapsed);
}
