// SOLUTION FILE
//! The proposer: one task per instance this peer started, on the peer's own
//! node, that runs Paxos rounds until the instance is decided here, is
//! forgotten, or the peer is killed.
//!
//! A round is the textbook one: prepare with a number above any seen, take
//! the value of the highest accepted proposal among a majority of promises
//! (or our own), ask all to accept it, and on a majority tell everyone it is
//! decided. The local acceptor is called directly, never through an RPC.
//! A reply that reports a decided value ends the proposer at once: it learns
//! the value and passes it on to the peers that did not know it. After a
//! failed round the proposer sleeps a random 10–59 ms, so that dueling
//! proposers let one of them through and a partitioned proposer does not
//! spin (calls to unreachable peers fail at once).

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use labrpc::sim;

use crate::instance::Value;
use crate::rpc::{
    AcceptArgs, AcceptReply, Ballot, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply,
};
use crate::{Paxos, lock};

/// Sleep after a failed round: uniformly 10..59 ms.
const RETRY_MIN_MS: u64 = 10;
const RETRY_MAX_MS: u64 = 60;

impl Paxos {
    /// Starts a proposer for `seq` unless it is decided, forgotten or
    /// already being proposed here.
    pub(crate) fn start_proposer(self: &Arc<Self>, seq: i64, value: Vec<u8>) {
        {
            let mut st = lock(&self.state);
            st.note_seq(seq);
            if !st.undecided(seq) || !st.begin_proposing(seq) {
                return;
            }
        }
        tracing::debug!(topic = "propose", "P{} starts instance {seq}", self.me);
        let px = self.clone();
        // Detached: the proposer ends by itself.
        drop(self.node.spawn(async move {
            px.propose(seq, Arc::new(value)).await;
            lock(&px.state).end_proposing(seq);
        }));
    }

    async fn propose(&self, seq: i64, value: Value) {
        let majority = self.peers.len() / 2 + 1;
        let mut floor = 0u64;
        loop {
            if self.is_dead() {
                return;
            }
            let (n, done) = {
                let st = lock(&self.state);
                if !st.undecided(seq) {
                    return;
                }
                let round = st.promised_round(seq).max(floor) + 1;
                let n = Ballot {
                    round,
                    peer: self.me as u64,
                };
                (n, st.my_done())
            };
            floor = n.round;

            // Phase 1.
            let args = PrepareArgs {
                seq,
                n,
                from: self.me,
                done,
            };
            let mut promises = 0;
            let mut highest: Option<(Ballot, Vec<u8>)> = None;
            let mut learned: Option<Vec<u8>> = None;
            let mut knows = vec![false; self.peers.len()];
            for (j, reply) in self.prepare_all(&args).await {
                if reply.forgotten {
                    return;
                }
                if let Some(decided) = reply.decided {
                    knows[j] = true;
                    learned = Some(decided);
                } else if reply.ok {
                    promises += 1;
                    if let (Some(n_a), Some(v_a)) = (reply.n_a, reply.v_a)
                        && highest.as_ref().is_none_or(|(best, _)| n_a > *best)
                    {
                        highest = Some((n_a, v_a));
                    }
                } else if let Some(n_p) = reply.n_p {
                    floor = floor.max(n_p.round);
                }
            }

            if let Some(decided) = learned {
                // Someone knows the outcome: learn it, and pass it on to
                // the peers that did not say they know it.
                let decided = Arc::new(decided);
                lock(&self.state).learn(seq, decided.clone());
                knows[self.me] = true;
                self.decided_to(seq, &decided, &knows).await;
                return;
            }

            if promises >= majority {
                // Phase 2.
                let v = match highest {
                    Some((_, v_a)) => v_a,
                    None => value.to_vec(),
                };
                let args = AcceptArgs {
                    seq,
                    n,
                    v,
                    from: self.me,
                    done,
                };
                let mut accepted = 0;
                for reply in self.accept_all(&args).await {
                    if reply.ok {
                        accepted += 1;
                    } else if let Some(n_p) = reply.n_p {
                        floor = floor.max(n_p.round);
                    }
                }
                if accepted >= majority {
                    let decided = Arc::new(args.v);
                    lock(&self.state).learn(seq, decided.clone());
                    let mut knows = vec![false; self.peers.len()];
                    knows[self.me] = true;
                    self.decided_to(seq, &decided, &knows).await;
                    return;
                }
            }
            let pause = sim::gen_range(RETRY_MIN_MS..RETRY_MAX_MS);
            sim::sleep(Duration::from_millis(pause)).await;
        }
    }

    /// Sends Prepare to every peer (the local one by a call) and returns the
    /// replies that came back.
    async fn prepare_all(&self, args: &PrepareArgs) -> Vec<(usize, PrepareReply)> {
        let local = lock(&self.state).prepare(args);
        let calls = self.others().map(|j| {
            let call = self.peers[j].call::<_, PrepareReply>("Paxos.Prepare", args);
            async move { (j, call.await) }
        });
        let mut replies = vec![(self.me, local)];
        for (j, outcome) in join_all(calls.collect::<Vec<_>>()).await {
            if let Ok(reply) = outcome {
                lock(&self.state).set_done(j, reply.done);
                replies.push((j, reply));
            }
        }
        replies
    }

    async fn accept_all(&self, args: &AcceptArgs) -> Vec<AcceptReply> {
        let local = lock(&self.state).accept(args);
        let calls = self.others().map(|j| {
            let call = self.peers[j].call::<_, AcceptReply>("Paxos.Accept", args);
            async move { (j, call.await) }
        });
        let mut replies = vec![local];
        for (j, outcome) in join_all(calls.collect::<Vec<_>>()).await {
            if let Ok(reply) = outcome {
                lock(&self.state).set_done(j, reply.done);
                replies.push(reply);
            }
        }
        replies
    }

    /// Tells every peer not marked in `knows` that `seq` is decided.
    async fn decided_to(&self, seq: i64, value: &Value, knows: &[bool]) {
        let args = DecidedArgs {
            seq,
            v: value.to_vec(),
            from: self.me,
            done: lock(&self.state).my_done(),
        };
        let calls = self.others().filter(|&j| !knows[j]).map(|j| {
            let call = self.peers[j].call::<_, DecidedReply>("Paxos.Decided", &args);
            async move { (j, call.await) }
        });
        for (j, outcome) in join_all(calls.collect::<Vec<_>>()).await {
            if let Ok(reply) = outcome {
                lock(&self.state).set_done(j, reply.done);
            }
        }
    }

    fn others(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.peers.len()).filter(move |&j| j != self.me)
    }
}
