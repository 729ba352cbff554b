//! Lab 1 of the 2015 series: MapReduce where the master pushes jobs.
//!
//! MIT 6.824 Spring 2015's Lab 1 (and UCLA CS134's Assignment 1) differ from
//! the 2023 lab in the `mapreduce` crate: workers *register* with the master
//! (`MapReduce.Register`), and the master hands each of them one job at a time
//! (`Worker.DoJob`), moving a job to another worker when its call fails, and
//! ends by shutting the workers down (`Worker.Shutdown`), collecting how many
//! jobs each did. Files follow the Go lab: the input is split into
//! `mrtmp.<f>-<m>`, map job `m` writes `mrtmp.<f>-<m>-<r>` for every reduce job
//! `r` (a key goes to `fnv32a(key) % nReduce`), reduce job `r` writes
//! `mrtmp.<f>-res-<r>` with its keys sorted, and [`files::merge`] writes the
//! sorted `key: value` lines of `mrtmp.<f>`.
//!
//! Everything runs in labrpc's simulation on the 2015 network profile: the
//! master and every worker are nodes with listeners, a worker that "dies after
//! n RPCs" closes its listener (later calls fail at once, as with Go's closed
//! socket), files live in Lab 1's in-memory store ([`mapreduce::sim::MemStore`]),
//! and time is virtual, so every run replays from its seed.
//!
//! What the student writes: [`master::MapReduce::run_master`] (MIT), and, as
//! UCLA's 2026 assignment asks, [`files::do_map`] and [`files::do_reduce`].
//! The word-count app, Go's word splitting and the FNV-1a hash are Lab 1's
//! ([`mapreduce::apps::wc_map`], [`mapreduce::letters`], [`mapreduce::hash`]).

pub mod common;
pub mod files;
pub mod master;
pub mod worker;

pub use common::{App, Error, JobType, KeyValue};
pub use master::MapReduce;
pub use worker::run_worker;
