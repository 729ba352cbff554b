//! Tools around Lab 1's MapReduce, kept out of the lab's own crate.
//!
//! * [`corpus`]: a deterministic multi-script text corpus, the stand-in for
//!   the Go lab's Project Gutenberg books (the tests and the programs below
//!   generate their inputs with it);
//! * [`launch`]: starting a whole job as real processes;
//! * [`cli`]: the programs' shared options and hidden roles;
//! * the programs `mrdemo` (the main job: a word count end to end, with the
//!   top words and where the output is), `mrbench` (sequential against 1..N
//!   workers) and `mrgen` (writes the corpus).
//!
//! The lab's programs students run, `mrcoordinator`, `mrworker` and
//! `mrsequential`, stay in the `mapreduce` crate.

pub mod cli;
pub mod corpus;
pub mod launch;
