//! `mrgen [--files N] [--size 500KB] [--seed S] OUTDIR`: writes the
//! deterministic test corpus (see `mrtools::corpus`) and prints the paths.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mrtools::cli::CorpusArgs;
use mrtools::corpus::write_corpus;

#[derive(Parser)]
#[command(about = "Generate a deterministic multi-script text corpus for MapReduce")]
struct Cli {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Directory to write into (created if missing).
    outdir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.corpus.config();
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
