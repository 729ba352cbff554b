//! The 2015 network profile: the fault model of MIT 6.824 Spring 2015's labs.
//! What it does is documented on [`Profile`], the public entry point.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::{ClientEnd, Network, Server, State};
use crate::error::Error;
use crate::sim::base::{NodeId, lock};
use crate::sim::context::Context;
use crate::sim::{self, Node};
use crate::trace::record_rpc_event;

/// Per-mille chance that an unreliable 2015 server drops a request unread.
const REQUEST_LOSS_PER_MILLE: u64 = 100;
/// Per-mille chance that it then runs the handler but drops the reply.
const REPLY_LOSS_PER_MILLE: u64 = 200;

/// Which lab generation's fault model a [`Network`] follows.
///
/// # The 2015 profile
///
/// `Profile::Go2015` follows the 2015 labs (viewservice, pbservice, paxos,
/// kvpaxos, shardmaster, shardkv). Those labs had no labrpc: every RPC was one Go `net/rpc` call over a fresh
/// UNIX-domain socket connection, and the tests injected faults by acting on
/// socket files and listeners. This profile reproduces what those tests rely
/// on, in virtual time, on the same [`Server`]s, [`Service`](super::Service)s
/// and [`ClientEnd`]s as the Go 2023 profile:
///
/// * **Paths.** A server listens on a *path* ([`Network::listen`]); an end is
///   connected to a path. Paths can be hard-linked ([`Network::link`]),
///   removed ([`Network::unlink`]) and renamed ([`Network::rename`]), as the
///   tests did with `os.Link`, `os.Remove` and `os.Rename`. Removing a server's
///   own path makes it *deaf* (it can still send, nobody can reach it);
///   removing one alias cuts just the ends that use that alias (pbservice's
///   server cut from the viewservice only).
/// * **Instant failures, no timeouts, no reordering.** A call to a missing path
///   or a closed listener fails at once ([`Error::Unreachable`]). A call that
///   reaches a handler waits for it however long it takes: there is no call
///   timeout, and no delay is ever added except by a [`Proxy`].
/// * **Unreliable, per server** ([`Listener::set_unreliable`]): each accepted
///   call first loses its request with probability 10 % (the handler does not
///   run, [`Error::RequestLost`]); otherwise, independently, 20 % of the rest
///   run the handler and lose the reply, the caller failing at once, possibly
///   before the handler ran ([`Error::ReplyLost`]). Net: 10 % lost, 18 % run
///   without a reply, 72 % normal.
/// * **Kill** ([`Listener::close`], Go's `kill()` closing its listener): new
///   calls fail at once and the server's path is removed, but calls already
///   accepted run to the end and deliver their replies, and the server's own
///   tasks keep running and sending until the lab's code notices it is dead.
///   (Killing the *node* instead drops its tasks, as under the 2023 profile;
///   calls in flight then fail with [`Error::ServerDead`].)
/// * **Partitions** ([`Network::partition`]): a symmetric reachability relation
///   of groups of servers, as the tests' `part(p1, p2, p3)` built with hard
///   links. A call made on a node that hosts a listener reaches a server on
///   another such node only if both are in the same group; a hosting node in
///   no group is isolated. Calls made elsewhere (clients, the test itself) are
///   never partitioned, and a node always reaches itself. The relation is
///   checked when a call starts, so calls in flight are not affected.
/// * **The delaying proxy** ([`Network::proxy`]) of pbservice's partition
///   tests: the server's path is renamed to `path + "x"` and a proxy takes its
///   place. The proxy handles one call at a time, in arrival order: it reads
///   its delay when it takes the call, sleeps that long, then forwards the call
///   to `path + "x"` and waits for the outcome before taking the next call.
/// * **Counters** as the 2015 tests read them: [`Listener::accepted_count`]
///   counts every call accepted while the listener was open (the viewserver's
///   `rpccount`), [`Listener::served_count`] those that were served, normally
///   or with the reply dropped (Paxos's `rpcCount`).
///
/// The network-wide switches of the 2023 profile (`set_reliable`, long delays,
/// long reordering) have no effect here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// Go's labrpc of the 2023 Raft labs (delays, losses, reordering).
    #[default]
    Go2023,
    /// The 2015 labs' sockets (see above).
    Go2015,
}

/// Why a path operation failed (the `os.Link`/`os.Remove` errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// No such path (ENOENT), e.g. the server was killed and its path removed.
    #[error("no socket at path {0:?}")]
    NotFound(String),
    /// The new path of a link exists already (EEXIST).
    #[error("path {0:?} exists already")]
    Exists(String),
}

/// A server's listener flags and counters; shared by the [`Server`] and the
/// [`Listener`] handles of it.
#[derive(Default)]
pub(super) struct ListenerState {
    closed: AtomicBool,
    unreliable: AtomicBool,
    accepted: AtomicU64,
    served: AtomicU64,
}

/// What a path leads to.
#[derive(Clone)]
enum Entry {
    Listener(Arc<Server>),
    Proxy(Arc<ProxyState>),
}

/// The 2015 profile's part of the network state: the socket namespace and the
/// partition.
#[derive(Default)]
pub(super) struct Sockets {
    paths: BTreeMap<String, Entry>,
    /// Nodes that ever hosted a listener: the ones partitions apply to.
    hosts: BTreeSet<NodeId>,
    /// The partition's groups, or None when every server reaches every other.
    groups: Option<Vec<BTreeSet<NodeId>>>,
    /// Numbers the ends made by [`Network::end_to`].
    next_end: u64,
}

impl Sockets {
    fn reachable(&self, from: NodeId, to: NodeId) -> bool {
        if from == to || !self.hosts.contains(&from) {
            return true;
        }
        match &self.groups {
            None => true,
            Some(groups) => groups.iter().any(|g| g.contains(&from) && g.contains(&to)),
        }
    }
}

/// A handle on a server listening under the 2015 profile: what Go's server
/// objects did with their `net.Listener` and their `dead`/`unreliable`/count
/// fields. Cloning shares it.
#[derive(Clone)]
pub struct Listener {
    path: Arc<str>,
    server: Arc<Server>,
    net: Network,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listener({})", self.path)
    }
}

impl Listener {
    /// The path the server listens on.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn state(&self) -> &ListenerState {
        &self.server.listener
    }

    /// Go's `kill()`: closes the listener and removes its path (if it still
    /// leads here). New calls fail at once; accepted ones complete.
    pub fn close(&self) {
        close_listener(&self.net, &self.path, &self.server);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state().closed.load(Ordering::SeqCst)
    }

    /// Go's `setunreliable`: from now on, accepted calls lose 10 % of requests
    /// and 20 % of the remaining replies.
    pub fn set_unreliable(&self, unreliable: bool) {
        self.state().unreliable.store(unreliable, Ordering::SeqCst);
    }

    /// Whether the listener is unreliable (see [`set_unreliable`](Self::set_unreliable)).
    pub fn is_unreliable(&self) -> bool {
        self.state().unreliable.load(Ordering::SeqCst)
    }

    /// Calls accepted while the listener was open, including those an
    /// unreliable listener dropped (the viewserver's `rpccount`).
    pub fn accepted_count(&self) -> u64 {
        self.state().accepted.load(Ordering::SeqCst)
    }

    /// Calls served: their handler ran or will run, whether or not the reply
    /// was dropped (Paxos's `rpcCount`).
    pub fn served_count(&self) -> u64 {
        self.state().served.load(Ordering::SeqCst)
    }
}

/// Closes `server`'s listener, and removes `path` if it still leads to it.
pub(super) fn close_listener(net: &Network, path: &str, server: &Arc<Server>) {
    if server.listener.closed.swap(true, Ordering::SeqCst) {
        return;
    }
    if let Some(context) = Context::try_current() {
        crate::trace::record_node_event(&context, "close", path);
    }
    let mut state = lock(&net.inner.state);
    let ours = matches!(
        state.go2015.paths.get(path),
        Some(Entry::Listener(s)) if Arc::ptr_eq(s, server)
    );
    if ours {
        state.go2015.paths.remove(path);
    }
}

struct ProxyState {
    /// Where the proxy forwards to (`path + "x"`).
    target: String,
    delay: std::sync::Mutex<Duration>,
    /// Held while the proxy handles a call: one at a time, in arrival order
    /// (tokio's mutex is fair).
    turn: tokio::sync::Mutex<()>,
}

/// The delaying proxy of pbservice's partition tests (see [`Network::proxy`]).
#[derive(Clone)]
pub struct Proxy {
    state: Arc<ProxyState>,
}

impl Proxy {
    /// The delay applied to each call the proxy takes from now on.
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.state.delay) = delay;
    }

    /// The delay the proxy currently applies to each call.
    pub fn delay(&self) -> Duration {
        *lock(&self.state.delay)
    }
}

impl Network {
    fn sockets(&self) -> std::sync::MutexGuard<'_, State> {
        let state = self.state();
        assert!(
            state.profile == Profile::Go2015,
            "labrpc: this operation belongs to the 2015 profile: make the network with \
             Network::with_profile(Profile::Go2015)"
        );
        state
    }

    /// The profile the network was made with.
    pub fn profile(&self) -> Profile {
        self.state().profile
    }

    /// 2015 profile: starts `server` listening on `path`, replacing whatever
    /// the path led to (Go's `os.Remove(me)` then `net.Listen`).
    /// [`Network::count`]`(path)` then counts the calls it serves.
    pub fn listen(&self, path: &str, server: Server) -> Listener {
        let server = Arc::new(server);
        let mut state = self.sockets();
        state.go2015.hosts.insert(server.node);
        state
            .go2015
            .paths
            .insert(path.to_string(), Entry::Listener(server.clone()));
        state.servers.insert(path.to_string(), server.clone());
        Listener {
            path: Arc::from(path),
            server,
            net: self.clone(),
        }
    }

    /// 2015 profile: a handle on the listener last started on `path` with
    /// [`listen`](Network::listen) or [`add_server`](Network::add_server),
    /// even if it was closed since; None if there never was one.
    pub fn listener(&self, path: &str) -> Option<Listener> {
        let server = self.sockets().servers.get(path).cloned()?;
        Some(Listener {
            path: Arc::from(path),
            server,
            net: self.clone(),
        })
    }

    /// 2015 profile: a new end connected to `path`, enabled, named
    /// `"<path>#<n>"`.
    pub fn end_to(&self, path: &str) -> ClientEnd {
        let name = {
            let mut state = self.sockets();
            state.go2015.next_end += 1;
            format!("{path}#{}", state.go2015.next_end)
        };
        let end = self.make_end(&name);
        self.connect(&name, path);
        self.enable(&name, true);
        end
    }

    /// 2015 profile: `os.Link(existing, new)`: `new` leads where `existing` does.
    pub fn link(&self, existing: &str, new: &str) -> Result<(), PathError> {
        let mut state = self.sockets();
        let paths = &mut state.go2015.paths;
        let entry = paths
            .get(existing)
            .cloned()
            .ok_or_else(|| PathError::NotFound(existing.to_string()))?;
        if paths.contains_key(new) {
            return Err(PathError::Exists(new.to_string()));
        }
        paths.insert(new.to_string(), entry);
        Ok(())
    }

    /// 2015 profile: `os.Remove(path)`. Removing a server's own path makes it
    /// deaf: it can still send, but nothing can reach it through that path.
    pub fn unlink(&self, path: &str) -> Result<(), PathError> {
        match self.sockets().go2015.paths.remove(path) {
            Some(_) => Ok(()),
            None => Err(PathError::NotFound(path.to_string())),
        }
    }

    /// 2015 profile: `os.Rename(old, new)`, replacing whatever `new` led to.
    pub fn rename(&self, old: &str, new: &str) -> Result<(), PathError> {
        let mut state = self.sockets();
        let paths = &mut state.go2015.paths;
        let entry = paths
            .remove(old)
            .ok_or_else(|| PathError::NotFound(old.to_string()))?;
        paths.insert(new.to_string(), entry);
        Ok(())
    }

    /// 2015 profile: true if `path` leads to a listener or proxy.
    pub fn path_exists(&self, path: &str) -> bool {
        self.sockets().go2015.paths.contains_key(path)
    }

    /// 2015 profile: the tests' `part(p1, p2, p3)`. Each group lists server
    /// paths; servers reach each other only within a group, and a server in
    /// no group is isolated (so `partition::<&[&str], &str>(&[])` isolates
    /// everyone). Fails, changing nothing, if a path leads to no open
    /// listener (Go's `os.Link` failing on a killed server's removed socket).
    /// Applies to calls that start from now on.
    pub fn partition<G, S>(&self, groups: &[G]) -> Result<(), PathError>
    where
        G: AsRef<[S]>,
        S: AsRef<str>,
    {
        let mut state = self.sockets();
        let mut resolved = Vec::with_capacity(groups.len());
        for group in groups {
            let mut nodes = BTreeSet::new();
            for path in group.as_ref() {
                let path = path.as_ref();
                match state.go2015.paths.get(path) {
                    Some(Entry::Listener(server))
                        if !server.listener.closed.load(Ordering::SeqCst) =>
                    {
                        nodes.insert(server.node);
                    }
                    _ => return Err(PathError::NotFound(path.to_string())),
                }
            }
            resolved.push(nodes);
        }
        state.go2015.groups = Some(resolved);
        Ok(())
    }

    /// 2015 profile: removes the partition; every server reaches every other.
    pub fn heal(&self) {
        self.sockets().go2015.groups = None;
    }

    /// 2015 profile: pbservice's `proxy(t, port, &delay)`. Renames the socket
    /// at `path` to `path + "x"` and puts a proxy at `path` that forwards one
    /// call at a time, each after the delay set when it takes the call
    /// (initially zero).
    pub fn proxy(&self, path: &str) -> Result<Proxy, PathError> {
        let target = format!("{path}x");
        self.rename(path, &target)?;
        let state = Arc::new(ProxyState {
            target,
            delay: std::sync::Mutex::new(Duration::ZERO),
            turn: tokio::sync::Mutex::new(()),
        });
        self.sockets()
            .go2015
            .paths
            .insert(path.to_string(), Entry::Proxy(state.clone()));
        Ok(Proxy { state })
    }
}

/// Where a new call goes, or why it cannot start.
enum Target {
    Server(Arc<Server>),
    Proxy(Arc<ProxyState>),
    /// Why the call fails at once: the kind of its trace event.
    Refused(&'static str),
}

fn resolve(state: &State, end: &str, source: NodeId) -> Target {
    let Some(end) = state.ends.get(end) else {
        return Target::Refused("refused-deleted-end");
    };
    let Some(path) = end.server.as_ref().filter(|_| end.enabled) else {
        return Target::Refused("refused-disabled-end");
    };
    match state.go2015.paths.get(path) {
        None => Target::Refused("refused-no-path"),
        Some(Entry::Proxy(proxy)) => Target::Proxy(proxy.clone()),
        Some(Entry::Listener(server)) => {
            if server.listener.closed.load(Ordering::SeqCst) {
                Target::Refused("refused-closed")
            } else if !state.go2015.reachable(source, server.node) {
                Target::Refused("refused-partitioned")
            } else {
                Target::Server(server.clone())
            }
        }
    }
}

fn refused(
    end: &ClientEnd,
    context: &Context,
    method: &str,
    reason: &str,
) -> Result<Vec<u8>, Error> {
    record_rpc_event(context, reason, &end.name, method, 0);
    Err(Error::Unreachable)
}

/// One call under the 2015 profile, from `source` (the node that made it).
pub(super) async fn process(
    end: &ClientEnd,
    context: &Context,
    source: NodeId,
    method: &str,
    request: Vec<u8>,
) -> Result<Vec<u8>, Error> {
    let target = resolve(&lock(&end.inner.state), &end.name, source);
    match target {
        Target::Refused(reason) => refused(end, context, method, reason),
        Target::Server(server) => serve(end, context, method, request, &server).await,
        Target::Proxy(proxy) => {
            let _turn = proxy.turn.lock().await;
            let delay = *lock(&proxy.delay);
            if !delay.is_zero() {
                sim::sleep(delay).await;
            }
            let server = match lock(&end.inner.state).go2015.paths.get(&proxy.target) {
                Some(Entry::Listener(server)) if !server.listener.closed.load(Ordering::SeqCst) => {
                    Some(server.clone())
                }
                _ => None,
            };
            match server {
                Some(server) => serve(end, context, method, request, &server).await,
                None => refused(end, context, method, "refused-no-path"),
            }
        }
    }
}

/// The 2015 accept loop's treatment of one accepted call.
async fn serve(
    end: &ClientEnd,
    context: &Context,
    method: &str,
    request: Vec<u8>,
    server: &Arc<Server>,
) -> Result<Vec<u8>, Error> {
    let listener = &server.listener;
    listener.accepted.fetch_add(1, Ordering::SeqCst);
    let node = Node::from_id(server.node);
    if listener.unreliable.load(Ordering::SeqCst) {
        if sim::gen_range(0..1000u64) < REQUEST_LOSS_PER_MILLE {
            record_rpc_event(context, "drop-request", &end.name, method, 0);
            return Err(Error::RequestLost);
        }
        if sim::gen_range(0..1000u64) < REPLY_LOSS_PER_MILLE {
            listener.served.fetch_add(1, Ordering::SeqCst);
            *lock(&server.count) += 1;
            record_rpc_event(context, "drop-reply", &end.name, method, 0);
            // The handler runs, detached; the caller fails now.
            drop(node.spawn(server.handler(method)(request)));
            return Err(Error::ReplyLost);
        }
    }
    listener.served.fetch_add(1, Ordering::SeqCst);
    *lock(&server.count) += 1;
    record_rpc_event(context, "deliver", &end.name, method, 0);
    match node.spawn(server.handler(method)(request)).await {
        Ok(Ok(reply)) => {
            lock(&end.inner.state).total_bytes += reply.len() as u64;
            record_rpc_event(context, "reply", &end.name, method, reply.len() as u64);
            Ok(reply)
        }
        Ok(Err(error)) => Err(error),
        Err(sim::Cancelled) => {
            record_rpc_event(context, "server-dead", &end.name, method, 0);
            Err(Error::ServerDead)
        }
    }
}
