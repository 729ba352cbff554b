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
use linearizability::{CheckResult, Event, Model, check_events, check_events_verbose, write_html};

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
    let mut status = 0;
    for file in &args.files {
        let html = args
            .html
            .as_deref()
            .map(|out| html_path(out, file, args.files.len()));
        match check_file(args.model, file, timeout, html.as_deref()) {
            Ok(result) => {
                println!("{}: {result}", file.display());
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
    timeout: Option<Duration>,
    html: Option<&Path>,
) -> Result<CheckResult, String> {
    match model {
        ModelKind::Kv => {
            let events = read_kv(file).map_err(|e| e.to_string())?;
            check(&KvModel, &events, file, timeout, html)
        }
        ModelKind::Etcd => {
            let events = read_jepsen(file).map_err(|e| e.to_string())?;
            check(&EtcdModel, &events, file, timeout, html)
        }
    }
}

fn check<M>(
    model: &M,
    events: &[Event<M::Input, M::Output>],
    file: &Path,
    timeout: Option<Duration>,
    html: Option<&Path>,
) -> Result<CheckResult, String>
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
    let Some(html) = html else {
        return check_events(model, events, timeout).map_err(|e| in_file(&e));
    };
    let (result, info) = check_events_verbose(model, events, timeout).map_err(|e| in_file(&e))?;
    if let Some(dir) = html.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| in_file(&e))?;
    }
    write_html(model, &info, html).map_err(|e| format!("{}: {e}", html.display()))?;
    Ok(result)
}
