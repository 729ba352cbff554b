//! The viewservice server: the `ViewServer` labrpc service (Ping and Get) and
//! the background task that ticks once per [`PING_INTERVAL`].
//!
//! [`ViewServer::start`] must be called on the node the server runs on (the
//! harness does `node.enter(|| ViewServer::start(..))`): its ticker is spawned
//! there, so killing the node stops it. [`ViewServer::kill`] is Go's `Kill()`:
//! the server stops answering and ticking.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use labrpc::{Service, sim};

use crate::common::{GetArgs, GetReply, PING_INTERVAL, PingArgs, PingReply, SERVICE, View};
// BEGIN SOLUTION
use crate::view_state::ViewState;
// END SOLUTION

/// One viewservice.
pub struct ViewServer {
    me: String,
    dead: AtomicBool,
    /// RPCs received while alive (Go's `rpccount`), for the pbservice test
    /// that checks servers and clerks do not ask the viewservice on every
    /// request.
    rpc_count: AtomicU64,
    // A std mutex: every critical section is short and never awaits.
    // BEGIN SOLUTION
    state: Mutex<ViewState>,
    // HANDOUT
    // state: Mutex<()>, // 2A: replace with the state your Ping, Get and tick need
    // END SOLUTION
}

impl ViewServer {
    /// Go's `StartServer(me)`: a viewservice named `me`, ticking on the
    /// current node. Register [`ViewServer::service`] on a labrpc server to
    /// make it reachable.
    pub fn start(me: &str) -> Arc<ViewServer> {
        assert!(!me.is_empty(), "the viewservice needs a name");
        let vs = Arc::new(ViewServer {
            me: me.to_string(),
            dead: AtomicBool::new(false),
            rpc_count: AtomicU64::new(0),
            // BEGIN SOLUTION
            state: Mutex::new(ViewState::new()),
            // HANDOUT
            // state: Mutex::new(()),
            // END SOLUTION
        });
        let ticker = vs.clone();
        sim::spawn(async move {
            while !ticker.is_dead() {
                ticker.tick();
                sim::sleep(PING_INTERVAL).await;
            }
        });
        vs
    }

    pub fn me(&self) -> &str {
        &self.me
    }

    /// The `ViewServer` service, with methods `Ping` and `Get`.
    pub fn service(self: &Arc<Self>) -> Service {
        let ping = self.clone();
        let get = self.clone();
        Service::new(SERVICE)
            .method("Ping", move |args: PingArgs| {
                let vs = ping.clone();
                async move { vs.count_rpc().then(|| vs.ping(args)) }
            })
            .method("Get", move |args: GetArgs| {
                let vs = get.clone();
                async move { vs.count_rpc().then(|| vs.get(args)) }
            })
    }

    /// Counts an RPC; false once the server is dead (the reply is `None`,
    /// which the Clerk treats as a failed call, like Go's closed listener).
    fn count_rpc(&self) -> bool {
        if self.is_dead() {
            return false;
        }
        self.rpc_count.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The `Ping` handler: record that `args.me` is alive and has seen view
    /// `args.viewnum`, and reply with the current view.
    fn ping(&self, args: PingArgs) -> PingReply {
        // BEGIN SOLUTION
        let mut state = lock(&self.state);
        let before = state.view().viewnum;
        let view = state.ping(&args.me, args.viewnum);
        if view.viewnum != before {
            tracing::info!(
                topic = "view",
                "{view} (ping from {} {})",
                args.me,
                args.viewnum
            );
        }
        tracing::trace!(topic = "ping", "from {} viewnum {}", args.me, args.viewnum);
        PingReply { view }
        // HANDOUT
        // let _ = (args, &self.state);
        // todo!("2A: ViewServer.Ping")
        // END SOLUTION
    }

    /// The `Get` handler: the current view, without volunteering.
    fn get(&self, _args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        GetReply {
            view: lock(&self.state).view().clone(),
        }
        // HANDOUT
        // todo!("2A: ViewServer.Get")
        // END SOLUTION
    }

    /// Called once per PingInterval: declare servers that missed DeadPings
    /// pings dead and move to a new view when one is due.
    fn tick(&self) {
        // BEGIN SOLUTION
        let mut state = lock(&self.state);
        let before = state.view().viewnum;
        state.tick();
        if state.view().viewnum != before {
            tracing::info!(topic = "view", "{} (tick)", state.view());
        }
        // HANDOUT
        // let _state = lock(&self.state);
        // todo!("2A: ViewServer tick")
        // END SOLUTION
    }

    /// The current view, for the harness's timeline (not an RPC: it does not count).
    pub fn current_view(&self) -> View {
        // BEGIN SOLUTION
        lock(&self.state).view().clone()
        // HANDOUT
        // View::default()
        // END SOLUTION
    }

    /// Go's `Kill()`: stop answering and ticking.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// Go's `GetRPCCount()`: RPCs received while alive.
    pub fn rpc_count(&self) -> u64 {
        self.rpc_count.load(Ordering::Relaxed)
    }
}

/// Locks a mutex, recovering from poisoning: a panic in a handler already
/// fails the test, and the state it protects stays consistent (every update
/// is a single assignment).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
