//! The job's working directory, as the worker and apps see it.
//!
//! Every output of a task (intermediate `mr-X-Y`, final `mr-out-Y`) is written
//! with [`FileStore::write_atomic`]: to a temporary file first, then renamed
//! into place. A worker that crashes half-way through leaves at most a stray
//! temporary file, never a truncated output, and a re-executed task replaces
//! the old file with an identical one in one step. Temporary names never start
//! with `mr-`, so they cannot be mistaken for outputs.
//!
//! [`crate::real::DiskStore`] is the real directory; [`crate::sim::MemStore`]
//! is an in-memory copy with the same crash semantics for simulations.

use std::future::Future;

/// Why a file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{name}: no such file")]
    NotFound { name: String },
    #[error("{name}: {source}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn io(name: &str, source: std::io::Error) -> StoreError {
        if source.kind() == std::io::ErrorKind::NotFound {
            StoreError::NotFound {
                name: name.to_string(),
            }
        } else {
            StoreError::Io {
                name: name.to_string(),
                source,
            }
        }
    }
}

/// A flat directory of named files.
pub trait FileStore: Send + Sync {
    /// The whole content of `name` (a relative name, or an absolute path in
    /// a real directory).
    fn read(&self, name: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Replaces `name` with `data` atomically: readers see the old content or
    /// all of the new one, and a crash before the rename leaves `name` alone.
    fn write_atomic(
        &self,
        name: &str,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn remove(&self, name: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The names of the files in the directory, sorted.
    fn list(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}
