#![allow(clippy::disallowed_methods)] // allowed: a test of the workspace's configuration, outside any simulation
//! The determinism bans (DEVELOPERS.md, rule 2) are enforced, not advisory.
//!
//! - Every workspace member inherits the workspace's lints (`[lints]
//!   workspace = true`), and the workspace denies clippy's three
//!   `disallowed_*` lints, so a banned item is an error in every crate, also
//!   in a crate added later (the members are read from `cargo metadata`).
//! - `.ci/ban-probe` uses every item clippy.toml bans, one function each.
//!   Clippy on it must report every banned path of clippy.toml by name, as an
//!   error, and every probe function at least once. A ban that silently stops
//!   working (a path that no longer resolves, a feature that moved the item)
//!   fails here. This runs clippy on a separate crate (tens of seconds the
//!   first time), so it is `#[ignore]`d; `.ci/run` runs it:
//!   `cargo test -p labtools --test bans -- --ignored`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("scripts/ is inside the workspace")
        .to_path_buf()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// The lines of the TOML table `[name]`, up to the next table.
fn table<'a>(text: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let header = format!("[{name}]");
    let mut lines = text.lines().skip_while(|l| l.trim() != header);
    lines.next()?;
    Some(
        lines
            .take_while(|l| !l.trim_start().starts_with('['))
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect(),
    )
}

#[test]
fn the_workspace_denies_the_bans() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let lints = table(&manifest, "workspace.lints.clippy").expect("[workspace.lints.clippy]");
    for lint in [
        "disallowed_methods",
        "disallowed_types",
        "disallowed_macros",
    ] {
        assert!(
            lints.contains(&format!("{lint} = \"deny\"").as_str()),
            "[workspace.lints.clippy] must set {lint} = \"deny\"; it has {lints:?}"
        );
    }
}

#[test]
fn every_member_inherits_the_workspace_lints() {
    // The members as the handout reads them (`cargo metadata --no-deps`).
    let members = labtools::handout::packages(&cargo(), &root()).expect("run cargo metadata");
    let mut missing = Vec::new();
    for member in &members {
        let path = root().join(&member.dir).join("Cargo.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let inherits = table(&text, "lints").is_some_and(|lines| lines == ["workspace = true"]);
        if !inherits {
            missing.push(path.display().to_string());
        }
    }
    assert!(
        members.len() >= 18,
        "only {} members found: is this the workspace?",
        members.len()
    );
    assert!(
        missing.is_empty(),
        "these members do not say `[lints]\\nworkspace = true` (so the bans are not errors there): {missing:?}"
    );
}

/// Every `path = "..."` of clippy.toml's disallowed-* lists.
fn banned_paths() -> Vec<String> {
    let config = std::fs::read_to_string(root().join("clippy.toml")).unwrap();
    config
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once("path = \"").map(|(_, rest)| rest))
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

/// The probe's functions: name and first line (1-based); each runs to the line
/// before the next one.
fn probe_functions(source: &str) -> Vec<(String, usize)> {
    source
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let rest = line
                .strip_prefix("pub fn ")
                .or_else(|| line.strip_prefix("pub async fn "))?;
            let name = rest.split(['(', '<']).next().unwrap();
            Some((name.to_string(), i + 1))
        })
        .collect()
}

#[test]
#[ignore = "runs clippy on .ci/ban-probe (tens of seconds cold); .ci/run runs it"]
fn clippy_reports_every_banned_item_in_the_probe() {
    let probe = root().join(".ci/ban-probe");
    if !probe.join("Cargo.toml").exists() {
        // A student handout leaves the probe out (reference CI material).
        println!("skipped: no .ci/ban-probe in this workspace (a handout?)");
        return;
    }
    let output = Command::new(cargo())
        .args(["clippy", "--quiet", "--locked", "--message-format=json"])
        .arg("--manifest-path")
        .arg(probe.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("ban-probe"))
        .output()
        .expect("run cargo clippy");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "clippy passed the probe, which uses every banned item: the bans are not errors\n{stderr}"
    );
    // (line, level, message) of every disallowed-* diagnostic.
    let mut reported = Vec::new();
    let mut others = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" {
            continue;
        }
        let diagnostic = &message["message"];
        let text = diagnostic["message"].as_str().unwrap_or("").to_string();
        let code = diagnostic["code"]["code"].as_str().unwrap_or("");
        let level = diagnostic["level"].as_str().unwrap_or("").to_string();
        let line = diagnostic["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["is_primary"] == true))
            .and_then(|span| span["line_start"].as_u64())
            .unwrap_or(0) as usize;
        if code.starts_with("clippy::disallowed_") {
            reported.push((line, level, text));
        } else if !text.starts_with("aborting due to") && !text.contains("previous error") {
            others.push(format!("{level}: {text}"));
        }
    }
    println!(
        "clippy on .ci/ban-probe: {} disallowed-* diagnostics",
        reported.len()
    );
    assert!(others.is_empty(), "other diagnostics: {others:#?}");
    let not_errors: Vec<_> = reported.iter().filter(|(_, l, _)| l != "error").collect();
    assert!(not_errors.is_empty(), "not errors: {not_errors:#?}");

    // Every banned path is reported by name.
    let banned = banned_paths();
    assert!(
        banned.len() >= 40,
        "only {} bans in clippy.toml",
        banned.len()
    );
    let unreported: Vec<&String> = banned
        .iter()
        .filter(|path| {
            let named = format!("`{path}`");
            !reported.iter().any(|(_, _, text)| text.contains(&named))
        })
        .collect();
    assert!(
        unreported.is_empty(),
        "banned in clippy.toml but not reported on the probe: {unreported:?}\nreported: {reported:#?}"
    );

    // Every probe function is reported at least once.
    let source = std::fs::read_to_string(probe.join("src/lib.rs")).unwrap();
    let functions = probe_functions(&source);
    let mut per_function: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (name, start)) in functions.iter().enumerate() {
        let end = functions.get(i + 1).map_or(usize::MAX, |(_, next)| *next);
        let hits = reported
            .iter()
            .filter(|(line, _, _)| (*start..end).contains(line))
            .count();
        per_function.insert(name, hits);
    }
    let silent: Vec<_> = per_function.iter().filter(|(_, n)| **n == 0).collect();
    assert!(
        silent.is_empty(),
        "probe functions whose banned item clippy let through: {silent:?}"
    );
    println!(
        "{} banned paths, {} probe functions, every one reported as an error",
        banned.len(),
        functions.len()
    );
}
