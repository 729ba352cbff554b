//! One use of every item that the workspace's clippy.toml bans, one function
//! each (named after it), as lab code might write them. None of this ever
//! runs: it exists to be linted. `cargo clippy` on this crate must report each
//! use as an error naming the banned item; scripts/tests/bans.rs checks that.
#![allow(deprecated)] // rand::thread_rng is deprecated in rand 0.9, and still banned
#![allow(clippy::default_constructed_unit_structs)] // `OsRng::default()` names the type on purpose

use std::time::{Duration, Instant, SystemTime};

use rand::{SeedableRng, TryRngCore};

const MS: Duration = Duration::from_millis(1);

// The wall clock.

pub fn std_instant_now() -> Instant {
    Instant::now()
}

pub fn std_instant_elapsed(start: Instant) -> Duration {
    start.elapsed()
}

pub fn system_time_now() -> SystemTime {
    SystemTime::now()
}

pub fn system_time_unix_epoch_elapsed() -> Duration {
    SystemTime::UNIX_EPOCH.elapsed().unwrap_or_default()
}

pub fn tokio_instant_now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

pub fn tokio_instant_elapsed(start: tokio::time::Instant) -> Duration {
    start.elapsed()
}

// Sleeping on real time.

pub fn thread_sleep() {
    std::thread::sleep(MS);
}

pub async fn tokio_sleep() {
    tokio::time::sleep(MS).await;
}

pub async fn tokio_sleep_until(deadline: tokio::time::Instant) {
    tokio::time::sleep_until(deadline).await;
}

pub async fn tokio_timeout() {
    let _ = tokio::time::timeout(MS, async {}).await;
}

pub async fn tokio_timeout_at(deadline: tokio::time::Instant) {
    let _ = tokio::time::timeout_at(deadline, async {}).await;
}

pub fn tokio_interval() -> tokio::time::Interval {
    tokio::time::interval(MS)
}

pub fn tokio_interval_at(start: tokio::time::Instant) -> tokio::time::Interval {
    tokio::time::interval_at(start, MS)
}

// OS threads and tasks outside the simulation's nodes.

pub fn thread_spawn() {
    std::thread::spawn(|| {});
}

pub fn thread_scope() {
    std::thread::scope(|_| {});
}

pub fn thread_builder_spawn() {
    let _ = std::thread::Builder::new().spawn(|| {});
}

pub fn thread_builder_spawn_scoped<'scope>(scope: &'scope std::thread::Scope<'scope, '_>) {
    let _ = std::thread::Builder::new().spawn_scoped(scope, || {});
}

pub fn tokio_spawn() {
    tokio::spawn(async {});
}

pub fn tokio_task_spawn() {
    tokio::task::spawn(async {});
}

pub fn tokio_task_spawn_local() {
    tokio::task::spawn_local(async {});
}

pub fn tokio_task_spawn_blocking() {
    tokio::task::spawn_blocking(|| {});
}

pub fn handle_current_spawn() {
    tokio::runtime::Handle::current().spawn(async {});
}

pub fn handle_spawn_blocking(handle: &tokio::runtime::Handle) {
    handle.spawn_blocking(|| {});
}

pub fn runtime_spawn(runtime: &tokio::runtime::Runtime) {
    runtime.spawn(async {});
}

pub fn runtime_spawn_blocking(runtime: &tokio::runtime::Runtime) {
    runtime.spawn_blocking(|| {});
}

pub fn join_set_spawn(set: &mut tokio::task::JoinSet<()>) {
    set.spawn(async {});
}

// OS randomness.

pub fn rand_rng() {
    let _ = rand::rng();
}

pub fn rand_thread_rng() {
    let _ = rand::thread_rng();
}

pub fn rand_random() -> u64 {
    rand::random()
}

pub fn seedable_rng_from_os_rng() {
    let _ = rand::rngs::StdRng::from_os_rng();
}

pub fn os_rng_type() {
    let _ = rand::rngs::OsRng::default();
}

pub fn os_rng_try_next_u32() -> u32 {
    rand::rngs::OsRng.try_next_u32().unwrap_or(0)
}

pub fn os_rng_try_next_u64() -> u64 {
    rand::rngs::OsRng.try_next_u64().unwrap_or(0)
}

pub fn os_rng_try_fill_bytes() {
    let _ = rand::rngs::OsRng.try_fill_bytes(&mut [0; 8]);
}

pub fn os_rng_unwrap_err() {
    let _ = rand::rngs::OsRng.unwrap_err();
}

pub fn os_rng_unwrap_mut() {
    let _ = rand::rngs::OsRng.unwrap_mut();
}

pub fn thread_rng_default() {
    let _ = rand::rngs::ThreadRng::default();
}

// The environment.

pub fn env_var() {
    let _ = std::env::var("LAB_SEED");
}

pub fn env_var_os() {
    let _ = std::env::var_os("LAB_SEED");
}

pub fn env_vars() {
    let _ = std::env::vars().count();
}

pub fn env_vars_os() {
    let _ = std::env::vars_os().count();
}

// Hash iteration order.

pub fn hash_map() {
    let _ = std::collections::HashMap::<u8, u8>::new();
}

pub fn hash_set() {
    let _ = std::collections::HashSet::<u8>::new();
}

pub fn random_state() {
    let _ = std::hash::RandomState::new();
}

// Unseeded choices among ready futures.

pub async fn tokio_select() {
    tokio::select! {
        () = async {} => {}
    }
}

pub async fn futures_select() {
    futures::select! {
        () = futures::future::ready(()) => {}
    }
}
