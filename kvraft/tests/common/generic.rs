//! A port of Go's `GenericTest` and `GenericTestSpeed` (kvraft's
//! `test_test.go`), with its client loop and partitioner: the test bodies
//! that kvraft_3a and kvraft_3b share, apart from the harness in `mod.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labrpc::sim;
use labtest::history::{KvLog, check_clnt_appends};

use super::{
    CLIENT_PAUSE_MS_PER_CLIENT, Client, Config, ELECTION_TIMEOUT, make_config,
    make_config_and_client, spawn_clients,
};

/// Go's `partitioner`: until `done`, splits the servers at random into two
/// groups every second or so.
async fn partitioner(cfg: Config, done: Arc<AtomicBool>) {
    while !done.load(Ordering::SeqCst) {
        let a: Vec<usize> = (0..cfg.n()).map(|_| sim::gen_range(0..2)).collect();
        let pa: Vec<Vec<usize>> = (0..2)
            .map(|side| (0..cfg.n()).filter(|&j| a[j] == side).collect())
            .collect();
        cfg.partition(&pa[0], &pa[1]);
        let jitter = Duration::from_millis(sim::gen_range(0..200));
        sim::sleep(ELECTION_TIMEOUT + jitter).await;
    }
}

/// Go's `GenericTest(t, part, nclients, nservers, unreliable, crash,
/// partitions, maxraftstate, randomkeys)`, its parameters by name. Each
/// test names its part and what it changes from [`GenericTest::BASIC`],
/// and calls [`GenericTest::run`].
#[derive(Clone, Copy, Debug)]
pub struct GenericTest {
    /// The lab part, for the title: "3A" or "3B".
    pub part: &'static str,
    pub nclients: usize,
    pub nservers: usize,
    /// The network drops RPC requests and replies.
    pub unreliable: bool,
    /// All servers restart between rounds, so persistence must work.
    pub crash: bool,
    /// The network partitions at random while the clients run.
    pub partitions: bool,
    /// Go's maxraftstate: -1 for no snapshots.
    pub maxraftstate: i64,
    /// The clients use random keys and Puts (only the linearizability
    /// check can then judge the history).
    pub randomkeys: bool,
}

impl GenericTest {
    /// The parameters a test does not name: TestBasic3A's (one client,
    /// five servers, a reliable network, no restarts, partitions, snapshots
    /// or random keys). Tests name their part, as Go's calls do.
    pub const BASIC: GenericTest = GenericTest {
        part: "3A",
        nclients: 1,
        nservers: 5,
        unreliable: false,
        crash: false,
        partitions: false,
        maxraftstate: -1,
        randomkeys: false,
    };

    /// The generic test's client `cli`: Go's closure in `GenericTest`.
    /// Returns how many appends (and, with random keys, puts) it made.
    async fn client(
        self,
        cfg: Config,
        cli: usize,
        mut myck: Client,
        done: Arc<AtomicBool>,
        log: KvLog,
    ) -> usize {
        let GenericTest {
            nclients,
            randomkeys,
            ..
        } = self;
        let mut j = 0;
        let mut last = String::new(); // only used when not randomkeys
        if !randomkeys {
            cfg.put(&mut myck, &cli.to_string(), &last, Some((&log, cli)))
                .await;
        }
        while !done.load(Ordering::SeqCst) {
            let key = if randomkeys {
                sim::gen_range(0..nclients).to_string()
            } else {
                cli.to_string()
            };
            let nv = format!("x {cli} {j} y");
            if sim::gen_range(0..1000) < 500 {
                cfg.append(&mut myck, &key, &nv, Some((&log, cli))).await;
                if !randomkeys {
                    last.push_str(&nv);
                }
                j += 1;
            } else if randomkeys && sim::gen_range(0..1000) < 100 {
                // only with random keys: it would break the check of the Gets
                cfg.put(&mut myck, &key, &nv, Some((&log, cli))).await;
                j += 1;
            } else {
                let v = cfg.get(&mut myck, &key, Some((&log, cli))).await;
                // the check only makes sense when not using random keys
                assert!(
                    randomkeys || v == last,
                    "get wrong value, key {key}, wanted:\n{last}\n, got\n{v}\n"
                );
            }
            // Let virtual time pass (see the module documentation).
            let pause = sim::gen_range(0..=CLIENT_PAUSE_MS_PER_CLIENT * nclients as u64);
            sim::go_sleep(Duration::from_millis(pause)).await;
        }
        j
    }

    /// Go's `GenericTest`: one or more clients submit Append/Get (and, with random
    /// keys, Put) operations for 5 s, three times over. After each round it
    /// checks that every append is present once and in order; with `crash` all
    /// servers restart between rounds; with `partitions` the network is split at
    /// random while the clients run. If `maxraftstate` > 0 the Raft state must
    /// stay under 8 times it; if < 0 there must be no snapshot. At the end the
    /// whole history must be linearizable.
    /// Runs the test in a simulation of its own (Go's `GenericTest` call).
    pub fn run(self) {
        sim::run(self.body());
    }

    async fn body(self) {
        let GenericTest {
            part,
            nclients,
            nservers,
            unreliable,
            crash,
            partitions,
            maxraftstate,
            randomkeys,
        } = self;
        let mut title = String::from("Test: ");
        if unreliable {
            // the network drops RPC requests and replies.
            title.push_str("unreliable net, ");
        }
        if crash {
            // peers re-start, and thus persistence must work.
            title.push_str("restarts, ");
        }
        if partitions {
            // the network may partition
            title.push_str("partitions, ");
        }
        if maxraftstate != -1 {
            title.push_str("snapshots, ");
        }
        if randomkeys {
            title.push_str("random keys, ");
        }
        if nclients > 1 {
            title.push_str("many clients");
        } else {
            title.push_str("one client");
        }
        title.push_str(&format!(" ({part})"));

        let cfg = make_config(nservers, unreliable, maxraftstate);
        cfg.begin(&title);
        let oplog = KvLog::new();
        let mut ck = cfg.make_client(&cfg.all());

        for _iteration in 0..3 {
            let done_clients = Arc::new(AtomicBool::new(false));
            let done_partitioner = Arc::new(AtomicBool::new(false));
            let clients = spawn_clients(&cfg, nclients, |cli, myck| {
                self.client(cfg.clone(), cli, myck, done_clients.clone(), oplog.clone())
            });

            let mut partitioner_task = None;
            if partitions {
                // Allow the clients to perform some operations without interruption
                sim::sleep(Duration::from_secs(1)).await;
                partitioner_task = Some(sim::spawn(partitioner(
                    cfg.clone(),
                    done_partitioner.clone(),
                )));
            }
            sim::sleep(Duration::from_secs(5)).await;

            done_clients.store(true, Ordering::SeqCst); // tell clients to quit
            done_partitioner.store(true, Ordering::SeqCst); // tell partitioner to quit

            if let Some(task) = partitioner_task {
                task.await.expect("partitioner cancelled");
                // reconnect network and submit a request. A client may have
                // submitted a request in a minority. That request won't return
                // until that server discovers a new term has started.
                cfg.connect_all();
                // wait for a while so that we have a new term
                sim::sleep(ELECTION_TIMEOUT).await;
            }

            if crash {
                for i in 0..nservers {
                    cfg.shutdown_server(i);
                }
                // Wait for a while for servers to shutdown, since shutdown isn't
                // a real crash and isn't instantaneous (as in Go)
                sim::sleep(ELECTION_TIMEOUT).await;
                // crash and re-start all
                for i in 0..nservers {
                    cfg.start_server(i);
                }
                cfg.connect_all();
            }

            for (i, client) in clients.into_iter().enumerate() {
                let j = client.await.expect("client task cancelled");
                let key = i.to_string();
                let v = cfg.get(&mut ck, &key, Some((&oplog, 0))).await;
                if !randomkeys {
                    check_clnt_appends(i, &v, j);
                }
            }

            if let Ok(max) = usize::try_from(maxraftstate)
                && max > 0
            {
                // Check maximum after the servers have processed all client
                // requests and had time to checkpoint.
                let sz = cfg.log_size();
                assert!(sz <= 8 * max, "logs were not trimmed ({sz} > 8*{max})");
            }
            if maxraftstate < 0 {
                // Check that snapshots are not used
                let ssz = cfg.snapshot_size();
                assert!(
                    ssz == 0,
                    "snapshot too large ({ssz}), should not be used when maxraftstate = {maxraftstate}"
                );
            }
        }

        check_linearizable(&oplog);
        cfg.end();
    }
}

/// Go's porcupine check at the end of `GenericTest` (see `labtest::history`).
pub fn check_linearizable(oplog: &KvLog) {
    labtest::history::check_linearizable(oplog.read());
}

/// Go's `GenericTestSpeed`: 1000 sequential Appends on a reliable 3-server
/// cluster must take under 33.3 ms each (at least 3 per heartbeat interval).
/// Returns the virtual time per operation.
pub async fn generic_test_speed(part: &str, maxraftstate: i64) -> Duration {
    const NSERVERS: usize = 3;
    const NUM_OPS: u32 = 1000;
    let (cfg, mut ck) = make_config_and_client(NSERVERS, false, maxraftstate);

    cfg.begin(&format!("Test: ops complete fast enough ({part})"));

    // wait until first op completes, so we know a leader is elected
    // and KV servers are ready to process client requests
    ck.clerk.get("x").await;

    let start = sim::now();
    for i in 0..NUM_OPS {
        ck.clerk.append("x", &format!("x 0 {i} y")).await;
    }
    let dur = sim::now() - start;

    let v = ck.clerk.get("x").await;
    check_clnt_appends(0, &v, NUM_OPS as usize);

    // heartbeat interval should be ~ 100 ms; require at least 3 ops per
    const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
    const OPS_PER_INTERVAL: u32 = 3;
    let time_per_op = HEARTBEAT_INTERVAL / OPS_PER_INTERVAL;
    let per_op = dur / NUM_OPS;
    assert!(
        dur <= time_per_op * NUM_OPS,
        "Operations completed too slowly {per_op:?}/op > {time_per_op:?}/op"
    );
    println!(
        "info: {NUM_OPS} appends in {:.3} virtual ms, {:.4} ms/op",
        dur.as_secs_f64() * 1e3,
        per_op.as_secs_f64() * 1e3
    );

    cfg.end();
    per_op
}
