//! The real-process world: UNIX sockets, the disk, the wall clock, `exit(1)`.
//!
//! Everything here runs outside any simulation, in the `mr*` binaries, so it
//! may use real time, threads and OS randomness (each use is marked
//! `allow(clippy::disallowed_methods)` with the reason). The coordinator and
//! worker *logic* is not here: [`server`] wraps the pure
//! [`crate::coordinator::Coordinator`], [`client`] implements
//! [`crate::protocol::CoordinatorApi`] for [`crate::worker::run`].

pub mod cli;
pub mod client;
mod disk;
mod process_env;
pub mod server;
pub mod wire;

pub use disk::DiskStore;
pub use process_env::ProcessEnv;

use std::path::PathBuf;

/// Go's `coordinatorSock()`: one socket per user, `/var/tmp/5840-mr-<uid>`.
/// Binaries take `--socket` to run several jobs side by side.
pub fn default_socket_path() -> PathBuf {
    let uid = nix::unistd::getuid().as_raw();
    PathBuf::from(format!("/var/tmp/5840-mr-{uid}"))
}

/// Logs to stderr; `RUST_LOG` overrides `default` (e.g. `RUST_LOG=debug`).
/// Colours only on a terminal: the tests and `mrdemo` send stderr to log
/// files, which must stay plain text.
pub fn init_logging(default: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
