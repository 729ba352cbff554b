//! [`FileStore`] in memory, with the crash semantics of the real one.
//!
//! Why not a temp directory per simulated test? Disk I/O would make a seed
//! sweep slow and would put wall-clock-dependent state (leftovers, inode
//! reuse) into a run that must replay exactly. An in-memory map is fast and
//! deterministic; what matters is that it *fails* like a disk: a write first
//! creates a visible temporary file, then takes some virtual time (by default
//! 1 ms plus 1 ms per 64 KiB), then renames. A worker killed during that window leaves
//! the temporary file behind and the target untouched, exactly what a real
//! crash between `write` and `rename` does. Reads take virtual time too, so
//! kills can land mid-task. Only usable inside a `labrpc::sim` run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use labrpc::sim;

use crate::output::{is_output, sorted_lines};
use crate::store::{FileStore, StoreError};

#[derive(Debug, Default)]
struct Files {
    files: BTreeMap<String, Vec<u8>>,
    next_temp: u64,
}

/// A shared in-memory directory. Clones share the same files.
#[derive(Clone, Debug)]
pub struct MemStore {
    inner: Arc<Mutex<Files>>,
    latency: Duration,
}

impl Default for MemStore {
    fn default() -> Self {
        MemStore::with_latency(DEFAULT_LATENCY)
    }
}

/// Fixed cost of one read or write: a fast local disk.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(1);

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// A store whose every read or write takes `latency` (plus 1 ms per
    /// 64 KiB): a slow disk makes tasks long enough for kills to land inside.
    pub fn with_latency(latency: Duration) -> MemStore {
        MemStore {
            inner: Arc::default(),
            latency,
        }
    }

    /// Virtual time one read or write of `len` bytes takes.
    fn io_time(&self, len: usize) -> Duration {
        self.latency + Duration::from_millis((len / (64 * 1024)) as u64)
    }

    fn files(&self) -> MutexGuard<'_, Files> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a file in place at once (test setup).
    pub fn insert(&self, name: &str, data: Vec<u8>) {
        self.files().files.insert(name.to_string(), data);
    }

    /// A file's content, if it exists.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.files().files.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.files().files.keys().cloned().collect()
    }

    /// The sorted, non-empty lines of every `mr-out*` file, right now.
    pub fn output_lines(&self) -> Vec<String> {
        let files = self.files();
        sorted_lines(
            files
                .files
                .iter()
                .filter(|(name, _)| is_output(name))
                .map(|(_, data)| data.as_slice()),
        )
    }
}

impl FileStore for MemStore {
    fn read(&self, name: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send {
        let name = name.to_string();
        let store = self.clone();
        async move {
            let data = store.get(&name).ok_or(StoreError::NotFound { name })?;
            sim::sleep(store.io_time(data.len())).await;
            Ok(data)
        }
    }

    fn write_atomic(
        &self,
        name: &str,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let name = name.to_string();
        let store = self.clone();
        async move {
            let temp = {
                let mut files = store.files();
                files.next_temp += 1;
                let temp = format!(".tmp-{}", files.next_temp);
                files.files.insert(temp.clone(), data);
                temp
            };
            let len = store.files().files.get(&temp).map_or(0, Vec::len);
            sim::sleep(store.io_time(len)).await; // a crash here leaves only the temp file
            let mut files = store.files();
            if let Some(data) = files.files.remove(&temp) {
                files.files.insert(name, data);
            }
            Ok(())
        }
    }

    fn remove(&self, name: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let removed = self.files().files.remove(name);
        let result = match removed {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound {
                name: name.to_string(),
            }),
        };
        std::future::ready(result)
    }

    fn list(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        std::future::ready(Ok(self.names()))
    }
}
