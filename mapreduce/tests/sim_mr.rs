//! The same properties as test-mr.sh, in labrpc's simulation.
//!
//! Coordinator and workers are simulated nodes on labrpc's network with an
//! in-memory file store and virtual time (see `mapreduce::sim`), so a crash
//! test that takes a minute of (virtual) time runs in milliseconds, and any
//! failure replays exactly: the runner prints `LAB_SEED=<n> cargo test …`.
//! The single tests draw a fresh seed each run (or `LAB_SEED`); the sweeps run
//! many fixed seeds (`MR_SIM_SEEDS=<n>` changes how many).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use labrpc::sim;
use mapreduce::apps::AppKind;
use mapreduce::sim::job::{JobOutcome, JobSpec, ProcessEnd, run_job, sequential_output};
use mrtools::corpus::{CorpusConfig, generate};

/// test-mr.sh's per-process limit, in virtual time.
const PROCESS_LIMIT: Duration = Duration::from_secs(45);

/// Eight small generated files with the Go lab's names.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let config = CorpusConfig {
        files: 8,
        bytes_per_file: 4_000,
        seed: 1,
    };
    generate(&config)
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect()
}

#[allow(clippy::disallowed_methods)] // allowed: how many seeds to run, read before any simulation starts
fn seeds() -> u64 {
    std::env::var("MR_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
}

/// A job of `app` with `workers` workers over [`inputs`], nothing crashed
/// on purpose.
async fn job(app: AppKind, workers: usize) -> JobOutcome {
    run_job(JobSpec::new(app, inputs(), workers)).await
}

/// Runs `app` with `workers` workers and checks the output against the
/// sequential run of `reference`.
async fn matches_sequential(spec: JobSpec, reference: AppKind) -> JobOutcome {
    let expected = sequential_output(reference, &spec.inputs).await;
    let outcome = run_job(spec).await;
    assert!(
        outcome.output == expected,
        "output differs from sequential {reference}"
    );
    outcome
}

async fn wc_property() {
    let outcome = matches_sequential(JobSpec::new(AppKind::Wc, inputs(), 3), AppKind::Wc).await;
    assert!(outcome.coordinator_exit_at < PROCESS_LIMIT);
    assert_eq!(
        outcome.tasks_reissued, 0,
        "no task times out without crashes"
    );
}

async fn job_count_property() {
    let outcome = job(AppKind::Jobcount, 4).await;
    assert_eq!(outcome.output, ["a 8"], "each map task ran exactly once");
}

async fn early_exit_property() {
    let outcome = job(AppKind::EarlyExit, 3).await;
    assert!(!outcome.output.is_empty());
    assert_eq!(
        outcome.first_exit.output, outcome.output,
        "{:?} exited at {:?}, before the output was final",
        outcome.first_exit.process, outcome.first_exit.at
    );
}

/// test-mr.sh's crash test: one crash worker plus three restart loops.
async fn crash_property() {
    let spec = JobSpec {
        restart_loops: 3,
        ..JobSpec::new(AppKind::Crash, inputs(), 1)
    };
    let outcome = matches_sequential(spec, AppKind::Nocrash).await;
    tracing::info!(
        topic = "test",
        "{} workers started, {} crashed, {} tasks reissued, done at {:?}",
        outcome.workers_started,
        outcome.workers_crashed,
        outcome.tasks_reissued,
        outcome.coordinator_exit_at
    );
}

#[test]
fn wc_sim() {
    sim::run(wc_property());
}

#[test]
fn indexer_sim() {
    sim::run(async {
        matches_sequential(
            JobSpec::new(AppKind::Indexer, inputs(), 2),
            AppKind::Indexer,
        )
        .await;
    });
}

#[test]
fn map_parallelism_sim() {
    sim::run(async {
        let output = job(AppKind::Mtiming, 2).await.output;
        let times = output.iter().filter(|l| l.starts_with("times-")).count();
        assert_eq!(times, 2, "both workers ran maps: {output:?}");
        assert!(
            output
                .iter()
                .any(|l| l.starts_with("parallel") && l.contains(" 2")),
            "maps ran in parallel: {output:?}"
        );
    });
}

#[test]
fn reduce_parallelism_sim() {
    sim::run(async {
        let output = job(AppKind::Rtiming, 2).await.output;
        let parallel = output
            .iter()
            .filter(|l| l.len() >= 3 && l.as_bytes()[0].is_ascii_lowercase() && &l[1..3] == " 2")
            .count();
        assert!(parallel >= 2, "reduces ran in parallel: {output:?}");
    });
}

#[test]
fn job_count_sim() {
    sim::run(job_count_property());
}

#[test]
fn early_exit_sim() {
    sim::run(early_exit_property());
}

#[test]
fn crash_sim() {
    sim::run(crash_property());
}

/// Workers killed at random moments (mid-read, between a temporary write and
/// its rename, mid-RPC) while restart loops replace them: the output must
/// still be exactly the sequential one.
async fn random_kills_property() {
    let spec = JobSpec {
        restart_loops: 3,
        chaos_kills: 4,
        // A slow disk: a map takes ~2 s, so kills land mid-task.
        io_latency: Duration::from_millis(200),
        ..JobSpec::new(AppKind::Wc, inputs(), 2)
    };
    let outcome = matches_sequential(spec, AppKind::Wc).await;
    KILLS.fetch_add(outcome.workers_crashed as u64, Ordering::SeqCst);
    REISSUED.fetch_add(outcome.tasks_reissued, Ordering::SeqCst);
}

static KILLS: AtomicU64 = AtomicU64::new(0);
static REISSUED: AtomicU64 = AtomicU64::new(0);

#[test]
fn random_kills_sim() {
    sim::run(random_kills_property());
}

#[test]
fn random_kills_sim_seed_sweep() {
    sweep("random_kills_sim_seed_sweep", || {
        Box::pin(random_kills_property())
    });
    // Over many seeds, workers were killed, some of them mid-task.
    assert!(KILLS.load(Ordering::SeqCst) > 0);
    assert!(REISSUED.load(Ordering::SeqCst) > 0);
}

fn sweep(name: &str, property: fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) {
    for seed in 1..=seeds() {
        sim::Builder::new()
            .seed(seed)
            .test_name(name)
            .run(property());
    }
}

#[test]
fn crash_sim_seed_sweep() {
    sweep("crash_sim_seed_sweep", || Box::pin(crash_property()));
}

#[test]
fn job_count_sim_seed_sweep() {
    sweep(
        "job_count_sim_seed_sweep",
        || Box::pin(job_count_property()),
    );
}

#[test]
fn early_exit_sim_seed_sweep() {
    sweep("early_exit_sim_seed_sweep", || {
        Box::pin(early_exit_property())
    });
}

/// A simulated job is a pure function of its seed.
#[test]
fn same_seed_same_run() {
    let run = || sim::Builder::new().seed(7).run(crash_property());
    let (a, b) = (run(), run());
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.elapsed, b.elapsed);
}

/// The first process to finish in a healthy job is a worker told to exit.
#[test]
fn workers_exit_before_the_coordinator() {
    sim::run(async {
        let outcome = job(AppKind::Wc, 3).await;
        assert_eq!(
            outcome.first_exit.process,
            ProcessEnd::WorkerExited { ok: true }
        );
    });
}
