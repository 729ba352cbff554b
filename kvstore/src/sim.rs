//! The simulator's core: workload, router, fault schedule and oracle, as a
//! pure state machine.
//!
//! [`Simulator`] owns no socket, process or clock. Its inputs are method calls
//! carrying the current time since the start of the run (`now`): a datagram
//! from replica *i* ([`Simulator::on_datagram`]), a replica process ending by
//! itself ([`Simulator::replica_exited`]), a send that could not be done
//! ([`Simulator::count_blocked`]) and the passing of time
//! ([`Simulator::tick`]). Its outputs are [`Action`]s the driver carries out:
//! deliver these bytes to replica *i*, kill replica *i*. The UDP driver
//! (`crate::udp`) runs it against real processes in real time; the
//! deterministic driver (`crate::det`) runs it in-process on virtual time.
//! Both therefore judge by exactly the same rules.
//!
//! One seed drives three independent random streams, so that the fault
//! schedule does not shift when a replica's answers change the workload's
//! draws: `workload` (which client, get or put, keys, MIDs), `network`
//! (drops) and `faults` (which replica is killed, who is partitioned).
//!
//! The semantics are Gen D's (see docs/lab-kvstore.md): client traffic is
//! never dropped nor counted; replica traffic is counted (`FFFF` costs N − 1)
//! and subject to drops and partitions; the simulator's idea of the leader is
//! the `leader` field of the last message from the majority side.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::seq::IteratorRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::config::{Config, EventKind};
use crate::md5::md5_hex;
use crate::protocol::{self, BROADCAST, Envelope, Malformed};
use crate::report::{EndReason, Stats};

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `payload` as one datagram to replica `to`.
    Deliver { to: usize, payload: Vec<u8> },
    /// Kill replica `replica` (SIGTERM its process group, close its socket).
    Kill { replica: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    /// Started, no `hello` yet: a delivery now kills it (the Gen D trap).
    Starting,
    Up,
    /// Killed by an event.
    Killed,
    /// Ended any other way: exited, hung up, was sent to before `hello`,
    /// sent a non-UTF-8 datagram. A correctness failure.
    Died,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Get,
    Put,
}

#[derive(Clone, Debug)]
struct Request {
    client: usize,
    op: Op,
    key: String,
    value: String,
    created: Duration,
}

#[derive(Clone, Debug, Default)]
struct Client {
    id: String,
    leader: Option<usize>,
    /// key -> last value acknowledged by `ok`.
    items: BTreeMap<String, String>,
}

/// The simulator. See the module documentation.
pub struct Simulator {
    config: Config,
    seed: u64,
    replicas: Vec<Life>,
    ids: Vec<String>,
    clients: Vec<Client>,
    outstanding: BTreeMap<String, Request>,
    /// MIDs answered with `ok`.
    completed: BTreeSet<String>,
    leader: Option<usize>,
    /// Majority side of the current partition, if any.
    majority: Option<BTreeSet<usize>>,
    next_request: usize,
    /// Events sorted by time, and the index of the next one to fire.
    events: Vec<(Duration, EventKind)>,
    next_event: usize,
    workload: ChaCha8Rng,
    network: ChaCha8Rng,
    faults: ChaCha8Rng,
    actions: Vec<Action>,
    stats: Stats,
    ended: Option<EndReason>,
    /// Human-readable notes on everything counted as incorrect or died.
    notes: Vec<String>,
}

/// At most this many notes are kept (a flood of garbage must not eat memory).
const MAX_NOTES: usize = 50;

impl Simulator {
    pub fn new(config: Config, seed: u64) -> Simulator {
        let n = config.replicas;
        let clients = (0..8)
            .map(|i| Client {
                id: protocol::client_id(n, i),
                ..Client::default()
            })
            .collect();
        let t0 = config.t0();
        let mut events: Vec<(Duration, EventKind)> = config
            .events
            .iter()
            .map(|e| (t0 + Duration::from_secs_f64(e.time), e.kind))
            .collect();
        events.sort_by_key(|(at, _)| *at);
        let stream =
            |k: u64| ChaCha8Rng::seed_from_u64(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Simulator {
            seed,
            replicas: vec![Life::Starting; n],
            ids: (0..n).map(protocol::replica_id).collect(),
            clients,
            outstanding: BTreeMap::new(),
            completed: BTreeSet::new(),
            leader: None,
            majority: None,
            next_request: 0,
            events,
            next_event: 0,
            workload: stream(1),
            network: stream(2),
            faults: stream(3),
            actions: Vec::new(),
            stats: Stats::default(),
            ended: None,
            notes: Vec::new(),
            config,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The replicas' IDs, by index.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The command-line arguments of replica `index` after the port:
    /// its ID, then the others' IDs.
    pub fn replica_args(&self, index: usize) -> Vec<String> {
        let mut args = vec![self.ids[index].clone()];
        args.extend(
            self.ids
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, id)| id.clone()),
        );
        args
    }

    /// The actions produced since the last call.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Why the run ended, once it has.
    pub fn ended(&self) -> Option<EndReason> {
        self.ended
    }

    /// Whether replica `index` has sent its `hello` and is alive.
    pub fn is_up(&self, index: usize) -> bool {
        self.replicas[index] == Life::Up
    }

    /// Whether replica `index` is gone (killed or died).
    pub fn is_gone(&self, index: usize) -> bool {
        matches!(self.replicas[index], Life::Killed | Life::Died)
    }

    /// When [`tick`](Simulator::tick) has something to do next.
    pub fn next_deadline(&self) -> Duration {
        let mut next = self.config.end();
        if self.next_request < self.config.requests {
            next = next.min(self.request_time(self.next_request));
        }
        if let Some((at, _)) = self.events.get(self.next_event) {
            next = next.min(*at);
        }
        next
    }

    fn request_time(&self, i: usize) -> Duration {
        let delta = self.config.lifetime / self.config.requests as f64;
        self.config.t0() + Duration::from_secs_f64(delta * i as f64)
    }

    fn note(&mut self, now: Duration, what: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(format!("{:.3}s {what}", now.as_secs_f64()));
        }
    }

    // ----- Time ----------------------------------------------------------

    /// Fires every request and event due at `now`, and ends the run when its
    /// time is up.
    pub fn tick(&mut self, now: Duration) {
        if self.ended.is_some() {
            return;
        }
        loop {
            let request_at = (self.next_request < self.config.requests)
                .then(|| self.request_time(self.next_request));
            let event = self.events.get(self.next_event).copied();
            // Events before requests at equal times, like a stable merge.
            match (request_at, event) {
                (_, Some((at, kind))) if at <= now && request_at.is_none_or(|r| at <= r) => {
                    self.next_event += 1;
                    self.fire_event(kind, now);
                }
                (Some(at), _) if at <= now => {
                    self.next_request += 1;
                    self.new_request(now);
                }
                _ => break,
            }
            if self.ended.is_some() {
                return;
            }
        }
        if now >= self.config.end() {
            self.finish(EndReason::Time);
        }
    }

    fn finish(&mut self, reason: EndReason) {
        if self.ended.is_none() {
            self.ended = Some(reason);
        }
    }

    fn living(&self) -> Vec<usize> {
        (0..self.replicas.len())
            .filter(|&i| matches!(self.replicas[i], Life::Starting | Life::Up))
            .collect()
    }

    fn check_anyone_alive(&mut self) {
        if self.living().is_empty() {
            self.finish(EndReason::NoReplicas);
        }
    }

    // ----- Workload ------------------------------------------------------

    fn random_string(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len)
            .map(|_| CHARS[self.workload.random_range(0..CHARS.len())] as char)
            .collect()
    }

    fn new_request(&mut self, now: Duration) {
        let client = self.workload.random_range(0..self.clients.len());
        let is_get = self.workload.random_bool(self.config.mix);
        let (op, key, value) = if is_get {
            self.stats.generated_get += 1;
            let items = &self.clients[client].items;
            if items.is_empty() {
                self.stats.failed_to_generate_get += 1;
                let (key, value) = self.new_put(client);
                (Op::Put, key, value)
            } else {
                let key = items
                    .keys()
                    .choose(&mut self.workload)
                    .expect("items is not empty")
                    .clone();
                (Op::Get, key, String::new())
            }
        } else {
            self.stats.generated_put += 1;
            let (key, value) = self.new_put(client);
            (Op::Put, key, value)
        };
        let request = Request {
            client,
            op,
            key,
            value,
            created: now,
        };
        self.send_request(request, now);
    }

    fn new_put(&mut self, client: usize) -> (String, String) {
        let fresh = self.clients[client].items.is_empty() || self.workload.random_bool(0.5);
        if fresh {
            let key = self.random_string(32);
            let value = md5_hex(key.as_bytes());
            (key, value)
        } else {
            let (key, current) = self.clients[client]
                .items
                .iter()
                .choose(&mut self.workload)
                .map(|(k, v)| (k.clone(), v.clone()))
                .expect("items is not empty");
            (key, md5_hex(current.as_bytes()))
        }
    }

    /// Sends `request` under a new MID to the client's leader if it is alive,
    /// else to a random living replica.
    fn send_request(&mut self, mut request: Request, now: Duration) {
        let client = &self.clients[request.client];
        let cached = client.leader.filter(|&l| !self.is_gone(l));
        let living = self.living();
        let dst = match cached {
            Some(l) => l,
            None => match living.iter().copied().choose(&mut self.workload) {
                Some(r) => r,
                None => return self.finish(EndReason::NoReplicas),
            },
        };
        let mid = self.random_string(16);
        let client = &self.clients[request.client];
        let leader = client
            .leader
            .map(|l| self.ids[l].clone())
            .unwrap_or_else(|| BROADCAST.to_owned());
        let kind = match request.op {
            Op::Get => "get",
            Op::Put => "put",
        };
        let mut extra = vec![("MID", mid.as_str()), ("key", request.key.as_str())];
        if request.op == Op::Put {
            extra.push(("value", request.value.as_str()));
        }
        let msg = protocol::message(&client.id, &self.ids[dst], &leader, kind, &extra);
        match request.op {
            Op::Get => self.stats.get_sent += 1,
            Op::Put => self.stats.put_sent += 1,
        }
        request.created = now;
        self.outstanding.insert(mid, request);
        self.deliver(dst, &msg, now);
    }

    /// Hands `msg` to replica `to`; a replica that has not said hello yet
    /// dies of it, as in Gen D.
    fn deliver(&mut self, to: usize, msg: &Value, now: Duration) {
        match self.replicas[to] {
            Life::Up => self.actions.push(Action::Deliver {
                to,
                payload: serde_json::to_vec(msg).expect("a JSON value serializes"),
            }),
            Life::Starting => {
                self.note(
                    now,
                    format!("replica {} got a message before its hello", self.ids[to]),
                );
                self.die(to);
            }
            Life::Killed | Life::Died => {}
        }
    }

    fn die(&mut self, replica: usize) {
        if matches!(self.replicas[replica], Life::Starting | Life::Up) {
            self.replicas[replica] = Life::Died;
            self.actions.push(Action::Kill { replica });
            self.check_anyone_alive();
        }
    }

    // ----- Faults --------------------------------------------------------

    fn fire_event(&mut self, kind: EventKind, now: Duration) {
        match kind {
            EventKind::KillLeader => {
                if let Some(leader) = self.leader.filter(|&l| !self.is_gone(l)) {
                    self.kill(leader, now);
                    self.set_leader(None);
                    for client in &mut self.clients {
                        client.leader = None;
                    }
                }
            }
            EventKind::KillNonLeader => {
                let living = self.living();
                if living.len() >= 2 {
                    let leader = self.leader;
                    let victim = living
                        .into_iter()
                        .filter(|&r| Some(r) != leader)
                        .choose(&mut self.faults);
                    if let Some(victim) = victim {
                        self.kill(victim, now);
                    }
                }
            }
            EventKind::PartEasy => match self.leader {
                Some(leader) => {
                    let q = self.replicas.len() / 2 + 1;
                    let mut side: BTreeSet<usize> = (0..self.replicas.len())
                        .filter(|&r| r != leader)
                        .choose_multiple(&mut self.faults, q - 1)
                        .into_iter()
                        .collect();
                    side.insert(leader);
                    self.majority = Some(side);
                }
                None => self.part_hard(),
            },
            EventKind::PartHard => self.part_hard(),
            EventKind::PartEnd => self.majority = None,
        }
    }

    fn part_hard(&mut self) {
        let q = self.replicas.len() / 2 + 1;
        let side = (0..self.replicas.len())
            .choose_multiple(&mut self.faults, q)
            .into_iter()
            .collect();
        self.majority = Some(side);
        self.set_leader(None);
        for client in &mut self.clients {
            client.leader = None;
        }
    }

    fn kill(&mut self, replica: usize, now: Duration) {
        if matches!(self.replicas[replica], Life::Starting | Life::Up) {
            self.replicas[replica] = Life::Killed;
            self.stats.killed += 1;
            self.actions.push(Action::Kill { replica });
            self.note(now, format!("event killed replica {}", self.ids[replica]));
            self.check_anyone_alive();
        }
    }

    fn set_leader(&mut self, leader: Option<usize>) {
        if leader != self.leader {
            self.leader = leader;
            let name = leader
                .map(|l| self.ids[l].clone())
                .unwrap_or_else(|| BROADCAST.to_owned());
            self.stats.leaders.push(name);
        }
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        match &self.majority {
            None => true,
            Some(side) => side.contains(&a) == side.contains(&b),
        }
    }

    // ----- Inputs from the replicas --------------------------------------

    /// Replica `index`'s process ended without being killed by an event.
    pub fn replica_exited(&mut self, index: usize, now: Duration) {
        if matches!(self.replicas[index], Life::Starting | Life::Up) {
            self.note(now, format!("replica {} exited", self.ids[index]));
            self.die(index);
        }
    }

    /// A message to replica `to` could not be sent (its socket buffer full).
    pub fn count_blocked(&mut self) {
        self.stats.blocked += 1;
    }

    /// One datagram that arrived on replica `from`'s socket.
    pub fn on_datagram(&mut self, from: usize, bytes: &[u8], now: Duration) {
        if self.ended.is_some() || self.is_gone(from) {
            return;
        }
        let msg = match protocol::parse_envelope(bytes) {
            Ok(msg) => msg,
            Err(Malformed::NotUtf8) => {
                self.note(
                    now,
                    format!("replica {} sent a non-UTF-8 datagram", self.ids[from]),
                );
                return self.die(from);
            }
            Err(why) => {
                self.incorrect(now, format!("from replica {}: {why}", self.ids[from]));
                return;
            }
        };
        if msg.kind == "hello" {
            if self.replicas[from] == Life::Starting {
                self.replicas[from] = Life::Up;
            }
            return;
        }
        // A replica that talks without having said hello is routed as usual
        // but stays unreachable: the first message to it kills it.
        // Leader learning: only from the majority side of a partition.
        let on_majority = self
            .majority
            .as_ref()
            .is_none_or(|side| side.contains(&from));
        if on_majority {
            let leader = msg
                .leader_number()
                .map(usize::from)
                .filter(|&l| l < self.replicas.len());
            self.set_leader(leader);
        }
        if msg.dst.eq_ignore_ascii_case(BROADCAST) {
            let n = self.replicas.len();
            self.count_msgs(n as u64 - 1);
            for to in (0..n).filter(|&r| r != from) {
                self.route(from, to, bytes, now);
            }
            return;
        }
        let dst = protocol::parse_id(&msg.dst).map(usize::from);
        let n = self.replicas.len();
        match dst {
            Some(to) if to < n => {
                self.count_msgs(1);
                self.route(from, to, bytes, now);
            }
            Some(c) if (n + 16..n + 16 + self.clients.len()).contains(&c) => {
                self.on_response(c - n - 16, &msg, now);
            }
            _ => self.incorrect(
                now,
                format!("replica {} sent to unknown ID {}", self.ids[from], msg.dst),
            ),
        }
    }

    fn count_msgs(&mut self, n: u64) {
        self.stats.total_msgs += n;
        if self.stats.total_msgs >= self.config.max_packets {
            self.finish(EndReason::PacketStorm);
        }
    }

    /// Replica-to-replica delivery, subject to the partition and drops.
    fn route(&mut self, from: usize, to: usize, bytes: &[u8], now: Duration) {
        if !self.connected(from, to) {
            return;
        }
        if self.config.drops > 0.0 && self.network.random_bool(self.config.drops) {
            self.stats.total_drops += 1;
            return;
        }
        match self.replicas[to] {
            Life::Up => self.actions.push(Action::Deliver {
                to,
                payload: bytes.to_vec(),
            }),
            Life::Starting => {
                self.note(
                    now,
                    format!(
                        "replica {} got a message from {} before its hello",
                        self.ids[to], self.ids[from]
                    ),
                );
                self.die(to);
            }
            Life::Killed | Life::Died => {}
        }
    }

    fn incorrect(&mut self, now: Duration, what: String) {
        self.stats.incorrect += 1;
        self.note(now, format!("incorrect: {what}"));
    }

    fn on_response(&mut self, client: usize, msg: &Envelope, now: Duration) {
        let Some(mid) = msg.str_field("MID").map(str::to_owned) else {
            return self.incorrect(now, format!("{} without a MID", msg.kind));
        };
        if !matches!(msg.kind.as_str(), "ok" | "fail" | "redirect") {
            return self.incorrect(now, format!("type {:?} sent to a client", msg.kind));
        }
        let Some(request) = self.outstanding.remove(&mid) else {
            if self.completed.contains(&mid) && msg.kind == "ok" {
                self.stats.duplicates += 1;
            } else {
                self.incorrect(now, format!("{} for unexpected MID {mid}", msg.kind));
            }
            return;
        };
        if request.client != client {
            // Answered to the wrong client: the right one still waits.
            self.outstanding.insert(mid.clone(), request);
            return self.incorrect(
                now,
                format!("answer for MID {mid} sent to the wrong client"),
            );
        }
        self.stats
            .latencies
            .push(now.saturating_sub(request.created).as_secs_f64());
        self.clients[client].leader = msg
            .leader_number()
            .map(usize::from)
            .filter(|&l| l < self.replicas.len());
        match msg.kind.as_str() {
            "ok" => {
                self.completed.insert(mid.clone());
                match request.op {
                    Op::Put => {
                        self.clients[client]
                            .items
                            .insert(request.key, request.value);
                    }
                    Op::Get => {
                        let expected = self.clients[client].items.get(&request.key);
                        match msg.str_field("value") {
                            Some(value) if Some(&value.to_owned()) == expected => {}
                            Some(value) => {
                                self.stats.incorrect_gets += 1;
                                self.incorrect(
                                    now,
                                    format!(
                                        "get {} (MID {mid}) returned {value:?}, expected {:?}",
                                        request.key,
                                        expected.map(String::as_str).unwrap_or("")
                                    ),
                                );
                            }
                            None => {
                                self.incorrect(now, format!("get ok without a value (MID {mid})"))
                            }
                        }
                    }
                }
            }
            kind => {
                self.stats.redirects += 1;
                if kind == "fail" {
                    match request.op {
                        Op::Get => self.stats.failed_get += 1,
                        Op::Put => self.stats.failed_put += 1,
                    }
                }
                self.send_request(request, now);
            }
        }
    }

    // ----- Results -------------------------------------------------------

    /// The statistics at the end of the run (or now).
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        stats.replicas = self.replicas.len();
        stats.died = self.replicas.iter().filter(|l| **l == Life::Died).count();
        stats.unanswered_get = self
            .outstanding
            .values()
            .filter(|r| r.op == Op::Get)
            .count() as u64;
        stats.unanswered_put = self.outstanding.len() as u64 - stats.unanswered_get;
        stats.clients_with_state = self.clients.iter().filter(|c| !c.items.is_empty()).count();
        stats.ended = self.ended;
        stats.notes = self.notes.clone();
        stats
    }

    /// Requests issued so far, for a progress display.
    pub fn requests_issued(&self) -> usize {
        self.next_request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            r#"{{"lifetime": 10, "replicas": 3, "requests": 10, "mix": 0.0, "start_wait": 1,
            "end_wait": 1 {extra}, "tests": {{"benchmarks": {{"total_msgs": [1,2,3],
            "failures": [1,2,3], "duplicates": [1,2,3], "median_latency": [1,2,3]}}}}}}"#
        );
        Config::from_json("test", &text).expect("valid test config")
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// A simulator of `config(extra)` whose replicas all said hello at 0.1 s.
    fn started(extra: &str, seed: u64) -> Simulator {
        let mut sim = Simulator::new(config(extra), seed);
        for i in 0..sim.config.replicas {
            let hello = serde_json::to_vec(&protocol::hello(&sim.ids[i].clone())).unwrap();
            sim.on_datagram(i, &hello, secs(0.1));
        }
        sim
    }

    fn raw(src: &str, dst: &str, leader: &str, kind: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        serde_json::to_vec(&protocol::message(src, dst, leader, kind, extra)).unwrap()
    }

    /// The first delivered client request: (replica, MID, client ID, key).
    fn first_request(sim: &mut Simulator) -> (usize, String, String) {
        for action in sim.take_actions() {
            if let Action::Deliver { to, payload } = action {
                let msg = protocol::parse_envelope(&payload).unwrap();
                return (to, msg.str_field("MID").unwrap().to_owned(), msg.src);
            }
        }
        panic!("no request was sent");
    }

    #[test]
    fn a_delivery_before_hello_kills_the_replica() {
        let mut sim = Simulator::new(config(""), 1);
        sim.tick(secs(1.0)); // the first request goes to a replica that never said hello
        let stats = sim.stats();
        assert_eq!(stats.died, 1);
    }

    #[test]
    fn a_broadcast_costs_n_minus_1_and_reaches_the_others() {
        let mut sim = started("", 1);
        sim.on_datagram(0, &raw("0000", "FFFF", "0000", "x", &[]), secs(0.2));
        let delivered: Vec<usize> = sim
            .take_actions()
            .into_iter()
            .filter_map(|a| match a {
                Action::Deliver { to, .. } => Some(to),
                Action::Kill { .. } => None,
            })
            .collect();
        assert_eq!(delivered, vec![1, 2]);
        assert_eq!(sim.stats().total_msgs, 2);
        assert_eq!(sim.stats().leaders, vec!["0000".to_owned()]);
    }

    #[test]
    fn garbage_counts_incorrect_and_non_utf8_kills() {
        let mut sim = started("", 1);
        sim.on_datagram(0, b"not json", secs(0.2));
        sim.on_datagram(1, &raw("0001", "0999", "FFFF", "x", &[]), secs(0.2));
        assert_eq!(sim.stats().incorrect, 2);
        sim.on_datagram(2, &[0xff, 0xfe], secs(0.3));
        assert_eq!(sim.stats().died, 1);
        assert!(sim.take_actions().contains(&Action::Kill { replica: 2 }));
    }

    #[test]
    fn a_second_ok_is_a_duplicate_and_an_answer_to_a_retired_mid_is_incorrect() {
        let mut sim = started("", 1);
        sim.tick(secs(1.0));
        let (to, mid, client) = first_request(&mut sim);
        let id = sim.ids[to].clone();
        let ok = raw(&id, &client, &id, "ok", &[("MID", &mid)]);
        sim.on_datagram(to, &ok, secs(1.01));
        sim.on_datagram(to, &ok, secs(1.02));
        assert_eq!(sim.stats().duplicates, 1);
        assert_eq!(sim.stats().incorrect, 0);
        sim.tick(secs(2.0));
        let (to, mid, client) = first_request(&mut sim);
        let id = sim.ids[to].clone();
        sim.on_datagram(
            to,
            &raw(&id, &client, "FFFF", "redirect", &[("MID", &mid)]),
            secs(2.01),
        );
        assert_eq!(sim.stats().redirects, 1);
        sim.on_datagram(
            to,
            &raw(&id, &client, &id, "ok", &[("MID", &mid)]),
            secs(2.02),
        );
        assert_eq!(
            sim.stats().incorrect,
            1,
            "ok after redirect for the same MID"
        );
    }

    #[test]
    fn kill_leader_does_nothing_while_the_leader_is_unknown() {
        let mut sim = started(r#", "events": [{"type": "kill_leader", "time": 0.5}]"#, 1);
        sim.tick(secs(1.6));
        assert_eq!(sim.stats().killed, 0);
    }

    #[test]
    fn a_partition_blocks_cross_traffic_and_hides_minority_leaders() {
        let mut sim = started(r#", "events": [{"type": "part_hard", "time": 0.0}]"#, 7);
        sim.tick(secs(1.0));
        sim.take_actions();
        let side = sim.majority.clone().expect("partitioned");
        assert_eq!(side.len(), 2);
        let minority = (0..3).find(|r| !side.contains(r)).unwrap();
        let id = sim.ids[minority].clone();
        sim.on_datagram(minority, &raw(&id, "FFFF", &id, "x", &[]), secs(1.1));
        assert!(
            sim.take_actions().is_empty(),
            "nothing crosses the partition"
        );
        assert_eq!(sim.stats().total_msgs, 2, "but it is counted");
        assert_eq!(sim.leader, None, "a minority leader is not learned");
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let run = |seed| {
            let mut sim = started("", seed);
            sim.tick(secs(5.0));
            sim.take_actions()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
