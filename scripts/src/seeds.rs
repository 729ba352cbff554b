//! Planning the runs: which test, which iteration, which seed, in what order.

use std::collections::BTreeSet;

use rand::Rng;

/// Random seeds stay below this so they are short enough to type (the labs'
/// own fresh seeds use the same bound).
pub const SEED_BOUND: u64 = 1_000_000_000_000;

/// One planned run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// Index of the test in the list of selected tests.
    pub test: usize,
    /// 0-based iteration of this test.
    pub iteration: u64,
    pub seed: u64,
}

/// Where seeds come from.
#[derive(Clone, Copy, Debug)]
pub enum SeedSource {
    /// Iteration `i` of every test runs with seed `start + i`: a reproducible sweep.
    Sequential { start: u64 },
    /// Fresh random seeds, distinct within each test.
    Random,
}

/// Plans `iterations` runs of each of `tests` tests.
///
/// By default the runs are interleaved round-robin (iteration 0 of every test,
/// then iteration 1, ...) so every test makes progress and the per-test
/// statistics stay balanced when the run is cut short; `sequential` runs all
/// iterations of the first test, then the second, ... With several workers the
/// same test may run in parallel with itself either way.
pub fn plan(
    tests: usize,
    iterations: u64,
    sequential: bool,
    seeds: SeedSource,
    rng: &mut impl Rng,
) -> Vec<Job> {
    let seeds_of_test = |rng: &mut _| -> Vec<u64> {
        match seeds {
            SeedSource::Sequential { start } => {
                (0..iterations).map(|i| start.wrapping_add(i)).collect()
            }
            SeedSource::Random => {
                let mut seen = BTreeSet::new();
                let mut out = Vec::new();
                while (out.len() as u64) < iterations {
                    let seed = Rng::random_range(rng, 0..SEED_BOUND);
                    if seen.insert(seed) {
                        out.push(seed);
                    }
                }
                out
            }
        }
    };
    let per_test: Vec<Vec<u64>> = (0..tests).map(|_| seeds_of_test(rng)).collect();
    let job = |test: usize, iteration: u64| Job {
        test,
        iteration,
        seed: per_test[test][iteration as usize],
    };
    let mut jobs = Vec::new();
    if sequential {
        for test in 0..tests {
            for iteration in 0..iterations {
                jobs.push(job(test, iteration));
            }
        }
    } else {
        for iteration in 0..iterations {
            for test in 0..tests {
                jobs.push(job(test, iteration));
            }
        }
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn sequential_seeds_are_a_sweep() {
        let jobs = plan(
            2,
            3,
            false,
            SeedSource::Sequential { start: 100 },
            &mut rng(),
        );
        let got: Vec<(usize, u64, u64)> =
            jobs.iter().map(|j| (j.test, j.iteration, j.seed)).collect();
        assert_eq!(
            got,
            [
                (0, 0, 100),
                (1, 0, 100),
                (0, 1, 101),
                (1, 1, 101),
                (0, 2, 102),
                (1, 2, 102)
            ]
        );
    }

    #[test]
    fn sequential_order() {
        let jobs = plan(2, 2, true, SeedSource::Sequential { start: 0 }, &mut rng());
        let got: Vec<(usize, u64)> = jobs.iter().map(|j| (j.test, j.seed)).collect();
        assert_eq!(got, [(0, 0), (0, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn random_seeds_are_distinct_and_short() {
        let jobs = plan(3, 200, false, SeedSource::Random, &mut rng());
        assert_eq!(jobs.len(), 600);
        for test in 0..3 {
            let seeds: BTreeSet<u64> = jobs
                .iter()
                .filter(|j| j.test == test)
                .map(|j| j.seed)
                .collect();
            assert_eq!(seeds.len(), 200);
            assert!(seeds.iter().all(|&s| s < SEED_BOUND));
        }
        // Different tests draw different seeds.
        assert_ne!(jobs[0].seed, jobs[1].seed);
    }

    #[test]
    fn nothing_to_plan() {
        assert!(plan(0, 5, false, SeedSource::Random, &mut rng()).is_empty());
        assert!(plan(5, 0, true, SeedSource::Random, &mut rng()).is_empty());
    }
}
