//! Deterministic mode: the simulator and N reference replicas in one process,
// SOLUTION FILE
//! on labrpc's virtual time, replayable by seed.
//!
//! The same [`Simulator`] that judges real processes judges here, and the
//! replicas are the same [`Replica`] logic that `kvstore-replica` drives over
//! UDP; only the transport differs. Every datagram (simulator to replica and
//! back; replica-to-replica traffic goes through the simulator, as in Gen D)
//! takes one *hop* whose latency is drawn from [`LatencyModel`], so that the
//! latency tiers (150 µs to 5 ms) mean something: with zero-latency hops
//! every answer would take no time and every latency tier would be Bonus.
//! Each direction of each replica's socket pair is FIFO, as loopback UDP is in
//! practice (a random per-datagram latency alone would reorder an `ok` for a
//! put after the `ok` of a later get and make a correct replica look wrong).
//!
//! Everything random comes from the seed: the simulator's streams from the
//! seed itself, the replicas' election timeouts and the hop latencies from
//! labrpc's seeded generator. The run's digest (every delivered datagram with
//! its virtual time) is the proof: same seed, same digest.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::sim::{self, Instant};

use crate::config::Config;
use crate::replica::{Fault, Replica, Tuning};
use crate::report::Verdict;
use crate::sim::{Action, Simulator};

/// One hop's latency: `base` plus a uniformly drawn extra of up to `jitter`.
/// The default (50–100 µs per hop) is what a datagram through the loopback
/// interface between two busy processes takes: a leader's get costs two hops
/// (≈ 150 µs), a put six (client to leader, leader to followers and back via
/// the simulator, leader to client: ≈ 450 µs).
#[derive(Clone, Copy, Debug)]
pub struct LatencyModel {
    pub base: Duration,
    pub jitter: Duration,
}

impl Default for LatencyModel {
    fn default() -> LatencyModel {
        LatencyModel {
            base: Duration::from_micros(50),
            jitter: Duration::from_micros(50),
        }
    }
}

/// How often each replica's clock ticks (its timers are tens of ms).
pub const TICK: Duration = Duration::from_millis(5);

/// A run's verdict and the digest of everything delivered in it.
#[derive(Clone, Debug)]
pub struct DetOutcome {
    pub verdict: Verdict,
    pub digest: u64,
}

#[derive(Debug)]
enum Hop {
    /// A datagram from the simulator to replica `.0`.
    ToReplica(usize, Vec<u8>),
    /// A datagram from replica `.0` to the simulator.
    ToSim(usize, Vec<u8>),
}

/// FNV-1a, folded over every delivery.
fn fold(digest: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *digest ^= u64::from(b);
        *digest = digest.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// Runs config `name` with `seed` in virtual time.
pub fn run(name: &str, config: &Config, seed: u64, latency: LatencyModel) -> DetOutcome {
    // The run's future must be 'static: the outcome comes back through a
    // Mutex (uncontended: written once by the single simulated task, read
    // after the run).
    let out: Arc<Mutex<Option<DetOutcome>>> = Arc::new(Mutex::new(None));
    let slot = out.clone();
    let (name_owned, config_owned) = (name.to_owned(), config.clone());
    sim::Builder::new()
        .seed(seed)
        .time_limit(config.end() + Duration::from_secs(10))
        .test_name(name)
        .run(async move {
            let outcome = simulate(&name_owned, config_owned, seed, latency).await;
            *slot.lock().expect("not poisoned: one writer") = Some(outcome);
        });
    let outcome = out.lock().expect("not poisoned").take();
    outcome.expect("the simulated run stores its outcome")
}

async fn simulate(name: &str, config: Config, seed: u64, latency: LatencyModel) -> DetOutcome {
    let start = sim::now();
    let since_start = |t: Instant| t.saturating_duration_since(start);
    let mut simulator = Simulator::new(config.clone(), seed);
    let n = config.replicas;
    let mut replicas: Vec<Option<Replica>> = (0..n)
        .map(|i| {
            let args = simulator.replica_args(i);
            Some(Replica::new(
                &args[0],
                &args[1..],
                sim::random_u64(),
                sim::now(),
                Tuning::default(),
                Fault::None,
            ))
        })
        .collect();
    let mut queue: BTreeMap<(Instant, u64), Hop> = BTreeMap::new();
    let mut seq = 0u64;
    // The last delivery time on each direction of each socket pair (FIFO).
    let mut last_to_replica = vec![Instant::START; n];
    let mut last_to_sim = vec![Instant::START; n];
    let mut digest = 0xcbf2_9ce4_8422_2325u64;
    let mut next_tick = sim::now();

    let hop = |last: &mut Instant, now: Instant| -> Instant {
        let extra = sim::gen_range(0..=latency.jitter.as_nanos() as u64);
        let at = (now + latency.base + Duration::from_nanos(extra)).max(*last);
        *last = at;
        at
    };

    loop {
        let now = sim::now();
        // Deliver everything due.
        while let Some(entry) = queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, _), hop_item) = entry.remove_entry();
            match hop_item {
                Hop::ToReplica(i, bytes) => {
                    fold(&mut digest, &at.as_nanos_since_start().to_le_bytes());
                    fold(&mut digest, &bytes);
                    if let Some(r) = replicas[i].as_mut() {
                        r.on_datagram(&bytes, now);
                    }
                }
                Hop::ToSim(i, bytes) => {
                    fold(&mut digest, &[i as u8]);
                    fold(&mut digest, &bytes);
                    simulator.on_datagram(i, &bytes, since_start(now));
                }
            }
        }
        simulator.tick(since_start(now));
        if now >= next_tick {
            next_tick = now + TICK;
            for r in replicas.iter_mut().flatten() {
                r.tick(now);
            }
        }
        // The simulator's actions, then the replicas' output.
        for action in simulator.take_actions() {
            match action {
                Action::Deliver { to, payload } => {
                    let at = hop(&mut last_to_replica[to], now);
                    seq += 1;
                    queue.insert((at, seq), Hop::ToReplica(to, payload));
                }
                Action::Kill { replica } => replicas[replica] = None,
            }
        }
        for (i, slot) in replicas.iter_mut().enumerate() {
            let Some(r) = slot.as_mut() else { continue };
            for datagram in r.take_output() {
                let at = hop(&mut last_to_sim[i], now);
                seq += 1;
                queue.insert((at, seq), Hop::ToSim(i, datagram));
            }
        }
        if simulator.ended().is_some() {
            break;
        }
        let mut wake = (start + simulator.next_deadline()).min(next_tick);
        if let Some(((at, _), _)) = queue.first_key_value() {
            wake = wake.min(*at);
        }
        sim::sleep_until(wake.max(now)).await;
    }
    let verdict = Verdict::judge(name, seed, &config, simulator.stats());
    DetOutcome { verdict, digest }
}
