//! `lincheck`: checks Porcupine-format history files and prints one verdict per file.
//!
//! Exit status: 0 if every file is `Ok` or `Unknown`, 1 if some file is `Illegal`, 2 if some file
//! could not be read or parsed, or holds no operation at all (the error names the file, and the
//! line where there is one; the other files are still checked). An empty history is an error
//! rather than a vacuous `Ok`: it is almost always the wrong file, or a test that recorded nothing. With `--html`, the report of each file is written too: to OUT itself for a single file,
//! or to `OUT/<file name>.html` for several.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use linearizability::models::etcd::EtcdModel;
use linearizability::models::kv::KvModel;
use linearizability::parse::{read_jepsen, read_kv};
use linearizability::{
    CheckResult, Event, Limits, Model, check_events_limited, check_events_verbose_limited,
    write_html,
};

#[derive(Parser)]
#[command(
    name = "lincheck",
    about = "Check histories for linearizability (Porcupine formats)"
)]
struct Args {
    /// The history format and model: `kv` (EDN kv logs, per-key kv model) or `etcd` (Jepsen etcd
    /// logs, compare-and-set register).
    #[arg(long, value_enum)]
    model: ModelKind,
    /// Write the HTML report: to this file for one input, into this directory for several.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Give up after this many seconds per file (verdict `Unknown`).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Give up on a partition after this many search steps (its verdict `Unknown`): a budget that,
    /// unlike --timeout, gives the same verdict on every machine (the lab tests use one).
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Also print how many search steps each file took: in all, and in its largest partition
    /// (what --max-steps is compared with).
    #[arg(long)]
    steps: bool,
    /// History files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelKind {
    Kv,
    Etcd,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let timeout = match args.timeout.map(Duration::try_from_secs_f64).transpose() {
        Ok(timeout) => timeout,
        Err(error) => {
            eprintln!("lincheck: bad --timeout: {error}");
            return ExitCode::from(2);
        }
    };
    let limits = Limits {
        timeout,
        max_steps_per_partition: args.max_steps,
    };
    let mut status = 0;
    for file in &args.files {
        let html = args
            .html
            .as_deref()
            .map(|out| html_path(out, file, args.files.len()));
        match check_file(args.model, file, limits, html.as_deref(), args.steps) {
            Ok((result, steps)) => {
                match steps {
                    Some((all, largest)) => println!(
                        "{}: {result} ({all} search steps, {largest} in the largest partition)",
                        file.display()
                    ),
                    None => println!("{}: {result}", file.display()),
                }
                if result == CheckResult::Illegal {
                    status = status.max(1);
                }
            }
            Err(error) => {
                eprintln!("lincheck: {error}");
                status = 2;
            }
        }
    }
    ExitCode::from(status)
}

fn html_path(out: &Path, file: &Path, files: usize) -> PathBuf {
    if files == 1 {
        return out.to_path_buf();
    }
    let name = file.file_name().unwrap_or(file.as_os_str());
    out.join(format!("{}.html", name.to_string_lossy()))
}

fn check_file(
    model: ModelKind,
    file: &Path,
    limits: Limits,
    html: Option<&Path>,
    steps: bool,
) -> Result<Checked, String> {
    match model {
        ModelKind::Kv => {
            let events = read_kv(file).map_err(|e| e.to_string())?;
            check(&KvModel, &events, file, limits, html, steps)
        }
        ModelKind::Etcd => {
            let events = read_jepsen(file).map_err(|e| e.to_string())?;
            check(&EtcdModel, &events, file, limits, html, steps)
        }
    }
}

/// The verdict, and with --steps (all steps, the largest partition's).
type Checked = (CheckResult, Option<(u64, u64)>);

fn check<M>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    file: &Path,
    limits: Limits,
    html: Option<&Path>,
    steps: bool,
) -> Result<Checked, String>
where
    M: Model,
    M::Input: Clone,
    M::Output: Clone,
{
    let in_file = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
    if events.is_empty() {
        return Err(in_file(
            &"the history has no operations (an empty file, or not in the --model format?)",
        ));
    }
    if html.is_none() && !steps {
        let result = check_events_limited(model, events, limits).map_err(|e| in_file(&e))?;
        return Ok((result, None));
    }
    let (result, info) =
        check_events_verbose_limited(model, events, limits).map_err(|e| in_file(&e))?;
    if let Some(html) = html {
        if let Some(dir) = html.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| in_file(&e))?;
        }
        write_html(model, &info, html).map_err(|e| format!("{}: {e}", html.display()))?;
    }
    let counts = steps.then(|| (info.steps(), info.max_partition_steps()));
    Ok((result, counts))
}
