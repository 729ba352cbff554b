#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! handout: writes the student handout of this workspace (every lab's
//! reference cut out along its markers) as a new standalone workspace, and
//! with `--check` proves it is what a course can hand out. See
//! docs/instructors.md.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::Parser;
use labtools::discover::{self, TestCase};
use labtools::grade;
use labtools::handout::{self, Package};
use labtools::runner::{self, Outcome, RunConfig};
use labtools::seeds::Job;

/// Writes the student handout: a standalone workspace with the
/// infrastructure crates whole, every lab's tests and harness, the docs, and
/// each lab as a skeleton (its solution regions replaced by their handout
/// text, its solution-only files left out).
#[derive(Parser, Debug)]
#[command(name = "handout", version)]
struct Cli {
    /// Where to write the handout: a new or empty directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Labs (package names) handed out with their reference, comma-separated
    /// or repeated: `--keep-solution raft` hands out Lab 3 on a working Raft.
    #[arg(long, value_name = "LAB,...", value_delimiter = ',')]
    keep_solution: Vec<String>,
    /// The reference workspace [default: the one this tool belongs to].
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// Then check the handout: it builds, passes clippy -D warnings, the
    /// infrastructure's tests pass, every stubbed lab's test fails in well
    /// under a second naming its part, and no reference code is present.
    #[arg(long)]
    check: bool,
    /// With --check: the target directory for building the handout
    /// [default: the handout's own `target/`]. Never share one with the
    /// reference: cargo names a workspace crate's build by its path relative
    /// to the workspace, so the two would overwrite each other's.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// With --check: a lab test must fail within this many wall seconds
    /// (the simulated tests and the ones that run real processes alike:
    /// those fail as soon as a process they start reaches a stub).
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    fail_within: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("handout: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = match &cli.workspace {
        Some(dir) => dir.clone(),
        // scripts/ is one level below the workspace root.
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .ok_or("cannot find the workspace root")?,
    };
    let started = Instant::now();
    let packages = handout::packages(&cargo, &root)?;
    let files = handout::files(&root)?;
    let plan = handout::plan(&root, &packages, &files, &cli.keep_solution)?;
    handout::write(&root, &plan, &cli.out)?;
    let leaks = handout::leaks(&cli.out, &plan, &packages);
    println!(
        "handout: wrote {} ({} files) in {:.1} s",
        cli.out.display(),
        plan.files
            .values()
            .filter(|a| **a != handout::Action::Drop)
            .count(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", handout::summary(&plan));
    let (warnings, errors) = handout::template_problems(&cli.out, &packages);
    for w in &warnings {
        println!("  WARNING: {w}");
    }
    if !errors.is_empty() {
        return Err(format!(
            "the handout's README or CI script is wrong (scripts/templates):\n  {}",
            errors.join("\n  ")
        ));
    }
    if !leaks.is_empty() {
        return Err(format!(
            "reference code in the handout:\n  {}",
            leaks.join("\n  ")
        ));
    }
    if cli.check {
        check(cli, &cargo, &packages, &plan)?;
    }
    Ok(())
}

/// Runs a cargo command in the handout; an error if it fails.
fn cargo_in(cargo: &str, dir: &Path, target: &Path, args: &[&str]) -> Result<(), String> {
    let started = Instant::now();
    println!("== cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "in the handout, `cargo {}` failed ({status})",
            args.join(" ")
        ));
    }
    println!("   ok in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn check(cli: &Cli, cargo: &str, packages: &[Package], plan: &handout::Plan) -> Result<(), String> {
    // Absolute paths: the cargo commands run in the handout, so a relative
    // `--target-dir` would otherwise name a directory inside it.
    let dir = &absolute(&cli.out)?;
    let target = absolute(&cli.target_dir.clone().unwrap_or_else(|| dir.join("target")))?;
    let target = target.as_path();
    cargo_in(cargo, dir, target, &["fmt", "--all", "--", "--check"])?;
    cargo_in(
        cargo,
        dir,
        target,
        &["build", "--workspace", "--all-targets", "--locked"],
    )?;
    cargo_in(
        cargo,
        dir,
        target,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The test binaries of the whole workspace, as the build above made
    // them (the same feature resolution, so nothing is compiled again; a
    // `cargo test -p` of a few packages would resolve features anew).
    let args = vec![
        "--locked".to_string(),
        "--manifest-path".to_string(),
        dir.join("Cargo.toml").display().to_string(),
        "--workspace".to_string(),
        "--target-dir".to_string(),
        target.display().to_string(),
    ];
    let all = discover::build(cargo, &args)?;

    // The infrastructure's unit and integration tests, each binary whole.
    let infra: Vec<&str> = packages
        .iter()
        .filter(|p| p.is_infrastructure())
        .map(|p| p.name.as_str())
        .collect();
    println!("== the infrastructure's tests ({})", infra.join(", "));
    let started = Instant::now();
    for binary in all.iter().filter(|b| infra.contains(&b.package.as_str())) {
        let output = Command::new(&binary.executable)
            .current_dir(&binary.manifest_dir)
            .envs(discover::cargo_env(binary))
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("running {}: {e}", binary.executable.display()))?;
        if !output.status.success() {
            return Err(format!(
                "in the handout, {} {} fails:\n{}{}",
                binary.package,
                binary.cargo_target_arg(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    println!("   ok in {:.1} s", started.elapsed().as_secs_f64());

    // Every test of every stubbed lab, once: it must fail fast, naming a part.
    let stubbed: Vec<&String> = plan.stubbed.keys().collect();
    if stubbed.is_empty() {
        println!("no stubbed labs to check");
        return Ok(());
    }
    println!("== the stubbed labs' tests ({})", join(&stubbed));
    let binaries: Vec<_> = all
        .into_iter()
        .filter(|b| plan.stubbed.contains_key(&b.package))
        .collect();
    let mut lists = Vec::new();
    for binary in &binaries {
        lists.push(discover::list(binary)?);
    }
    let tests = discover::select(&binaries, &lists, &[], false, true);
    let scratch = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let config = RunConfig {
        log_topics: None,
        timeout: Some(Duration::from_secs(30)),
        output_dir: scratch.path().to_path_buf(),
        archive: false,
        release: false,
    };
    let stop = AtomicBool::new(false);
    let parts = grade::parse_table(grade::TABLE)?;
    let mut problems = Vec::new();
    // Tests of a lab's given code (not in the grading table) may pass.
    let mut ungraded_passing = Vec::new();
    // The slowest failing test and its wall seconds.
    let mut slowest = (String::new(), 0.0f64);
    for test in &tests {
        let binary = &binaries[test.binary];
        let job = Job {
            test: 0,
            iteration: 0,
            seed: 1,
        };
        let result = runner::run_one(binary, test, job, &config, &stop)
            .map_err(|e| format!("running {}: {e}", test.label))?;
        let name = format!("{} {}", binary.package, label(test));
        if result.outcome.failed() && result.seconds > slowest.1 {
            slowest = (name.clone(), result.seconds);
        }
        let limit = cli.fail_within;
        // The reason, as the grade table shows it, must name the part: a
        // test of real processes puts its programs' logs in its message.
        let reason = result.reason();
        let named = reason.as_deref().is_some_and(names_a_part);
        let graded = parts
            .iter()
            .any(|p| p.grades(binary, &test.name, test.ignored));
        match (&result.outcome, &reason) {
            (Outcome::Passed { .. }, _) if !graded => ungraded_passing.push(name),
            (Outcome::Passed { .. }, _) => problems.push(format!("{name}: passes in the handout")),
            (Outcome::TimedOut, _) => problems.push(format!("{name}: timed out")),
            (_, reason) if result.seconds > limit => problems.push(format!(
                "{name}: took {:.2} s to fail (limit {limit} s): {}",
                result.seconds,
                reason.as_deref().unwrap_or("?")
            )),
            _ if named => {}
            (_, reason) => problems.push(format!(
                "{name}: fails without naming a part: {}",
                reason.as_deref().unwrap_or("(no message)")
            )),
        }
    }
    println!(
        "   {} tests, {} as expected (slowest failure {:.2} s: {}); {} ungraded tests of given code pass",
        tests.len(),
        tests.len() - problems.len(),
        slowest.1,
        slowest.0,
        ungraded_passing.len()
    );
    if !plan.unmarked.is_empty() {
        println!(
            "   not checked (no markers, handed out with their solution): {}",
            plan.unmarked.join(", ")
        );
    }
    if !problems.is_empty() {
        return Err(format!(
            "lab tests that do not fail fast naming their part:\n  {}",
            problems.join("\n  ")
        ));
    }
    println!("handout: check passed");
    Ok(())
}

/// `path` made absolute against the current directory.
fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn label(test: &TestCase) -> &str {
    &test.label
}

fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stub's panic names its part: `not yet implemented: 2A: ...`,
/// `not yet implemented: Lab 1: ...`, `not implemented: (2B): ...`,
/// `not yet implemented: kvstore: ...`.
fn names_a_part(reason: &str) -> bool {
    let Some((_, rest)) = reason.split_once("implemented") else {
        return false;
    };
    let rest = rest.trim_start_matches([':', ' ', '(']);
    let rest = rest.strip_prefix("Lab ").unwrap_or(rest);
    let part: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    !part.is_empty() && rest[part.len()..].starts_with([':', ')'])
}

#[cfg(test)]
mod tests {
    use super::names_a_part;

    #[test]
    fn part_names() {
        for (reason, names) in [
            ("not yet implemented: 2A: Raft::make", true),
            (
                "a task on node test panicked: not yet implemented: 3B: Clerk::get",
                true,
            ),
            ("not yet implemented: Lab 1: Coordinator::new", true),
            ("not implemented: (2B): start", true),
            ("not yet implemented: kvstore: the replica", true),
            ("not yet implemented", false),
            ("assertion failed: x", false),
            ("not yet implemented: something went wrong", false),
        ] {
            assert_eq!(names_a_part(reason), names, "{reason:?}");
        }
    }
}
