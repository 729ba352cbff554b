// SOLUTION FILE
//! One peer's Paxos state, apart from I/O and timers: the acceptor
//! (`n_p`, `n_a`, `v_a`) and learner (the decided value) of every instance
//! it still holds, the Done value heard from every peer, and Max and Min.
//!
//! The handlers and the proposer lock this state, call one method, and
//! unlock; nothing here waits or sends.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::rpc::{
    AcceptArgs, AcceptReply, Ballot, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply,
};

/// An encoded value; decided and accepted copies of it share one buffer.
pub(crate) type Value = Arc<Vec<u8>>;

#[derive(Default)]
struct Instance {
    /// Highest proposal number promised.
    n_p: Option<Ballot>,
    /// Highest proposal accepted, and its value.
    n_a: Option<Ballot>,
    v_a: Option<Value>,
    decided: Option<Value>,
}

pub(crate) struct Instances {
    me: usize,
    instances: BTreeMap<i64, Instance>,
    /// Highest Done argument heard from each peer (-1: none yet).
    dones: Vec<i64>,
    /// 1 + min(dones); every instance below it is gone from `instances`.
    min: i64,
    max: i64,
    /// Instances with a proposer running on this peer.
    proposing: BTreeSet<i64>,
}

impl Instances {
    pub(crate) fn new(npeers: usize, me: usize) -> Instances {
        Instances {
            me,
            instances: BTreeMap::new(),
            dones: vec![-1; npeers],
            min: 0,
            max: -1,
            proposing: BTreeSet::new(),
        }
    }

    pub(crate) fn min(&self) -> i64 {
        self.min
    }

    pub(crate) fn max(&self) -> i64 {
        self.max
    }

    pub(crate) fn my_done(&self) -> i64 {
        self.dones[self.me]
    }

    pub(crate) fn decided_count(&self) -> usize {
        self.instances
            .values()
            .filter(|i| i.decided.is_some())
            .count()
    }

    pub(crate) fn decided_value(&self, seq: i64) -> Option<Value> {
        self.instances.get(&seq)?.decided.clone()
    }

    /// True while the instance needs a proposer: not decided here, not forgotten.
    pub(crate) fn undecided(&self, seq: i64) -> bool {
        seq >= self.min && self.decided_value(seq).is_none()
    }

    pub(crate) fn note_seq(&mut self, seq: i64) {
        self.max = self.max.max(seq);
    }

    /// Records that this peer runs a proposer for `seq`; false if one runs already.
    pub(crate) fn begin_proposing(&mut self, seq: i64) -> bool {
        self.proposing.insert(seq)
    }

    pub(crate) fn end_proposing(&mut self, seq: i64) {
        self.proposing.remove(&seq);
    }

    /// The highest round promised here for `seq`, so a new proposal can go above it.
    pub(crate) fn promised_round(&self, seq: i64) -> u64 {
        self.instances
            .get(&seq)
            .and_then(|i| i.n_p)
            .map_or(0, |n| n.round)
    }

    /// `peer` is done with every instance up to `done`; forgets what all are done with.
    pub(crate) fn set_done(&mut self, peer: usize, done: i64) {
        let Some(known) = self.dones.get_mut(peer) else {
            tracing::warn!(
                topic = "paxos",
                "Done value from unknown peer {peer} ignored"
            );
            return;
        };
        if done <= *known {
            return;
        }
        *known = done;
        let min = self.dones.iter().copied().min().unwrap_or(-1) + 1;
        if min > self.min {
            self.min = min;
            self.instances = self.instances.split_off(&min);
            tracing::debug!(
                topic = "forget",
                "P{} forgets instances below {min}",
                self.me
            );
        }
    }

    /// Records the decided value (the learner).
    pub(crate) fn learn(&mut self, seq: i64, value: Value) {
        if seq < self.min {
            return;
        }
        self.note_seq(seq);
        let me = self.me;
        let instance = self.instances.entry(seq).or_default();
        match &instance.decided {
            Some(known) if **known != *value => {
                // Two different values decided for one instance: a broken
                // Paxos. The tests' agreement check reports it; log it here.
                tracing::error!(
                    topic = "decide",
                    "P{me} instance {seq}: a second, different value decided"
                );
            }
            Some(_) => {}
            None => {
                tracing::debug!(topic = "decide", "P{me} decides instance {seq}");
                instance.v_a = Some(value.clone());
                instance.decided = Some(value);
            }
        }
    }

    /// What an acceptor does first with a Prepare or Accept from `from`
    /// for instance `seq`: notes the sender's piggybacked Done and the
    /// instance number. Returns this peer's Done, for the reply.
    fn hear(&mut self, from: usize, done: i64, seq: i64) -> i64 {
        self.set_done(from, done);
        self.note_seq(seq);
        self.my_done()
    }

    /// The Prepare handler's logic (also the proposer's call to its own acceptor).
    pub(crate) fn prepare(&mut self, args: &PrepareArgs) -> PrepareReply {
        let mut reply = PrepareReply {
            done: self.hear(args.from, args.done, args.seq),
            ..PrepareReply::default()
        };
        if args.seq < self.min {
            reply.forgotten = true;
            return reply;
        }
        let instance = self.instances.entry(args.seq).or_default();
        if let Some(decided) = &instance.decided {
            reply.decided = Some(decided.to_vec());
            return reply;
        }
        if instance.n_p.is_none_or(|n_p| args.n > n_p) {
            instance.n_p = Some(args.n);
            reply.ok = true;
            reply.n_a = instance.n_a;
            reply.v_a = instance.v_a.as_ref().map(|v| v.to_vec());
        } else {
            reply.n_p = instance.n_p;
        }
        reply
    }

    /// The Accept handler's logic.
    pub(crate) fn accept(&mut self, args: &AcceptArgs) -> AcceptReply {
        let done = self.hear(args.from, args.done, args.seq);
        if args.seq < self.min {
            return AcceptReply {
                ok: false,
                n_p: None,
                done,
            };
        }
        let instance = self.instances.entry(args.seq).or_default();
        if instance.n_p.is_some_and(|n_p| args.n < n_p) {
            // Refused: the proposer learns the number it must beat.
            return AcceptReply {
                ok: false,
                n_p: instance.n_p,
                done,
            };
        }
        instance.n_p = Some(args.n);
        instance.n_a = Some(args.n);
        if instance.decided.is_none() {
            instance.v_a = Some(Arc::new(args.v.clone()));
        }
        AcceptReply {
            ok: true,
            n_p: None,
            done,
        }
    }

    /// The Decided handler's logic.
    pub(crate) fn decided_message(&mut self, args: &DecidedArgs) -> DecidedReply {
        self.set_done(args.from, args.done);
        self.learn(args.seq, Arc::new(args.v.clone()));
        DecidedReply {
            done: self.my_done(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(round: u64, peer: u64) -> Ballot {
        Ballot { round, peer }
    }

    fn prepare(seq: i64, n: Ballot) -> PrepareArgs {
        PrepareArgs {
            seq,
            n,
            from: 1,
            done: -1,
        }
    }

    #[test]
    fn prepare_promises_only_higher_numbers() {
        let mut st = Instances::new(3, 0);
        assert!(st.prepare(&prepare(0, ballot(2, 1))).ok);
        let refused = st.prepare(&prepare(0, ballot(1, 2)));
        assert!(!refused.ok);
        assert_eq!(refused.n_p, Some(ballot(2, 1)));
        assert!(
            !st.prepare(&prepare(0, ballot(2, 1))).ok,
            "equal is not higher"
        );
    }

    #[test]
    fn accept_takes_numbers_at_least_the_promise_and_prepare_reports_it() {
        let mut st = Instances::new(3, 0);
        st.prepare(&prepare(0, ballot(2, 1)));
        let accept = |n, v: &[u8]| AcceptArgs {
            seq: 0,
            n,
            v: v.to_vec(),
            from: 1,
            done: -1,
        };
        assert!(!st.accept(&accept(ballot(1, 1), b"low")).ok);
        assert!(st.accept(&accept(ballot(2, 1), b"x")).ok);
        let reply = st.prepare(&prepare(0, ballot(3, 2)));
        assert!(reply.ok);
        assert_eq!(reply.n_a, Some(ballot(2, 1)));
        assert_eq!(reply.v_a.as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn min_rises_only_when_every_peer_is_done_and_forgets_below_it() {
        let mut st = Instances::new(3, 0);
        for seq in 0..5 {
            st.learn(seq, Arc::new(vec![seq as u8]));
        }
        st.set_done(0, 3);
        st.set_done(1, 3);
        assert_eq!(st.min(), 0, "peer 2 has not been heard from");
        st.set_done(2, 1);
        assert_eq!(st.min(), 2);
        assert!(st.decided_value(1).is_none());
        assert!(st.decided_value(2).is_some());
        assert_eq!(st.max(), 4, "forgetting does not lower Max");
        assert!(st.prepare(&prepare(1, ballot(9, 1))).forgotten);
    }

    #[test]
    fn a_decided_instance_answers_prepare_with_its_value() {
        let mut st = Instances::new(3, 0);
        st.learn(7, Arc::new(b"v".to_vec()));
        let reply = st.prepare(&prepare(7, ballot(5, 2)));
        assert_eq!(reply.decided.as_deref(), Some(&b"v"[..]));
        assert_eq!(st.max(), 7);
    }
}
