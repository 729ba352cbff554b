//! Go's 2015 re-partition goroutine, which paxos's TestLots and kvpaxos's
//! TestManyPartition share.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labrpc::sim::{self, JoinHandle};

/// Until `done`: puts each of `n` servers in one of 3 random groups
/// (`part`: Go's `part(t, tag, n, pa[0], pa[1], pa[2])`), then sleeps a
/// random 0..200 ms.
pub fn spawn_repartition<P>(n: usize, done: Arc<AtomicBool>, part: P) -> JoinHandle<()>
where
    P: Fn(&[&[usize]]) + Send + 'static,
{
    sim::spawn(async move {
        while !done.load(Ordering::SeqCst) {
            let a: Vec<usize> = (0..n).map(|_| sim::gen_range(0..3)).collect();
            let pa: Vec<Vec<usize>> = (0..3)
                .map(|g| (0..n).filter(|&j| a[j] == g).collect())
                .collect();
            part(&[&pa[0], &pa[1], &pa[2]]);
            sim::go_sleep(Duration::from_millis(sim::gen_range(0..200))).await;
        }
    })
}
