//! A whole simulated job, run the way `test-mr.sh` runs one.
//!
//! A coordinator process that polls `done()`, lingers, and exits (its node is
//! killed and its server removed, so late calls fail like a vanished socket);
//! some workers started at once; optionally `test-mr.sh`'s crash-test restart
//! loops ("while the coordinator is up, start a worker, wait for it, sleep
//! 1 s"); optionally a chaos task that kills a few random workers. [`JobOutcome`]
//! carries what the tests check: the final output, the output as it was when
//! the first process exited (the early-exit test), and when things happened.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use labrpc::Network;
use labrpc::sim::{self, Node};

use super::{COORDINATOR, MemStore, Processes, SimClient, SimEnv, lock, serve_coordinator};
use crate::apps::{App, AppKind};
use crate::coordinator::{Coordinator, DONE_POLL, LINGER};
use crate::output::sorted_lines;
use crate::{N_REDUCE, sequential, worker};

/// What to run.
#[derive(Clone, Debug)]
pub struct JobSpec {
    pub app: AppKind,
    /// Input files: `(name, content)`.
    pub inputs: Vec<(String, Vec<u8>)>,
    /// Workers started with the coordinator.
    pub workers: usize,
    /// Loops that keep restarting a worker while the coordinator is up.
    pub restart_loops: usize,
    /// Kill this many workers, one every 0.1–1.5 virtual seconds, each picked
    /// at random among the live ones (a budget keeps the job's length bounded:
    /// each kill mid-task costs at most one 10 s reissue).
    pub chaos_kills: usize,
    /// Virtual time each file read or write takes (see [`MemStore`]).
    pub io_latency: Duration,
}

impl JobSpec {
    pub fn new(app: AppKind, inputs: Vec<(String, Vec<u8>)>, workers: usize) -> JobSpec {
        JobSpec {
            app,
            inputs,
            workers,
            restart_loops: 0,
            chaos_kills: 0,
            io_latency: super::store::DEFAULT_LATENCY,
        }
    }
}

/// How one simulated process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessEnd {
    Coordinator,
    /// A worker that was told to exit, or saw the coordinator gone.
    WorkerExited {
        ok: bool,
    },
    /// A worker whose node was killed (crash app or chaos).
    WorkerCrashed,
}

/// The first process (coordinator or worker) to exit: which, when, and the
/// output as it was then (the early-exit test compares it with the final one).
#[derive(Clone, Debug)]
pub struct FirstExit {
    pub process: ProcessEnd,
    pub at: Duration,
    /// Sorted non-empty lines of every `mr-out*` at that moment.
    pub output: Vec<String>,
}

/// What happened.
#[derive(Clone, Debug)]
pub struct JobOutcome {
    /// Sorted non-empty lines of every `mr-out*` at the end.
    pub output: Vec<String>,
    pub first_exit: FirstExit,
    pub coordinator_exit_at: Duration,
    pub workers_started: usize,
    pub workers_crashed: usize,
    pub tasks_reissued: u64,
    pub store: MemStore,
}

/// Shared by every process of the job.
#[derive(Clone)]
struct World {
    net: Network,
    store: MemStore,
    processes: Processes,
    app: AppKind,
    exits: mpsc::UnboundedSender<ProcessEnd>,
    coordinator_gone: Arc<AtomicBool>,
    started: Arc<AtomicUsize>,
    crashed: Arc<AtomicUsize>,
    live: Arc<Mutex<Vec<Node>>>,
}

/// Runs `spec` to completion inside the current simulation.
pub async fn run_job(spec: JobSpec) -> JobOutcome {
    let store = MemStore::with_latency(spec.io_latency);
    for (name, data) in &spec.inputs {
        store.insert(name, data.clone());
    }
    let files = spec.inputs.iter().map(|(name, _)| name.clone()).collect();
    let net = Network::new();
    let coordinator_node = Node::new("coordinator");
    let state = serve_coordinator(&net, &coordinator_node, Coordinator::new(files, N_REDUCE));
    let (exits, mut exit_events) = mpsc::unbounded();
    let world = World {
        net,
        store,
        processes: Processes::default(),
        app: spec.app,
        exits,
        coordinator_gone: Arc::new(AtomicBool::new(false)),
        started: Arc::new(AtomicUsize::new(0)),
        crashed: Arc::new(AtomicUsize::new(0)),
        live: Arc::new(Mutex::new(Vec::new())),
    };

    let coordinator = sim::spawn(coordinator_process(
        world.clone(),
        state.clone(),
        coordinator_node,
    ));
    let mut tasks = Vec::new();
    for _ in 0..spec.workers {
        let w = world.clone();
        tasks.push(sim::spawn(async move {
            w.worker_process().await;
        }));
    }
    for _ in 0..spec.restart_loops {
        tasks.push(sim::spawn(world.clone().restart_loop()));
    }
    let chaos = sim::spawn(world.clone().chaos(spec.chaos_kills));

    let first_exit = FirstExit {
        process: exit_events.next().await.expect("a process exits"),
        at: sim::now().since_start(),
        output: world.store.output_lines(),
    };
    let coordinator_exit_at = coordinator.await.expect("the test node is never killed");
    futures::future::join_all(tasks).await;
    chaos.abort();
    let tasks_reissued = lock(&state).reissued();
    JobOutcome {
        output: world.store.output_lines(),
        first_exit,
        coordinator_exit_at,
        workers_started: world.started.load(Ordering::SeqCst),
        workers_crashed: world.crashed.load(Ordering::SeqCst),
        tasks_reissued,
        store: world.store,
    }
}

/// mrcoordinator's main: poll `done()`, linger, exit. Returns the exit time.
async fn coordinator_process(world: World, state: Arc<Mutex<Coordinator>>, node: Node) -> Duration {
    while !lock(&state).done() {
        sim::sleep(DONE_POLL).await;
    }
    sim::sleep(LINGER).await;
    node.kill();
    world.net.delete_server(COORDINATOR);
    world.coordinator_gone.store(true, Ordering::SeqCst);
    let _ = world.exits.unbounded_send(ProcessEnd::Coordinator);
    sim::now().since_start()
}

impl World {
    /// Starts one worker on a fresh node and waits until it exits or dies.
    async fn worker_process(&self) -> ProcessEnd {
        let node = Node::new("worker");
        let pid = self.processes.spawn_pid(&node);
        self.started.fetch_add(1, Ordering::SeqCst);
        lock(&self.live).push(node.clone());
        let end_name = format!("worker-{pid}");
        let end = self.net.make_end(&end_name);
        self.net.connect(&end_name, COORDINATOR);
        self.net.enable(&end_name, true);
        let client = SimClient::new(end);
        let env = SimEnv::new(pid, self.processes.clone());
        let store = self.store.clone();
        let app = App::new(self.app);
        let handle = node.spawn(async move { worker::run(&client, &env, &store, &app).await });
        let end = match handle.await {
            Ok(result) => {
                if let Err(e) = &result {
                    tracing::debug!(topic = "worker", pid, "worker stopped: {e}");
                }
                ProcessEnd::WorkerExited { ok: result.is_ok() }
            }
            Err(sim::Cancelled) => {
                self.crashed.fetch_add(1, Ordering::SeqCst);
                ProcessEnd::WorkerCrashed
            }
        };
        node.kill(); // the process is gone either way
        let _ = self.exits.unbounded_send(end.clone());
        end
    }

    /// test-mr.sh's crash loop: `while socket exists and not done: worker; sleep 1`.
    async fn restart_loop(self) {
        while !self.coordinator_gone.load(Ordering::SeqCst) {
            self.worker_process().await;
            sim::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Kills `kills` random live workers, one every 0.1–1.5 s.
    async fn chaos(self, mut kills: usize) {
        while kills > 0 {
            sim::sleep(Duration::from_millis(sim::gen_range(100..1500))).await;
            let mut live = lock(&self.live);
            live.retain(Node::is_alive);
            if !live.is_empty() {
                let index = sim::gen_range(0..live.len());
                let victim = live.swap_remove(index);
                tracing::debug!(topic = "chaos", "killing a worker");
                victim.kill();
                kills -= 1;
            }
        }
    }
}

/// `mrsequential`'s output for `inputs`, computed inside the simulation.
pub async fn sequential_output(app: AppKind, inputs: &[(String, Vec<u8>)]) -> Vec<String> {
    let store = MemStore::new();
    for (name, data) in inputs {
        store.insert(name, data.clone());
    }
    let files: Vec<String> = inputs.iter().map(|(name, _)| name.clone()).collect();
    let env = SimEnv::new(0, Processes::default());
    let bytes = sequential::run(&env, &store, &App::new(app), &files)
        .await
        .expect("sequential run over in-memory inputs");
    sorted_lines([bytes.as_slice()])
}
