//! The primary/backup server: the `PBServer` labrpc service and the ticker
//! that pings the viewservice once per PingInterval.
//!
//! [`PbServer::start`] must run on the server's node (the harness uses
//! `node.enter`), so its ticker lives and dies with that node. Go's `kill()`
//! is [`PbServer::kill`]: the server stops ticking and every loop that could
//! wait forever gives up; the harness also takes it off the network.
//!
//! How the reference works (the lab's design, our choices):
//! * Only the primary of the view this server last heard from the
//!   viewservice serves clients; anyone else answers `WrongServer`.
//! * The primary forwards every Put and Append to the backup and waits for
//!   its confirmation before applying and answering; it forwards a Get too,
//!   as a check that the backup still sees it as primary. A primary that lost
//!   its role without knowing it (cut off from the viewservice) is thus
//!   stopped by its backup, which has moved on: it never answers a stale Get.
//! * One async lock (`store`) serialises client operations, forwards and
//!   transfers, so primary and backup apply operations in the same order. It
//!   is held across the forwarding RPC: a lost forward is retried with the
//!   same request until the backup answers or the view changes, so primary
//!   and backup never diverge.
//! * The view lives under a separate lock that the ticker updates before it
//!   waits for `store` (and it waits for `store` at most half a tick), so a
//!   forward stuck on a dead backup sees the next view and gives up.
//! * When the view names a new backup, the primary sends it the whole map and
//!   dedup table, and only then acknowledges the view (pings with its
//!   number): the viewservice never promotes a backup that lacks the data.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrpc::{Service, sim};
use viewservice::PING_INTERVAL;

use crate::common::{GetArgs, GetReply, PutAppendArgs, PutAppendReply, SERVICE};
use crate::dialer::Dialer;
// BEGIN SOLUTION
use crate::common::Status;
use crate::replica::{ForwardArgs, ForwardOp, ForwardReply, Store, TransferArgs, TransferReply};
use std::sync::Mutex;
use std::time::Duration;
use viewservice::View;
// END SOLUTION

// BEGIN SOLUTION
/// A lost forward is retried after this long (the backup may be dead, in
/// which case the viewservice names a new view within DeadPings intervals).
const FORWARD_RETRY: Duration = Duration::from_millis(10);
/// The ticker waits at most this long for the store before giving up until
/// the next tick.
const STORE_WAIT: Duration = Duration::from_millis(50);
/// Tries of a full copy within one tick.
const TRANSFER_TRIES: usize = 5;
// END SOLUTION

/// The role a server believes it has, for timelines and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    Backup,
    Idle,
}

/// One primary/backup server.
pub struct PbServer {
    me: String,
    dead: AtomicBool,
    vs: viewservice::Clerk,
    dialer: Dialer,
    // BEGIN SOLUTION
    /// The latest view heard from the viewservice, and the view number to
    /// ping with (what this server acknowledges). A std mutex: never held
    /// across an await.
    view: Mutex<Knowledge>,
    /// The data. An async mutex, held across forwarding and transfer RPCs on
    /// purpose (see the module documentation).
    store: tokio::sync::Mutex<Store>,
    // END SOLUTION
}

// BEGIN SOLUTION
#[derive(Default)]
struct Knowledge {
    view: View,
    ping_viewnum: u64,
}
// END SOLUTION

impl PbServer {
    /// Go's `StartServer(vshost, me)`: `vs` is this server's viewservice
    /// clerk (named `me`), `dialer` its ends to the other servers. Starts
    /// the ticker on the current node.
    pub fn start(vs: viewservice::Clerk, dialer: Dialer) -> Arc<PbServer> {
        let me = vs.me().to_string();
        assert!(!me.is_empty(), "a pbservice server needs a name");
        let pb = Arc::new(PbServer {
            me,
            dead: AtomicBool::new(false),
            vs,
            dialer,
            // BEGIN SOLUTION
            view: Mutex::new(Knowledge::default()),
            store: tokio::sync::Mutex::new(Store::default()),
            // END SOLUTION
        });
        let ticker = pb.clone();
        sim::spawn(async move {
            while !ticker.is_dead() {
                ticker.tick().await;
                sim::sleep(PING_INTERVAL).await;
            }
        });
        pb
    }

    pub fn me(&self) -> &str {
        &self.me
    }

    /// The `PBServer` service: `Get` and `PutAppend` for clients, plus the
    /// server-to-server methods.
    #[allow(clippy::let_and_return)] // the handout has no methods to add
    pub fn service(self: &Arc<Self>) -> Service {
        let service = Service::new(SERVICE)
            .handle("Get", self, PbServer::get)
            .handle("PutAppend", self, PbServer::put_append);
        // BEGIN SOLUTION
        let service = service
            .handle("Forward", self, PbServer::on_forward)
            .handle("Transfer", self, PbServer::on_transfer);
        // HANDOUT
        // // 2B: add your server-to-server methods here.
        // END SOLUTION
        service
    }

    /// Go's `kill()`.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// The view this server last heard of and its role in it.
    pub fn role(&self) -> (Role, u64) {
        // BEGIN SOLUTION
        let view = self.known_view();
        let role = if view.primary == self.me {
            Role::Primary
        } else if view.backup == self.me {
            Role::Backup
        } else {
            Role::Idle
        };
        (role, view.viewnum)
        // HANDOUT
        // (Role::Idle, 0)
        // END SOLUTION
    }

    // BEGIN SOLUTION
    fn knowledge(&self) -> std::sync::MutexGuard<'_, Knowledge> {
        self.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn known_view(&self) -> View {
        self.knowledge().view.clone()
    }
    // END SOLUTION

    /// The client Get handler.
    async fn get(self: Arc<Self>, args: GetArgs) -> GetReply {
        // BEGIN SOLUTION
        let mut store = self.store.lock().await;
        let view = self.known_view();
        if view.primary != self.me || !store.initialized {
            return wrong_get();
        }
        if self.backup_synced(&store, &view) {
            let op = ForwardOp::Get {
                key: args.key.clone(),
            };
            if self.forward(&view, op).await != Status::Ok {
                store.needs_resync = true;
                return wrong_get();
            }
        }
        let (status, value) = store.get(&args.key);
        tracing::debug!(topic = "get", "{} -> {status:?} {value:?}", args.key);
        GetReply { status, value }
        // HANDOUT
        // let _ = (args, &self.vs, &self.dialer);
        // todo!("2B: PBServer.Get")
        // END SOLUTION
    }

    /// The client PutAppend handler.
    async fn put_append(self: Arc<Self>, args: PutAppendArgs) -> PutAppendReply {
        // BEGIN SOLUTION
        let mut store = self.store.lock().await;
        let view = self.known_view();
        if view.primary != self.me || !store.initialized {
            return PutAppendReply {
                status: Status::WrongServer,
            };
        }
        if store.is_duplicate(&args) {
            tracing::debug!(topic = "dedup", "C{} #{} again", args.client_id, args.seq);
            return PutAppendReply { status: Status::Ok };
        }
        if self.backup_synced(&store, &view)
            && self
                .forward(&view, ForwardOp::PutAppend(args.clone()))
                .await
                != Status::Ok
        {
            store.needs_resync = true;
            return PutAppendReply {
                status: Status::WrongServer,
            };
        }
        store.apply(&args);
        tracing::debug!(
            topic = "apply",
            "{:?} {} {:?} (C{} #{})",
            args.op,
            args.key,
            args.value,
            args.client_id,
            args.seq
        );
        PutAppendReply { status: Status::Ok }
        // HANDOUT
        // let _ = args;
        // todo!("2B: PBServer.PutAppend")
        // END SOLUTION
    }

    /// Go's `tick()`: ping the viewservice, follow view changes, and bring a
    /// new backup up to date before acknowledging the view.
    async fn tick(&self) {
        // BEGIN SOLUTION
        let ping_viewnum = self.knowledge().ping_viewnum;
        let Ok(view) = self.vs.ping(ping_viewnum).await else {
            return; // cut off from the viewservice: keep the old view
        };
        {
            let mut known = self.knowledge();
            if view.viewnum != known.view.viewnum {
                tracing::info!(topic = "view", "learns {view}");
            }
            if view.viewnum >= known.view.viewnum {
                known.view = view.clone();
            }
            if view.primary != self.me {
                known.ping_viewnum = view.viewnum;
                return;
            }
        }
        // The primary: make sure the backup has the data, then acknowledge.
        // A client operation may hold the store, waiting on a backup that
        // died: don't wait for it past this tick, or the next ping (which
        // brings the view that releases it) would never happen.
        let Ok(mut store) = sim::timeout(STORE_WAIT, self.store.lock()).await else {
            return;
        };
        if !store.initialized {
            if view.viewnum != 1 {
                // A fresh server named primary of a later view (after a
                // restart): it has no data and must neither serve nor ack.
                return;
            }
            store.initialized = true;
        }
        let needs_copy =
            !view.backup.is_empty() && (store.synced_viewnum != view.viewnum || store.needs_resync);
        if needs_copy {
            if !self.transfer(&mut store, &view).await {
                return; // retry at the next tick
            }
            // Acknowledge at once rather than at the next tick: until the
            // ack the viewservice cannot move on, so a primary that dies in
            // between leaves the service stuck for good.
            self.knowledge().ping_viewnum = view.viewnum;
            let _ = self.vs.ping(view.viewnum).await;
            return;
        }
        self.knowledge().ping_viewnum = view.viewnum;
        // HANDOUT
        // let _ = (&self.vs, &self.dialer);
        // todo!("2B: PBServer tick")
        // END SOLUTION
    }

    // BEGIN SOLUTION
    /// Sends the backup of `view` the whole database, retrying a lost call
    /// a few times within this tick (an unreliable backup loses more than a
    /// quarter of them). True once the backup has confirmed the copy.
    async fn transfer(&self, store: &mut Store, view: &View) -> bool {
        let end = self.dialer.end(&view.backup);
        for _ in 0..TRANSFER_TRIES {
            if self.is_dead() {
                return false;
            }
            let args = store.make_transfer(view);
            let reply = end
                .call::<_, TransferReply>(&format!("{SERVICE}.Transfer"), &args)
                .await;
            match reply {
                Ok(TransferReply { status: Status::Ok }) => {
                    store.synced_viewnum = view.viewnum;
                    store.needs_resync = false;
                    tracing::info!(
                        topic = "xfer",
                        "copied {} keys to {}",
                        args.db.len(),
                        view.backup
                    );
                    return true;
                }
                // Refused: the backup knows a newer view; so will we soon.
                Ok(TransferReply { .. }) => return false,
                Err(_) => sim::sleep(FORWARD_RETRY).await,
            }
        }
        false
    }

    /// Whether `view` has a backup that holds the full copy (so operations
    /// must be forwarded to it). Without one the primary works alone: the
    /// view is not acknowledged yet, so the viewservice cannot move on.
    fn backup_synced(&self, store: &Store, view: &View) -> bool {
        !view.backup.is_empty() && store.synced_viewnum == view.viewnum
    }

    /// Sends `op` to the backup of `view` until it answers, or until this
    /// server learns a newer view or is killed (then `WrongServer`).
    async fn forward(&self, view: &View, op: ForwardOp) -> Status {
        let args = ForwardArgs {
            viewnum: view.viewnum,
            from: self.me.clone(),
            op,
        };
        let end = self.dialer.end(&view.backup);
        loop {
            if self.is_dead() {
                return Status::WrongServer;
            }
            let reply = end
                .call::<_, ForwardReply>(&format!("{SERVICE}.Forward"), &args)
                .await;
            if let Ok(ForwardReply { status }) = reply {
                if status != Status::Ok {
                    tracing::info!(topic = "fwd", "rejected by {}", view.backup);
                }
                return status;
            }
            sim::sleep(FORWARD_RETRY).await;
            if self.known_view() != *view {
                return Status::WrongServer;
            }
        }
    }

    /// The backup's side of a forward.
    async fn on_forward(self: Arc<Self>, args: ForwardArgs) -> ForwardReply {
        let mut store = self.store.lock().await;
        let known = self.known_view();
        let status = store.forward(&self.me, &known, &args);
        tracing::debug!(
            topic = "fwd",
            "from {} V{}: {status:?}",
            args.from,
            args.viewnum
        );
        ForwardReply { status }
    }

    /// The backup's side of a full transfer.
    async fn on_transfer(self: Arc<Self>, args: TransferArgs) -> TransferReply {
        let mut store = self.store.lock().await;
        let known = self.known_view();
        let from = args.view.primary.clone();
        let status = store.transfer(&self.me, &known, args);
        tracing::info!(topic = "xfer", "copy from {from}: {status:?}");
        TransferReply { status }
    }
    // END SOLUTION
}

// BEGIN SOLUTION
fn wrong_get() -> GetReply {
    GetReply {
        status: Status::WrongServer,
        value: String::new(),
    }
}
// END SOLUTION
