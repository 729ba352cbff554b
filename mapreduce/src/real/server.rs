//! The coordinator process: the pure [`Coordinator`] behind a UNIX socket.
//!
//! One thread accepts connections and one thread serves each connection; all
//! of them share the state machine behind a mutex and pass it the time since
//! the server started. The main thread polls `done()` and, once the job is
//! done, keeps serving for a while (by default
//! [`LINGER`](crate::coordinator::LINGER), 1 s) so that idle
//! workers (which poll every 200 ms) hear "exit" rather than find the socket
//! gone, then removes the socket and returns. Go's coordinator does the same
//! with a 1 s poll and a 1 s sleep.
//!
//! Before listening it checks the inputs (so a typo fails at once, with
//! nothing written) and the socket path: a live coordinator there is an
//! error; a stale socket file left by a crashed one is replaced; any other
//! kind of file is left alone and reported.

#![allow(clippy::disallowed_methods)] // allowed: real processes, not a simulation

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::coordinator::{Coordinator, DONE_POLL};
use crate::protocol::DoneAck;
use crate::real::wire::{FrameError, Request, Response, read_frame, write_frame};

/// Why the coordinator could not run the job.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error("no input files")]
    NoInputs,
    #[error("input file {path}: {source}")]
    BadInput {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("input file {path}: not a regular file")]
    NotAFile { path: String },
    #[error("socket {0} is in use by another running coordinator")]
    SocketInUse(PathBuf),
    #[error("socket path {0} exists and is not a socket; not removing it")]
    NotASocket(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Listen {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Checks that every input can be opened and is a regular file.
pub fn check_inputs(files: &[String]) -> Result<(), CoordinatorError> {
    if files.is_empty() {
        return Err(CoordinatorError::NoInputs);
    }
    for path in files {
        let bad = |source| CoordinatorError::BadInput {
            path: path.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(bad)?;
        if !file.metadata().map_err(bad)?.is_file() {
            return Err(CoordinatorError::NotAFile { path: path.clone() });
        }
    }
    Ok(())
}

/// Listens on `path`, replacing a stale socket but never a live one.
pub fn bind(path: &Path) -> Result<UnixListener, CoordinatorError> {
    if UnixStream::connect(path).is_ok() {
        return Err(CoordinatorError::SocketInUse(path.to_path_buf()));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            tracing::info!(topic = "coord", "replacing stale socket {}", path.display());
            std::fs::remove_file(path).map_err(|source| CoordinatorError::Listen {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(_) => return Err(CoordinatorError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    UnixListener::bind(path).map_err(|source| CoordinatorError::Listen {
        path: path.to_path_buf(),
        source,
    })
}

/// The shared state: the state machine and the clock it is fed from.
#[derive(Clone)]
struct Shared {
    coordinator: Arc<Mutex<Coordinator>>,
    start: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Coordinator> {
        // A panicking handler thread cannot leave the state machine half
        // updated (its methods do not panic midway), so poison is ignored.
        self.coordinator.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handle(&self, request: Request) -> Response {
        let now = self.start.elapsed();
        let mut coordinator = self.lock();
        match request {
            Request::RequestTask(r) => {
                let assignment = coordinator.request_task(now);
                tracing::debug!(topic = "coord", worker = r.worker, ?assignment, "assigned");
                Response::Assignment(assignment)
            }
            Request::ReportDone(r) => {
                let accepted = coordinator.report_done(r.task, now);
                tracing::debug!(topic = "coord", worker = r.worker, task = ?r.task, accepted, "done");
                Response::DoneAck(DoneAck { accepted })
            }
        }
    }
}

/// What a finished job looked like.
#[derive(Clone, Debug)]
pub struct JobSummary {
    pub elapsed: Duration,
    pub reissued: u64,
}

/// Runs one job to completion: check inputs, listen, serve until done, keep
/// serving for `linger` (the lab's:
/// [`crate::coordinator::LINGER`]), remove the socket. A task
/// not reported done `task_timeout` after it was handed out goes to the next
/// worker that asks (the lab's rule: [`crate::coordinator::TASK_TIMEOUT`]).
pub fn run_coordinator(
    socket: &Path,
    files: Vec<String>,
    n_reduce: usize,
    task_timeout: Duration,
    linger: Duration,
) -> Result<JobSummary, CoordinatorError> {
    check_inputs(&files)?;
    let listener = bind(socket)?;
    let n_files = files.len();
    let shared = Shared {
        coordinator: Arc::new(Mutex::new(
            Coordinator::new(files, n_reduce).with_timeout(task_timeout),
        )),
        start: Instant::now(),
    };
    tracing::info!(
        topic = "coord",
        "serving {n_files} map tasks on {} (task timeout {task_timeout:?})",
        socket.display()
    );
    let acceptor = shared.clone();
    std::thread::spawn(move || accept_loop(listener, acceptor));
    while !shared.lock().done() {
        std::thread::sleep(DONE_POLL);
    }
    let summary = JobSummary {
        elapsed: shared.start.elapsed(),
        reissued: shared.lock().reissued(),
    };
    tracing::info!(
        topic = "coord",
        "job done in {:.2?}; {} tasks reissued",
        summary.elapsed,
        summary.reissued
    );
    std::thread::sleep(linger);
    let _ = std::fs::remove_file(socket);
    Ok(summary)
}

fn accept_loop(listener: UnixListener, shared: Shared) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let shared = shared.clone();
                std::thread::spawn(move || serve_connection(stream, &shared));
            }
            Err(e) => tracing::warn!(topic = "coord", "accept failed: {e}"),
        }
    }
}

fn serve_connection(mut stream: UnixStream, shared: &Shared) {
    loop {
        let request = match read_frame::<Request>(&mut stream) {
            Ok(request) => request,
            Err(FrameError::Closed) => return,
            Err(e) => {
                tracing::warn!(topic = "coord", "bad request: {e}");
                let _ = write_frame(&mut stream, &Response::Error(e.to_string()));
                return;
            }
        };
        if let Err(e) = write_frame(&mut stream, &shared.handle(request)) {
            tracing::debug!(topic = "coord", "reply not delivered: {e}");
            return;
        }
    }
}
