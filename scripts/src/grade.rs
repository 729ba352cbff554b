//! Grading: the points table, which tests belong to which part, and the
//! scores (a test earns its share of its part's points only if every one of
//! its runs passed), printed as a table and as Gradescope's `results.json`.
//!
//! The table is one file, `scripts/grading.txt`, so a course changes the
//! weights in one place. Running the tests is the binary's job
//! (`src/bin/grade.rs`, on `discover` and `runner`); everything here is pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::discover::TestBinary;

/// The points table shipped with the workspace.
pub const TABLE: &str = include_str!("../grading.txt");

/// One row of the table: a part of a lab and the tests that grade it.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// As students name it: `1`, `2A`, `3B`, `labrpc`.
    pub name: String,
    /// The cargo package whose tests these are.
    pub package: String,
    pub points: f64,
    /// Which tests: `*_2a` (a name pattern), `real_mr/*` (a target's tests).
    pub selectors: Vec<String>,
}

/// Parses the table: `part package points selector...` per line, `#`
/// comments and blank lines ignored.
pub fn parse_table(text: &str) -> Result<Vec<Part>, String> {
    let mut parts: Vec<Part> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 {
            return Err(format!(
                "grading table line {}: expected `part package points selector...`, found `{line}`",
                i + 1
            ));
        }
        let points: f64 = fields[2]
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| {
                format!(
                    "grading table line {}: points `{}` is not a number >= 0",
                    i + 1,
                    fields[2]
                )
            })?;
        if parts.iter().any(|p| p.name.eq_ignore_ascii_case(fields[0])) {
            return Err(format!(
                "grading table line {}: part {} appears twice",
                i + 1,
                fields[0]
            ));
        }
        parts.push(Part {
            name: fields[0].to_string(),
            package: fields[1].to_string(),
            points,
            selectors: fields[3..].iter().map(|s| s.to_string()).collect(),
        });
    }
    Ok(parts)
}

/// `pattern` with `*` wildcards at either end (`*_2a`, `basic*`, `*`, exact).
fn glob(pattern: &str, name: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        _ if pattern == "*" => true,
        (Some(rest), _) if rest.ends_with('*') => name.contains(&rest[..rest.len() - 1]),
        (Some(suffix), _) => name.ends_with(suffix),
        (None, Some(prefix)) => name.starts_with(prefix),
        (None, None) => name == pattern,
    }
}

/// One selector (without its `+`): `target/pattern` (tests of the
/// integration-test target `target`, never unit tests) or a name pattern.
fn selector_matches(selector: &str, target: Option<&str>, name: &str) -> bool {
    match selector.split_once('/') {
        Some((t, pattern)) => target == Some(t) && glob(pattern, name),
        None => glob(selector, name),
    }
}

impl Part {
    /// Whether test `name` (of the integration-test target `target`, `None`
    /// for unit tests) of this part's package is one of this part's, as
    /// `cargo test` runs it (not `#[ignore]`d). A selector with a leading `+`
    /// names tests graded even when ignored.
    pub fn selects(&self, target: Option<&str>, name: &str) -> bool {
        self.selectors
            .iter()
            .any(|s| selector_matches(s.strip_prefix('+').unwrap_or(s), target, name))
    }

    /// Whether an `#[ignore]`d test is graded all the same: one of the
    /// part's `+` selectors names it (real-time tests that the default
    /// suite leaves out, e.g. `+configs/*`).
    pub fn selects_ignored(&self, target: Option<&str>, name: &str) -> bool {
        self.selectors.iter().any(|s| {
            s.strip_prefix('+')
                .is_some_and(|s| selector_matches(s, target, name))
        })
    }

    /// Whether this part grades test `name` of `binary`: the part's package,
    /// and one of its selectors (`+` ones only, if the test is `ignored`).
    pub fn grades(&self, binary: &TestBinary, name: &str, ignored: bool) -> bool {
        let target = binary.test_target();
        self.package == binary.package
            && if ignored {
                self.selects_ignored(target, name)
            } else {
                self.selects(target, name)
            }
    }
}

/// The parts the command line names: a part (`2a`, any case) or a package
/// (`raft`: all its parts); nothing names every part.
pub fn choose<'a>(parts: &'a [Part], names: &[String]) -> Result<Vec<&'a Part>, String> {
    if names.is_empty() {
        return Ok(parts.iter().collect());
    }
    let mut out: Vec<&Part> = Vec::new();
    for name in names {
        let found: Vec<&Part> = parts
            .iter()
            .filter(|p| p.name.eq_ignore_ascii_case(name) || p.package == *name)
            .collect();
        if found.is_empty() {
            let known: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "no lab or part named {name} in the grading table (parts: {})",
                known.join(" ")
            ));
        }
        for p in found {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// How one test did over its runs.
#[derive(Clone, Debug, PartialEq)]
pub struct TestResult {
    pub part: String,
    /// `raft_2a/initial_election_2a`-style label (target and name).
    pub name: String,
    pub runs: u64,
    pub passed: u64,
    /// Runs not made because an earlier one had failed.
    pub skipped: u64,
    /// The first failure: seed, one-line reason, replay command.
    pub failure: Option<Failure>,
    pub seconds: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub seed: u64,
    pub reason: String,
    pub replay: String,
}

impl TestResult {
    pub fn ok(&self) -> bool {
        self.failure.is_none() && self.passed == self.runs
    }
}

/// One part's score.
#[derive(Clone, Debug, PartialEq)]
pub struct PartScore {
    pub part: String,
    pub tests: usize,
    pub passed: usize,
    pub points: f64,
    pub max_points: f64,
}

/// Each test of a part is worth an equal share of the part's points.
pub fn score(parts: &[&Part], results: &[TestResult]) -> Vec<PartScore> {
    parts
        .iter()
        .map(|part| {
            let tests: Vec<&TestResult> = results.iter().filter(|r| r.part == part.name).collect();
            let passed = tests.iter().filter(|t| t.ok()).count();
            let points = if tests.is_empty() {
                0.0
            } else {
                part.points * passed as f64 / tests.len() as f64
            };
            PartScore {
                part: part.name.clone(),
                tests: tests.len(),
                passed,
                points,
                max_points: part.points,
            }
        })
        .collect()
}

/// The table students and CI read, with the replay command of every failure.
pub fn render(scores: &[PartScore], results: &[TestResult], runs: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:<12} {:>14} {:>16}", "part", "tests passed", "points");
    let (mut total, mut max) = (0.0, 0.0);
    for p in scores {
        let _ = writeln!(
            s,
            "{:<12} {:>14} {:>16}",
            p.part,
            format!("{}/{}", p.passed, p.tests),
            format!("{:.2}/{}", p.points, trim(p.max_points))
        );
        total += p.points;
        max += p.max_points;
    }
    let _ = writeln!(
        s,
        "{:<12} {:>14} {:>16}",
        "total",
        "",
        format!("{:.2}/{}", total, trim(max))
    );
    let _ = writeln!(
        s,
        "(a test earns its points only if all its {runs} run(s) pass)"
    );
    let failures: Vec<&TestResult> = results.iter().filter(|r| !r.ok()).collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\nfailures:");
        for r in failures {
            match &r.failure {
                Some(f) => {
                    let _ = writeln!(
                        s,
                        "  {} [{}] seed {}: {}\n    replay: {}",
                        r.name, r.part, f.seed, f.reason, f.replay
                    );
                }
                None => {
                    let _ = writeln!(s, "  {} [{}]: not run", r.name, r.part);
                }
            }
        }
    }
    s
}

fn trim(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// Gradescope's `results.json`: a score per test (its share of its part's
/// points), its output, and the total.
pub fn gradescope(parts: &[&Part], results: &[TestResult], seconds: f64) -> Value {
    let mut per_part: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        *per_part.entry(r.part.as_str()).or_default() += 1;
    }
    let mut tests = Vec::new();
    let mut total = 0.0;
    for r in results {
        let Some(part) = parts.iter().find(|p| p.name == r.part) else {
            continue;
        };
        let max = part.points / per_part[r.part.as_str()] as f64;
        let score = if r.ok() { max } else { 0.0 };
        total += score;
        let output = match &r.failure {
            None => format!("passed {}/{} runs", r.passed, r.runs),
            Some(f) => format!(
                "failed with seed {} after {}/{} passing runs: {}\nreplay: {}",
                f.seed, r.passed, r.runs, f.reason, f.replay
            ),
        };
        tests.push(json!({
            "name": format!("{} {}", r.part, r.name),
            "score": round(score),
            "max_score": round(max),
            "output": output,
            "visibility": "visible",
        }));
    }
    json!({
        "score": round(total),
        "execution_time": seconds.round() as u64,
        "tests": tests,
    })
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(part: &str, name: &str, ok: bool) -> TestResult {
        TestResult {
            part: part.into(),
            name: name.into(),
            runs: 2,
            passed: if ok { 2 } else { 1 },
            skipped: 0,
            failure: (!ok).then(|| Failure {
                seed: 7,
                reason: "boom".into(),
                replay: "LAB_SEED=7 cargo test".into(),
            }),
            seconds: 0.5,
        }
    }

    #[test]
    fn the_shipped_table_parses() {
        let parts = parse_table(TABLE).unwrap();
        assert!(parts.iter().any(|p| p.name == "2A" && p.package == "raft"));
        // P1 grades Go's tests (MIT 2015 and UCLA 2026), not the two beyond Go
        // that share their target (determinism and bad input).
        let p1 = parts.iter().find(|p| p.name == "P1").unwrap();
        let target = Some("mapreduce_2015");
        for go in [
            "basic_2015",
            "many_failures_2015",
            "part1_top_n",
            "part3_timeout",
        ] {
            assert!(p1.selects(target, go), "P1 grades {go}");
        }
        for beyond in ["same_seed_same_run", "bad_input_is_a_clear_error"] {
            assert!(!p1.selects(target, beyond), "P1 leaves out {beyond}");
        }
    }

    #[test]
    fn table_errors() {
        assert!(parse_table("2A raft ten *_2a").is_err());
        assert!(parse_table("2A raft 5").is_err());
        assert!(parse_table("2A raft 5 *_2a\n2a raft 5 x").is_err());
        let parts = parse_table("# c\n\n2A raft 5 *_2a # tail\n").unwrap();
        assert_eq!(parts[0].selectors, ["*_2a"]);
    }

    #[test]
    fn selectors() {
        let p = Part {
            name: "1".into(),
            package: "mapreduce".into(),
            points: 1.0,
            selectors: vec!["real_mr/*".into(), "*_sim".into(), "basic*".into()],
        };
        assert!(p.selects(Some("real_mr"), "wc"));
        assert!(p.selects(Some("sim_mr"), "wc_sim"));
        assert!(p.selects(Some("x"), "basic_one"));
        assert!(!p.selects(Some("sim_mr"), "wc"));
        assert!(
            p.selects(None, "basic_one"),
            "a name pattern selects unit tests too"
        );
        assert!(glob("*mid*", "a_mid_b"));
        assert!(glob("exact", "exact") && !glob("exact", "exact2"));
    }

    /// `paxos/*` grades the Go tests of `tests/paxos.rs`, not the unit tests
    /// of the library, whose target is also called `paxos`.
    #[test]
    fn target_selectors_leave_unit_tests_out() {
        let parts = parse_table("P3A paxos 20 paxos/* forget_mem/*\n").unwrap();
        let binary = |kind: &str, target: &str| TestBinary {
            package: "paxos".into(),
            target: target.into(),
            kind: kind.into(),
            executable: "x".into(),
            manifest_dir: "x".into(),
        };
        let p = &parts[0];
        assert!(p.grades(&binary("test", "paxos"), "basic", false));
        assert!(p.grades(&binary("test", "forget_mem"), "forget_mem", false));
        assert!(!p.grades(&binary("lib", "paxos"), "instance::tests::fresh", false));
        assert!(!p.grades(&binary("test", "bad_input"), "undecodable", false));
        let mut other = binary("test", "paxos");
        other.package = "kvpaxos".into();
        assert!(!p.grades(&other, "basic", false));
    }

    #[test]
    fn plus_selectors_grade_ignored_tests() {
        let parts = parse_table("kv kvstore 20 +configs/* every*\n").unwrap();
        let p = &parts[0];
        assert!(p.selects(Some("configs"), "simple_1"));
        assert!(p.selects_ignored(Some("configs"), "simple_1"));
        assert!(p.selects(Some("other"), "every_config"));
        assert!(!p.selects_ignored(Some("other"), "every_config"));
        assert!(!p.selects(Some("other"), "simple_1"));
    }

    #[test]
    fn choosing_parts() {
        let parts = parse_table("2A raft 5 *_2a\n2B raft 5 *_2b\n3A kvraft 5 *_3a\n").unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(choose(&parts, &[]).unwrap().len(), 3);
        assert_eq!(choose(&parts, &names(&["raft"])).unwrap().len(), 2);
        assert_eq!(choose(&parts, &names(&["3a", "raft"])).unwrap().len(), 3);
        assert!(choose(&parts, &names(&["9z"])).is_err());
    }

    #[test]
    fn scores_and_json() {
        let parts = parse_table("2A raft 10 *_2a\n2B raft 6 *_2b\n").unwrap();
        let chosen: Vec<&Part> = parts.iter().collect();
        let results = vec![
            result("2A", "a_2a", true),
            result("2A", "b_2a", false),
            result("2B", "c_2b", true),
        ];
        let scores = score(&chosen, &results);
        assert_eq!(scores[0].points, 5.0);
        assert_eq!(scores[1].points, 6.0);
        let table = render(&scores, &results, 2);
        assert!(table.contains("1/2"), "{table}");
        assert!(table.contains("11.00/16"), "{table}");
        assert!(table.contains("replay: LAB_SEED=7 cargo test"), "{table}");
        let json = gradescope(&chosen, &results, 3.2);
        assert_eq!(json["score"], 11.0);
        assert_eq!(json["tests"].as_array().unwrap().len(), 3);
        assert_eq!(json["tests"][1]["score"], 0.0);
        assert_eq!(json["tests"][1]["max_score"], 5.0);
        assert_eq!(json["tests"][0]["visibility"], "visible");
    }
}
