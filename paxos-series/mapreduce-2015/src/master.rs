//! The master (Go's `master.go` and the provided half of `mapreduce.go`).
//!
//! [`MapReduce::start`] is Go's `MakeMapReduce`: it starts the registration
//! service (`MapReduce.Register`, `MapReduce.Shutdown`) at the master's path
//! and runs the job in a task on the master's node: Split, then
//! [`MapReduce::run_master`], then Merge, then closing the registration
//! listener. Awaiting the returned handle is Go's `<-mr.DoneChannel`.
//!
//! [`MapReduce::run_master`] is the student's: hand every map job, then every
//! reduce job, to the registered workers, one job per worker at a time; a job
//! whose call fails goes to another worker, and the failed worker is dropped;
//! finally shut the workers down ([`MapReduce::kill_workers`]) and return how
//! many jobs each did.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::mpsc::{UnboundedReceiver, unbounded};
use labrpc::sim::{JoinHandle, Node};
use labrpc::{Network, Server, Service};
use mapreduce::sim::MemStore;

use crate::common::{
    DoJobArgs, DoJobReply, Error, RegisterArgs, RegisterReply, ShutdownArgs, ShutdownReply,
};
use crate::files::{check_counts, merge, split};

/// Go's `DoneChannel`: the job's task, yielding each worker's job count.
pub type Done = JoinHandle<Result<Vec<u64>, Error>>;

/// What the master knows about a worker (Go's `WorkerInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    pub address: String,
}

/// One MapReduce job (Go's `MapReduce` struct).
pub struct MapReduce {
    pub n_map: usize,
    pub n_reduce: usize,
    /// The input file's name in the store.
    pub file: String,
    /// The master's path.
    pub master: String,
    net: Network,
    store: MemStore,
    /// The workers the master currently counts on (Go's `mr.Workers`).
    workers: Mutex<BTreeMap<String, WorkerInfo>>,
}

impl std::fmt::Debug for MapReduce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapReduce")
            .field("n_map", &self.n_map)
            .field("n_reduce", &self.n_reduce)
            .field("file", &self.file)
            .field("master", &self.master)
            .finish_non_exhaustive()
    }
}

/// Go's `mr.Workers` is only touched under this lock; no code holds it across
/// an await, and a panic while holding it cannot leave the map half updated.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MapReduce {
    /// Go's `MakeMapReduce(nmap, nreduce, file, master)`. The input `file`
    /// must already be in `store`. The handle yields each worker's job count
    /// (what `run_master` returned) once the merged output is written.
    pub fn start(
        net: &Network,
        store: &MemStore,
        n_map: usize,
        n_reduce: usize,
        file: &str,
        master: &str,
    ) -> Result<(Arc<MapReduce>, Done), Error> {
        check_counts(n_map, n_reduce)?;
        let node = Node::new(master);
        let (register_tx, registrations) = unbounded::<String>();
        let server = Server::new(&node);
        let mr = Arc::new(MapReduce {
            n_map,
            n_reduce,
            file: file.to_string(),
            master: master.to_string(),
            net: net.clone(),
            store: store.clone(),
            workers: Mutex::new(BTreeMap::new()),
        });
        let (for_shutdown, path) = (net.clone(), master.to_string());
        server.add_service(
            Service::new("MapReduce")
                .method("Register", move |args: RegisterArgs| {
                    tracing::debug!(topic = "master", worker = %args.worker, "registered");
                    // The receiver lives as long as the job; after it, a late
                    // registration has nobody to tell and is dropped.
                    let ok = register_tx.unbounded_send(args.worker).is_ok();
                    async move { RegisterReply { ok } }
                })
                .method("Shutdown", move |_: ShutdownArgs| {
                    // Go's CleanupRegistration: the master stops listening.
                    if let Some(listener) = for_shutdown.listener(&path) {
                        listener.close();
                    }
                    async move { ShutdownReply { njobs: 0, ok: true } }
                }),
        );
        net.listen(master, server);
        let job = mr.clone();
        let done = node.spawn(async move { job.run(registrations).await });
        Ok((mr, done))
    }

    /// Go's `Run`: Split, RunMaster, Merge, CleanupRegistration.
    async fn run(&self, registrations: UnboundedReceiver<String>) -> Result<Vec<u64>, Error> {
        split(&self.store, &self.file, self.n_map).await?;
        let stats = self.run_master(registrations).await;
        merge(&self.store, &self.file, self.n_reduce).await?;
        self.cleanup_registration().await;
        Ok(stats)
    }

    /// Go's `CleanupRegistration`: the master calls its own `Shutdown`.
    async fn cleanup_registration(&self) {
        let end = self.net.end_to(&self.master);
        if let Err(e) = end
            .call::<_, ShutdownReply>("MapReduce.Shutdown", &ShutdownArgs {})
            .await
        {
            tracing::warn!(topic = "master", "cleanup registration: {e}");
        }
    }

    /// The workers the master currently counts on.
    pub fn workers(&self) -> BTreeMap<String, WorkerInfo> {
        lock(&self.workers).clone()
    }

    /// Adds a worker that registered.
    pub fn add_worker(&self, address: &str) {
        lock(&self.workers).insert(
            address.to_string(),
            WorkerInfo {
                address: address.to_string(),
            },
        );
    }

    /// Forgets a worker whose call failed.
    pub fn remove_worker(&self, address: &str) {
        lock(&self.workers).remove(address);
    }

    /// Go's `call(worker, "Worker.DoJob", args, &reply)`: true when the
    /// worker did the job (the call reached it and it answered OK).
    pub async fn do_job(&self, worker: &str, args: &DoJobArgs) -> bool {
        let end = self.net.end_to(worker);
        match end.call::<_, DoJobReply>("Worker.DoJob", args).await {
            Ok(reply) => reply.ok,
            Err(e) => {
                tracing::debug!(topic = "master", worker, ?args, "DoJob failed: {e}");
                false
            }
        }
    }

    /// Go's `KillWorkers`: `Worker.Shutdown` to every known worker; the job
    /// counts of those that answered.
    pub async fn kill_workers(&self) -> Vec<u64> {
        let mut counts = Vec::new();
        for worker in self.workers().into_keys() {
            let end = self.net.end_to(&worker);
            match end
                .call::<_, ShutdownReply>("Worker.Shutdown", &ShutdownArgs {})
                .await
            {
                Ok(reply) if reply.ok => counts.push(reply.njobs),
                other => tracing::debug!(topic = "master", worker, "shutdown: {other:?}"),
            }
        }
        counts
    }

    /// Go's `RunMaster`: runs every map job, then every reduce job, on the
    /// workers that register through `registrations` (new ones may arrive at
    /// any time), a job per worker at a time; a failed job goes to another
    /// worker. Map jobs get `num_other_phase = n_reduce`, reduce jobs
    /// `n_map`. Ends with [`MapReduce::kill_workers`].
    pub async fn run_master(&self, registrations: UnboundedReceiver<String>) -> Vec<u64> {
        // BEGIN SOLUTION
        use crate::common::JobType;
        use futures::StreamExt;
        use futures::stream::FuturesUnordered;
        use std::collections::VecDeque;

        let mut registrations = registrations;
        let mut idle: VecDeque<String> = VecDeque::new();
        let phases = [
            (JobType::Map, self.n_map, self.n_reduce),
            (JobType::Reduce, self.n_reduce, self.n_map),
        ];
        for (operation, n_jobs, num_other_phase) in phases {
            let mut pending: VecDeque<usize> = (0..n_jobs).collect();
            let mut running = FuturesUnordered::new();
            let mut done = 0;
            while done < n_jobs {
                while !pending.is_empty() && !idle.is_empty() {
                    let (Some(job), Some(worker)) = (pending.pop_front(), idle.pop_front()) else {
                        unreachable!("both queues were checked non-empty");
                    };
                    let args = DoJobArgs {
                        file: self.file.clone(),
                        operation,
                        job_number: job,
                        num_other_phase,
                    };
                    running.push(async move {
                        let ok = self.do_job(&worker, &args).await;
                        (worker, job, ok)
                    });
                }
                // select_biased!, not select!: select! polls its branches in
                // a random order drawn outside the simulation, so a run would
                // no longer replay from its seed.
                futures::select_biased! {
                    worker = registrations.next() => {
                        // The sender lives in the registration service, which
                        // outlives this loop.
                        let worker = worker.expect("the registration channel stays open");
                        self.add_worker(&worker);
                        idle.push_back(worker);
                    }
                    (worker, job, ok) = running.select_next_some() => {
                        if ok {
                            done += 1;
                            idle.push_back(worker);
                        } else {
                            tracing::debug!(topic = "master", %worker, job, "reassigning");
                            self.remove_worker(&worker);
                            pending.push_back(job);
                        }
                    }
                }
            }
        }
        self.kill_workers().await
        // HANDOUT
        // let _ = registrations;
        // todo!("P1: RunMaster")
        // END SOLUTION
    }
}
