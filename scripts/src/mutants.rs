//! Mutation testing of the labs' reference code: how often do the tests catch a
//! planted bug?
//!
//! A *mutant* is a small patch to the reference (`git diff` format) that plants
//! one classic bug, e.g. a follower that advances its commit index past what the
//! leader's message proved. The `mutants` tool (`scripts/mutants/run`) keeps one
//! scratch copy of the workspace and one scratch target directory for every
//! mutant, so that between two mutants only the patched crate and its dependents
//! rebuild. For each mutant it brings the copy back to the workspace's state,
//! applies the patch there (never in the workspace itself), builds the chosen
//! tests with the chosen features (`raft/no-internal-asserts` turns off the
//! reference's own assertions, which a student's code does not have), and runs
//! them over N seeds with dstest's runner. A seed *catches* the mutant if some
//! test fails on it.
//!
//! This module holds the file-level parts (the copy, the patch, its
//! description); the binary in `src/bin/mutants.rs` runs the tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One mutant: a patch file and what it plants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutant {
    /// The file name without `.patch`.
    pub name: String,
    pub path: PathBuf,
    /// The first non-empty line before the patch's first `diff --git` line.
    pub description: String,
}

/// An error about a mutant file or the scratch copy, with what went wrong.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn io_error(what: &str, path: &Path, error: io::Error) -> Error {
    Error(format!("{what} {}: {error}", path.display()))
}

/// The description of a patch: the first non-empty line before its first
/// `diff --git` line (git apply ignores that text). Errors if the file holds
/// no `diff --git` at all.
pub fn description(text: &str) -> Result<String, String> {
    let mut description = None;
    for line in text.lines() {
        if line.starts_with("diff --git ") {
            return description.ok_or_else(|| {
                "no description: put one line saying what bug it plants before the first `diff --git`".to_string()
            });
        }
        if description.is_none() && !line.trim().is_empty() {
            description = Some(line.trim().to_string());
        }
    }
    Err("not a patch: no `diff --git` line (make one with `git diff > NAME.patch`)".to_string())
}

/// Reads the mutants named on the command line: patch files, or directories
/// whose `*.patch` files are taken in name order.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Mutant>, Error> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut in_dir: Vec<PathBuf> = fs::read_dir(path)
                .map_err(|e| io_error("cannot read", path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "patch"))
                .collect();
            in_dir.sort();
            if in_dir.is_empty() {
                return Err(Error(format!("{}: no *.patch files", path.display())));
            }
            files.extend(in_dir);
        } else {
            files.push(path.clone());
        }
    }
    let mut names = BTreeSet::new();
    let mut mutants = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).map_err(|e| io_error("cannot read", &path, e))?;
        let description =
            description(&text).map_err(|e| Error(format!("{}: {e}", path.display())))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("mutant")
            .to_string();
        if !names.insert(name.clone()) {
            return Err(Error(format!("two mutants are named {name}")));
        }
        mutants.push(Mutant {
            name,
            path,
            description,
        });
    }
    Ok(mutants)
}

/// Directories never copied: build output and version control.
fn skipped(name: &str) -> bool {
    name == "target" || name == ".git"
}

/// Every file under `root` (relative paths), skipping `target` and `.git`.
fn files_under(root: &Path) -> Result<BTreeSet<PathBuf>, Error> {
    let mut out = BTreeSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in fs::read_dir(&dir).map_err(|e| io_error("cannot read", &dir, e))? {
            let entry = entry.map_err(|e| io_error("cannot read", &dir, e))?;
            let name = entry.file_name();
            if skipped(&name.to_string_lossy()) {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| io_error("cannot stat", &entry.path(), e))?;
            if kind.is_dir() {
                stack.push(rel.join(&name));
            } else if kind.is_file() {
                out.insert(rel.join(&name));
            }
            // Symbolic links and other special files are not copied.
        }
    }
    Ok(out)
}

/// The workspace's files as they were when the run began, in memory (a
/// workspace is a few megabytes without `target`): every mutant starts from
/// this state, so editing the workspace while mutants run changes nothing.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    files: BTreeMap<PathBuf, (Vec<u8>, fs::Permissions)>,
}

impl Snapshot {
    /// Reads every file under `root` except `target` and `.git`.
    pub fn take(root: &Path) -> Result<Snapshot, Error> {
        let mut files = BTreeMap::new();
        for rel in files_under(root)? {
            let path = root.join(&rel);
            let bytes = fs::read(&path).map_err(|e| io_error("cannot read", &path, e))?;
            let mode = fs::metadata(&path)
                .map_err(|e| io_error("cannot stat", &path, e))?
                .permissions();
            files.insert(rel, (bytes, mode));
        }
        Ok(Snapshot { files })
    }

    /// How many files it holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Makes `copy` hold exactly these files. Files whose contents are
    /// already equal are left alone, so that their modification times stay
    /// and cargo rebuilds only the crates a previous patch changed. Returns
    /// how many files were written or removed.
    pub fn sync(&self, copy: &Path) -> Result<usize, Error> {
        fs::create_dir_all(copy).map_err(|e| io_error("cannot create", copy, e))?;
        let mut changed = 0;
        for (rel, (bytes, mode)) in &self.files {
            let to = copy.join(rel);
            if fs::read(&to).ok().as_deref() == Some(&bytes[..]) {
                continue;
            }
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
            }
            fs::write(&to, bytes).map_err(|e| io_error("cannot write", &to, e))?;
            fs::set_permissions(&to, mode.clone()).map_err(|e| io_error("cannot chmod", &to, e))?;
            changed += 1;
        }
        for rel in files_under(copy)? {
            if !self.files.contains_key(&rel) {
                let path = copy.join(&rel);
                fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}

/// Makes `copy` hold exactly the files of the workspace at `root` now; see
/// [`Snapshot::sync`].
pub fn sync(root: &Path, copy: &Path) -> Result<usize, Error> {
    Snapshot::take(root)?.sync(copy)
}

/// `git apply` in `dir` (which is not a repository, though it may sit inside
/// one: discovery stops at `dir`, so paths stay relative to it).
fn git_apply(dir: &Path, patch: &Path, check: bool) -> Result<(), Error> {
    let patch = patch
        .canonicalize()
        .map_err(|e| io_error("cannot find", patch, e))?;
    let ceiling = dir.parent().unwrap_or(dir);
    let mut command = Command::new("git");
    command
        .arg("apply")
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    if check {
        command.arg("--check");
    }
    let output = command
        .arg(&patch)
        .output()
        .map_err(|e| Error(format!("cannot run git apply: {e}")))?;
    if !output.status.success() {
        return Err(Error(format!(
            "{} does not apply to the workspace (has the code it patches changed? \
             re-make it with `git diff`):\n{}",
            patch.display(),
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    Ok(())
}

/// Applies the mutant's patch to the scratch copy `dir`, all or nothing: a
/// patch that does not apply is an error naming it, and changes nothing.
pub fn apply(dir: &Path, mutant: &Mutant) -> Result<(), Error> {
    git_apply(dir, &mutant.path, true)?;
    git_apply(dir, &mutant.path, false)
}

/// The command that replays one catching run in the workspace itself: apply
/// the patch, run the one test with the seed, take the patch out again.
pub fn replay_command(
    mutant: &Mutant,
    package: &str,
    target_arg: &str,
    test: &str,
    seed: u64,
    features: &[String],
) -> String {
    let features = if features.is_empty() {
        String::new()
    } else {
        format!(" --features {}", features.join(","))
    };
    let patch = mutant.path.display();
    format!(
        "git apply {patch} && LAB_SEED={seed} cargo test -p {package}{features} {target_arg} -- --exact {test}; git apply -R {patch}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "\
A follower commits past what it shares with the leader.

diff --git a/f.txt b/f.txt
--- a/f.txt
+++ b/f.txt
@@ -1 +1 @@
-one
+two
";

    #[test]
    fn descriptions() {
        assert_eq!(
            description(PATCH).as_deref(),
            Ok("A follower commits past what it shares with the leader.")
        );
        assert!(
            description("diff --git a/x b/x\n").is_err(),
            "no description"
        );
        assert!(description("just text\n").is_err(), "not a patch");
    }

    #[test]
    fn sync_copies_restores_and_removes() {
        let root = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("a/target")).unwrap();
        fs::write(root.path().join("a/x.rs"), "x").unwrap();
        fs::write(root.path().join("a/target/big"), "built").unwrap();
        fs::write(root.path().join("top"), "t").unwrap();
        assert_eq!(sync(root.path(), copy.path()).unwrap(), 2);
        assert!(!copy.path().join("a/target").exists(), "target is skipped");
        // Unchanged files are not written again.
        assert_eq!(sync(root.path(), copy.path()).unwrap(), 0);
        // A patched file is restored, a file a patch added is removed.
        fs::write(copy.path().join("a/x.rs"), "mutated").unwrap();
        fs::write(copy.path().join("new.rs"), "n").unwrap();
        assert_eq!(sync(root.path(), copy.path()).unwrap(), 2);
        assert_eq!(fs::read_to_string(copy.path().join("a/x.rs")).unwrap(), "x");
        assert!(!copy.path().join("new.rs").exists());
        // Edits made after the snapshot do not reach the copy.
        let snapshot = Snapshot::take(root.path()).unwrap();
        fs::write(root.path().join("a/x.rs"), "edited later").unwrap();
        fs::write(copy.path().join("a/x.rs"), "mutated").unwrap();
        assert_eq!(snapshot.sync(copy.path()).unwrap(), 1);
        assert_eq!(fs::read_to_string(copy.path().join("a/x.rs")).unwrap(), "x");
    }

    #[test]
    fn patches_apply_or_fail_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("copy");
        fs::create_dir(&work).unwrap();
        fs::write(work.join("f.txt"), "one\n").unwrap();
        let patch = dir.path().join("m.patch");
        fs::write(&patch, PATCH).unwrap();
        let mutants = load(std::slice::from_ref(&patch)).unwrap();
        assert_eq!(mutants[0].name, "m");
        apply(&work, &mutants[0]).unwrap();
        assert_eq!(fs::read_to_string(work.join("f.txt")).unwrap(), "two\n");
        // Applying again fails (the context is gone) and says which patch.
        let error = apply(&work, &mutants[0]).unwrap_err().to_string();
        assert!(error.contains("m.patch does not apply"), "{error}");
        assert_eq!(fs::read_to_string(work.join("f.txt")).unwrap(), "two\n");
    }

    #[test]
    fn replay() {
        let mutant = Mutant {
            name: "m".into(),
            path: PathBuf::from("scripts/mutants/raft/m.patch"),
            description: String::new(),
        };
        assert_eq!(
            replay_command(
                &mutant,
                "raft",
                "--test raft_2c",
                "figure8_2c",
                7,
                &["raft/no-internal-asserts".into()]
            ),
            "git apply scripts/mutants/raft/m.patch && LAB_SEED=7 cargo test -p raft \
             --features raft/no-internal-asserts --test raft_2c -- --exact figure8_2c; \
             git apply -R scripts/mutants/raft/m.patch"
        );
    }
}
