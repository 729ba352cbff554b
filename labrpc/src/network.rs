//! The simulated network, with the exact behaviour of Go's labrpc.
//!
//! Topology: a *client end* is one direction of one link. It is created
//! disabled and unconnected; a test connects it to a server name and enables
//! or disables it to cut and heal links. Servers are registered by name and
//! host services; a method is addressed as `"Service.Method"`.
//!
//! Each call is processed by its own task on the network's node (so a caller
//! that stops waiting does not stop delivery, just as in Go), following Go's
//! `processReq` step by step:
//!
//! * end disabled, unconnected, or no server: fail after 0–99 ms (0–6999 ms
//!   with long delays), without running any handler;
//! * unreliable: wait 0–26 ms, then lose 10 % of requests;
//! * run the handler as a task on the server's node, checking every 100 ms
//!   whether the server was deleted or the end disabled, and failing the call
//!   if so (a killed node's handler never finishes, which counts the same);
//! * unreliable: lose 10 % of replies *after* the handler ran;
//! * long reordering: hold 2/3 of replies for 200–2199 ms;
//! * count the request against the server only when it reaches a handler, all
//!   calls in the total, request bytes at send and reply bytes on delivery.
//!
//! A network made with [`Network::with_profile`]`(`[`Profile::Go2015`]`)`
//! instead follows the 2015 labs' sockets (instant failures, per-server
//! unreliability, kill, deaf, links, partitions, the delaying proxy); that
//! profile lives in the `go2015` submodule, and the steps above are untouched.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::error::Error;
use crate::sim::base::{NodeId, lock};
use crate::sim::context::Context;
use crate::sim::{self, Node};
use crate::trace::record_rpc_event;

mod go2015;
pub use go2015::{Listener, PathError, Profile, Proxy};

/// How often an in-flight call checks whether its server died (Go: 100 ms).
const DEAD_SERVER_POLL: Duration = Duration::from_millis(100);
/// Unreliable mode delays each request by up to this many milliseconds (exclusive).
const SHORT_DELAY_MS: u64 = 27;
/// A call to an unreachable server fails after up to this long (exclusive)...
const UNREACHABLE_DELAY_MS: u64 = 100;
/// ...or, with long delays, up to this long.
const LONG_DELAY_MS: u64 = 7000;
/// Length of the random end names `make_ends_to` draws (Go's `randstring(20)`).
const FRESH_END_NAME_LEN: usize = 20;
/// Per-mille chance that the unreliable network loses a request, or a reply.
const LOSS_PER_MILLE: u64 = 100;

type Handler = Arc<dyn Fn(Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, Error>> + Send + Sync>;

/// A named set of RPC methods, e.g. the `Raft` service with `RequestVote`.
pub struct Service {
    name: String,
    methods: BTreeMap<String, Handler>,
}

impl Service {
    /// An empty service named `name` (no `.` allowed); add methods with [`Service::method`].
    pub fn new(name: &str) -> Service {
        assert!(
            !name.contains('.'),
            "a service name cannot contain '.': {name:?}"
        );
        Service {
            name: name.to_string(),
            methods: BTreeMap::new(),
        }
    }

    /// Adds a method. The handler gets freshly decoded arguments and its
    /// return value is encoded as the reply.
    pub fn method<A, R, F, Fut>(mut self, name: &str, handler: F) -> Service
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = R> + Send + 'static,
    {
        let full_name = format!("{}.{name}", self.name);
        let handler: Handler =
            Arc::new(move |request: Vec<u8>| match codec::decode::<A>(&request) {
                Ok(args) => handler(args).map(|reply| Ok(codec::encode(&reply))).boxed(),
                Err(error) => {
                    let message = format!("{full_name}: {error}");
                    async move { Err(Error::Codec(message)) }.boxed()
                }
            });
        self.methods.insert(name.to_string(), handler);
        self
    }

    /// [`method`](Service::method) for a method of a shared server: each call
    /// gets a clone of `server`, e.g.
    /// `.handle("Get", self, |kv, args: GetArgs| async move { kv.get(args).await })`.
    pub fn handle<T, A, R, F, Fut>(self, name: &str, server: &Arc<T>, handler: F) -> Service
    where
        T: Send + Sync + 'static,
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(Arc<T>, A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = R> + Send + 'static,
    {
        let server = server.clone();
        self.method(name, move |args| handler(server.clone(), args))
    }
}

/// A machine's RPC endpoint: its services, run as tasks on its node.
pub struct Server {
    node: NodeId,
    node_name: String,
    services: Mutex<BTreeMap<String, Arc<Service>>>,
    count: Mutex<usize>,
    /// The 2015 profile's listener flags and counters (unused by Go 2023's).
    listener: Arc<go2015::ListenerState>,
}

impl Server {
    /// A server whose handlers run on `node` (and die with it).
    pub fn new(node: &Node) -> Server {
        Server {
            node: node.id(),
            node_name: node.name().to_string(),
            services: Mutex::new(BTreeMap::new()),
            count: Mutex::new(0),
            listener: Arc::default(),
        }
    }

    /// Installs `service`; calls to `"<its name>.<method>"` reach it.
    pub fn add_service(&self, service: Service) {
        lock(&self.services).insert(service.name.clone(), Arc::new(service));
    }

    fn handler(&self, method: &str) -> Handler {
        let (service_name, method_name) = method.rsplit_once('.').unwrap_or_else(|| {
            panic!("labrpc: malformed method name {method:?}: expected \"Service.Method\"")
        });
        let services = lock(&self.services);
        let Some(service) = services.get(service_name) else {
            let known: Vec<&String> = services.keys().collect();
            panic!(
                "labrpc: unknown service {service_name:?} in call {method:?} to server on node {}; known services: {known:?}",
                self.node_name
            );
        };
        let Some(handler) = service.methods.get(method_name) else {
            let known: Vec<&String> = service.methods.keys().collect();
            panic!("labrpc: unknown method {method:?}; service {service_name} has {known:?}");
        };
        handler.clone()
    }
}

#[derive(Default)]
struct EndState {
    enabled: bool,
    server: Option<String>,
}

#[derive(Default)]
struct State {
    profile: Profile,
    /// The 2015 profile's socket namespace and partition (empty under Go 2023).
    go2015: go2015::Sockets,
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    ends: BTreeMap<String, EndState>,
    servers: BTreeMap<String, Arc<Server>>,
    total_count: u64,
    total_bytes: u64,
}

struct Inner {
    node: Node,
    state: Mutex<State>,
}

/// The simulated network. Cloning shares it.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
}

/// One direction of a link, from a client to a named server.
#[derive(Clone)]
pub struct ClientEnd {
    name: Arc<str>,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientEnd({})", self.name)
    }
}

impl Network {
    /// A reliable network with no long delays and no reordering. Must be
    /// created inside a simulation; its deliveries run on a node of their own.
    pub fn new() -> Network {
        Network::with_profile(Profile::Go2023)
    }

    /// A network with the fault model of `profile`, reliable to begin with.
    /// [`Network::new`] is `with_profile(Profile::Go2023)`.
    pub fn with_profile(profile: Profile) -> Network {
        let state = State {
            profile,
            reliable: true,
            ..State::default()
        };
        Network {
            inner: Arc::new(Inner {
                node: Node::new("net"),
                state: Mutex::new(state),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// Unreliable (`false`): requests and replies are delayed, and about 10 % of each are lost.
    pub fn set_reliable(&self, reliable: bool) {
        self.state().reliable = reliable;
    }

    /// Whether the network delivers everything (see [`Network::set_reliable`]).
    pub fn is_reliable(&self) -> bool {
        self.state().reliable
    }

    /// Calls to unreachable servers fail after up to 7 s instead of 100 ms.
    pub fn set_long_delays(&self, long_delays: bool) {
        self.state().long_delays = long_delays;
    }

    /// Hold 2/3 of replies for 200–2199 ms.
    pub fn set_long_reordering(&self, long_reordering: bool) {
        self.state().long_reordering = long_reordering;
    }

    /// A new end, disabled and unconnected. Panics on a duplicate name.
    pub fn make_end(&self, name: &str) -> ClientEnd {
        let mut state = self.state();
        assert!(
            !state.ends.contains_key(name),
            "labrpc: make_end: {name:?} already exists"
        );
        state.ends.insert(name.to_string(), EndState::default());
        ClientEnd {
            name: Arc::from(name),
            inner: self.inner.clone(),
        }
    }

    /// The Go configs' idiom for (re)starting a server or making a client:
    /// one new end per server in `servers`, each with a fresh random
    /// 20-character name (so nothing addressed to an older instance can reach
    /// a new one), connected to that server and still disabled. The ends come
    /// back in the order of `servers`; `end.name()` gives their names.
    pub fn make_ends_to<S: AsRef<str>>(&self, servers: &[S]) -> Vec<ClientEnd> {
        servers
            .iter()
            .map(|server| {
                let name = sim::random_string(FRESH_END_NAME_LEN);
                let end = self.make_end(&name);
                self.connect(&name, server.as_ref());
                end
            })
            .collect()
    }

    /// Removes an end; panics if there is none of that name.
    pub fn delete_end(&self, name: &str) {
        let removed = self.state().ends.remove(name);
        assert!(
            removed.is_some(),
            "labrpc: delete_end: no end named {name:?}"
        );
    }

    /// Points an end at a server name (the server need not exist yet).
    pub fn connect(&self, end: &str, server: &str) {
        let mut state = self.state();
        let end_state = state
            .ends
            .get_mut(end)
            .unwrap_or_else(|| panic!("labrpc: connect: no end named {end:?}"));
        end_state.server = Some(server.to_string());
    }

    /// Enables or disables an end: calls on a disabled end fail as if the server were unreachable.
    pub fn enable(&self, end: &str, enabled: bool) {
        let mut state = self.state();
        let end_state = state
            .ends
            .get_mut(end)
            .unwrap_or_else(|| panic!("labrpc: enable: no end named {end:?}"));
        end_state.enabled = enabled;
    }

    /// Installs a server under `name`, replacing any previous one (calls in
    /// flight to the old one then fail). Under the 2015 profile this is
    /// [`Network::listen`] on the path `name`.
    pub fn add_server(&self, name: &str, server: Server) {
        if self.profile() == Profile::Go2015 {
            self.listen(name, server);
            return;
        }
        self.state()
            .servers
            .insert(name.to_string(), Arc::new(server));
    }

    /// Removes the server. Under the 2015 profile: closes the listener of the
    /// server installed under `name` (see [`Listener::close`]).
    pub fn delete_server(&self, name: &str) {
        let removed = self.state().servers.remove(name);
        if let Some(server) = removed.filter(|_| self.profile() == Profile::Go2015) {
            go2015::close_listener(self, name, &server);
        }
    }

    /// Requests handed to a handler of the server now named `name`.
    pub fn count(&self, name: &str) -> usize {
        let server = self
            .state()
            .servers
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("labrpc: count: no server named {name:?}"));
        *lock(&server.count)
    }

    /// Every call ever made, delivered or not.
    pub fn total_count(&self) -> u64 {
        self.state().total_count
    }

    /// Request bytes of every call plus reply bytes of every delivered reply.
    pub fn total_bytes(&self) -> u64 {
        self.state().total_bytes
    }
}

impl Default for Network {
    fn default() -> Self {
        Network::new()
    }
}

/// What a call's processing task reads from the network when it starts.
struct Route {
    server_name: String,
    server: Arc<Server>,
}

impl ClientEnd {
    /// The end's name on the network.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends `args` to `method` ("Service.Method") and waits for the reply.
    ///
    /// The request leaves at once, when `call` is called; the returned future
    /// only waits for the outcome, and dropping it abandons the reply but not
    /// the request. It resolves to an error when the network loses the request
    /// or the reply, or the server is unreachable or dies; see [`Error`].
    pub fn call<A, R>(
        &self,
        method: &str,
        args: &A,
    ) -> impl std::future::Future<Output = Result<R, Error>> + Send + 'static + use<A, R>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
    {
        let request = codec::try_encode(args).map_err(|e| Error::Codec(e.to_string()));
        let reply = request.map(|request| self.send(method, request));
        async move {
            let reply_bytes = match reply {
                Ok(pending) => pending.await.unwrap_or(Err(Error::ServerDead))?,
                Err(error) => return Err(error),
            };
            codec::decode::<R>(&reply_bytes).map_err(|e| Error::Codec(e.to_string()))
        }
    }

    /// Counts the request and starts its delivery task.
    fn send(&self, method: &str, request: Vec<u8>) -> sim::JoinHandle<Result<Vec<u8>, Error>> {
        let context = Context::current();
        let source = Context::current_node();
        // Only a log needs to know who calls whom (see trace::label_end).
        let logging = tracing::enabled!(tracing::Level::TRACE);
        let server = {
            let mut state = lock(&self.inner.state);
            state.total_count += 1;
            state.total_bytes += request.len() as u64;
            logging
                .then(|| state.ends.get(&*self.name).and_then(|e| e.server.clone()))
                .flatten()
        };
        if logging {
            let from = context.node_name(source);
            crate::trace::label_end(&context, &self.name, &from, server.as_deref());
        }
        record_rpc_event(&context, "send", &self.name, method, request.len() as u64);
        let end = self.clone();
        let method = method.to_string();
        self.inner
            .node
            .spawn(async move { end.process(&context, source, &method, request).await })
    }

    /// Go's `processReq`.
    async fn process(
        &self,
        context: &Context,
        source: NodeId,
        method: &str,
        request: Vec<u8>,
    ) -> Result<Vec<u8>, Error> {
        if lock(&self.inner.state).profile == Profile::Go2015 {
            return go2015::process(self, context, source, method, request).await;
        }
        let (route, reliable, long_delays) = {
            let state = lock(&self.inner.state);
            (self.route(&state), state.reliable, state.long_delays)
        };
        let Some(route) = route else {
            let bound = if long_delays {
                LONG_DELAY_MS
            } else {
                UNREACHABLE_DELAY_MS
            };
            sim::go_sleep(Duration::from_millis(sim::gen_range(0..bound))).await;
            record_rpc_event(context, "unreachable", &self.name, method, 0);
            return Err(Error::Unreachable);
        };
        if !reliable {
            sim::go_sleep(Duration::from_millis(sim::gen_range(0..SHORT_DELAY_MS))).await;
            if sim::gen_range(0..1000) < LOSS_PER_MILLE {
                record_rpc_event(context, "drop-request", &self.name, method, 0);
                return Err(Error::RequestLost);
            }
        }
        let reply = self.dispatch(context, method, request, &route).await?;
        self.deliver(context, method, reply).await
    }

    /// The end's server, if the end is enabled and connected and the server exists.
    fn route(&self, state: &State) -> Option<Route> {
        let end = state.ends.get(&*self.name)?;
        let server_name = end.server.as_ref().filter(|_| end.enabled)?;
        let server = state.servers.get(server_name)?.clone();
        Some(Route {
            server_name: server_name.clone(),
            server,
        })
    }

    /// True once the end is disabled or the server replaced or deleted.
    fn is_dead(&self, route: &Route) -> bool {
        let state = lock(&self.inner.state);
        let enabled = state.ends.get(&*self.name).is_some_and(|e| e.enabled);
        let same_server = state
            .servers
            .get(&route.server_name)
            .is_some_and(|s| Arc::ptr_eq(s, &route.server));
        !enabled || !same_server
    }

    /// Runs the handler on the server's node and waits for it, watching for death.
    async fn dispatch(
        &self,
        context: &Context,
        method: &str,
        request: Vec<u8>,
        route: &Route,
    ) -> Result<Vec<u8>, Error> {
        let handler = route.server.handler(method);
        *lock(&route.server.count) += 1;
        record_rpc_event(context, "deliver", &self.name, method, 0);
        let node = Node::from_id(route.server.node);
        let mut running = node.spawn(handler(request));
        let outcome = loop {
            match sim::timeout(DEAD_SERVER_POLL, &mut running).await {
                Ok(outcome) => break outcome,
                Err(sim::Elapsed) if self.is_dead(route) => {
                    running.abort();
                    record_rpc_event(context, "server-dead", &self.name, method, 0);
                    return Err(Error::ServerDead);
                }
                Err(sim::Elapsed) => {}
            }
        };
        // A handler whose node was killed never replies; a deleted or
        // disconnected server must not deliver a late success either.
        let Ok(reply) = outcome else {
            record_rpc_event(context, "server-dead", &self.name, method, 0);
            return Err(Error::ServerDead);
        };
        if self.is_dead(route) {
            record_rpc_event(context, "server-dead", &self.name, method, 0);
            return Err(Error::ServerDead);
        }
        reply
    }

    /// Applies reply loss and long reordering, then counts the reply's bytes.
    async fn deliver(
        &self,
        context: &Context,
        method: &str,
        reply: Vec<u8>,
    ) -> Result<Vec<u8>, Error> {
        let (reliable, long_reordering) = {
            let state = lock(&self.inner.state);
            (state.reliable, state.long_reordering)
        };
        if !reliable && sim::gen_range(0..1000) < LOSS_PER_MILLE {
            record_rpc_event(
                context,
                "drop-reply",
                &self.name,
                method,
                reply.len() as u64,
            );
            return Err(Error::ReplyLost);
        }
        if long_reordering && sim::gen_range(0..900) < 600 {
            let upper = 1 + sim::gen_range(0..2000u64);
            let hold = 200 + sim::gen_range(0..upper);
            sim::sleep(Duration::from_millis(hold)).await;
        }
        lock(&self.inner.state).total_bytes += reply.len() as u64;
        record_rpc_event(context, "reply", &self.name, method, reply.len() as u64);
        Ok(reply)
    }
}

/// A clerk's "try each server until one answers" loop: calls `method` with
/// `args` on `servers` in turn, round after round, until one answers with a
/// reply that `accept` takes, and returns it. After every round in which none
/// did, sleeps `round_pause`, so that a clerk whose servers all fail at once
/// (dead, unreachable, "not the leader") lets virtual time pass instead of
/// spinning. Never gives up, as the labs' clerks do not.
pub async fn call_until<A, R>(
    servers: &[ClientEnd],
    method: &str,
    args: &A,
    round_pause: Duration,
    accept: impl Fn(&R) -> bool,
) -> R
where
    A: Serialize + ?Sized,
    R: DeserializeOwned + Send + 'static,
{
    assert!(
        !servers.is_empty(),
        "call_until {method}: no servers to call"
    );
    loop {
        for end in servers {
            if let Ok(reply) = end.call::<A, R>(method, args).await
                && accept(&reply)
            {
                return reply;
            }
        }
        crate::sim::sleep(round_pause).await;
    }
}
