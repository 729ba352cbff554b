//! The reference replica: a key/value store replicated with the `raft`
// SOLUTION FILE
//! crate's protocol core ([`raft::core::Core`]), speaking the simulator's
//! JSON protocol.
//!
//! [`Replica`] is the replica's logic, pure like the core under it: inputs are
//! datagrams and clock ticks carrying `now`, outputs are datagrams for the
//! simulator ([`Replica::take_output`]). [`run_udp`] drives it in real time
//! over a UDP socket; the deterministic mode drives the same logic on virtual
//! time. Replica-to-replica traffic is Raft's RPCs inside `type: "raft"`
//! messages; every RPC carries a sequence number that its reply echoes, so the
//! replica knows which request a reply answers and when that request left.
//!
//! How it meets the simulator's rules:
//! * **Redirects.** A non-leader answers `redirect` naming the leader it
//!   follows. It *holds* a request instead (up to [`MAX_HOLD`]) when it knows
//!   no live leader or when the client already tried that leader (the
//!   request's `leader` field names it: the simulator only sends elsewhere
//!   when it believes the leader dead), so clients don't bounce between
//!   followers at network speed during an election.
//! * **Reads only when sure.** A leader answers a `get` from its state machine
//!   only while it holds a *lease*: a majority acknowledged AppendEntries it
//!   sent less than [`Tuning::lease`] ago, and it has applied an entry of its
//!   own term. No other leader can exist during the lease, because a server
//!   that heard from a leader within the minimum election timeout ignores
//!   RequestVote (the Raft thesis, §4.2.3 and §6.4), and the lease is shorter
//!   than that timeout. Without a lease, gets wait.
//! * **Never a retired MID twice.** Each MID is answered at most once by each
//!   replica: `redirect`/`fail` only for requests never proposed; a proposed
//!   put is answered `ok` by whichever replica leads when it is applied, or by
//!   nobody (it may still commit, so a `fail` could turn out to be a lie).
//! * **Batching.** All datagrams that are waiting are handled before the
//!   outputs go out, and the core sends new entries to a follower only when no
//!   AppendEntries with news is in flight to it, so a burst of puts shares one
//!   message per follower; commit indexes ride on the next AppendEntries.
//! * **Few messages.** Heartbeats every [`Tuning::heartbeat`] (400 ms), and
//!   only to followers that were sent nothing since the previous one; the
//!   commit index sent lazily; retransmission of an unanswered AppendEntries,
//!   RequestVote or pre-vote after [`Tuning::rto`] only.
//! * **Pre-vote.** See [`Replica::tick`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use labrpc::sim::Instant;
use raft::core::{Core, Outbound, Rpc, Timing};
use raft::messages::{
    AppendEntriesArgs, AppendEntriesReply, ApplyMsg, Entry, RequestVoteArgs, RequestVoteReply,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::{self, BROADCAST, Envelope};

/// The replica's timing. Units are in the names' types (Durations).
#[derive(Clone, Debug)]
pub struct Tuning {
    pub heartbeat: Duration,
    pub election_timeout_ms: std::ops::Range<u64>,
    /// How long a majority's acknowledgement lets the leader serve reads.
    /// Must stay below the minimum election timeout.
    pub lease: Duration,
    /// Retransmit an AppendEntries that got no reply after this long.
    pub rto: Duration,
    /// At most this many retransmissions of one AppendEntries.
    pub max_retransmits: u32,
    /// A follower with an AppendEntries unanswered for this long counts as
    /// unreachable; without a reachable majority the leader holds new puts
    /// rather than proposing entries that may never commit.
    pub suspect: Duration,
    /// New entries go at once only to the followers that answered most
    /// recently, as many as a quorum needs; the others get them batched,
    /// at most this much later (or at once if the quorum is slow). Zero:
    /// every follower at once.
    pub defer: Duration,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            heartbeat: Duration::from_millis(400),
            election_timeout_ms: 1200..2000,
            lease: Duration::from_millis(1000),
            rto: Duration::from_millis(10),
            max_retransmits: 6,
            suspect: Duration::from_millis(60),
            defer: Duration::from_millis(600),
        }
    }
}

/// After a retransmission, entries go to every follower at once for this long.
pub const LOSS_MEMORY: Duration = Duration::from_secs(2);

/// How long a request may wait at a replica before it is redirected with an
/// unknown leader (the client then tries a random replica).
pub const MAX_HOLD: Duration = Duration::from_millis(500);

/// A follower redirects to its leader only if it heard from it this recently
/// (otherwise the leader may be dead and it holds the request).
pub const LEADER_FRESH: Duration = Duration::from_millis(700);

/// Deliberate bugs, for testing the simulator's judge (the `kvstore-faulty`
/// test program). `None` is the reference behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Every replica answers gets at once from its own state.
    LocalGets,
    /// The leader acknowledges every third put without replicating it.
    LoseAckedPuts,
    /// Every `redirect` is followed by an `ok` for the same MID.
    AnswerRetired,
    /// Every `ok` is sent twice.
    DuplicateOk,
    /// Every 20th message to another replica is not JSON.
    MalformedJson,
    /// Never sends `hello`.
    NoHello,
    /// Sends one non-UTF-8 datagram 1 s after start.
    NonUtf8,
    /// Sends its Raft traffic to an ID that does not exist.
    UnknownDst,
    /// Floods the simulator with broadcasts.
    Flood,
    /// Exits 1 s after the first datagram it receives (a peer's vote
    /// request or a client's request, whichever comes first: so it exits
    /// mid-run even if no client ever asks it).
    Exit,
    /// Stops reading and writing 1 s after the first datagram it receives
    /// (as [`Fault::Exit`]).
    Hang,
}

impl Fault {
    pub fn parse(name: &str) -> Option<Fault> {
        Some(match name {
            "" | "none" => Fault::None,
            "local-gets" => Fault::LocalGets,
            "lose-acked-puts" => Fault::LoseAckedPuts,
            "answer-retired" => Fault::AnswerRetired,
            "duplicate-ok" => Fault::DuplicateOk,
            "malformed-json" => Fault::MalformedJson,
            "no-hello" => Fault::NoHello,
            "non-utf8" => Fault::NonUtf8,
            "unknown-dst" => Fault::UnknownDst,
            "flood" => Fault::Flood,
            "exit" => Fault::Exit,
            "hang" => Fault::Hang,
            _ => return None,
        })
    }
}

/// Raft traffic on the wire, inside `{"type": "raft", "msg": …}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "rpc", rename_all = "snake_case")]
enum Wire {
    Vote {
        seq: u64,
        args: RequestVoteArgs,
    },
    VoteReply {
        seq: u64,
        reply: RequestVoteReply,
    },
    Append {
        seq: u64,
        term: u64,
        leader_id: usize,
        prev_log_index: u64,
        prev_log_term: u64,
        leader_commit: u64,
        /// (term, command) pairs; commands are JSON text (empty: a no-op).
        entries: Vec<(u64, String)>,
    },
    AppendReply {
        seq: u64,
        reply: AppendEntriesReply,
    },
    /// Would you vote for me in `term`? (No state changes on either side.)
    PreVote {
        seq: u64,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
    },
    PreVoteReply {
        seq: u64,
        granted: bool,
    },
}

/// A pre-vote round in progress.
#[derive(Clone, Debug)]
struct PreVote {
    seq: u64,
    term: u64,
    started: Instant,
    last_sent: Instant,
    grants: BTreeSet<usize>,
    /// Peers that answered (yes or no): not asked again in this round.
    answered: BTreeSet<usize>,
    resends: u32,
}

/// A put in the log.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Command {
    client: String,
    mid: String,
    key: String,
    value: String,
}

#[derive(Clone, Debug)]
struct ClientRequest {
    client: String,
    mid: String,
    is_get: bool,
    key: String,
    value: String,
    /// The client's cached leader when it sent this.
    client_leader: String,
    arrived: Instant,
}

#[derive(Clone, Debug)]
struct InFlight {
    peer: usize,
    rpc: Rpc,
    first_sent: Instant,
    sent: Instant,
    retransmits: u32,
    term: u64,
    /// Held back: the follower is not needed for the quorum right now; it
    /// gets the entries in one batch within [`Tuning::defer`].
    deferred: bool,
}

/// A leader's read lease (see the module documentation): for one term, the
/// latest send time of an acknowledged AppendEntries per peer.
struct Lease {
    term: u64,
    acked_sent: Vec<Option<Instant>>,
}

impl Lease {
    /// No acknowledgements yet, in a group of `n`.
    fn new(n: usize) -> Lease {
        Lease {
            term: 0,
            acked_sent: vec![None; n],
        }
    }

    /// `peer` acknowledged an AppendEntries of `term` first sent at `sent`;
    /// the acknowledgements of earlier terms are forgotten.
    fn acknowledged(&mut self, term: u64, peer: usize, sent: Instant) {
        if self.term != term {
            self.term = term;
            self.acked_sent.iter_mut().for_each(|a| *a = None);
        }
        let acked = &mut self.acked_sent[peer];
        *acked = Some(acked.map_or(sent, |t| t.max(sent)));
    }

    /// A majority (counting `me`) acknowledged messages of `term` sent less
    /// than `length` before `now`.
    fn holds(&self, term: u64, me: usize, now: Instant, length: Duration) -> bool {
        if self.term != term {
            return false;
        }
        let majority = self.acked_sent.len() / 2 + 1;
        let mut sent: Vec<Instant> = self
            .acked_sent
            .iter()
            .enumerate()
            .filter(|(p, _)| *p != me)
            .filter_map(|(_, t)| *t)
            .collect();
        if sent.len() + 1 < majority {
            return false;
        }
        sent.sort_unstable_by(|a, b| b.cmp(a));
        let oldest_needed = sent[majority - 2];
        now < oldest_needed + length
    }
}

/// The replica's logic. See the module documentation.
pub struct Replica {
    me: usize,
    ids: Vec<String>,
    core: Core,
    tuning: Tuning,
    fault: Fault,
    /// The leader of `.0`'s term, as learned from its AppendEntries.
    known_leader: Option<(u64, usize)>,
    last_leader_contact: Option<Instant>,
    /// Leader state: the read lease.
    lease: Lease,
    /// The term and index of the no-op this leader proposed on election.
    noop: Option<(u64, u64)>,
    applied: u64,
    /// The highest index a leader told us it had committed (and therefore
    /// answered): a new leader answers only entries above it, so that a put
    /// committed by the old leader is not answered twice (one that committed
    /// after the old leader's last message to us may still be).
    answered_by_others: u64,
    kv: BTreeMap<String, String>,
    inflight: BTreeMap<u64, InFlight>,
    next_seq: u64,
    /// MIDs this replica answered or proposed: it never answers them again
    /// except with the `ok` of an applied proposal.
    seen: BTreeSet<String>,
    answered: BTreeSet<String>,
    held: Vec<ClientRequest>,
    out: Vec<Vec<u8>>,
    puts_seen: u64,
    messages_sent: u64,
    pre_vote: Option<PreVote>,
    /// When each peer last answered one of our AppendEntries.
    last_reply: Vec<Option<Instant>>,
    /// When an AppendEntries last had to be retransmitted.
    last_loss: Option<Instant>,
}

impl Replica {
    /// Replica `my_id` of the group `my_id` + `others` (any order), seeded
    /// for its election timeouts.
    pub fn new(
        my_id: &str,
        others: &[String],
        seed: u64,
        now: Instant,
        tuning: Tuning,
        fault: Fault,
    ) -> Replica {
        let mut ids: Vec<String> = others.to_vec();
        ids.push(my_id.to_owned());
        ids.sort();
        ids.dedup();
        let me = ids.iter().position(|i| i == my_id).expect("pushed above");
        let timing = Timing {
            heartbeat_interval: tuning.heartbeat,
            election_timeout_ms: tuning.election_timeout_ms.clone(),
            eager_commit: false,
            heartbeat_only_idle: true,
        };
        assert!(
            tuning.lease < Duration::from_millis(tuning.election_timeout_ms.start),
            "the lease must be shorter than the minimum election timeout"
        );
        let n = ids.len();
        let mut replica = Replica {
            me,
            core: Core::fresh(me, n, seed, now, timing),
            ids,
            tuning,
            fault,
            known_leader: None,
            last_leader_contact: None,
            lease: Lease::new(n),
            noop: None,
            applied: 0,
            answered_by_others: 0,
            kv: BTreeMap::new(),
            inflight: BTreeMap::new(),
            next_seq: 1,
            seen: BTreeSet::new(),
            answered: BTreeSet::new(),
            held: Vec::new(),
            out: Vec::new(),
            puts_seen: 0,
            messages_sent: 0,
            pre_vote: None,
            last_reply: vec![None; n],
            last_loss: None,
        };
        if fault != Fault::NoHello {
            let hello = protocol::hello(my_id);
            replica.push(&hello);
        }
        replica
    }

    fn my_id(&self) -> &str {
        &self.ids[self.me]
    }

    /// Datagrams for the simulator, in order.
    pub fn take_output(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.out)
    }

    fn push(&mut self, msg: &Value) {
        self.out
            .push(serde_json::to_vec(msg).expect("a JSON value serializes"));
    }

    /// The leader this replica believes in, as an ID (`FFFF` if none).
    fn leader_field(&self) -> String {
        match self.believed_leader() {
            Some(l) => self.ids[l].clone(),
            None => BROADCAST.to_owned(),
        }
    }

    fn believed_leader(&self) -> Option<usize> {
        let (term, is_leader) = self.core.state();
        if is_leader {
            return Some(self.me);
        }
        match self.known_leader {
            Some((t, l)) if t == term => Some(l),
            _ => None,
        }
    }

    // ----- Inputs ----------------------------------------------------------

    /// One datagram from the simulator.
    pub fn on_datagram(&mut self, bytes: &[u8], now: Instant) {
        let Ok(msg) = protocol::parse_envelope(bytes) else {
            return; // not for us to judge; drop it
        };
        match msg.kind.as_str() {
            "get" | "put" => self.on_client(&msg, now),
            "raft" => self.on_raft(&msg, now),
            _ => {}
        }
        self.after_input(now);
    }

    /// The passage of time: call often (every few milliseconds).
    ///
    /// A follower whose election timeout passed first asks the others whether
    /// they would vote for it (pre-vote, Raft thesis §9.6) and starts the
    /// election only with a majority's yes: a server cut off by a partition
    /// then does not inflate its term and depose the leader when it returns.
    pub fn tick(&mut self, now: Instant) {
        let is_leader = self.core.state().1;
        if is_leader || now < self.core.election_deadline() {
            self.core.tick(now);
        } else {
            self.pre_vote_tick(now);
        }
        self.retransmit(now);
        self.after_input(now);
    }

    fn pre_vote_tick(&mut self, now: Instant) {
        let retry_after = Duration::from_millis(self.tuning.election_timeout_ms.start);
        if self
            .pre_vote
            .as_ref()
            .is_some_and(|p| now.saturating_duration_since(p.started) < retry_after)
        {
            return; // a round is still collecting answers
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let term = self.core.state().0 + 1;
        self.pre_vote = Some(PreVote {
            seq,
            term,
            started: now,
            last_sent: now,
            grants: BTreeSet::from([self.me]),
            answered: BTreeSet::from([self.me]),
            resends: 0,
        });
        self.send_pre_votes(seq, term, &BTreeSet::from([self.me]));
    }

    /// Asks again, every `rto`, the peers that have not answered yet.
    fn resend_pre_votes(&mut self, now: Instant) {
        if self.core.state().1 || now < self.core.election_deadline() {
            self.pre_vote = None; // we lead, or heard from a leader since
            return;
        }
        let max = self.tuning.max_retransmits;
        let Some(round) = self.pre_vote.as_mut() else {
            return;
        };
        if now.saturating_duration_since(round.last_sent) < self.tuning.rto || round.resends >= max
        {
            return;
        }
        round.resends += 1;
        round.last_sent = now;
        let (seq, term, answered) = (round.seq, round.term, round.answered.clone());
        self.send_pre_votes(seq, term, &answered);
    }

    fn send_pre_votes(&mut self, seq: u64, term: u64, skip: &BTreeSet<usize>) {
        let (last_log_index, last_log_term) = self.core.last_log();
        for peer in (0..self.ids.len()).filter(|p| !skip.contains(p)) {
            let wire = Wire::PreVote {
                seq,
                term,
                last_log_index,
                last_log_term,
            };
            self.send_wire(peer, &wire);
        }
    }

    fn on_client(&mut self, msg: &Envelope, now: Instant) {
        let (Some(mid), Some(key)) = (msg.str_field("MID"), msg.str_field("key")) else {
            return;
        };
        let is_get = msg.kind == "get";
        let request = ClientRequest {
            client: msg.src.clone(),
            mid: mid.to_owned(),
            is_get,
            key: key.to_owned(),
            value: msg.str_field("value").unwrap_or("").to_owned(),
            client_leader: msg.leader.clone(),
            arrived: now,
        };
        if !self.seen.insert(request.mid.clone()) {
            return; // never answer a MID twice
        }
        if self.fault == Fault::LocalGets && is_get {
            let value = self.kv.get(key).cloned().unwrap_or_default();
            self.answer(&request, "ok", Some(&value), BROADCAST);
            return;
        }
        if let Some(request) = self.try_handle(request, now) {
            self.held.push(request);
        }
    }

    fn on_raft(&mut self, msg: &Envelope, now: Instant) {
        let Some(from) = self.ids.iter().position(|i| *i == msg.src) else {
            return;
        };
        let Some(wire) = msg
            .body
            .get("msg")
            .and_then(|m| serde_json::from_value::<Wire>(m.clone()).ok())
        else {
            return;
        };
        match wire {
            Wire::Vote { seq, args } => {
                if self.refuses_votes(now) {
                    return; // a live leader exists: as if the message was lost
                }
                let reply = self.core.handle_request_vote(args, now);
                self.send_wire(from, &Wire::VoteReply { seq, reply });
            }
            Wire::PreVote {
                seq,
                term,
                last_log_index,
                last_log_term,
            } => {
                let (my_term, _) = self.core.state();
                let granted = term > my_term
                    && !self.refuses_votes(now)
                    && (last_log_term, last_log_index) >= {
                        let (index, t) = self.core.last_log();
                        (t, index)
                    };
                self.send_wire(from, &Wire::PreVoteReply { seq, granted });
            }
            Wire::PreVoteReply { seq, granted } => {
                let majority = self.ids.len() / 2 + 1;
                let Some(round) = self.pre_vote.as_mut().filter(|p| p.seq == seq) else {
                    return;
                };
                round.answered.insert(from);
                if granted {
                    round.grants.insert(from);
                }
                if round.grants.len() >= majority {
                    self.pre_vote = None;
                    self.core.tick(now); // the deadline has passed: campaign
                }
            }
            Wire::VoteReply { seq, reply } => {
                if let Some(InFlight {
                    rpc: Rpc::RequestVote(args),
                    ..
                }) = self.inflight.remove(&seq)
                {
                    self.core.on_request_vote_reply(from, &args, reply, now);
                }
            }
            Wire::Append {
                seq,
                term,
                leader_id,
                prev_log_index,
                prev_log_term,
                leader_commit,
                entries,
            } => {
                let args = AppendEntriesArgs {
                    term,
                    leader_id,
                    prev_log_index,
                    prev_log_term,
                    leader_commit,
                    entries: entries
                        .into_iter()
                        .map(|(term, command)| Entry {
                            term,
                            command: command.into_bytes(),
                        })
                        .collect(),
                };
                let shared = prev_log_index + args.entries.len() as u64;
                let reply = self.core.handle_append_entries(args, now);
                if reply.success {
                    self.answered_by_others =
                        self.answered_by_others.max(leader_commit.min(shared));
                }
                if reply.term == term && leader_id < self.ids.len() {
                    self.known_leader = Some((term, leader_id));
                    self.last_leader_contact = Some(now);
                }
                self.send_wire(from, &Wire::AppendReply { seq, reply });
            }
            Wire::AppendReply { seq, reply } => {
                let Some(flight) = self.inflight.remove(&seq) else {
                    return; // answered already (a retransmission's twin)
                };
                let Rpc::AppendEntries(args) = flight.rpc else {
                    return;
                };
                // Older unanswered messages to this peer are superseded.
                let stale: Vec<u64> = self
                    .inflight
                    .iter()
                    .filter(|(s, f)| **s < seq && f.peer == from)
                    .map(|(s, _)| *s)
                    .collect();
                for s in stale {
                    self.inflight.remove(&s);
                }
                self.last_reply[from] = Some(now);
                let (term, is_leader) = self.core.state();
                if is_leader && reply.term == args.term && args.term == term {
                    self.lease.acknowledged(term, from, flight.first_sent);
                }
                self.core.on_append_entries_reply(from, &args, reply, now);
            }
        }
    }

    /// Whether a RequestVote must be ignored: this server leads with a valid
    /// lease, or heard from a leader within the minimum election timeout.
    fn refuses_votes(&self, now: Instant) -> bool {
        if self.core.state().1 {
            return self.lease_valid(now);
        }
        let min_timeout = Duration::from_millis(self.tuning.election_timeout_ms.start);
        self.last_leader_contact
            .is_some_and(|t| now.saturating_duration_since(t) < min_timeout)
    }

    /// This server leads, and its lease holds at `now`.
    fn lease_valid(&self, now: Instant) -> bool {
        let (term, is_leader) = self.core.state();
        is_leader && self.lease.holds(term, self.me, now, self.tuning.lease)
    }

    /// A leader that has applied an entry of its own term knows every
    /// committed entry: its state machine is up to date.
    fn ready(&self) -> bool {
        let term = self.core.state().0;
        matches!(self.noop, Some((t, index)) if t == term && self.applied >= index)
    }

    /// Fewer than a majority of followers answer promptly.
    fn suspect(&self, now: Instant) -> bool {
        let term = self.core.state().0;
        // Slow: a message older than `suspect` is unanswered and nothing
        // came back from that peer since it left.
        let slow: BTreeSet<usize> = self
            .inflight
            .values()
            .filter(|f| f.term == term && !f.deferred && matches!(f.rpc, Rpc::AppendEntries(_)))
            .filter(|f| now.saturating_duration_since(f.first_sent) >= self.tuning.suspect)
            .filter(|f| self.last_reply[f.peer].is_none_or(|t| t < f.first_sent))
            .map(|f| f.peer)
            .collect();
        let responsive = self.ids.len() - slow.len();
        responsive < self.ids.len() / 2 + 1
    }

    /// Handles `request` if it can be now; gives it back if it must wait.
    fn try_handle(&mut self, request: ClientRequest, now: Instant) -> Option<ClientRequest> {
        let is_leader = self.core.state().1;
        if is_leader {
            if !(self.lease_valid(now) && self.ready()) {
                return self.hold(request, now);
            }
            if request.is_get {
                let value = self.kv.get(&request.key).cloned().unwrap_or_default();
                let leader = self.my_id().to_owned();
                self.answer(&request, "ok", Some(&value), &leader);
                return None;
            }
            if self.suspect(now) {
                return self.hold(request, now);
            }
            self.puts_seen += 1;
            if self.fault == Fault::LoseAckedPuts && self.puts_seen.is_multiple_of(3) {
                let leader = self.my_id().to_owned();
                self.answer(&request, "ok", None, &leader);
                return None;
            }
            let command = Command {
                client: request.client.clone(),
                mid: request.mid.clone(),
                key: request.key.clone(),
                value: request.value.clone(),
            };
            let bytes = serde_json::to_vec(&command).expect("a command serializes");
            if self.core.start(bytes).is_none() {
                return self.hold(request, now);
            }
            return None;
        }
        // Not the leader: redirect to a live leader the client has not tried.
        let fresh = self
            .last_leader_contact
            .is_some_and(|t| now.saturating_duration_since(t) < LEADER_FRESH);
        match self.believed_leader() {
            Some(l) if fresh && self.ids[l] != request.client_leader => {
                let leader = self.ids[l].clone();
                self.answer(&request, "redirect", None, &leader);
                None
            }
            _ => self.hold(request, now),
        }
    }

    fn hold(&mut self, request: ClientRequest, now: Instant) -> Option<ClientRequest> {
        if now.saturating_duration_since(request.arrived) >= MAX_HOLD {
            self.answer(&request, "redirect", None, BROADCAST);
            return None;
        }
        Some(request)
    }

    fn answer(&mut self, request: &ClientRequest, kind: &str, value: Option<&str>, leader: &str) {
        let mut extra = vec![("MID", request.mid.as_str())];
        if let Some(value) = value {
            extra.push(("value", value));
        }
        let msg = protocol::message(self.my_id(), &request.client, leader, kind, &extra);
        self.push(&msg);
        if self.fault == Fault::DuplicateOk && kind == "ok" {
            self.push(&msg);
        }
        if self.fault == Fault::AnswerRetired && kind == "redirect" {
            let ok = protocol::message(self.my_id(), &request.client, leader, "ok", &extra);
            self.push(&ok);
        }
        self.answered.insert(request.mid.clone());
    }

    // ----- After every input -----------------------------------------------

    fn after_input(&mut self, now: Instant) {
        self.maybe_propose_noop();
        self.apply_committed();
        self.send_core_messages(now);
        // Held requests get another chance (the leader or the lease may be
        // known now); the rest keeps waiting.
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            for request in held {
                if let Some(request) = self.try_handle(request, now) {
                    self.held.push(request);
                }
            }
            self.send_core_messages(now);
        }
    }

    fn maybe_propose_noop(&mut self) {
        let (term, is_leader) = self.core.state();
        if is_leader
            && self.noop.is_none_or(|(t, _)| t != term)
            && let Some((index, t)) = self.core.start(Vec::new())
        {
            self.noop = Some((t, index));
        }
    }

    fn apply_committed(&mut self) {
        loop {
            let batch = self.core.take_apply_batch();
            if batch.is_empty() {
                return;
            }
            for msg in batch {
                let ApplyMsg::Command { index, command, .. } = msg else {
                    continue; // no snapshots: the log is never compacted
                };
                self.applied = index;
                if command.is_empty() {
                    continue; // a leader's no-op
                }
                let Ok(cmd) = serde_json::from_slice::<Command>(&command) else {
                    continue;
                };
                self.kv.insert(cmd.key.clone(), cmd.value.clone());
                if self.core.state().1
                    && index > self.answered_by_others
                    && !self.answered.contains(&cmd.mid)
                {
                    let request = ClientRequest {
                        client: cmd.client,
                        mid: cmd.mid,
                        is_get: false,
                        key: cmd.key,
                        value: cmd.value,
                        client_leader: String::new(),
                        arrived: Instant::START,
                    };
                    let leader = self.my_id().to_owned();
                    self.answer(&request, "ok", None, &leader);
                }
            }
        }
    }

    fn send_core_messages(&mut self, now: Instant) {
        let effects = self.core.take_effects();
        let (term, is_leader) = self.core.state();
        let quorum = self.quorum_peers();
        for Outbound { to, rpc } in effects.messages {
            let seq = self.next_seq;
            self.next_seq += 1;
            let news = matches!(&rpc, Rpc::AppendEntries(a) if !a.entries.is_empty());
            if matches!(rpc, Rpc::AppendEntries(_)) {
                // A newer AppendEntries to a follower starts where the older,
                // held-back one did, and carries at least its entries.
                self.inflight.retain(|_, f| !(f.deferred && f.peer == to));
            }
            // On a lossy network a quorum of two is often short of one
            // answer: then everyone gets the entries at once.
            let lossy = self
                .last_loss
                .is_some_and(|t| now.saturating_duration_since(t) < LOSS_MEMORY);
            let deferred = is_leader
                && news
                && !lossy
                && !self.tuning.defer.is_zero()
                && quorum.as_ref().is_some_and(|q| !q.contains(&to));
            self.inflight.insert(
                seq,
                InFlight {
                    peer: to,
                    rpc: rpc.clone(),
                    first_sent: now,
                    sent: now,
                    retransmits: 0,
                    term,
                    deferred,
                },
            );
            if !deferred {
                self.send_rpc(to, seq, &rpc);
            }
        }
    }

    /// The followers that answered most recently, as many as a quorum needs
    /// besides us; `None` if fewer than that have ever answered.
    fn quorum_peers(&self) -> Option<BTreeSet<usize>> {
        let need = self.ids.len() / 2;
        let mut answered: Vec<(Instant, usize)> = (0..self.ids.len())
            .filter(|&p| p != self.me)
            .filter_map(|p| self.last_reply[p].map(|t| (t, p)))
            .collect();
        if answered.len() < need {
            return None;
        }
        answered.sort_unstable_by(|a, b| b.cmp(a));
        Some(answered.into_iter().take(need).map(|(_, p)| p).collect())
    }

    /// Sends the held-back AppendEntries that waited `defer`, or all of them
    /// if a quorum follower is slow to answer.
    fn flush_deferred(&mut self, now: Instant) {
        let quorum_slow = self.inflight.values().any(|f| {
            !f.deferred
                && matches!(&f.rpc, Rpc::AppendEntries(a) if !a.entries.is_empty())
                && now.saturating_duration_since(f.first_sent) >= self.tuning.rto
        });
        let due: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, f)| {
                f.deferred
                    && (quorum_slow
                        || now.saturating_duration_since(f.first_sent) >= self.tuning.defer)
            })
            .map(|(s, _)| *s)
            .collect();
        for seq in due {
            let Some(flight) = self.inflight.get_mut(&seq) else {
                continue;
            };
            flight.deferred = false;
            flight.first_sent = now;
            flight.sent = now;
            let (to, rpc) = (flight.peer, flight.rpc.clone());
            self.send_rpc(to, seq, &rpc);
        }
    }

    fn send_rpc(&mut self, to: usize, seq: u64, rpc: &Rpc) {
        let wire = match rpc {
            Rpc::RequestVote(args) => Wire::Vote {
                seq,
                args: args.clone(),
            },
            Rpc::AppendEntries(args) => Wire::Append {
                seq,
                term: args.term,
                leader_id: args.leader_id,
                prev_log_index: args.prev_log_index,
                prev_log_term: args.prev_log_term,
                leader_commit: args.leader_commit,
                entries: args
                    .entries
                    .iter()
                    .map(|e| (e.term, String::from_utf8_lossy(&e.command).into_owned()))
                    .collect(),
            },
            // The log is never compacted, so there is never a snapshot to send.
            Rpc::InstallSnapshot(_) => return,
        };
        self.send_wire(to, &wire);
    }

    fn send_wire(&mut self, to: usize, wire: &Wire) {
        self.messages_sent += 1;
        let dst = if self.fault == Fault::UnknownDst {
            "ABCD".to_owned()
        } else {
            self.ids[to].clone()
        };
        if self.fault == Fault::MalformedJson && self.messages_sent.is_multiple_of(20) {
            self.out.push(b"{\"src\": not json".to_vec());
            return;
        }
        let mut msg = protocol::message(self.my_id(), &dst, &self.leader_field(), "raft", &[]);
        if let Value::Object(body) = &mut msg {
            body.insert(
                "msg".into(),
                serde_json::to_value(wire).expect("wire messages serialize"),
            );
        }
        self.push(&msg);
    }

    /// Resends AppendEntries that got no reply within `rto`; forgets
    /// requests of past terms and votes that were never answered.
    fn retransmit(&mut self, now: Instant) {
        let (term, is_leader) = self.core.state();
        let horizon = Duration::from_secs(5);
        self.inflight
            .retain(|_, f| f.term == term && now.saturating_duration_since(f.first_sent) < horizon);
        self.resend_pre_votes(now);
        if is_leader {
            self.flush_deferred(now);
        }
        let due: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, f)| {
                // A leader's AppendEntries, a candidate's RequestVote (both
                // idempotent: a second copy changes nothing).
                let kind_matches = match f.rpc {
                    Rpc::AppendEntries(_) => is_leader,
                    Rpc::RequestVote(_) => !is_leader,
                    Rpc::InstallSnapshot(_) => false,
                };
                kind_matches
                    && !f.deferred
                    && f.retransmits < self.tuning.max_retransmits
                    && now.saturating_duration_since(f.sent) >= self.tuning.rto
            })
            .map(|(s, _)| *s)
            .collect();
        for old in due {
            let Some(mut flight) = self.inflight.remove(&old) else {
                continue;
            };
            let seq = self.next_seq;
            self.next_seq += 1;
            flight.retransmits += 1;
            flight.sent = now;
            if matches!(flight.rpc, Rpc::AppendEntries(_)) {
                self.last_loss = Some(now);
            }
            let (to, rpc) = (flight.peer, flight.rpc.clone());
            self.inflight.insert(seq, flight);
            self.send_rpc(to, seq, &rpc);
        }
    }

    /// Whether the fault is active for this run (for the test program).
    pub fn fault(&self) -> Fault {
        self.fault
    }
}

#[allow(clippy::disallowed_methods)] // allowed: the real-time driver of a real process, not a simulation
/// Runs replica `my_id` over UDP in real time, talking to the simulator at
/// 127.0.0.1:`sim_port`, until it is killed or the simulator goes away.
pub fn run_udp(sim_port: u16, my_id: &str, others: &[String], fault: Fault) -> std::io::Result<()> {
    use std::net::UdpSocket;
    use std::os::fd::AsFd;

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_nonblocking(true)?;
    let sim = std::net::SocketAddr::from(([127, 0, 0, 1], sim_port));
    let started = std::time::Instant::now();
    let now = || Instant::START + started.elapsed();
    let seed = u64::from(protocol::parse_id(my_id).unwrap_or(0))
        ^ (started.elapsed().as_nanos() as u64)
        ^ u64::from(std::process::id()) << 20;
    let mut replica = Replica::new(my_id, others, seed, now(), Tuning::default(), fault);
    let parent = nix::unistd::getppid();
    let mut buf = vec![0u8; protocol::MAX_DATAGRAM_BYTES + 1];
    let mut first_datagram: Option<std::time::Instant> = None;
    let mut last_parent_check = std::time::Instant::now();
    let mut non_utf8_sent = false;
    loop {
        for datagram in replica.take_output() {
            // A full buffer loses the datagram, as the network would.
            let _ = socket.send_to(&datagram, sim);
        }
        if last_parent_check.elapsed() >= Duration::from_secs(1) {
            last_parent_check = std::time::Instant::now();
            if nix::unistd::getppid() != parent {
                return Ok(()); // the simulator is gone: don't linger
            }
        }
        if first_datagram.is_some_and(|first| first.elapsed() >= Duration::from_secs(1)) {
            match fault {
                Fault::Exit => return Ok(()),
                Fault::Hang => loop {
                    std::thread::sleep(Duration::from_secs(1));
                    if nix::unistd::getppid() != parent {
                        return Ok(());
                    }
                },
                _ => {}
            }
        }
        if fault == Fault::NonUtf8 && !non_utf8_sent && started.elapsed() >= Duration::from_secs(1)
        {
            non_utf8_sent = true;
            let _ = socket.send_to(&[0xff, 0xfe, 0xfd], sim);
        }
        if fault == Fault::Flood && started.elapsed() >= Duration::from_secs(1) {
            let junk = protocol::message(my_id, BROADCAST, BROADCAST, "flood", &[]);
            let bytes = serde_json::to_vec(&junk).expect("serializes");
            for _ in 0..200 {
                let _ = socket.send_to(&bytes, sim);
            }
        }
        {
            let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
            // Ticks every 2 ms at most: timers are in tens of milliseconds.
            let _ = poll(&mut fds, PollTimeout::from(2u8));
        }
        for _ in 0..1024 {
            match socket.recv_from(&mut buf) {
                Ok((len, _)) => {
                    if first_datagram.is_none() {
                        first_datagram = Some(std::time::Instant::now());
                    }
                    replica.on_datagram(&buf[..len], now());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
        replica.tick(now());
    }
}
