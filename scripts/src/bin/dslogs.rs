#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // allowed: a tool outside the simulation
//! dslogs: pretty-prints a lab log. See scripts/README.md.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)] // the CLI's doc comments are clap's --help text, not rustdoc

use std::fs;
use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use labtools::pretty::{Options, Printer, topic_list};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Pretty-prints a lab log (a `LAB_LOG` file, a dstest log, or test output on
/// stdin): one column per peer, colours per topic, topic filters.
#[derive(Parser, Debug)]
#[command(name = "dslogs", version)]
struct Cli {
    /// The log file; stdin when absent or `-`.
    file: Option<PathBuf>,
    /// One column per peer: S<k> goes to column k; `test` and `net` lines
    /// span the full width; other nodes take free columns in order of first
    /// appearance.
    #[arg(short, long, value_name = "N")]
    columns: Option<usize>,
    /// Keep only these topics (comma-separated, e.g. vote,leader).
    #[arg(short, long, value_name = "TOPICS")]
    just: Option<String>,
    /// Drop these topics (comma-separated, e.g. net,timer).
    #[arg(short, long, value_name = "TOPICS")]
    ignore: Option<String>,
    /// Colour by topic: auto (when stdout is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Same as --color never.
    #[arg(long)]
    no_color: bool,
    /// Hide the time column.
    #[arg(long)]
    no_time: bool,
    /// Output width (default: the terminal's, else $COLUMNS, else 160).
    #[arg(short, long)]
    width: Option<usize>,
}

fn terminal_width() -> usize {
    if let Some((_rows, cols)) = console::Term::stdout().size_checked() {
        return usize::from(cols);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match (cli.no_color, cli.color) {
        (true, _) | (_, Color::Never) => false,
        (_, Color::Always) => true,
        (_, Color::Auto) => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    if cli.columns == Some(0) {
        eprintln!("dslogs: --columns must be at least 1");
        return ExitCode::from(2);
    }
    let options = Options {
        columns: cli.columns,
        width: cli.width.unwrap_or_else(terminal_width).max(20),
        color,
        just: cli.just.as_deref().map(topic_list).unwrap_or_default(),
        ignore: cli.ignore.as_deref().map(topic_list).unwrap_or_default(),
        time: !cli.no_time,
    };
    let stdout = io::stdout().lock();
    let mut printer = Printer::new(BufWriter::new(stdout), options);
    let result = match cli.file.as_deref() {
        Some(path) if path.as_os_str() != "-" => match fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                printer.prescan(text.lines());
                text.lines().try_for_each(|line| printer.line(line))
            }
            Err(error) => {
                eprintln!("dslogs: {}: {error}", path.display());
                return ExitCode::from(2);
            }
        },
        // Streaming: `cargo test ... 2>&1 | dslogs -c 3` prints as it goes.
        _ => io::stdin().lock().split(b'\n').try_for_each(|line| {
            let line = line?;
            printer.line(&String::from_utf8_lossy(&line))?;
            printer.flush()
        }),
    };
    let result = result.and_then(|()| printer.into_inner().flush());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `dslogs log | head` closes the pipe early: not an error.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dslogs: {error}");
            ExitCode::FAILURE
        }
    }
}
