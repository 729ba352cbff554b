//! Go 2015's `StartServer` loop of the Paxos-based services, written once
//! for the kvpaxos, shardmaster and shardkv harnesses (the last two include
//! this file by its path).

use std::time::Duration;

use labrpc::{ClientEnd, Network};
use labtest::{Cluster, Lab};

/// Go's `for i := 0; i < n; i++ { kva[i] = StartServer(kvh, i) }`: the
/// servers `names` on `net`, server `i` made by `make(ends, i)` (its ends to
/// every server), all reaching each other, drawn on the timeline every
/// `poll`.
pub fn start_servers<L, F>(net: &Network, names: Vec<String>, poll: Duration, make: F) -> Cluster<L>
where
    L: Lab,
    F: Fn(Vec<ClientEnd>, usize) -> L::Server,
{
    let cluster = Cluster::named(net, names);
    for i in 0..cluster.n() {
        cluster.start(i, |start| make(start.ends, start.me));
    }
    cluster.connect_all();
    cluster.spawn_observer(poll);
    cluster
}
