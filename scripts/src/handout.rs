//! Generating the student handout: the workspace with every lab's reference
//! solution cut out along its markers (see [`crate::markers`]).
//!
//! The workspace's crates are found with `cargo metadata`, so a lab added
//! later is handed out without changes here. Every member is a *lab* unless it
//! is one of the [`INFRASTRUCTURE`] crates, which students use but do not
//! write and which are copied whole. A lab's files (its sources, tests,
//! harness, manifest, scripts) and the docs are stripped of their solution
//! regions; a lab without a single marker is copied whole and reported loudly
//! (it would hand out its solution). Nothing is written to the output until
//! the whole handout is ready: it is built in a temporary directory next to
//! the destination and renamed into place at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::markers::{self, Stripped, Syntax};

/// The crates students use but do not write: copied whole, never stripped.
/// (`rsm` is not among them: some courses have students write it.) Any
/// other crate joins them with `[package.metadata.handout] role =
/// "infrastructure"` in its Cargo.toml.
pub const INFRASTRUCTURE: &[&str] = &[
    "labrpc",
    "linearizability",
    "labtools",
    "labtest",
    "workspace-hack",
];

/// Files copied whole even though they are in a language with markers:
/// the instructors' guide shows the markers as examples.
pub const VERBATIM_FILES: &[&str] = &["docs/instructors.md"];

/// Whether a file exists only for the reference, wherever it is: the
/// mutants' patches (`scripts/mutants/<lab>/*.patch`, see
/// [`crate::mutants`]) quote the reference code they change, so they are
/// left out even though the scripts are infrastructure.
///
/// So is everything under `.ci/` but `.ci/run` (which the student's CI
/// script replaces): the reference's own CI material, such as
/// `.ci/ban-probe`, the crate of deliberately banned calls that proves the
/// clippy bans fire (docs/instructors.md, "What to hand out per lab").
pub fn is_reference_only(rel: &str) -> bool {
    (rel.ends_with(".patch") && rel.split('/').any(|part| part == "mutants"))
        || (rel.starts_with(".ci/") && rel != ".ci/run")
}

/// The handout's README (the reference's speaks to instructors): a table
/// row per lab, of which the handout keeps those whose crate it contains
/// ([`student_readme`]).
pub const STUDENT_README: &str = include_str!("../templates/README.md");
/// The handout's CI script; `{{INFRASTRUCTURE_PACKAGES}}` becomes the
/// infrastructure crates' `-p` options ([`student_ci`]).
pub const STUDENT_CI: &str = include_str!("../templates/ci-run");
/// The placeholder in [`STUDENT_CI`].
pub const INFRASTRUCTURE_PLACEHOLDER: &str = "{{INFRASTRUCTURE_PACKAGES}}";

/// The inner attribute put at the top of a stubbed lab's `src/lib.rs`: the
/// stubs (`todo!()` bodies) leave parameters, fields and helpers unused, and
/// the handout must pass `clippy -D warnings`.
pub const SKELETON_ALLOW: &str = "#![allow(dead_code, unused_variables, unused_imports, unused_mut)] // handout: the stubs leave these unused; delete this line once your code is complete";

/// One workspace member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// Its directory relative to the workspace root (`raft`, `paxos-series/paxos`).
    pub dir: PathBuf,
    /// Declared infrastructure in its manifest (`[package.metadata.handout]`).
    pub declared_infrastructure: bool,
}

impl Package {
    pub fn is_infrastructure(&self) -> bool {
        self.declared_infrastructure || INFRASTRUCTURE.contains(&self.name.as_str())
    }
}

/// The workspace's members, from `cargo metadata --no-deps`.
pub fn packages(cargo: &str, root: &Path) -> Result<Vec<Package>, String> {
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run {cargo} metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed ({})", output.status));
    }
    let value: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed something unreadable: {e}"))?;
    let root_dir = value["workspace_root"]
        .as_str()
        .map(PathBuf::from)
        .unwrap_or_else(|| root.to_path_buf());
    let mut out = Vec::new();
    for package in value["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default().to_string();
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest
            .parent()
            .and_then(|d| d.strip_prefix(&root_dir).ok())
            .map(Path::to_path_buf)
            .ok_or_else(|| format!("package {name} lies outside the workspace"))?;
        let declared_infrastructure =
            package["metadata"]["handout"]["role"].as_str() == Some("infrastructure");
        out.push(Package {
            name,
            dir,
            declared_infrastructure,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The workspace's files, relative to `root`: what git tracks plus untracked
/// files it does not ignore; without git, every file outside `target/` and
/// `.git/`.
pub fn files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let git = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .stderr(Stdio::null())
        .output();
    let mut out: Vec<PathBuf> = match git {
        Ok(output) if output.status.success() => output
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| root.join(p).is_file())
            .collect(),
        _ => {
            let mut found = Vec::new();
            walk(root, Path::new(""), &mut found)
                .map_err(|e| format!("listing {}: {e}", root.display()))?;
            found
        }
    };
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        let rel = rel.join(&name);
        if rel == Path::new("target") || name == ".git" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(root, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// What the handout does with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Copy it unchanged.
    Copy,
    /// Write this text instead.
    Write(String),
    /// Leave it out (a solution file).
    Drop,
}

/// The generated handout, in memory.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Every file of the workspace and what becomes of it.
    pub files: BTreeMap<PathBuf, Action>,
    /// Labs stubbed along their markers: name -> (regions, solution files).
    pub stubbed: BTreeMap<String, (usize, usize)>,
    /// Labs handed out with their reference on request (`--keep-solution`).
    pub kept: Vec<String>,
    /// Labs without any marker: handed out with their solution.
    pub unmarked: Vec<String>,
    /// Infrastructure crates copied whole.
    pub infrastructure: Vec<String>,
}

/// The package a path belongs to: the one with the longest directory prefix.
fn owner<'a>(packages: &'a [Package], path: &Path) -> Option<&'a Package> {
    packages
        .iter()
        .filter(|p| !p.dir.as_os_str().is_empty() && path.starts_with(&p.dir))
        .max_by_key(|p| p.dir.components().count())
}

/// Plans the handout of the workspace at `root`: which files are copied,
/// stripped or left out. `keep` names the labs that keep their reference.
/// Every marker error of every file is reported, not only the first.
pub fn plan(
    root: &Path,
    packages: &[Package],
    files: &[PathBuf],
    keep: &[String],
) -> Result<Plan, String> {
    let labs: BTreeSet<&str> = packages
        .iter()
        .filter(|p| !p.is_infrastructure())
        .map(|p| p.name.as_str())
        .collect();
    let unknown: Vec<&String> = keep.iter().filter(|k| !labs.contains(k.as_str())).collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "--keep-solution: no lab named {} (the labs: {})",
            names.join(", "),
            labs.iter().copied().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut plan = Plan {
        kept: keep.to_vec(),
        ..Plan::default()
    };
    let mut errors = Vec::new();
    let mut marked: BTreeSet<String> = BTreeSet::new();
    for path in files {
        let rel = path.to_string_lossy().replace('\\', "/");
        let package = owner(packages, path);
        let action = if is_reference_only(&rel) {
            Action::Drop
        } else if rel == "README.md" {
            // Filled in below, once every file's fate is known.
            Action::Write(String::new())
        } else if rel == ".ci/run" {
            Action::Write(student_ci(STUDENT_CI, packages))
        } else if VERBATIM_FILES.contains(&rel.as_str())
            || package.is_some_and(|p| p.is_infrastructure() || keep.contains(&p.name))
        {
            Action::Copy
        } else if let Some(syntax) = Syntax::for_path(&rel) {
            let bytes = fs::read(root.join(path)).map_err(|e| format!("reading {rel}: {e}"))?;
            match String::from_utf8(bytes) {
                Err(_) => Action::Copy,
                Ok(text) => match markers::strip(&text, syntax) {
                    Err(e) => {
                        errors.push(format!("{rel}:{e}"));
                        Action::Copy
                    }
                    Ok(Stripped::Unmarked) => Action::Copy,
                    Ok(Stripped::Text { text, regions }) => {
                        if let Some(p) = package {
                            marked.insert(p.name.clone());
                            plan.stubbed.entry(p.name.clone()).or_default().0 += regions;
                        }
                        Action::Write(text)
                    }
                    Ok(Stripped::SolutionFile) => {
                        if let Some(p) = package {
                            marked.insert(p.name.clone());
                            plan.stubbed.entry(p.name.clone()).or_default().1 += 1;
                        }
                        Action::Drop
                    }
                },
            }
        } else {
            Action::Copy
        };
        plan.files.insert(path.clone(), action);
    }
    if !errors.is_empty() {
        return Err(format!(
            "unbalanced or misplaced handout markers (nothing was written):\n  {}",
            errors.join("\n  ")
        ));
    }
    for p in packages {
        if p.is_infrastructure() {
            plan.infrastructure.push(p.name.clone());
        } else if !keep.contains(&p.name) && !marked.contains(&p.name) {
            plan.unmarked.push(p.name.clone());
        }
    }
    if plan.files.contains_key(Path::new("README.md")) {
        let present = |target: &str| {
            let target = Path::new(target.trim_end_matches('/'));
            plan.files
                .iter()
                .any(|(path, action)| *action != Action::Drop && path.starts_with(target))
        };
        let readme = student_readme(STUDENT_README, packages, keep, present);
        plan.files
            .insert(PathBuf::from("README.md"), Action::Write(readme));
    }
    // The skeletons' crate roots get the allow line (after the crate docs).
    for p in packages {
        if !plan.stubbed.contains_key(&p.name) {
            continue;
        }
        let lib = p.dir.join("src/lib.rs");
        let text = match plan.files.get(&lib) {
            Some(Action::Write(text)) => text.clone(),
            Some(Action::Copy) => fs::read_to_string(root.join(&lib))
                .map_err(|e| format!("reading {}: {e}", lib.display()))?,
            _ => continue,
        };
        plan.files
            .insert(lib, Action::Write(insert_allow(&text, SKELETON_ALLOW)));
    }
    Ok(plan)
}

/// The relative links of a line of Markdown: (start of `[`, end after `)`,
/// target) for every `[text](target)` whose target is not a URL or anchor.
fn relative_links(line: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = line[from..].find('[').map(|i| from + i) {
        let Some(mid) = line[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(close) = line[mid + 2..].find(')').map(|i| mid + 2 + i) else {
            break;
        };
        let target = &line[mid + 2..close];
        if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:") {
            out.push((open, close + 1, target));
        }
        from = close + 1;
    }
    out
}

/// The student README from its template: a table row whose first link is
/// a crate directory stays only if that crate is in the workspace (so a lab
/// that has not landed, or was left out, is not listed); a lab kept with its
/// reference says so; a link to a file the handout lacks (a guide not yet
/// written) becomes plain text.
pub fn student_readme(
    template: &str,
    packages: &[Package],
    kept: &[String],
    present: impl Fn(&str) -> bool,
) -> String {
    let mut out = String::with_capacity(template.len());
    for line in template.split_inclusive('\n') {
        let links = relative_links(line);
        let is_row = line.trim_start().starts_with('|');
        let crate_link = links
            .first()
            .filter(|_| is_row)
            .map(|&(_, end, target)| (end, target));
        let mut text = line.to_string();
        if let Some((end, target)) = crate_link
            && !target.ends_with(".md")
        {
            let Some(package) = packages.iter().find(|p| p.dir == Path::new(target)) else {
                continue; // not in this workspace: no row
            };
            if kept.contains(&package.name) {
                text.insert_str(end, " (given: handed out working)");
            }
        }
        // Links to what the handout does not have become their text.
        for (start, end, target) in relative_links(&text.clone()).into_iter().rev() {
            if !present(target) {
                let label = text[start + 1..end]
                    .split("](")
                    .next()
                    .unwrap_or("")
                    .to_string();
                text.replace_range(start..end, &format!("{label} (not in this handout)"));
            }
        }
        out.push_str(&text);
    }
    out
}

/// The student CI script from its template: the infrastructure crates'
/// tests by name (`-p labrpc -p labtest ...`), whatever crates those are.
pub fn student_ci(template: &str, packages: &[Package]) -> String {
    let options: Vec<String> = packages
        .iter()
        .filter(|p| p.is_infrastructure())
        .map(|p| format!("-p {}", p.name))
        .collect();
    template.replace(INFRASTRUCTURE_PLACEHOLDER, &options.join(" "))
}

/// What is wrong with the handout's README and CI script: labs the README
/// does not list (warnings: a lab landed before its row), and errors (a
/// link to nothing, a placeholder left, an infrastructure crate whose tests
/// the CI script does not run).
pub fn template_problems(out: &Path, packages: &[Package]) -> (Vec<String>, Vec<String>) {
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    let readme = fs::read_to_string(out.join("README.md")).unwrap_or_default();
    let listed: BTreeSet<&str> = readme
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .filter_map(|l| relative_links(l).first().map(|&(_, _, t)| t))
        .collect();
    for p in packages.iter().filter(|p| !p.is_infrastructure()) {
        let dir = p.dir.to_string_lossy().replace('\\', "/");
        if !listed.contains(dir.as_str()) && !readme.contains(&format!("]({dir})")) {
            warnings.push(format!(
                "the student README does not list lab {} ({dir}): add its row to scripts/templates/README.md",
                p.name
            ));
        }
    }
    for line in readme.lines() {
        for (_, _, target) in relative_links(line) {
            if !out.join(target).exists() {
                errors.push(format!(
                    "README.md links to {target}, which the handout lacks"
                ));
            }
        }
    }
    let ci = fs::read_to_string(out.join(".ci/run")).unwrap_or_default();
    for text in [&readme, &ci] {
        if text.contains("{{") {
            errors.push("a template placeholder `{{...}}` is left in the handout".to_string());
        }
    }
    for p in packages.iter().filter(|p| p.is_infrastructure()) {
        if !ci
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w == ["-p", p.name.as_str()])
        {
            errors.push(format!(
                ".ci/run does not run the tests of infrastructure crate {}",
                p.name
            ));
        }
    }
    (warnings, errors)
}

/// Puts `attribute` after a crate root's leading inner docs and attributes.
pub fn insert_allow(text: &str, attribute: &str) -> String {
    let mut out = String::with_capacity(text.len() + attribute.len() + 1);
    let mut inserted = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let header = t.starts_with("//!") || t.starts_with("#![") || t.trim().is_empty();
        if !inserted && !header {
            out.push_str(attribute);
            out.push('\n');
            inserted = true;
        }
        out.push_str(line);
    }
    if !inserted {
        out.push_str(attribute);
        out.push('\n');
    }
    out
}

/// Writes the planned handout to `out`, which must not exist or be an empty
/// directory. The files go to a temporary directory beside `out` first, so
/// a failure leaves nothing behind.
pub fn write(root: &Path, plan: &Plan, out: &Path) -> Result<(), String> {
    if out.exists() {
        let empty = fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !out.is_dir() || !empty {
            return Err(format!(
                "{} already exists and is not an empty directory: choose a new one (nothing was written)",
                out.display()
            ));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".handout-")
        .tempdir_in(&parent)
        .map_err(|e| {
            format!(
                "creating a temporary directory in {}: {e}",
                parent.display()
            )
        })?;
    // Only the directories of files it writes: a directory whose files are
    // all left out (`.ci/ban-probe/src`) is left out too, not left empty.
    for (path, action) in plan.files.iter().filter(|(_, a)| **a != Action::Drop) {
        let dest = staging.path().join(path);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        match action {
            Action::Drop => unreachable!("filtered out above"),
            Action::Copy => {
                fs::copy(root.join(path), &dest)
                    .map_err(|e| format!("copying {}: {e}", path.display()))?;
            }
            Action::Write(text) => {
                fs::write(&dest, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
                // Keep the executable bit (scripts).
                if let Ok(meta) = fs::metadata(root.join(path)) {
                    let _ = fs::set_permissions(&dest, meta.permissions());
                }
            }
        }
    }
    format_rust(staging.path(), plan)?;
    // Every copied file keeps its source's modification time, so a handout
    // written again to the same place (CI's) leaves cargo's build of it
    // fresh; a rewritten file is also no older than this generator, whose
    // changes change it.
    let generator = std::env::current_exe()
        .and_then(fs::metadata)
        .and_then(|m| m.modified())
        .ok();
    for (path, action) in plan.files.iter().filter(|(_, a)| **a != Action::Drop) {
        let source = fs::metadata(root.join(path))
            .and_then(|m| m.modified())
            .ok();
        let stamp = match (action, source, generator) {
            (Action::Write(_), Some(s), Some(g)) => Some(s.max(g)),
            (_, s, _) => s,
        };
        if let Some(modified) = stamp {
            let _ = fs::File::options()
                .write(true)
                .open(staging.path().join(path))
                .and_then(|f| f.set_modified(modified));
        }
    }
    // .ci/run is executable even where the reference's was not tracked.
    let ci = staging.path().join(".ci/run");
    if ci.exists() {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&ci, fs::Permissions::from_mode(0o755));
    }
    let staged = staging.keep();
    if out.exists() {
        fs::remove_dir(out).map_err(|e| format!("replacing {}: {e}", out.display()))?;
    }
    fs::rename(&staged, out).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        format!("moving the handout into {}: {e}", out.display())
    })
}

/// Runs rustfmt over the Rust files the handout rewrote: removing a region
/// can leave a blank line rustfmt would not (before a closing brace, say),
/// and the handout must pass `cargo fmt --check` as the reference does.
/// Without rustfmt the files stay as they are, with a warning.
fn format_rust(staging: &Path, plan: &Plan) -> Result<(), String> {
    let files: Vec<PathBuf> = plan
        .files
        .iter()
        .filter(|(path, action)| {
            matches!(action, Action::Write(_)) && path.extension().is_some_and(|e| e == "rs")
        })
        .map(|(path, _)| staging.join(path))
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let output = Command::new(&rustfmt)
        .args(["--edition", "2024", "--"])
        .args(&files)
        .stdin(Stdio::null())
        .output();
    match output {
        Err(e) => {
            eprintln!(
                "handout: warning: could not run {rustfmt} ({e}): the handout is not formatted"
            );
            Ok(())
        }
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "rustfmt failed on the handout's Rust files (is a region cut in the middle of an item?):\n{}",
            String::from_utf8_lossy(&o.stderr).replace(&staging.display().to_string(), "")
        )),
    }
}

/// A handout's leaks: marker lines left in a lab's or the docs' files, and
/// reference-only files present. Empty when the handout is clean.
pub fn leaks(out: &Path, plan: &Plan, packages: &[Package]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, action) in &plan.files {
        let rel = path.to_string_lossy();
        let dest = out.join(path);
        if *action == Action::Drop {
            if dest.exists() {
                found.push(format!("{rel}: a solution file is in the handout"));
            }
            continue;
        }
        let owner_kept = owner(packages, path)
            .is_some_and(|p| p.is_infrastructure() || plan.kept.contains(&p.name));
        if owner_kept || VERBATIM_FILES.contains(&rel.as_ref()) {
            continue;
        }
        let Some(syntax) = Syntax::for_path(&rel) else {
            continue;
        };
        if let Ok(text) = fs::read_to_string(&dest)
            && markers::has_markers(&text, syntax)
        {
            found.push(format!("{rel}: still has a solution marker"));
        }
    }
    found
}

/// A human summary of a plan.
pub fn summary(plan: &Plan) -> String {
    let mut s = String::new();
    for (lab, (regions, files)) in &plan.stubbed {
        let _ = writeln!(
            s,
            "  {lab:<16} stubbed: {regions} solution regions, {files} solution-only files left out"
        );
    }
    for lab in &plan.kept {
        let _ = writeln!(s, "  {lab:<16} kept with its reference (--keep-solution)");
    }
    if !plan.infrastructure.is_empty() {
        let _ = writeln!(
            s,
            "  infrastructure copied whole: {}",
            plan.infrastructure.join(", ")
        );
    }
    for lab in &plan.unmarked {
        let _ = writeln!(
            s,
            "  WARNING: {lab} has no handout markers: it is handed out WITH ITS SOLUTION"
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, dir: &str) -> Package {
        Package {
            name: name.into(),
            dir: dir.into(),
            declared_infrastructure: false,
        }
    }

    /// A small workspace on disk: one infrastructure crate, two labs (one
    /// marked, one not), docs.
    fn fixture() -> (tempfile::TempDir, Vec<Package>, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("Cargo.toml", "[workspace]\n"),
            ("README.md", "reference readme\n"),
            ("labrpc/src/lib.rs", "// BEGIN SOLUTION\nkept as is\n"),
            (
                "lab/src/lib.rs",
                "//! A lab.\n\n// BEGIN SOLUTION\nmod secret;\n// END SOLUTION\npub fn f() -> u32 {\n    // BEGIN SOLUTION\n    1\n    // HANDOUT\n    // todo!(\"1A: f\")\n    // END SOLUTION\n}\n",
            ),
            ("lab/src/secret.rs", "// SOLUTION FILE\npub fn s() {}\n"),
            ("lab/tests/t.rs", "#[test]\nfn t() {}\n"),
            ("plain/src/lib.rs", "pub fn g() {}\n"),
            (
                "docs/lab.md",
                "# Lab\n<!-- BEGIN SOLUTION -->\ninternals\n<!-- END SOLUTION -->\n",
            ),
        ];
        let mut list = Vec::new();
        add_files(dir.path(), &mut list, &files);
        let packages = vec![
            pkg("labrpc", "labrpc"),
            pkg("lab", "lab"),
            pkg("plain", "plain"),
        ];
        (dir, packages, list)
    }

    /// Writes each (path, text) of `files` under `root` and lists the path.
    fn add_files(root: &Path, list: &mut Vec<PathBuf>, files: &[(&str, &str)]) {
        for (path, text) in files {
            let p = root.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
            list.push(path.into());
        }
    }

    /// The fixture's handout (with `extra` files), planned and written.
    struct Written {
        /// The fixture workspace.
        dir: tempfile::TempDir,
        packages: Vec<Package>,
        plan: Plan,
        /// Holds the handout, and nothing else once it is written.
        out_parent: tempfile::TempDir,
        out: PathBuf,
    }

    fn written(extra: &[(&str, &str)]) -> Written {
        let (dir, packages, mut files) = fixture();
        add_files(dir.path(), &mut files, extra);
        let plan = plan(dir.path(), &packages, &files, &[]).unwrap();
        let out_parent = tempfile::tempdir().unwrap();
        let out = out_parent.path().join("handout");
        write(dir.path(), &plan, &out).unwrap();
        Written {
            dir,
            packages,
            plan,
            out_parent,
            out,
        }
    }

    #[test]
    fn plans_a_handout() {
        let (dir, packages, files) = fixture();
        let plan = plan(dir.path(), &packages, &files, &[]).unwrap();
        assert_eq!(plan.files[Path::new("lab/src/secret.rs")], Action::Drop);
        assert_eq!(plan.files[Path::new("labrpc/src/lib.rs")], Action::Copy);
        let Action::Write(lib) = &plan.files[Path::new("lab/src/lib.rs")] else {
            panic!("lab/src/lib.rs is rewritten");
        };
        assert_eq!(
            lib,
            &format!(
                "//! A lab.\n\n{SKELETON_ALLOW}\npub fn f() -> u32 {{\n    todo!(\"1A: f\")\n}}\n"
            )
        );
        assert_eq!(
            plan.files[Path::new("docs/lab.md")],
            Action::Write("# Lab\n".into())
        );
        assert_eq!(plan.stubbed["lab"], (2, 1));
        assert_eq!(plan.unmarked, ["plain"]);
        assert_eq!(plan.infrastructure, ["labrpc"]);
        assert!(summary(&plan).contains("WARNING: plain has no handout markers"));
    }

    #[test]
    fn mutants_are_left_out() {
        let (dir, mut packages, mut files) = fixture();
        packages.push(pkg("labtools", "scripts"));
        let mutants = [
            ("scripts/mutants/run", "x\n"),
            ("scripts/mutants/lab/bug.patch", "x\n"),
        ];
        add_files(dir.path(), &mut files, &mutants);
        let plan = plan(dir.path(), &packages, &files, &[]).unwrap();
        assert_eq!(
            plan.files[Path::new("scripts/mutants/lab/bug.patch")],
            Action::Drop
        );
        assert_eq!(plan.files[Path::new("scripts/mutants/run")], Action::Copy);
        assert!(!is_reference_only("lab/src/patch.rs"));
        assert!(is_reference_only(".ci/ban-probe/src/lib.rs"));
        assert!(is_reference_only(".ci/ban-probe/Cargo.toml"));
        assert!(!is_reference_only(".ci/run"));
    }

    #[test]
    fn keep_solution_and_unknown_labs() {
        let (dir, packages, files) = fixture();
        let plan = plan(dir.path(), &packages, &files, &["lab".into()]).unwrap();
        assert_eq!(plan.files[Path::new("lab/src/secret.rs")], Action::Copy);
        assert!(plan.stubbed.is_empty());
        let e = super::plan(dir.path(), &packages, &files, &["nope".into()]).unwrap_err();
        assert!(e.contains("no lab named nope"), "{e}");
        let e = super::plan(dir.path(), &packages, &files, &["labrpc".into()]).unwrap_err();
        assert!(e.contains("no lab named labrpc"), "{e}");
    }

    #[test]
    fn marker_errors_name_every_file() {
        let (dir, packages, mut files) = fixture();
        fs::write(dir.path().join("lab/src/bad.rs"), "// BEGIN SOLUTION\n").unwrap();
        fs::write(dir.path().join("docs/bad.md"), "<!-- END SOLUTION -->\n").unwrap();
        files.push("lab/src/bad.rs".into());
        files.push("docs/bad.md".into());
        let e = plan(dir.path(), &packages, &files, &[]).unwrap_err();
        assert!(e.contains("lab/src/bad.rs:line 1"), "{e}");
        assert!(e.contains("docs/bad.md:line 1"), "{e}");
    }

    #[test]
    fn writes_atomically_and_refuses_a_full_directory() {
        let Written {
            dir,
            packages,
            plan,
            out_parent,
            out,
        } = written(&[]);
        assert!(!out.join("lab/src/secret.rs").exists());
        assert!(out.join("lab/tests/t.rs").exists());
        let readme = fs::read_to_string(out.join("README.md")).unwrap();
        assert!(readme.starts_with("# Distributed-systems labs"), "{readme}");
        // The fixture has none of the template's labs: no rows, and links
        // to files it lacks are plain text.
        assert!(!readme.contains("](raft)"), "{readme}");
        assert!(
            readme.contains("testing.md (not in this handout)"),
            "{readme}"
        );
        assert!(leaks(&out, &plan, &packages).is_empty());
        // A second time: refused, and the first handout is untouched.
        let e = write(dir.path(), &plan, &out).unwrap_err();
        assert!(e.contains("not an empty directory"), "{e}");
        assert!(out.join("lab/tests/t.rs").exists());
        // No staging directory is left beside it.
        let left: Vec<_> = fs::read_dir(out_parent.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        // An empty directory is fine.
        let empty = out_parent.path().join("empty");
        fs::create_dir(&empty).unwrap();
        write(dir.path(), &plan, &empty).unwrap();
        assert!(empty.join("Cargo.toml").exists());
    }

    #[test]
    fn leaks_are_found() {
        let handout = written(&[]);
        let out = &handout.out;
        fs::write(out.join("lab/src/secret.rs"), "leaked").unwrap();
        fs::write(out.join("docs/lab.md"), "<!-- BEGIN SOLUTION -->\n").unwrap();
        let found = leaks(out, &handout.plan, &handout.packages);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    /// A directory whose files are all left out (the ban probe's sources, a
    /// lab's folder of solution files) is not in the handout, not even empty.
    #[test]
    fn leaves_out_directories_it_empties() {
        let handout = written(&[
            (".ci/ban-probe/src/lib.rs", "pub fn banned() {}\n"),
            (".ci/ban-probe/Cargo.toml", "[package]\n"),
            (
                "lab/src/solution/mod.rs",
                "// SOLUTION FILE\npub fn s() {}\n",
            ),
        ]);
        assert!(handout.out.join("lab/src/lib.rs").exists());
        for gone in [".ci", "lab/src/solution"] {
            assert!(!handout.out.join(gone).exists(), "{gone} is in the handout");
        }
        let mut empty = Vec::new();
        let mut dirs = vec![handout.out.clone()];
        while let Some(dir) = dirs.pop() {
            let entries: Vec<PathBuf> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            if entries.is_empty() {
                empty.push(dir.clone());
            }
            dirs.extend(entries.into_iter().filter(|p| p.is_dir()));
        }
        assert!(empty.is_empty(), "empty directories: {empty:?}");
    }

    #[test]
    fn readme_rows_follow_the_workspace() {
        let template = "# T\n\n| Part | Crate | Guide |\n|---|---|---|\n\
            | 2A | [`raft`](raft) | [g](docs/raft.md) |\n\
            | 3A | [`kvraft`](kvraft) | [g](docs/kv.md) |\n\
            | P4A | [`shardmaster`](paxos-series/shardmaster) | [g](docs/sm.md) |\n\
            See [docs](docs/README.md) and [web](https://example.org).\n";
        let packages = vec![pkg("raft", "raft"), pkg("kvraft", "kvraft")];
        let present = |t: &str| ["raft", "kvraft", "docs/raft.md", "docs/README.md"].contains(&t);
        let readme = student_readme(template, &packages, &["raft".into()], present);
        assert!(
            readme.contains(
                "| 2A | [`raft`](raft) (given: handed out working) | [g](docs/raft.md) |"
            ),
            "{readme}"
        );
        assert!(
            readme.contains("| 3A | [`kvraft`](kvraft) | g (not in this handout) |"),
            "{readme}"
        );
        assert!(!readme.contains("shardmaster"), "{readme}");
        assert!(readme.contains("[docs](docs/README.md) and [web](https://example.org)"));
    }

    #[test]
    fn ci_names_every_infrastructure_crate() {
        let packages = vec![
            pkg("labrpc", "labrpc"),
            pkg("raft", "raft"),
            pkg("labtest", "labtest"),
        ];
        let ci = student_ci("cargo test {{INFRASTRUCTURE_PACKAGES}}\n", &packages);
        assert_eq!(ci, "cargo test -p labrpc -p labtest\n");
        let shipped = student_ci(STUDENT_CI, &packages);
        assert!(
            shipped.contains("cargo test --locked -p labrpc -p labtest"),
            "{shipped}"
        );
        assert!(!shipped.contains("{{"));
    }

    #[test]
    fn template_problems_are_found() {
        let (dir, packages, files) = fixture();
        let plan = plan(dir.path(), &packages, &files, &[]).unwrap();
        let out_parent = tempfile::tempdir().unwrap();
        let out = out_parent.path().join("h");
        write(dir.path(), &plan, &out).unwrap();
        let (warnings, errors) = template_problems(&out, &packages);
        // The fixture's labs have no rows in the shipped template.
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("lab lab"), "{warnings:?}");
        // The fixture has no .ci/run: its infrastructure's tests are not run.
        assert!(
            errors.iter().any(|e| e.contains("crate labrpc")),
            "{errors:?}"
        );
        fs::write(out.join("README.md"), "see [x](nowhere.md) {{X}}\n").unwrap();
        let (_, errors) = template_problems(&out, &packages);
        assert!(
            errors.iter().any(|e| e.contains("nowhere.md")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("placeholder")),
            "{errors:?}"
        );
    }

    #[test]
    fn allow_goes_after_the_crate_docs() {
        assert_eq!(
            insert_allow("//! Docs.\n#![forbid(x)]\n\nmod a;\n", "#![allow(y)]"),
            "//! Docs.\n#![forbid(x)]\n\n#![allow(y)]\nmod a;\n"
        );
        assert_eq!(insert_allow("", "#![allow(y)]"), "#![allow(y)]\n");
    }
}
