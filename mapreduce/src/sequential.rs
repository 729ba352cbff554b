//! The sequential reference implementation (`mrsequential`).
//!
//! Map every input in turn, sort all pairs by key, reduce each group: the
//! output every distributed run is compared against. It reuses the worker's
//! map-side reading and [`crate::worker::reduce_sorted`], so the two can only
//! differ in how the work is split, which is exactly what the tests check.

use crate::apps::App;
use crate::env::Env;
use crate::store::FileStore;
use crate::worker::{WorkerError, reduce_sorted};

/// The single output file's name.
pub const OUTPUT: &str = "mr-out-0";

/// Runs the whole job and returns the content of `mr-out-0` (the caller writes
/// it, atomically, so a failed run leaves no output behind).
pub async fn run<E: Env, S: FileStore>(
    env: &E,
    store: &S,
    app: &App,
    files: &[String],
) -> Result<Vec<u8>, WorkerError> {
    let mut pairs = Vec::new();
    for file in files {
        let contents = store.read(file).await?;
        pairs.extend(app.map(env, store, file, &contents).await?);
    }
    reduce_sorted(env, store, app, pairs).await
}
