//! The simulated world: labrpc's network, virtual time, nodes as processes.
//!
//! The coordinator state machine is served as the labrpc service
//! `Coordinator` (methods `RequestTask`, `ReportDone`) on its own node; each
//! worker is [`crate::worker::run`] on its own node with a [`SimClient`], a
//! [`SimEnv`] and the shared [`MemStore`]. A worker crash (the `crash` app's
//! `os.Exit(1)`, or a test killing a node) drops every task of that node at
//! once, at whatever await point it had reached. Because time is virtual, a
//! 10 s task timeout costs no wall time, and because every random choice comes
//! from the run's seed, any failing run replays exactly with `LAB_SEED`.
//!
//! [`job::run_job`] runs a whole job the way `test-mr.sh` does (coordinator,
//! workers, restart loops) and reports what the tests check.

pub mod job;
mod store;

pub use store::{DEFAULT_LATENCY, MemStore};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::sim::{self, Node};
use labrpc::{ClientEnd, Network, Server, Service};
use serde::{Serialize, de::DeserializeOwned};

use crate::coordinator::Coordinator;
use crate::env::Env;
use crate::protocol::{Assignment, CoordinatorApi, DoneAck, DoneReport, RpcError, TaskRequest};

/// The labrpc server name of the coordinator.
pub const COORDINATOR: &str = "coordinator";

/// Serves `coordinator` as the `Coordinator` service on `node`, registered
/// in `net` under [`COORDINATOR`]. Returns the shared state machine.
pub fn serve_coordinator(
    net: &Network,
    node: &Node,
    coordinator: Coordinator,
) -> Arc<Mutex<Coordinator>> {
    let state = Arc::new(Mutex::new(coordinator));
    let (for_request, for_report) = (state.clone(), state.clone());
    let service = Service::new("Coordinator")
        .method("RequestTask", move |_: TaskRequest| {
            let state = for_request.clone();
            async move { lock(&state).request_task(sim::now().since_start()) }
        })
        .method("ReportDone", move |report: DoneReport| {
            let state = for_report.clone();
            async move {
                let accepted = lock(&state).report_done(report.task, sim::now().since_start());
                DoneAck { accepted }
            }
        });
    let server = Server::new(node);
    server.add_service(service);
    net.add_server(COORDINATOR, server);
    state
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`CoordinatorApi`] over a labrpc client end.
#[derive(Clone, Debug)]
pub struct SimClient {
    end: ClientEnd,
}

impl SimClient {
    pub fn new(end: ClientEnd) -> SimClient {
        SimClient { end }
    }

    /// `method(args)` on the coordinator. The call is made inside the future
    /// (labrpc's `call` borrows its arguments), so the request leaves when
    /// the worker first awaits.
    fn call<A, R>(
        &self,
        method: &'static str,
        args: A,
    ) -> impl Future<Output = Result<R, RpcError>> + Send
    where
        A: Serialize + Send + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let end = self.end.clone();
        async move { end.call::<_, R>(method, &args).await.map_err(rpc_error) }
    }
}

fn rpc_error(e: labrpc::Error) -> RpcError {
    match e {
        labrpc::Error::Unreachable | labrpc::Error::ServerDead => {
            RpcError::Unreachable(e.to_string())
        }
        other => RpcError::Failed(other.to_string()),
    }
}

impl CoordinatorApi for SimClient {
    fn request_task(
        &self,
        request: TaskRequest,
    ) -> impl Future<Output = Result<Assignment, RpcError>> + Send {
        self.call("Coordinator.RequestTask", request)
    }

    fn report_done(
        &self,
        report: DoneReport,
    ) -> impl Future<Output = Result<DoneAck, RpcError>> + Send {
        self.call("Coordinator.ReportDone", report)
    }
}

/// The simulated process table: which node runs which worker "pid".
#[derive(Clone, Debug, Default)]
pub struct Processes {
    nodes: Arc<Mutex<BTreeMap<u64, Node>>>,
}

impl Processes {
    /// Registers a new process on `node` and returns its pid (1, 2, …).
    pub fn spawn_pid(&self, node: &Node) -> u64 {
        let mut nodes = lock(&self.nodes);
        let pid = nodes.len() as u64 + 1;
        nodes.insert(pid, node.clone());
        pid
    }

    pub fn is_alive(&self, pid: u64) -> bool {
        lock(&self.nodes).get(&pid).is_some_and(Node::is_alive)
    }
}

/// [`Env`] for a simulated worker: virtual clock, seeded randomness, the
/// simulated process table, and a crash that kills the worker's node.
#[derive(Clone, Debug)]
pub struct SimEnv {
    pid: u64,
    processes: Processes,
}

impl SimEnv {
    pub fn new(pid: u64, processes: Processes) -> SimEnv {
        SimEnv { pid, processes }
    }
}

impl Env for SimEnv {
    fn now(&self) -> Duration {
        sim::now().since_start()
    }

    fn unix_time(&self) -> f64 {
        sim::now().since_start().as_secs_f64()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        sim::sleep(duration)
    }

    fn random_below(&self, n: u64) -> u64 {
        sim::gen_range(0..n)
    }

    fn pid(&self) -> u64 {
        self.pid
    }

    fn is_alive(&self, pid: u64) -> bool {
        self.processes.is_alive(pid)
    }

    /// Kills the current node: this task and every other task of the worker
    /// are dropped once this poll returns, so nothing after it runs.
    async fn crash(&self) {
        tracing::debug!(topic = "crash", "crash app: killing this worker");
        sim::current_node().kill();
        futures::future::pending::<()>().await;
    }
}
