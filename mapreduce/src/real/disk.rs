//! [`FileStore`] on a real directory (the worker's current directory).
//!
//! Atomic writes use `tempfile` in the same directory (so the rename never
//! crosses file systems) and `persist`, which is `rename(2)`. A worker killed
//! between the two leaves a `.tmpXXXXXX` file and no partial output, exactly
//! the guarantee Go's lab asks for with `os.CreateTemp` + `os.Rename`.
//! Operations block the thread; see [`super::client`] for why that is fine.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::store::{FileStore, StoreError};

/// A directory on disk. Relative names resolve against it; absolute ones are
/// used as they are (input files may live anywhere).
#[derive(Clone, Debug)]
pub struct DiskStore {
    dir: PathBuf,
}

impl DiskStore {
    pub fn new(dir: impl Into<PathBuf>) -> DiskStore {
        DiskStore { dir: dir.into() }
    }

    /// The process's current directory, where Go's workers put their files.
    pub fn current_dir() -> DiskStore {
        DiskStore::new(".")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The blocking body of [`FileStore::write_atomic`].
    pub fn write_atomic_sync(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        let io = |e| StoreError::io(name, e);
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io)?;
        temp.write_all(data).map_err(io)?;
        temp.persist(self.path(name)).map_err(|e| io(e.error))?;
        Ok(())
    }

    fn list_sync(&self) -> Result<Vec<String>, StoreError> {
        let io = |e| StoreError::io(&self.dir.display().to_string(), e);
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            names.push(
                entry
                    .map_err(io)?
                    .file_name()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        names.sort_unstable();
        Ok(names)
    }
}

impl FileStore for DiskStore {
    fn read(&self, name: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send {
        std::future::ready(std::fs::read(self.path(name)).map_err(|e| StoreError::io(name, e)))
    }

    fn write_atomic(
        &self,
        name: &str,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(self.write_atomic_sync(name, &data))
    }

    fn remove(&self, name: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(
            std::fs::remove_file(self.path(name)).map_err(|e| StoreError::io(name, e)),
        )
    }

    fn list(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        std::future::ready(self.list_sync())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::new(dir.path());
        block_on(store.write_atomic("mr-out-0", b"old".to_vec())).unwrap();
        block_on(store.write_atomic("mr-out-0", b"new".to_vec())).unwrap();
        assert_eq!(block_on(store.read("mr-out-0")).unwrap(), b"new");
        assert_eq!(block_on(store.list()).unwrap(), ["mr-out-0"]);
        block_on(store.remove("mr-out-0")).unwrap();
        assert!(matches!(
            block_on(store.read("mr-out-0")),
            Err(StoreError::NotFound { .. })
        ));
    }
}
