//! `mrgen [--files N] [--size 500KB] [--seed S] OUTDIR`: writes the
//! deterministic test corpus (see `mrtools::corpus`) and prints the paths.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mrtools::corpus::{CorpusConfig, parse_size, write_corpus};

#[derive(Parser)]
#[command(about = "Generate a deterministic multi-script text corpus for MapReduce")]
struct Cli {
    /// Number of files.
    #[arg(long, default_value_t = 8)]
    files: usize,
    /// Approximate size of each file (e.g. 500KB, 2MB, 4096).
    #[arg(long, default_value = "500KB", value_parser = parse_size)]
    size: usize,
    /// Seed: the same seed always gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory to write into (created if missing).
    outdir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = CorpusConfig {
        files: cli.files,
        bytes_per_file: cli.size,
        seed: cli.seed,
    };
    match write_corpus(&cli.outdir, &config) {
        Ok(paths) => {
            for path in paths {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mrgen: {}: {e}", cli.outdir.display());
            ExitCode::FAILURE
        }
    }
}
