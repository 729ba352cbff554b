//! The worker's side of the socket: [`CoordinatorApi`] over a UNIX socket.
//!
//! Each call dials, sends one frame, reads one frame and hangs up, as Go's
//! `call()` does. Failing to dial means nobody is listening, i.e. the
//! coordinator has exited or crashed: [`RpcError::Unreachable`], on which the
//! worker stops. A failure after connecting is [`RpcError::Failed`], which the
//! worker retries (the coordinator may have been exiting mid-call).
//!
//! The calls block the thread. That is fine: a real worker runs exactly one
//! task on a single-task executor (`futures::executor::block_on`).

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::{Assignment, CoordinatorApi, DoneAck, DoneReport, RpcError, TaskRequest};
use crate::real::wire::{Request, Response, read_frame, write_frame};

/// How long a call waits for the coordinator's answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to the coordinator listening at a socket path.
#[derive(Clone, Debug)]
pub struct UnixClient {
    path: PathBuf,
}

impl UnixClient {
    pub fn new(path: impl Into<PathBuf>) -> UnixClient {
        UnixClient { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One request/response exchange.
    pub fn call(&self, request: &Request) -> Result<Response, RpcError> {
        let mut stream = UnixStream::connect(&self.path).map_err(|e| {
            RpcError::Unreachable(format!("cannot connect to {}: {e}", self.path.display()))
        })?;
        let failed = |e: &dyn std::fmt::Display| RpcError::Failed(e.to_string());
        stream
            .set_read_timeout(Some(CALL_TIMEOUT))
            .map_err(|e| failed(&e))?;
        stream
            .set_write_timeout(Some(CALL_TIMEOUT))
            .map_err(|e| failed(&e))?;
        write_frame(&mut stream, request).map_err(|e| failed(&e))?;
        read_frame(&mut stream).map_err(|e| failed(&e))
    }
}

impl UnixClient {
    /// One exchange whose answer must be of the kind `expected` takes
    /// (e.g. [`Response::assignment`]); any other answer is a failed call.
    fn ask<T>(
        &self,
        request: Request,
        expected: fn(Response) -> Result<T, Response>,
    ) -> std::future::Ready<Result<T, RpcError>> {
        let reply = self.call(&request);
        std::future::ready(reply.and_then(|response| expected(response).map_err(unexpected)))
    }
}

impl CoordinatorApi for UnixClient {
    fn request_task(
        &self,
        request: TaskRequest,
    ) -> impl Future<Output = Result<Assignment, RpcError>> + Send {
        self.ask(Request::RequestTask(request), Response::assignment)
    }

    fn report_done(
        &self,
        report: DoneReport,
    ) -> impl Future<Output = Result<DoneAck, RpcError>> + Send {
        self.ask(Request::ReportDone(report), Response::done_ack)
    }
}

fn unexpected(response: Response) -> RpcError {
    RpcError::Failed(format!("unexpected response {response:?}"))
}
