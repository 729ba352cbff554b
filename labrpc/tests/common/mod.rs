//! Helpers shared by the statistical fault-model tests of both network
//! profiles (fault_model.rs for Go 2023, fault_model_2015.rs for Go 2015).

use std::time::Duration;

use labrpc::sim;
use labrpc::{ClientEnd, Error};

/// Starts `calls` calls of `Echo.Echo` at once, the i-th with argument
/// `arg(i)`; returns (latency, outcome) of each, in the order they were made.
pub async fn many_calls(
    end: &ClientEnd,
    calls: u64,
    arg: impl Fn(u64) -> u64,
) -> Vec<(Duration, Result<u64, Error>)> {
    let handles: Vec<_> = (0..calls)
        .map(|i| {
            let call = end.call::<_, u64>("Echo.Echo", &arg(i));
            let start = sim::now();
            sim::spawn(async move {
                let outcome = call.await;
                (start.elapsed(), outcome)
            })
        })
        .collect();
    let mut results = Vec::new();
    for handle in handles {
        // unwrap: the calls' tasks belong to the test's node, which lives
        // until the test ends, so none is cancelled.
        results.push(handle.await.unwrap());
    }
    results
}

/// Asserts that `count` of `total` is `expected` within five standard
/// deviations of a binomial proportion.
pub fn assert_rate(what: &str, count: usize, total: usize, expected: f64) {
    let rate = count as f64 / total as f64;
    let tolerance = 5.0 * (expected * (1.0 - expected) / total as f64).sqrt();
    assert!(
        (rate - expected).abs() <= tolerance,
        "{what}: {count}/{total} = {rate:.4}, expected {expected:.4} ± {tolerance:.4}"
    );
}
