//! The RPC messages, file names, the app type and the errors (Go's
//! `common.go`).

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use mapreduce::apps::KeyValue;
use mapreduce::store::StoreError;

/// Which phase a job belongs to (Go's `Map`/`Reduce` job types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobType {
    Map,
    Reduce,
}

/// `Worker.DoJob`: run map or reduce job `job_number` of `file`.
/// `num_other_phase` is nReduce for a map job and nMap for a reduce job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoJobArgs {
    pub file: String,
    pub operation: JobType,
    pub job_number: usize,
    pub num_other_phase: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoJobReply {
    pub ok: bool,
}

/// `Worker.Shutdown` (and `MapReduce.Shutdown`, the master's own).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownArgs {}

/// How many jobs the worker did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShutdownReply {
    pub njobs: u64,
    pub ok: bool,
}

/// `MapReduce.Register`: the worker listening at `worker` is ready for jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterArgs {
    pub worker: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterReply {
    pub ok: bool,
}

/// The 2015 lab's `hash`: FNV-1a, 32 bits, *not* masked (Lab 1 of 2023 masks
/// the sign bit; here a key goes to `ihash(key) % nReduce` unmasked).
pub fn ihash(key: &str) -> u32 {
    mapreduce::hash::fnv1a_32(key.as_bytes())
}

/// Split file `m` of `file`: map job `m`'s input.
pub fn split_name(file: &str, map_job: usize) -> String {
    format!("mrtmp.{file}-{map_job}")
}

/// What map job `m` wrote for reduce job `r`.
pub fn map_name(file: &str, map_job: usize, reduce_job: usize) -> String {
    format!("mrtmp.{file}-{map_job}-{reduce_job}")
}

/// Reduce job `r`'s output.
pub fn reduce_name(file: &str, reduce_job: usize) -> String {
    format!("mrtmp.{file}-res-{reduce_job}")
}

/// The merged output.
pub fn merge_name(file: &str) -> String {
    format!("mrtmp.{file}")
}

/// Go's `Map(value string) *list.List`, as a future so that a test's Map can
/// take virtual time (UCLA's parallelism test sleeps 10 ms in it).
pub type MapFn = Arc<dyn Fn(String) -> BoxFuture<'static, Vec<KeyValue>> + Send + Sync>;
/// Go's `Reduce(key string, values *list.List) string`.
pub type ReduceFn = Arc<dyn Fn(&str, &[String]) -> String + Send + Sync>;

/// The Map and Reduce functions a worker runs.
#[derive(Clone)]
pub struct App {
    pub map: MapFn,
    pub reduce: ReduceFn,
}

impl App {
    /// An app from two plain functions.
    pub fn new(
        map: impl Fn(&str) -> Vec<KeyValue> + Send + Sync + 'static,
        reduce: impl Fn(&str, &[String]) -> String + Send + Sync + 'static,
    ) -> App {
        let map = Arc::new(map);
        App {
            map: Arc::new(move |value: String| {
                let kvs = map(&value);
                Box::pin(std::future::ready(kvs))
            }),
            reduce: Arc::new(reduce),
        }
    }

    /// Word count (Part I's `main/wc.go`): Lab 1's wc app.
    pub fn wc() -> App {
        App::new(mapreduce::apps::wc_map, |_, values| {
            mapreduce::apps::wc_reduce(values)
        })
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("App { .. }")
    }
}

/// Why a job, or the whole run, failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{name} is corrupt: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("bad job: {0}")]
    BadJob(String),
}
