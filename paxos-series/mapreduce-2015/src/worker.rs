//! A worker (Go's `worker.go`, given code): listens at its own path, registers
//! with the master, and runs the jobs the master sends it.
//!
//! `n_rpc` is how many calls the worker accepts before it stops (Go's
//! `RunWorker(master, me, Map, Reduce, nRPC)`; -1 for no limit): after
//! accepting its `n_rpc`-th call it closes its listener, so every later call
//! fails at once, while that last call is still served to the end, as in Go.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use labrpc::sim::Node;
use labrpc::{Listener, Network, Server, Service};
use mapreduce::sim::MemStore;

use crate::common::{
    App, DoJobArgs, DoJobReply, JobType, RegisterArgs, RegisterReply, ShutdownArgs, ShutdownReply,
};
use crate::files::{do_map, do_reduce};

/// The state behind a worker's service.
struct WorkerState {
    me: String,
    store: MemStore,
    app: App,
    /// Calls it may still accept; at 0 the listener closes (negative: no limit).
    rpcs_left: AtomicI64,
    /// DoJob calls served.
    jobs: AtomicU64,
    listener: std::sync::OnceLock<Listener>,
}

impl WorkerState {
    /// Counts an accepted call; closes the listener after the last one.
    fn accept(&self) {
        if self.rpcs_left.fetch_sub(1, Ordering::SeqCst) == 1 {
            tracing::debug!(topic = "worker", worker = %self.me, "accepted its last RPC; closing");
            self.close();
        }
    }

    fn close(&self) {
        if let Some(listener) = self.listener.get() {
            listener.close();
        }
    }

    async fn do_job(&self, args: DoJobArgs) -> DoJobReply {
        self.accept();
        // Both phases take the same arguments: the job's number and file, and
        // the number of jobs of the other phase.
        let (store, app, job, file) = (&self.store, &self.app, args.job_number, &args.file);
        let other = args.num_other_phase;
        let result = match args.operation {
            JobType::Map => do_map(store, app, job, file, other).await,
            JobType::Reduce => do_reduce(store, app, job, file, other).await,
        };
        match result {
            Ok(()) => {
                self.jobs.fetch_add(1, Ordering::SeqCst);
                DoJobReply { ok: true }
            }
            Err(e) => {
                tracing::warn!(topic = "worker", worker = %self.me, ?args, "job failed: {e}");
                DoJobReply { ok: false }
            }
        }
    }

    fn shutdown(&self) -> ShutdownReply {
        self.accept();
        let reply = ShutdownReply {
            njobs: self.jobs.load(Ordering::SeqCst),
            ok: true,
        };
        self.close();
        reply
    }
}

/// Starts a worker on a new node listening at `me`, and registers it with the
/// master at `master`. Returns once the registration call has returned
/// (Go's `RunWorker` runs until its listener closes; here the listener and
/// its node live on by themselves).
pub async fn run_worker(
    net: &Network,
    store: &MemStore,
    master: &str,
    me: &str,
    app: App,
    n_rpc: i64,
) -> Node {
    assert!(
        n_rpc != 0,
        "a worker that accepts no call is no worker (use -1 for no limit)"
    );
    let node = Node::new(me);
    let state = Arc::new(WorkerState {
        me: me.to_string(),
        store: store.clone(),
        app,
        rpcs_left: AtomicI64::new(n_rpc),
        jobs: AtomicU64::new(0),
        listener: std::sync::OnceLock::new(),
    });
    let (for_job, for_shutdown) = (state.clone(), state.clone());
    let service = Service::new("Worker")
        .method("DoJob", move |args: DoJobArgs| {
            let state = for_job.clone();
            async move { state.do_job(args).await }
        })
        .method("Shutdown", move |_: ShutdownArgs| {
            let state = for_shutdown.clone();
            async move { state.shutdown() }
        });
    let server = Server::new(&node);
    server.add_service(service);
    let listener = net.listen(me, server);
    // Set once, before any call can arrive (the master learns the path below).
    let _ = state.listener.set(listener);
    let end = net.end_to(master);
    let args = RegisterArgs {
        worker: me.to_string(),
    };
    let registered = node
        .spawn(async move {
            end.call::<_, RegisterReply>("MapReduce.Register", &args)
                .await
        })
        .await;
    match registered {
        Ok(Ok(reply)) if reply.ok => {}
        other => tracing::warn!(topic = "worker", worker = me, "register failed: {other:?}"),
    }
    node
}
