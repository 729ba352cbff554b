//! The Raft protocol as a pure state machine: no network, no clock, no tasks.
// SOLUTION FILE
//!
//! Every input is a method call: an RPC request (returns the reply), an RPC
//! reply, a clock tick, a client command, a snapshot from the service. Inputs
//! carry the current time (`now`); nothing here reads a clock or sleeps.
//! Outputs are the return values plus [`Effects`], collected while the input
//! is handled and taken by the driver afterwards: messages to send, "persist
//! now", "there is something to apply". This is the layout of etcd's and
//! TiKV's Raft libraries. It keeps the protocol readable top to bottom, lets
//! the driver guarantee "persist before anything leaves", and lets the unit
//! tests at the bottom drive whole elections by hand.
//!
//! The driver holds one lock around each call, so every method here runs
//! atomically with respect to the others.
//!
//! Invariants that hold by construction are asserted where they are relied on
//! (Election Safety, Log Matching on append, monotonic commit, one vote per
//! term, a leader never overwrites its log), so a protocol bug fails a test at
//! the moment it happens instead of as a mismatched value much later. The
//! crate feature `no-internal-asserts` turns these assertions off (a
//! student's Raft has none of them), for measuring what the tests alone catch.

use std::collections::BTreeSet;
use std::time::Duration;

use labrpc::sim::Instant;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::log::Log;
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, ApplyMsg, Entry, InstallSnapshotArgs,
    InstallSnapshotReply, RequestVoteArgs, RequestVoteReply,
};
use crate::observe::{self, PeerState};
use crate::persist::{self, PersistentState};

/// A leader sends AppendEntries to every peer this often when idle. The lab
/// allows at most ten heartbeats per second.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);

/// Election timeouts are drawn uniformly from this range (milliseconds). The
/// lower end is four heartbeat intervals, so that an unreliable network (10 %
/// of requests lost) rarely makes a follower give up on a live leader; the
/// width (a 350 ms spread against ~0–30 ms RPC latency) makes split votes rare.
/// A failed leader is replaced well within the lab's five seconds.
pub const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 400..750;

/// At most this many entries ride in one AppendEntries (a follower far behind
/// catches up in a few round trips without one enormous message).
pub const MAX_ENTRIES_PER_APPEND: usize = 256;

/// At most this many messages are taken for the apply channel per lock.
pub const MAX_APPLY_BATCH: usize = 64;

/// The timing knobs of one server. [`Timing::default`] is what the labs use
/// (the constants above); a driver on a real network with other costs (the
/// kvstore replica counts every message) picks its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How often an idle leader sends AppendEntries to every follower.
    pub heartbeat_interval: Duration,
    /// Election timeouts are drawn uniformly from this range (milliseconds).
    pub election_timeout_ms: std::ops::Range<u64>,
    /// Send a new commit index to followers as soon as it moves (one extra
    /// message per follower per commit, so followers apply within a round
    /// trip). When false, followers learn it with the next AppendEntries.
    pub eager_commit: bool,
    /// At each heartbeat, skip the followers that were sent something since
    /// the previous one (a follower then hears from the leader at least every
    /// two intervals). When false, every heartbeat goes to every follower.
    pub heartbeat_only_idle: bool,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            heartbeat_interval: HEARTBEAT_INTERVAL,
            election_timeout_ms: ELECTION_TIMEOUT_MS,
            eager_commit: true,
            heartbeat_only_idle: false,
        }
    }
}

/// An RPC the driver must send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// Ask for a vote.
    RequestVote(RequestVoteArgs),
    /// Replicate entries, or heartbeat.
    AppendEntries(AppendEntriesArgs),
    /// Send the snapshot to a peer that is too far behind.
    InstallSnapshot(InstallSnapshotArgs),
}

/// An RPC for peer `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// The peer's index.
    pub to: usize,
    /// What to send.
    pub rpc: Rpc,
}

/// What handling one input asks the driver to do, in this order: save the
/// persistent state (before anything else becomes visible), then wake the
/// applier, then send the messages.
#[derive(Debug, Default)]
pub struct Effects {
    /// Save the persistent state first.
    pub persist: bool,
    /// Wake the applier: the commit index moved or a snapshot arrived.
    pub apply: bool,
    /// RPCs to send, in order.
    pub messages: Vec<Outbound>,
}

/// The leader's view of one follower.
#[derive(Clone, Debug)]
struct Progress {
    /// Next log index to send.
    next: u64,
    /// Highest index known to be replicated on the follower.
    matched: u64,
    /// An AppendEntries/InstallSnapshot with news is on its way and its reply
    /// has not come back. New commands then wait for that reply (or for the
    /// next heartbeat) instead of each sending their own message: this is what
    /// batches a burst of `start()`s into one RPC per follower.
    in_flight: bool,
    /// The commit index last sent to this follower.
    commit_sent: u64,
    /// Something was sent to this follower since the last heartbeat.
    sent_since_heartbeat: bool,
}

impl Progress {
    /// The follower holds our log up to `index` (an AppendEntries or an
    /// InstallSnapshot succeeded): what is known replicated only grows, and
    /// sending resumes after it.
    fn acknowledged(&mut self, index: u64) {
        self.matched = self.matched.max(index);
        self.next = self.next.max(self.matched + 1);
    }
}

/// What a follower's reply to AppendEntries or InstallSnapshot tells its
/// leader.
#[derive(Clone, Copy, Debug)]
enum Ack {
    /// It holds our log up to this index.
    Holds(u64),
    /// It rejected our entries: resume sending at this index (from its hints).
    ResumeAt(u64),
}

#[derive(Clone, Debug)]
enum Role {
    Follower,
    Candidate {
        votes: BTreeSet<usize>,
    },
    Leader {
        progress: Vec<Progress>,
        heartbeat_due: Instant,
    },
}

/// One Raft server's protocol state. See the module documentation.
pub struct Core {
    me: usize,
    peers: usize,
    timing: Timing,

    // Persistent state (Figure 2), saved whenever it changes.
    term: u64,
    voted_for: Option<usize>,
    log: Log,
    /// The service's snapshot covering the log up to `log.base_index()`.
    snapshot: Vec<u8>,

    // Volatile state.
    role: Role,
    commit_index: u64,
    /// Highest index handed to the applier (it may still be on its way).
    last_applied: u64,
    /// A snapshot from the leader is installed but not yet handed to the applier.
    snapshot_pending: bool,
    election_deadline: Instant,
    rng: StdRng,

    effects: Effects,
}

impl Core {
    /// A brand-new server (empty log, term 0) with its own [`Timing`]: the
    /// entry point for drivers outside this crate, which keep no persistent
    /// state across restarts.
    pub fn fresh(me: usize, peers: usize, seed: u64, now: Instant, timing: Timing) -> Core {
        Core::new(me, peers, None, Vec::new(), seed, now, timing)
    }

    /// A server starting from `saved` state (None: a brand-new server) and
    /// the service's `snapshot`, with `timing` (the labs use
    /// [`Timing::default`]). `seed` seeds its election timeouts.
    pub(crate) fn new(
        me: usize,
        peers: usize,
        saved: Option<PersistentState>,
        snapshot: Vec<u8>,
        seed: u64,
        now: Instant,
        timing: Timing,
    ) -> Core {
        assert!(me < peers, "server {me} is not one of {peers} peers");
        let (term, voted_for, log) = match saved {
            Some(state) => (
                state.term,
                state.voted_for.map(|v| v as usize),
                state.into_log(),
            ),
            None => (0, None, Log::default()),
        };
        // The service restores itself from the snapshot in the Persister, so
        // the snapshot counts as applied and is not sent again on the channel.
        let applied = log.base_index();
        let mut core = Core {
            me,
            peers,
            timing,
            term,
            voted_for,
            log,
            snapshot,
            role: Role::Follower,
            commit_index: applied,
            last_applied: applied,
            snapshot_pending: false,
            election_deadline: now,
            rng: StdRng::seed_from_u64(seed),
            effects: Effects::default(),
        };
        core.reset_election_timer(now);
        core
    }

    // ----- Queries -------------------------------------------------------

    /// (current term, whether this server believes it is the leader).
    pub fn state(&self) -> (u64, bool) {
        (self.term, self.is_leader())
    }

    /// Whether this peer is the leader of its current term.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// When a follower or candidate will start an election (at the first
    /// [`tick`](Core::tick) at or after it). A driver may run a pre-vote
    /// round first and tick only once it succeeded (Raft thesis §9.6).
    pub fn election_deadline(&self) -> Instant {
        self.election_deadline
    }

    /// (index, term) of the last log entry, as a RequestVote would carry.
    pub fn last_log(&self) -> (u64, u64) {
        (self.log.last_index(), self.log.last_term())
    }

    /// What the peer reports to the tests' observer.
    pub(crate) fn peer_state(&self) -> PeerState {
        PeerState {
            role: match self.role {
                Role::Follower => observe::Role::Follower,
                Role::Candidate { .. } => observe::Role::Candidate,
                Role::Leader { .. } => observe::Role::Leader,
            },
            term: self.term,
            commit_index: self.commit_index,
            last_log_index: self.log.last_index(),
            snapshot_index: self.log.base_index(),
        }
    }

    #[cfg(test)]
    fn term(&self) -> u64 {
        self.term
    }

    #[cfg(test)]
    fn commit_index(&self) -> u64 {
        self.commit_index
    }

    #[cfg(test)]
    fn last_index(&self) -> u64 {
        self.log.last_index()
    }

    /// The persistent state, encoded for `Persister::save`.
    pub(crate) fn encode_state(&self) -> Vec<u8> {
        persist::encode(self.term, self.voted_for, &self.log)
    }

    pub(crate) fn snapshot_data(&self) -> &[u8] {
        &self.snapshot
    }

    /// The effects collected since the last call.
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.effects)
    }

    fn majority(&self) -> usize {
        self.peers / 2 + 1
    }

    fn others(&self) -> impl Iterator<Item = usize> + use<> {
        let me = self.me;
        (0..self.peers).filter(move |&p| p != me)
    }

    // ----- Terms, roles, timers ------------------------------------------

    fn reset_election_timer(&mut self, now: Instant) {
        let ms = self
            .rng
            .random_range(self.timing.election_timeout_ms.clone());
        self.election_deadline = now + Duration::from_millis(ms);
    }

    /// Any message with a higher term makes us a follower in that term.
    fn observe_term(&mut self, term: u64, now: Instant) {
        if term > self.term {
            tracing::debug!(topic = "term", "S{} T{} -> T{}", self.me, self.term, term);
            self.term = term;
            self.voted_for = None;
            self.effects.persist = true;
            self.become_follower(now);
        }
    }

    fn become_follower(&mut self, now: Instant) {
        if !matches!(self.role, Role::Follower) {
            // A deposed leader's election deadline is long past: give the
            // current leader a full timeout to reach us before campaigning.
            self.reset_election_timer(now);
        }
        self.role = Role::Follower;
    }

    /// Called on every clock tick.
    pub fn tick(&mut self, now: Instant) {
        match &mut self.role {
            Role::Leader { heartbeat_due, .. } => {
                if now >= *heartbeat_due {
                    *heartbeat_due = now + self.timing.heartbeat_interval;
                    if self.timing.heartbeat_only_idle {
                        self.heartbeat_idle();
                    } else {
                        self.broadcast_append();
                    }
                }
            }
            Role::Follower | Role::Candidate { .. } => {
                if now >= self.election_deadline {
                    self.start_election(now);
                }
            }
        }
    }

    // ----- Elections -----------------------------------------------------

    fn start_election(&mut self, now: Instant) {
        self.term += 1;
        self.voted_for = Some(self.me);
        self.effects.persist = true;
        self.role = Role::Candidate {
            votes: BTreeSet::from([self.me]),
        };
        self.reset_election_timer(now);
        tracing::debug!(
            topic = "timer",
            "S{} timed out: election for T{}",
            self.me,
            self.term
        );
        if self.majority() == 1 {
            self.become_leader(now);
            return;
        }
        let args = RequestVoteArgs {
            term: self.term,
            candidate_id: self.me,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for to in self.others() {
            self.effects.messages.push(Outbound {
                to,
                rpc: Rpc::RequestVote(args.clone()),
            });
        }
    }

    /// Handles a RequestVote request (Figure 2's receiver rules) and returns the reply.
    pub fn handle_request_vote(&mut self, args: RequestVoteArgs, now: Instant) -> RequestVoteReply {
        self.observe_term(args.term, now);
        let mut vote_granted = false;
        if args.term == self.term {
            let free = self.voted_for.is_none_or(|v| v == args.candidate_id);
            // §5.4.1: only a candidate whose log is at least as up to date.
            let up_to_date = (args.last_log_term, args.last_log_index)
                >= (self.log.last_term(), self.log.last_index());
            if free && up_to_date {
                internal_assert!(
                    !self.is_leader() || args.candidate_id == self.me,
                    "a leader voted for another server in its own term"
                );
                self.voted_for = Some(args.candidate_id);
                self.effects.persist = true;
                self.reset_election_timer(now);
                vote_granted = true;
                tracing::debug!(
                    topic = "vote",
                    "S{} votes for S{} in T{}",
                    self.me,
                    args.candidate_id,
                    self.term
                );
            }
        }
        RequestVoteReply {
            term: self.term,
            vote_granted,
        }
    }

    /// Handles the reply to a RequestVote this peer sent.
    pub fn on_request_vote_reply(
        &mut self,
        from: usize,
        args: &RequestVoteArgs,
        reply: RequestVoteReply,
        now: Instant,
    ) {
        self.observe_term(reply.term, now);
        if args.term != self.term || !reply.vote_granted {
            return;
        }
        let majority = self.majority();
        let Role::Candidate { votes } = &mut self.role else {
            return;
        };
        votes.insert(from);
        if votes.len() >= majority {
            self.become_leader(now);
        }
    }

    fn become_leader(&mut self, now: Instant) {
        tracing::debug!(
            topic = "leader",
            "S{} is leader of T{} (log ..{})",
            self.me,
            self.term,
            self.log.last_index()
        );
        let progress = Progress {
            next: self.log.last_index() + 1,
            matched: 0,
            in_flight: false,
            commit_sent: 0,
            sent_since_heartbeat: false,
        };
        self.role = Role::Leader {
            progress: vec![progress; self.peers],
            heartbeat_due: now + self.timing.heartbeat_interval,
        };
        // Announce the new leadership at once, before anyone else times out.
        self.broadcast_append();
        self.advance_commit();
    }

    // ----- Client commands -----------------------------------------------

    /// Appends a command if this server is the leader; returns (index, term).
    /// The command is sent to followers right away (not at the next heartbeat)
    /// unless a message to that follower is already in flight, in which case
    /// it goes with the next one.
    pub fn start(&mut self, command: Vec<u8>) -> Option<(u64, u64)> {
        if !self.is_leader() {
            return None;
        }
        self.log.push(Entry {
            term: self.term,
            command,
        });
        self.effects.persist = true;
        let index = self.log.last_index();
        tracing::debug!(
            topic = "log",
            "S{} appends index {} in T{}",
            self.me,
            index,
            self.term
        );
        for peer in self.others() {
            self.send_append_if_news(peer);
        }
        self.advance_commit(); // a one-server cluster commits alone
        Some((index, self.term))
    }

    // ----- Replication: leader side --------------------------------------

    fn progress_mut(&mut self, peer: usize) -> Option<&mut Progress> {
        match &mut self.role {
            Role::Leader { progress, .. } => progress.get_mut(peer),
            _ => None,
        }
    }

    /// Heartbeat: one message to every follower, news or not.
    fn broadcast_append(&mut self) {
        for peer in self.others() {
            self.send_append(peer);
        }
    }

    /// Heartbeat only the followers that got nothing since the last one.
    fn heartbeat_idle(&mut self) {
        for peer in self.others() {
            let busy = self
                .progress_mut(peer)
                .is_some_and(|p| std::mem::replace(&mut p.sent_since_heartbeat, false));
            if !busy {
                self.send_append(peer);
                if let Some(p) = self.progress_mut(peer) {
                    p.sent_since_heartbeat = false;
                }
            }
        }
    }

    /// Sends to `peer` only if it lacks entries or the commit index, and no
    /// message with news is already on its way.
    fn send_append_if_news(&mut self, peer: usize) {
        let last = self.log.last_index();
        let commit = self.commit_index;
        let eager = self.timing.eager_commit;
        let Some(p) = self.progress_mut(peer) else {
            return;
        };
        if !p.in_flight && (p.next <= last || (eager && p.commit_sent < commit)) {
            self.send_append(peer);
        }
    }

    /// Sends `peer` what it needs next: entries from `next`, or the snapshot
    /// if those entries were compacted away.
    fn send_append(&mut self, peer: usize) {
        let (term, me, commit) = (self.term, self.me, self.commit_index);
        let base = self.log.base_index();
        let Some(next) = self.progress_mut(peer).map(|p| p.next) else {
            return;
        };
        let rpc = if next <= base {
            Rpc::InstallSnapshot(InstallSnapshotArgs {
                term,
                leader_id: me,
                last_included_index: base,
                last_included_term: self.log.base_term(),
                data: self.snapshot.clone(),
            })
        } else {
            let prev_log_index = next - 1;
            let prev_log_term = self
                .log
                .term(prev_log_index)
                .expect("a leader has every entry after its snapshot");
            Rpc::AppendEntries(AppendEntriesArgs {
                term,
                leader_id: me,
                prev_log_index,
                prev_log_term,
                entries: self.log.slice_from(next, MAX_ENTRIES_PER_APPEND),
                leader_commit: commit,
            })
        };
        if let Some(p) = self.progress_mut(peer) {
            p.in_flight = true;
            p.commit_sent = commit;
            p.sent_since_heartbeat = true;
        }
        self.effects.messages.push(Outbound { to: peer, rpc });
    }

    /// Handles the reply to an AppendEntries this peer sent.
    pub fn on_append_entries_reply(
        &mut self,
        from: usize,
        args: &AppendEntriesArgs,
        reply: AppendEntriesReply,
        now: Instant,
    ) {
        let ack = if reply.success {
            Ack::Holds(args.prev_log_index + args.entries.len() as u64)
        } else {
            Ack::ResumeAt(self.backup_target(&reply))
        };
        self.on_replication_reply(from, args.term, reply.term, ack, now);
    }

    /// Handles the reply to an InstallSnapshot this peer sent: the follower
    /// now holds everything up to the snapshot.
    pub fn on_install_snapshot_reply(
        &mut self,
        from: usize,
        args: &InstallSnapshotArgs,
        reply: InstallSnapshotReply,
        now: Instant,
    ) {
        let ack = Ack::Holds(args.last_included_index);
        self.on_replication_reply(from, args.term, reply.term, ack, now);
    }

    /// A leader's handling of a follower's reply to AppendEntries or
    /// InstallSnapshot (sent in `sent_term`), whatever the RPC: a higher term
    /// in the reply deposes us (§5.1); the reply counts only if we still lead
    /// the term the request was sent in (else it is stale, or we were
    /// deposed). Then the follower may take its next message; what it holds
    /// now counts as replicated (and may commit), or sending backs up to
    /// where the follower's hints say.
    fn on_replication_reply(
        &mut self,
        from: usize,
        sent_term: u64,
        reply_term: u64,
        ack: Ack,
        now: Instant,
    ) {
        self.observe_term(reply_term, now);
        if sent_term != self.term || !self.is_leader() {
            return;
        }
        let last = self.log.last_index();
        let Some(p) = self.progress_mut(from) else {
            return;
        };
        p.in_flight = false;
        match ack {
            Ack::Holds(matched) => {
                internal_assert!(
                    matched <= last,
                    "follower acknowledged entries we never had"
                );
                p.acknowledged(matched);
                self.advance_commit();
            }
            Ack::ResumeAt(target) => {
                // Never below what is known replicated; never past our log.
                p.next = target.clamp(p.matched + 1, last + 1);
            }
        }
        self.send_append_if_news(from);
    }

    /// Where to resume sending after a rejection, from the follower's hints.
    fn backup_target(&self, reply: &AppendEntriesReply) -> u64 {
        match reply.xterm {
            // The follower's log is too short: continue where it ends.
            None => reply.xlen,
            // We have entries of the conflicting term: the follower's entries
            // of that term up to our last one may match, so resume just after
            // it. We don't: skip the follower's whole run of that term.
            Some(xterm) => match self.log.last_index_of_term(xterm) {
                Some(index) => index + 1,
                None => reply.xindex,
            },
        }
    }

    /// Commits the highest index of the current term stored on a majority
    /// (§5.4.2: entries of earlier terms only commit along with it).
    fn advance_commit(&mut self) {
        let Role::Leader { progress, .. } = &self.role else {
            return;
        };
        let mut index = self.log.last_index();
        while index > self.commit_index && self.log.term(index) == Some(self.term) {
            let replicas = 1 + self
                .others()
                .filter(|&p| progress[p].matched >= index)
                .count();
            if replicas >= self.majority() {
                self.set_commit(index);
                // Tell the followers now rather than at the next heartbeat,
                // so that they apply within one round trip.
                for peer in self.others() {
                    self.send_append_if_news(peer);
                }
                return;
            }
            index -= 1;
        }
    }

    fn set_commit(&mut self, index: u64) {
        internal_assert!(
            index >= self.commit_index,
            "commit index went back from {} to {index}",
            self.commit_index
        );
        internal_assert!(
            index <= self.log.last_index(),
            "commit past the end of the log"
        );
        if index > self.commit_index {
            tracing::debug!(
                topic = "commit",
                "S{} commits up to {} in T{}",
                self.me,
                index,
                self.term
            );
            self.commit_index = index;
            self.effects.apply = true;
        }
    }

    // ----- Replication: follower side ------------------------------------

    /// A valid message from the leader of the current term: follow it.
    fn accept_leader(&mut self, leader: usize, now: Instant) {
        internal_assert!(
            !self.is_leader(),
            "election safety: S{} and S{leader} both lead term {}",
            self.me,
            self.term
        );
        self.become_follower(now);
        self.reset_election_timer(now);
    }

    /// Handles an AppendEntries request (Figure 2's receiver rules) and returns the reply.
    pub fn handle_append_entries(
        &mut self,
        args: AppendEntriesArgs,
        now: Instant,
    ) -> AppendEntriesReply {
        self.observe_term(args.term, now);
        let mut reply = AppendEntriesReply {
            term: self.term,
            success: false,
            xterm: None,
            xindex: 0,
            xlen: self.log.last_index() + 1,
        };
        if args.term < self.term {
            return reply;
        }
        self.accept_leader(args.leader_id, now);

        let last_new = args.prev_log_index + args.entries.len() as u64;
        let (prev, prev_term, entries) = self.skip_compacted(&args);
        match self.log.term(prev) {
            None => return reply, // our log is too short: xterm None, xlen set
            Some(term) if term != prev_term => {
                reply.xterm = Some(term);
                reply.xindex = self.log.first_index_of_term_run(prev);
                return reply;
            }
            Some(_) => {}
        }
        self.append_entries_after(prev, entries);
        if args.leader_commit > self.commit_index {
            // Only what this message proved we share with the leader.
            let commit = args.leader_commit.min(last_new);
            if commit > self.commit_index {
                self.set_commit(commit);
            }
        }
        reply.success = true;
        reply.xlen = self.log.last_index() + 1;
        reply
    }

    /// Entries at or below our snapshot are committed, hence identical to
    /// the leader's: drop them from the message and check consistency at our
    /// base instead. Returns the (prev index, prev term, entries) to check
    /// and append.
    fn skip_compacted<'a>(&self, args: &'a AppendEntriesArgs) -> (u64, u64, &'a [Entry]) {
        let base = self.log.base_index();
        if args.prev_log_index >= base {
            return (args.prev_log_index, args.prev_log_term, &args.entries);
        }
        let skip = (base - args.prev_log_index) as usize;
        if skip > args.entries.len() {
            // Everything in the message is inside our snapshot.
            return (base, self.log.base_term(), &[]);
        }
        // Log Matching: the leader's entry at our base has our base's term.
        let at_base = args.entries[skip - 1].term;
        internal_debug_assert_eq!(
            at_base,
            self.log.base_term(),
            "leader disagrees with a committed (snapshotted) entry"
        );
        (base, at_base, &args.entries[skip..])
    }

    /// Appends `entries` after index `prev` (already checked to match),
    /// truncating at the first conflict and never because of a stale, shorter
    /// message: entries that match stay.
    fn append_entries_after(&mut self, prev: u64, entries: &[Entry]) {
        for (offset, entry) in entries.iter().enumerate() {
            let index = prev + 1 + offset as u64;
            match self.log.term(index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    internal_assert!(
                        index > self.commit_index,
                        "S{} would overwrite committed index {index}",
                        self.me
                    );
                    tracing::debug!(topic = "log", "S{} drops entries from {}", self.me, index);
                    self.log.truncate_from(index);
                }
                None => {}
            }
            for entry in &entries[offset..] {
                self.log.push(entry.clone());
            }
            self.effects.persist = true;
            tracing::debug!(
                topic = "log",
                "S{} has entries ..{} in T{}",
                self.me,
                self.log.last_index(),
                self.term
            );
            break;
        }
        // Log Matching: our log now holds the message's last entry.
        if let Some(last) = entries.last() {
            internal_debug_assert_eq!(self.log.term(prev + entries.len() as u64), Some(last.term));
        }
    }

    /// Handles an InstallSnapshot request and returns the reply.
    pub fn handle_install_snapshot(
        &mut self,
        args: InstallSnapshotArgs,
        now: Instant,
    ) -> InstallSnapshotReply {
        self.observe_term(args.term, now);
        let reply = InstallSnapshotReply { term: self.term };
        if args.term < self.term {
            return reply;
        }
        self.accept_leader(args.leader_id, now);
        // Everything up to our commit index will be applied from the log
        // anyway; an older snapshot would only move us backwards.
        if args.last_included_index <= self.commit_index {
            return reply;
        }
        tracing::debug!(
            topic = "snapshot",
            "S{} installs the leader's snapshot up to {}",
            self.me,
            args.last_included_index
        );
        self.log
            .compact_to(args.last_included_index, args.last_included_term);
        self.snapshot = args.data;
        self.set_commit(args.last_included_index);
        self.snapshot_pending = true;
        self.effects.persist = true;
        self.effects.apply = true;
        reply
    }

    // ----- The service's side --------------------------------------------

    /// The service has a snapshot of its state up to `index`: drop the log
    /// up to there. Ignored if the log is already compacted past `index`.
    pub(crate) fn snapshot(&mut self, index: u64, data: Vec<u8>) {
        if index <= self.log.base_index() {
            return;
        }
        internal_assert!(
            index <= self.last_applied,
            "snapshot at {index} of entries not yet applied (applied {})",
            self.last_applied
        );
        let term = self.log.term(index).expect("index is in the log");
        tracing::debug!(
            topic = "snapshot",
            "S{} compacts its log up to {}",
            self.me,
            index
        );
        self.log.compact_to(index, term);
        self.snapshot = data;
        self.effects.persist = true;
    }

    /// The next messages for the apply channel, in log order: a pending
    /// snapshot first, else committed commands not yet handed out.
    pub fn take_apply_batch(&mut self) -> Vec<ApplyMsg> {
        if self.snapshot_pending {
            self.snapshot_pending = false;
            self.last_applied = self.log.base_index();
            return vec![ApplyMsg::Snapshot {
                index: self.log.base_index(),
                term: self.log.base_term(),
                data: self.snapshot.clone(),
            }];
        }
        internal_assert!(self.last_applied >= self.log.base_index());
        let last = self
            .commit_index
            .min(self.last_applied + MAX_APPLY_BATCH as u64);
        let batch: Vec<ApplyMsg> = (self.last_applied + 1..=last)
            .map(|index| {
                let entry = self.log.get(index).expect("committed entry in the log");
                ApplyMsg::Command {
                    index,
                    term: entry.term,
                    command: entry.command.clone(),
                }
            })
            .collect();
        self.last_applied = last.max(self.last_applied);
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::START + Duration::from_millis(ms)
    }

    /// A cluster of cores wired together by hand: messages are delivered
    /// only when the test says so.
    struct Cluster {
        cores: Vec<Core>,
        queue: Vec<(usize, Outbound)>,
        now: Instant,
    }

    impl Cluster {
        fn new(n: usize) -> Cluster {
            let cores = (0..n)
                .map(|i| Core::fresh(i, n, i as u64 + 7, at(0), Timing::default()))
                .collect();
            Cluster {
                cores,
                queue: Vec::new(),
                now: at(0),
            }
        }

        fn collect(&mut self, from: usize) {
            let effects = self.cores[from].take_effects();
            self.queue
                .extend(effects.messages.into_iter().map(|m| (from, m)));
        }

        /// Delivers every queued message (and the replies), repeatedly.
        fn deliver_all(&mut self, down: &[usize]) {
            while !self.queue.is_empty() {
                let batch = std::mem::take(&mut self.queue);
                for (from, out) in batch {
                    if down.contains(&out.to) || down.contains(&from) {
                        continue;
                    }
                    self.deliver(from, out);
                }
            }
        }

        fn deliver(&mut self, from: usize, out: Outbound) {
            let now = self.now;
            let to = out.to;
            match out.rpc {
                Rpc::RequestVote(args) => {
                    let reply = self.cores[to].handle_request_vote(args.clone(), now);
                    self.cores[from].on_request_vote_reply(to, &args, reply, now);
                }
                Rpc::AppendEntries(args) => {
                    let reply = self.cores[to].handle_append_entries(args.clone(), now);
                    self.cores[from].on_append_entries_reply(to, &args, reply, now);
                }
                Rpc::InstallSnapshot(args) => {
                    let reply = self.cores[to].handle_install_snapshot(args.clone(), now);
                    self.cores[from].on_install_snapshot_reply(to, &args, reply, now);
                }
            }
            self.collect(from);
            self.collect(to);
        }

        /// Advances time to `ms` and ticks server `i` only.
        fn tick(&mut self, i: usize, ms: u64) {
            self.now = at(ms);
            self.cores[i].tick(self.now);
            self.collect(i);
        }

        fn leaders(&self) -> Vec<usize> {
            (0..self.cores.len())
                .filter(|&i| self.cores[i].is_leader())
                .collect()
        }

        /// `n` cores after `leader` timed out first and won the election.
        fn elected(n: usize, leader: usize) -> Cluster {
            let mut c = Cluster::new(n);
            c.tick(leader, 1000);
            c.deliver_all(&[]);
            assert_eq!(c.leaders(), vec![leader]);
            c
        }

        /// `leader` starts one command per byte; their messages are queued.
        fn start_each(&mut self, leader: usize, commands: impl IntoIterator<Item = u8>) {
            for k in commands {
                self.cores[leader].start(vec![k]);
            }
            self.collect(leader);
        }
    }

    #[test]
    fn a_timed_out_follower_wins_the_election() {
        let mut c = Cluster::new(3);
        c.tick(0, 1000);
        assert_eq!(c.cores[0].term(), 1);
        c.deliver_all(&[]);
        assert_eq!(c.leaders(), vec![0]);
        assert!(c.cores.iter().all(|core| core.term() == 1));
    }

    #[test]
    fn one_vote_per_term() {
        let mut core = Core::fresh(0, 3, 1, at(0), Timing::default());
        let ask = |candidate| RequestVoteArgs {
            term: 1,
            candidate_id: candidate,
            last_log_index: 0,
            last_log_term: 0,
        };
        assert!(core.handle_request_vote(ask(1), at(1)).vote_granted);
        assert!(!core.handle_request_vote(ask(2), at(2)).vote_granted);
        // Asking again (a retransmission) gets the same answer.
        assert!(core.handle_request_vote(ask(1), at(3)).vote_granted);
        assert!(core.take_effects().persist);
    }

    #[test]
    fn stale_logs_do_not_win_votes() {
        let mut c = Cluster::elected(3, 0);
        c.start_each(0, [1]);
        c.deliver_all(&[]);
        // Server 2 misses the next entry, then times out.
        c.start_each(0, [2]);
        c.deliver_all(&[2]);
        c.tick(2, 5000);
        c.deliver_all(&[0]);
        assert!(
            !c.cores[2].is_leader(),
            "a candidate missing a committed entry won"
        );
    }

    #[test]
    fn commands_commit_and_apply_in_order() {
        let mut c = Cluster::elected(3, 1);
        for k in 0..5u8 {
            assert!(c.cores[1].start(vec![k]).is_some());
        }
        assert!(c.cores[0].start(vec![9]).is_none());
        c.collect(1);
        c.deliver_all(&[]);
        for core in &mut c.cores {
            assert_eq!(core.commit_index(), 5);
            let batch = core.take_apply_batch();
            let indices: Vec<u64> = batch.iter().map(ApplyMsg::index).collect();
            assert_eq!(indices, vec![1, 2, 3, 4, 5]);
        }
    }

    #[test]
    fn a_burst_of_commands_is_batched() {
        let mut c = Cluster::elected(3, 0);
        c.start_each(0, [0]);
        let first = c.queue.len();
        c.start_each(0, 1..10);
        assert_eq!(
            c.queue.len(),
            first,
            "commands while a message is in flight wait for its reply"
        );
        c.deliver_all(&[]);
        assert!(c.cores.iter().all(|core| core.commit_index() == 10));
    }

    #[test]
    fn fast_backup_over_a_divergent_log() {
        let mut c = Cluster::elected(5, 0);
        // Leader 0 and follower 1 get 50 entries that never commit.
        c.start_each(0, 0..50);
        c.deliver_all(&[2, 3, 4]);
        // Server 2 is elected by 3 and 4; they commit 30 other entries.
        c.tick(2, 3000);
        c.deliver_all(&[0, 1]);
        assert!(c.cores[2].is_leader());
        c.start_each(2, 100..130);
        c.deliver_all(&[0, 1]);
        assert_eq!(c.cores[2].commit_index(), 30);
        // 0 and 1 rejoin: their 50 entries are replaced in a few round trips.
        c.tick(2, 3100);
        let mut round_trips = 0;
        while !c.queue.is_empty() {
            round_trips += 1;
            let batch = std::mem::take(&mut c.queue);
            for (from, out) in batch {
                c.deliver(from, out);
            }
        }
        assert!(round_trips <= 4, "took {round_trips} round trips");
        assert_eq!(c.leaders(), vec![2]);
        for i in [0, 1] {
            assert_eq!(c.cores[i].commit_index(), 30);
            assert_eq!(c.cores[i].log, c.cores[2].log);
        }
    }

    #[test]
    fn a_lagging_follower_gets_the_snapshot() {
        let mut c = Cluster::elected(3, 0);
        for k in 0..20 {
            c.start_each(0, [k]);
            c.deliver_all(&[2]);
        }
        assert_eq!(c.cores[0].commit_index(), 20);
        assert_eq!(c.cores[0].take_apply_batch().len(), 20);
        c.cores[0].snapshot(15, b"state@15".to_vec());
        c.tick(0, 1200);
        c.deliver_all(&[]);
        assert_eq!(c.cores[2].commit_index(), 20);
        let batch = c.cores[2].take_apply_batch();
        assert!(matches!(&batch[..], [ApplyMsg::Snapshot { index: 15, .. }]));
        let rest: Vec<u64> = c.cores[2]
            .take_apply_batch()
            .iter()
            .map(ApplyMsg::index)
            .collect();
        assert_eq!(rest, (16..=20).collect::<Vec<u64>>());
    }

    #[test]
    fn entries_below_a_snapshot_are_accepted() {
        let entries = |from: u64, to: u64| -> Vec<Entry> {
            (from..=to)
                .map(|i| Entry {
                    term: 1,
                    command: vec![i as u8],
                })
                .collect()
        };
        let saved = PersistentState {
            term: 1,
            voted_for: None,
            base_index: 10,
            base_term: 1,
            entries: Vec::new(),
        };
        let mut core = Core::new(
            1,
            3,
            Some(saved),
            b"s".to_vec(),
            5,
            at(0),
            Timing::default(),
        );
        let append = |prev: u64, entries: Vec<Entry>| AppendEntriesArgs {
            term: 1,
            leader_id: 0,
            prev_log_index: prev,
            prev_log_term: 1,
            entries,
            leader_commit: 12,
        };
        // A late message entirely inside the snapshot: nothing to do, success.
        let reply = core.handle_append_entries(append(5, entries(6, 8)), at(1));
        assert!(reply.success);
        assert_eq!(core.last_index(), 10);
        // One that straddles the snapshot: the tail is appended.
        let reply = core.handle_append_entries(append(5, entries(6, 12)), at(2));
        assert!(reply.success);
        assert_eq!(core.last_index(), 12);
        assert_eq!(core.commit_index(), 12);
    }

    #[test]
    fn restart_restores_state_and_snapshot() {
        let mut core = Core::fresh(0, 1, 3, at(0), Timing::default());
        core.tick(at(1000));
        assert!(core.is_leader());
        for k in 0..12u8 {
            core.start(vec![k]);
        }
        core.take_apply_batch();
        core.snapshot(10, b"snap".to_vec());
        let saved = persist::decode(&core.encode_state());
        let restarted = Core::new(
            0,
            1,
            saved,
            core.snapshot_data().to_vec(),
            3,
            at(2000),
            Timing::default(),
        );
        assert_eq!(restarted.term(), 1);
        assert_eq!(restarted.last_index(), 12);
        assert_eq!(restarted.commit_index(), 10);
        assert_eq!(restarted.snapshot_data(), b"snap");
    }
}
