//! Lab 3A of the 2015 series (MIT 6.824 Spring 2015, UCLA CS134): Paxos.
//!
//! A set of peers agree on a sequence of *instances*, each holding one value.
//! Any peer may [`start`](Paxos::start) agreement on any instance at any
//! time; instances run independently and may be decided out of order. The
//! application asks [`status`](Paxos::status) whether an instance is decided
//! (a local question: no RPC), says with [`done`](Paxos::done) which instances
//! it no longer needs, and every peer forgets the instances below
//! [`min`](Paxos::min), the point all peers are done with, so memory stays
//! bounded. [`max`](Paxos::max) is the highest instance this peer has seen.
//!
//! A Paxos peer does not listen on its own: it is embedded in a service's
//! labrpc [`Server`](labrpc::Server) by adding [`Paxos::service`] to it, as Go's
//! `paxos.Make(peers, me, rpcs)` registered on the application's `rpc.Server`.
//! The Paxos tests give it a server of its own; kvpaxos puts it next to its
//! key/value service. It runs on the 2015 network profile
//! ([`labrpc::Profile::Go2015`]): calls fail at once when a peer is dead,
//! deaf or partitioned away, and never time out.
//!
//! Values are any serde type: they travel and are stored encoded, and
//! [`status`](Paxos::status) decodes them as the type the caller asks for, so
//! a value of the wrong type is a [`Error::Decode`], not a panic.
//!
//! The guide is docs/lab3-paxos-2015.md.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use labrpc::codec::{self, DecodeError};
use labrpc::sim::{self, Node};
use labrpc::{ClientEnd, Service};
use serde::Serialize;
use serde::de::DeserializeOwned;

// BEGIN SOLUTION
mod instance;
mod proposer;
// END SOLUTION
mod rpc;

// BEGIN SOLUTION
use instance::Instances;
// END SOLUTION
pub use rpc::{AcceptArgs, AcceptReply, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply};

/// Go's `Fate`: what this peer knows about an instance, with the decided
/// value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate<V> {
    /// Agreement was reached on this value (Go's `Decided = 1`).
    Decided(V),
    /// Not decided yet, as far as this peer knows (Go's `Pending = 2`).
    Pending,
    /// Below [`Paxos::min`]: decided once, now forgotten (Go's `Forgotten = 3`).
    Forgotten,
}

impl<V> Fate<V> {
    pub fn is_decided(&self) -> bool {
        matches!(self, Fate::Decided(_))
    }

    /// The fate's name, for messages: "decided", "pending" or "forgotten".
    pub fn name(&self) -> &'static str {
        match self {
            Fate::Decided(_) => "decided",
            Fate::Pending => "pending",
            Fate::Forgotten => "forgotten",
        }
    }
}

/// Why the value of an instance cannot be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The decided value does not decode as the type asked for (it was
    /// started with a value of another type).
    #[error("paxos instance {seq}: the decided value does not decode: {source}")]
    Decode { seq: i64, source: DecodeError },
    /// The instance is below Min: every peer said it was done with it, and
    /// this peer has forgotten it.
    #[error("paxos instance {seq} is forgotten (this peer's Min is {min})")]
    Forgotten { seq: i64, min: i64 },
    /// The instance is not decided yet, as far as this peer knows.
    #[error("paxos instance {seq} is not decided yet")]
    Pending { seq: i64 },
}

/// One Paxos peer. Share it as `Arc<Paxos>`.
pub struct Paxos {
    /// Ends to every peer, this one's included (index = peer); Paxos calls
    /// its own acceptor directly, never through `peers[me]`.
    peers: Vec<ClientEnd>,
    me: usize,
    /// The node the peer runs on: its proposers run there, so partitions
    /// apply to their calls even when the test calls `start`.
    node: Node,
    dead: AtomicBool,
    // BEGIN SOLUTION
    /// The acceptor and learner state of every instance, and the Done
    /// values. A std mutex: it is only held for short, synchronous updates,
    /// never across an `.await`.
    state: Mutex<Instances>,
    // END SOLUTION
}

/// Locks a mutex, ignoring poisoning: a panic in any task already fails the
/// test with its seed, so a poisoned lock carries no news.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Paxos {
    /// Go's `Make(peers, me, rpcs)`: peer `me` of `peers`. Call it on the
    /// peer's node (`node.enter(|| Paxos::make(..))`); then add
    /// [`service`](Paxos::service) to the peer's labrpc server.
    pub fn make(peers: Vec<ClientEnd>, me: usize) -> Arc<Paxos> {
        assert!(
            me < peers.len(),
            "paxos: me = {me} but only {} peers",
            peers.len()
        );
        // BEGIN SOLUTION
        let state = Mutex::new(Instances::new(peers.len(), me));
        // END SOLUTION
        Arc::new(Paxos {
            peers,
            me,
            node: sim::current_node(),
            dead: AtomicBool::new(false),
            // BEGIN SOLUTION
            state,
            // END SOLUTION
        })
    }

    /// The `Paxos` RPC service (`Paxos.Prepare`, `Paxos.Accept`,
    /// `Paxos.Decided`), to add to the server this peer is reached through.
    pub fn service(self: &Arc<Self>) -> Service {
        let (prepare, accept, decided) = (self.clone(), self.clone(), self.clone());
        Service::new("Paxos")
            .method("Prepare", move |args: PrepareArgs| {
                let px = prepare.clone();
                async move { px.prepare(args) }
            })
            .method("Accept", move |args: AcceptArgs| {
                let px = accept.clone();
                async move { px.accept(args) }
            })
            .method("Decided", move |args: DecidedArgs| {
                let px = decided.clone();
                async move { px.decided_rpc(args) }
            })
    }

    /// This peer's index.
    pub fn me(&self) -> usize {
        self.me
    }

    /// The ends to every peer (index = peer).
    pub fn peers(&self) -> &[ClientEnd] {
        &self.peers
    }

    /// The node this peer runs on; spawn its tasks there (`node().spawn`).
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Go's `Start(seq, v)`: starts agreement on instance `seq` with proposed
    /// value `v`, and returns at once. Ignored for `seq < min()`. Panics only
    /// if serde cannot encode `v` at all (a sequence of unknown length).
    pub fn start<V: Serialize + ?Sized>(self: &Arc<Self>, seq: i64, v: &V) {
        let value = codec::encode(v);
        // BEGIN SOLUTION
        self.start_proposer(seq, value);
        // HANDOUT
        // let _ = (seq, value);
        // todo!("3A: Paxos::start")
        // END SOLUTION
    }

    /// Go's `Status(seq)`: whether this peer thinks instance `seq` is
    /// decided, and its value, decoded as a `V`. Local only: no RPC.
    /// An `Err` means the decided value does not decode as a `V`.
    pub fn status<V: DeserializeOwned>(&self, seq: i64) -> Result<Fate<V>, Error> {
        // BEGIN SOLUTION
        let value = {
            let state = lock(&self.state);
            if seq < state.min() {
                return Ok(Fate::Forgotten);
            }
            match state.decided_value(seq) {
                Some(value) => value,
                None => return Ok(Fate::Pending),
            }
        };
        codec::decode(&value)
            .map(Fate::Decided)
            .map_err(|source| Error::Decode { seq, source })
        // HANDOUT
        // let _ = seq;
        // todo!("3A: Paxos::status")
        // END SOLUTION
    }

    /// The decided value of instance `seq`, or why there is none: a clear
    /// [`Error::Forgotten`] for an instance below Min, [`Error::Pending`]
    /// for one not decided yet.
    pub fn decided<V: DeserializeOwned>(&self, seq: i64) -> Result<V, Error> {
        match self.status(seq)? {
            Fate::Decided(value) => Ok(value),
            Fate::Pending => Err(Error::Pending { seq }),
            Fate::Forgotten => Err(Error::Forgotten {
                seq,
                min: self.min(),
            }),
        }
    }

    /// Go's `Done(seq)`: the application on this peer no longer needs
    /// instances `<= seq`. Other peers learn it from the messages this peer
    /// sends and answers.
    pub fn done(&self, seq: i64) {
        // BEGIN SOLUTION
        lock(&self.state).set_done(self.me, seq);
        // HANDOUT
        // let _ = seq;
        // todo!("3A: Paxos::done")
        // END SOLUTION
    }

    /// Go's `Max()`: the highest instance this peer knows of (started here or
    /// heard of in a message), or -1.
    pub fn max(&self) -> i64 {
        // BEGIN SOLUTION
        lock(&self.state).max()
        // HANDOUT
        // todo!("3A: Paxos::max")
        // END SOLUTION
    }

    /// Go's `Min()`: one more than the lowest Done value over all peers (-1
    /// for a peer never heard from), so 0 at first. Every instance below it
    /// has been forgotten.
    pub fn min(&self) -> i64 {
        // BEGIN SOLUTION
        lock(&self.state).min()
        // HANDOUT
        // todo!("3A: Paxos::min")
        // END SOLUTION
    }

    /// Go's `Kill()`: the peer stops proposing. (Closing its listener is the
    /// server's business; calls already accepted still complete.)
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
    }

    /// Go's `isdead()`.
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// What the timeline shows on this peer's lane: how many instances it
    /// holds decided, and its Min and Max.
    pub fn describe(&self) -> String {
        // BEGIN SOLUTION
        let state = lock(&self.state);
        format!(
            "decided {} (min {}, max {})",
            state.decided_count(),
            state.min(),
            state.max()
        )
        // HANDOUT
        // format!("min {}, max {}", self.min(), self.max())
        // END SOLUTION
    }

    /// Go's `Prepare` handler.
    fn prepare(&self, args: PrepareArgs) -> PrepareReply {
        // BEGIN SOLUTION
        lock(&self.state).prepare(&args)
        // HANDOUT
        // let _ = args;
        // todo!("3A: the Prepare handler")
        // END SOLUTION
    }

    /// Go's `Accept` handler.
    fn accept(&self, args: AcceptArgs) -> AcceptReply {
        // BEGIN SOLUTION
        lock(&self.state).accept(&args)
        // HANDOUT
        // let _ = args;
        // todo!("3A: the Accept handler")
        // END SOLUTION
    }

    /// Go's `Decided` handler.
    fn decided_rpc(&self, args: DecidedArgs) -> DecidedReply {
        // BEGIN SOLUTION
        lock(&self.state).decided_message(&args)
        // HANDOUT
        // let _ = args;
        // todo!("3A: the Decided handler")
        // END SOLUTION
    }
}
