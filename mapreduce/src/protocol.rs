//! The coordinator's RPC interface, independent of any transport.
//!
//! Two calls are enough: a worker asks for work ([`TaskRequest`] →
//! [`Assignment`]) and says when a task is finished ([`DoneReport`] →
//! [`DoneAck`]). The worker loop is written against [`CoordinatorApi`], which
//! the UNIX-socket client ([`crate::real::client`]) and the labrpc client
//! ([`crate::sim`]) both implement, so one worker runs in both worlds.

use std::future::Future;

use serde::{Deserialize, Serialize};

/// Identifies one task. Map task `i` reads input file `i`; reduce task `r`
/// writes `mr-out-r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaskId {
    Map(usize),
    Reduce(usize),
}

/// What the coordinator tells a worker to do next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Assignment {
    /// Run map task `task` on `file`, splitting its output into `n_reduce`
    /// intermediate files `mr-<task>-<r>`.
    Map {
        task: usize,
        file: String,
        n_reduce: usize,
    },
    /// Run reduce task `task` over `mr-<m>-<task>` for every `m < n_map`.
    Reduce { task: usize, n_map: usize },
    /// Nothing to hand out right now (every task is running): ask again soon.
    Wait,
    /// The job is done: exit.
    Exit,
}

/// "Give me work." `worker` is only for the coordinator's logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRequest {
    pub worker: u64,
}

/// "I finished `task`; its output files are in place."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneReport {
    pub worker: u64,
    pub task: TaskId,
}

/// Whether a report was news to the coordinator (false for a duplicate, e.g.
/// from a slow worker whose task had been handed to another one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneAck {
    pub accepted: bool,
}

/// Why a call to the coordinator failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// Nobody answers at the coordinator's address: it has exited (the job is
    /// over) or crashed. Workers stop on this error.
    #[error("coordinator unreachable: {0}")]
    Unreachable(String),
    /// This one call failed (lost message, garbled reply); a retry may work.
    #[error("call failed: {0}")]
    Failed(String),
}

/// How a worker reaches the coordinator.
pub trait CoordinatorApi: Send + Sync {
    fn request_task(
        &self,
        request: TaskRequest,
    ) -> impl Future<Output = Result<Assignment, RpcError>> + Send;

    fn report_done(
        &self,
        report: DoneReport,
    ) -> impl Future<Output = Result<DoneAck, RpcError>> + Send;
}
