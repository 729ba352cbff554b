//! Building the test binaries once and finding the tests in them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// A built test executable (`cargo test --no-run` artifact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestBinary {
    /// The package (`labrpc`, `raft`, ...).
    pub package: String,
    /// The target name (`go_labrpc`, or the library's crate name).
    pub target: String,
    /// The target kind: `lib`, `test`, `bin`, `example`, `bench`.
    pub kind: String,
    pub executable: PathBuf,
    /// The package root; cargo runs test binaries from there.
    pub manifest_dir: PathBuf,
}

impl TestBinary {
    /// The cargo option selecting this target (`--test go_labrpc`, `--lib`, ...).
    pub fn cargo_target_arg(&self) -> String {
        match self.kind.as_str() {
            "lib" | "proc-macro" | "rlib" | "cdylib" | "dylib" | "staticlib" => "--lib".into(),
            kind => format!("--{kind} {}", self.target),
        }
    }

    /// The name of this integration-test target (`tests/<name>.rs`), which
    /// a grading selector's `target/` names; `None` for the unit tests of a
    /// library or binary (a library's target is its crate's name, often the
    /// package's and its main test file's too: `paxos`).
    pub fn test_target(&self) -> Option<&str> {
        (self.kind == "test").then_some(self.target.as_str())
    }
}

/// One test in one binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// Index into the list of binaries.
    pub binary: usize,
    /// The libtest name (`basic`, `tests::parses`).
    pub name: String,
    /// Marked `#[ignore]`.
    pub ignored: bool,
    /// How the tools show it: the name, or `target/name` when two binaries
    /// have a test of that name.
    pub label: String,
}

/// The package name in a cargo package id: `path+file:///w/raft#0.1.0` (name =
/// the directory), `path+file:///w/dir#raft@0.1.0`, or the old
/// `raft 0.1.0 (path+file:///w/raft)`.
pub fn package_name(id: &str) -> String {
    if let Some((name, _)) = id.split_once(' ') {
        return name.to_string();
    }
    let (url, fragment) = id.rsplit_once('#').unwrap_or((id, ""));
    if let Some((name, _version)) = fragment.split_once('@') {
        return name.to_string();
    }
    if !fragment.is_empty() && !fragment.starts_with(|c: char| c.is_ascii_digit()) {
        return fragment.to_string();
    }
    let url = url.split('?').next().unwrap_or(url);
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(url)
        .to_string()
}

/// The test executables among cargo's `--message-format=json` lines.
pub fn test_binaries(messages: &str) -> Vec<TestBinary> {
    let mut out: Vec<TestBinary> = Vec::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
            continue;
        }
        let Some(executable) = message["executable"].as_str() else {
            continue;
        };
        let manifest = message["manifest_path"].as_str().unwrap_or_default();
        let binary = TestBinary {
            package: package_name(message["package_id"].as_str().unwrap_or_default()),
            target: message["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            kind: message["target"]["kind"][0]
                .as_str()
                .unwrap_or("test")
                .to_string(),
            executable: PathBuf::from(executable),
            manifest_dir: Path::new(manifest)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        };
        if !out.contains(&binary) {
            out.push(binary);
        }
    }
    out
}

/// The test names in `<bin> --list --format terse` output (`name: test`
/// lines; benchmarks and anything else are skipped).
pub fn parse_list(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.trim_end().strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// Whether a test is selected: like `cargo test`'s filters, a test matches if
/// any pattern is a substring of its name (or equals it, with `exact`); no
/// patterns select every test.
pub fn matches(name: &str, patterns: &[String], exact: bool) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| {
            if exact {
                name == p
            } else {
                name.contains(p.as_str())
            }
        })
}

/// Selects the tests to run from each binary's list of tests and of ignored
/// tests (`lists[i]` belongs to `binaries[i]`), and labels them.
pub fn select(
    binaries: &[TestBinary],
    lists: &[(Vec<String>, Vec<String>)],
    patterns: &[String],
    exact: bool,
    include_ignored: bool,
) -> Vec<TestCase> {
    let mut tests = Vec::new();
    for (binary, (all, ignored)) in lists.iter().enumerate() {
        for name in all {
            let is_ignored = ignored.contains(name);
            if (is_ignored && !include_ignored) || !matches(name, patterns, exact) {
                continue;
            }
            tests.push(TestCase {
                binary,
                name: name.clone(),
                ignored: is_ignored,
                label: name.clone(),
            });
        }
    }
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for test in &tests {
        *count.entry(test.name.clone()).or_default() += 1;
    }
    for test in &mut tests {
        if count[&test.name] > 1 {
            test.label = format!("{}/{}", binaries[test.binary].target, test.name);
        }
    }
    tests
}

/// Runs `cargo test --no-run --message-format=json-render-diagnostics` with
/// these extra arguments and returns the test binaries. Cargo's progress and
/// errors go to our stderr.
pub fn build(cargo: &str, args: &[String]) -> Result<Vec<TestBinary>, String> {
    let mut child = Command::new(cargo)
        .args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    let mut messages = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
            messages.push_str(&line);
            messages.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo test --no-run failed ({status})"));
    }
    Ok(test_binaries(&messages))
}

/// The environment cargo gives a test binary that the labs rely on.
pub fn cargo_env(binary: &TestBinary) -> Vec<(&'static str, String)> {
    vec![
        (
            "CARGO_MANIFEST_DIR",
            binary.manifest_dir.display().to_string(),
        ),
        ("CARGO_PKG_NAME", binary.package.clone()),
        ("CARGO_CRATE_NAME", binary.target.replace('-', "_")),
    ]
}

/// Lists a binary's tests and ignored tests.
pub fn list(binary: &TestBinary) -> Result<(Vec<String>, Vec<String>), String> {
    let run = |ignored: bool| -> Result<Vec<String>, String> {
        let mut command = Command::new(&binary.executable);
        command.args(["--list", "--format", "terse"]);
        if ignored {
            command.arg("--ignored");
        }
        let output = command
            .current_dir(&binary.manifest_dir)
            .envs(cargo_env(binary))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {}: {e}", binary.executable.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} --list failed ({}): {}",
                binary.executable.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(parse_list(&String::from_utf8_lossy(&output.stdout)))
    };
    Ok((run(false)?, run(true)?))
}

/// The workspace's target directory, from `cargo metadata`.
pub fn target_dir(cargo: &str, manifest_path: Option<&Path>) -> Option<PathBuf> {
    let mut command = Command::new(cargo);
    command.args(["metadata", "--no-deps", "--format-version", "1"]);
    if let Some(path) = manifest_path {
        command.arg("--manifest-path").arg(path);
    }
    let output = command.stderr(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let value: Value = serde_json::from_slice(&output.stdout).ok()?;
    value["target_directory"].as_str().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        assert_eq!(
            package_name("path+file:///work/main/labrpc#0.1.0"),
            "labrpc"
        );
        assert_eq!(
            package_name("path+file:///work/main/scripts#labtools@0.1.0"),
            "labtools"
        );
        assert_eq!(
            package_name("raft 0.1.0 (path+file:///work/main/raft)"),
            "raft"
        );
        assert_eq!(package_name("path+file:///w/x#y"), "y");
    }

    const MESSAGES: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/labrpc#0.1.0","manifest_path":"/w/labrpc/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"labrpc","src_path":"/w/labrpc/src/lib.rs"},"profile":{"test":false},"executable":null,"fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/labrpc#0.1.0","manifest_path":"/w/labrpc/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"labrpc","src_path":"/w/labrpc/src/lib.rs"},"profile":{"test":true},"executable":"/w/target/debug/deps/labrpc-aaaa","fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/labrpc#0.1.0","manifest_path":"/w/labrpc/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"go_labrpc","src_path":"/w/labrpc/tests/go_labrpc.rs"},"profile":{"test":true},"executable":"/w/target/debug/deps/go_labrpc-bbbb","fresh":false}
{"reason":"compiler-message","message":{}}
not json
{"reason":"build-finished","success":true}
"#;

    #[test]
    fn binaries_from_cargo_json() {
        let bins = test_binaries(MESSAGES);
        assert_eq!(bins.len(), 2);
        assert_eq!(bins[0].kind, "lib");
        assert_eq!(bins[0].cargo_target_arg(), "--lib");
        assert_eq!(bins[1].package, "labrpc");
        assert_eq!(bins[1].target, "go_labrpc");
        assert_eq!(bins[1].cargo_target_arg(), "--test go_labrpc");
        assert_eq!(
            bins[1].executable,
            PathBuf::from("/w/target/debug/deps/go_labrpc-bbbb")
        );
        assert_eq!(bins[1].manifest_dir, PathBuf::from("/w/labrpc"));
    }

    #[test]
    fn list_output() {
        let out = "basic: test\ntypes: test\nbench_x: bench\nmod_a::nested: test\n\n";
        assert_eq!(parse_list(out), ["basic", "types", "mod_a::nested"]);
        assert!(parse_list("").is_empty());
    }

    #[test]
    fn matching_like_cargo_test() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches("initial_election_2a", &p(&["2a"]), false));
        assert!(matches(
            "initial_election_2a",
            &p(&["2b", "election"]),
            false
        ));
        assert!(!matches("initial_election_2a", &p(&["2b"]), false));
        assert!(matches("anything", &[], false));
        assert!(!matches("basic_x", &p(&["basic"]), true));
        assert!(matches("basic", &p(&["basic"]), true));
    }

    #[test]
    fn selection_and_labels() {
        let bin = |target: &str| TestBinary {
            package: "p".into(),
            target: target.into(),
            kind: "test".into(),
            executable: PathBuf::new(),
            manifest_dir: PathBuf::new(),
        };
        let binaries = [bin("a"), bin("b")];
        let lists = [
            (
                vec!["basic".to_string(), "slow".to_string(), "other".to_string()],
                vec!["slow".to_string()],
            ),
            (vec!["basic".to_string(), "unique".to_string()], vec![]),
        ];
        let pats = vec!["basic".to_string(), "slow".to_string(), "uni".to_string()];
        let tests = select(&binaries, &lists, &pats, false, false);
        let labels: Vec<&str> = tests.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["a/basic", "b/basic", "unique"]);
        let tests = select(&binaries, &lists, &pats, false, true);
        let labels: Vec<&str> = tests.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["a/basic", "slow", "b/basic", "unique"]);
        assert!(tests[1].ignored);
    }
}
