//! The worker loop, shared by real processes and simulated nodes.
//!
//! Ask the coordinator for a task, run it, report it, repeat; exit when told
//! to, or when the coordinator is gone (Go's worker does the same when `call`
//! cannot dial). Everything outside the worker's own logic is a parameter:
//! the coordinator ([`CoordinatorApi`]), the OS ([`Env`]) and the directory
//! ([`FileStore`]), so the same code is unit-tested, simulated and shipped.
//!
//! Intermediate files hold one map task's pairs for one reduce bucket,
//! encoded with bincode 2 (compact and exact for any key or value; Go's lab
//! suggests JSON for the same job).

use std::time::Duration;

use crate::apps::{App, AppError, KeyValue};
use crate::env::Env;
use crate::hash::bucket;
use crate::protocol::{Assignment, CoordinatorApi, DoneReport, RpcError, TaskId, TaskRequest};
use crate::store::{FileStore, StoreError};

/// How long a worker waits before asking again after [`Assignment::Wait`].
/// Shorter than the coordinator's 1 s linger after the job, so idle workers
/// hear "exit" before it leaves.
pub const WAIT_POLL: Duration = Duration::from_millis(200);

// BEGIN SOLUTION
/// How many times in a row one call may fail with [`RpcError::Failed`]
/// before the worker gives up on the coordinator.
const MAX_CALL_FAILURES: u32 = 5;
// END SOLUTION

/// Why a worker stopped other than by being told to exit.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("coordinator gone: {0}")]
    CoordinatorGone(RpcError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("intermediate file {name} is corrupt: {reason}")]
    Corrupt { name: String, reason: String },
}

/// What a finished worker did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub maps: u64,
    pub reduces: u64,
}

/// The name of map task `map`'s output for reduce task `reduce`.
pub fn intermediate_name(map: usize, reduce: usize) -> String {
    format!("mr-{map}-{reduce}")
}

/// The name of reduce task `reduce`'s output.
pub fn output_name(reduce: usize) -> String {
    format!("mr-out-{reduce}")
}

/// Runs tasks until the coordinator says the job is done.
pub async fn run<C, E, S>(
    coordinator: &C,
    env: &E,
    store: &S,
    app: &App,
) -> Result<WorkerStats, WorkerError>
where
    C: CoordinatorApi,
    E: Env,
    S: FileStore,
{
    // BEGIN SOLUTION
    let me = env.pid();
    let mut stats = WorkerStats::default();
    loop {
        let assignment =
            call_with_retry(env, || coordinator.request_task(TaskRequest { worker: me })).await?;
        let task = match assignment {
            Assignment::Map {
                task,
                file,
                n_reduce,
            } => {
                run_map(env, store, app, task, &file, n_reduce).await?;
                stats.maps += 1;
                TaskId::Map(task)
            }
            Assignment::Reduce { task, n_map } => {
                run_reduce(env, store, app, task, n_map).await?;
                stats.reduces += 1;
                TaskId::Reduce(task)
            }
            Assignment::Wait => {
                env.sleep(WAIT_POLL).await;
                continue;
            }
            Assignment::Exit => return Ok(stats),
        };
        let report = DoneReport { worker: me, task };
        let ack = call_with_retry(env, || coordinator.report_done(report.clone())).await?;
        tracing::debug!(topic = "task", ?task, accepted = ack.accepted, "reported");
    }
    // HANDOUT
    // todo!("Lab 1: worker::run, ask for tasks, run them, report them done")
    // END SOLUTION
}

// BEGIN SOLUTION
/// Retries calls that failed on their own; gives up when the coordinator is
/// unreachable (it exited or crashed) or keeps failing.
async fn call_with_retry<E, T, F, Fut>(env: &E, mut call: F) -> Result<T, WorkerError>
where
    E: Env,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RpcError>>,
{
    let mut failures = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error @ RpcError::Unreachable(_)) => {
                return Err(WorkerError::CoordinatorGone(error));
            }
            Err(error) => {
                failures += 1;
                if failures >= MAX_CALL_FAILURES {
                    return Err(WorkerError::CoordinatorGone(error));
                }
                tracing::debug!(topic = "rpc", %error, failures, "retrying");
                env.sleep(WAIT_POLL).await;
            }
        }
    }
}
// END SOLUTION

/// Reads one input file, maps it, and writes `n_reduce` intermediate files
/// (empty ones too, so a reduce never mistakes a missing file for no data).
pub async fn run_map<E: Env, S: FileStore>(
    env: &E,
    store: &S,
    app: &App,
    task: usize,
    file: &str,
    n_reduce: usize,
) -> Result<(), WorkerError> {
    // BEGIN SOLUTION
    let contents = store.read(file).await?;
    let pairs = app.map(env, store, file, &contents).await?;
    let mut buckets: Vec<Vec<KeyValue>> = vec![Vec::new(); n_reduce];
    for kv in pairs {
        buckets[bucket(&kv.key, n_reduce)].push(kv);
    }
    for (reduce, pairs) in buckets.iter().enumerate() {
        let bytes = encode_pairs(pairs);
        store
            .write_atomic(&intermediate_name(task, reduce), bytes)
            .await?;
    }
    Ok(())
    // HANDOUT
    // todo!("Lab 1: worker::run_map, map one file into n_reduce intermediate files")
    // END SOLUTION
}

/// Gathers reduce task `task`'s pairs from every map, groups them by key and
/// writes `mr-out-<task>` with one `key value` line per key, sorted by key.
pub async fn run_reduce<E: Env, S: FileStore>(
    env: &E,
    store: &S,
    app: &App,
    task: usize,
    n_map: usize,
) -> Result<(), WorkerError> {
    // BEGIN SOLUTION
    let mut pairs = Vec::new();
    for map in 0..n_map {
        let name = intermediate_name(map, task);
        let bytes = store.read(&name).await?;
        pairs.extend(decode_pairs(&name, &bytes)?);
    }
    let output = reduce_sorted(env, store, app, pairs).await?;
    store.write_atomic(&output_name(task), output).await?;
    Ok(())
    // HANDOUT
    // todo!("Lab 1: worker::run_reduce, reduce one partition into mr-out-<task>")
    // END SOLUTION
}

/// Sorts pairs by key, reduces each group, and formats Go's `"%v %v\n"` lines.
/// Shared with `mrsequential`, so both produce identical lines.
pub async fn reduce_sorted<E: Env, S: FileStore>(
    env: &E,
    store: &S,
    app: &App,
    mut pairs: Vec<KeyValue>,
) -> Result<Vec<u8>, WorkerError> {
    // Stable, so values keep the order of the maps that produced them.
    pairs.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = String::new();
    let mut rest = pairs.as_slice();
    while let Some(first) = rest.first() {
        let len = rest.iter().take_while(|kv| kv.key == first.key).count();
        let values: Vec<String> = rest[..len].iter().map(|kv| kv.value.clone()).collect();
        let result = app.reduce(env, store, &first.key, &values).await?;
        out.push_str(&first.key);
        out.push(' ');
        out.push_str(&result);
        out.push('\n');
        rest = &rest[len..];
    }
    Ok(out.into_bytes())
}

// BEGIN SOLUTION
fn encode_pairs(pairs: &[KeyValue]) -> Vec<u8> {
    bincode::serde::encode_to_vec(pairs, bincode::config::standard())
        .expect("encoding strings into a Vec cannot fail")
}

fn decode_pairs(name: &str, bytes: &[u8]) -> Result<Vec<KeyValue>, WorkerError> {
    let corrupt = |reason: String| WorkerError::Corrupt {
        name: name.to_string(),
        reason,
    };
    let (pairs, used) =
        bincode::serde::decode_from_slice::<Vec<KeyValue>, _>(bytes, bincode::config::standard())
            .map_err(|e| corrupt(e.to_string()))?;
    if used != bytes.len() {
        return Err(corrupt(format!("{} trailing bytes", bytes.len() - used)));
    }
    Ok(pairs)
}
// END SOLUTION

// BEGIN SOLUTION
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intermediate_encoding_round_trips_and_rejects_garbage() {
        let pairs = vec![KeyValue::new("ключ", "1"), KeyValue::new("", "a b")];
        let bytes = encode_pairs(&pairs);
        assert_eq!(decode_pairs("x", &bytes).unwrap(), pairs);
        assert!(decode_pairs("x", &bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_pairs("x", &longer).is_err());
    }
}
// END SOLUTION
