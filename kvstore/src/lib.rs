//! CS3700 Project 6 as real processes: `kvstore-sim`, a simulator that runs
//! any key/value replica program over UDP, loads it with clients, attacks it
//! with drops, crashes and partitions and grades it; and `kvstore-replica`, a
//! reference replica on the `raft` crate's protocol core.
//!
//! The student's guide is docs/lab-kvstore.md. The modules:
//! * [`protocol`]: the JSON wire format (envelope, hello, client messages);
//! * [`config`]: the 17 test configurations and their validation;
//! * [`sim`]: the simulator as a pure, seeded state machine (workload, router,
//!   faults, oracle), independent of sockets and clocks;
//! * [`report`]: statistics, correctness checks, performance tiers;
//! * [`udp`]: the real-process driver (child processes, UDP on 127.0.0.1);
//! * `replica`: the reference replica's logic (pure) and its UDP driver
//!   (the student's work: absent from the handout);
//! * `det`: the deterministic mode, the simulator and the reference replica
//!   in one process on labrpc's virtual time (needs the reference replica:
//!   absent from the handout).

pub mod config;
// BEGIN SOLUTION
pub mod det;
// END SOLUTION
pub mod md5;
pub mod protocol;
// BEGIN SOLUTION
pub mod replica;
// END SOLUTION
pub mod report;
pub mod sim;
pub mod udp;
