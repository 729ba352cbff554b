//! A linearizability checker equivalent to [Porcupine](https://github.com/anishathalye/porcupine),
//! for the lab tests' histories.
//!
//! A history (what clients asked and were told, with call and return times) is linearizable if its
//! operations can be put in one sequential order that respects real time (an operation that returned
//! before another was called comes first) and that the object's sequential specification, a
//! [`Model`], accepts. The lab tests record every client operation in an [`OpLog`] and, after the
//! simulation, call [`check_operations_verbose`] with a timeout; on `Illegal` they write the HTML
//! report with [`write_html`] and fail.
//!
//! ```
//! use linearizability::models::kv::{KvInput, KvModel, KvOutput};
//! use linearizability::{CheckResult, OpLog, Operation, check_operations};
//! use linearizability::{check_operations_verbose, write_html_temp};
//! use std::time::Duration;
//!
//! let log = OpLog::new();
//! log.append(Operation { client_id: 0, input: KvInput::put("k", "a"), call: 0,
//!                        output: KvOutput::default(), return_time: 10 });
//! log.append(Operation { client_id: 1, input: KvInput::get("k"), call: 5,
//!                        output: KvOutput { value: "a".into() }, return_time: 20 });
//! let result = check_operations(&KvModel, &log.read(), Some(Duration::from_secs(1)));
//! assert_eq!(result, CheckResult::Ok);
//!
//! // What a lab test does at the end (Go's `checkPorcupine`):
//! let (result, info) = check_operations_verbose(&KvModel, log.read(), Some(Duration::from_secs(1)));
//! match result {
//!     CheckResult::Ok => {}
//!     CheckResult::Unknown => println!("info: linearizability check timed out, assuming history is ok"),
//!     CheckResult::Illegal => {
//!         let path = write_html_temp(&KvModel, &info).expect("write the report");
//!         panic!("history is not linearizable; see {}", path.display());
//!     }
//! }
//! ```
//!
//! How it works: `search` (one partition's backtracking search), `checker` (partitions in parallel,
//! timeout, verdicts), `visualize` (the HTML report), `parse` (Porcupine's history files, for the
//! `lincheck` tool and the tests).

mod checker;
mod history;
mod model;
pub mod models;
mod nondeterministic;
pub mod parse;
mod search;
mod visualize;

pub use checker::{
    Limits, LinearizationInfo, PartitionInfo, VERBOSE_FIRST_ROUND_STEPS, check_events,
    check_events_limited, check_events_verbose, check_events_verbose_limited, check_operations,
    check_operations_verbose, check_operations_verbose_limited,
};
pub use history::{HistoryError, OpLog, events_from_operations, operations_from_events};
pub use model::{CheckResult, Event, EventKind, Model, Operation};
pub use nondeterministic::{NondeterministicModel, PowerSet};
pub use visualize::{render_html, write_html, write_html_temp};
