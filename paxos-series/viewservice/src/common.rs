//! The viewservice's constants and RPC messages, shared by the server, its
//! Clerk and the primary/backup service built on it (Go's `common.go`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The labrpc service name: methods are `ViewServer.Ping` and `ViewServer.Get`.
pub const SERVICE: &str = "ViewServer";

/// Servers ping the viewservice once per this interval, and the viewservice
/// ticks once per this interval (Go: `PingInterval = 100ms`).
pub const PING_INTERVAL: Duration = Duration::from_millis(100);

/// The viewservice declares a server dead after it has missed this many
/// pings in a row, about 500 ms (Go: `DeadPings = 5`).
pub const DEAD_PINGS: u64 = 5;

/// Who is primary and who is backup. View 0 means "no view yet"; the first
/// real view is 1. An empty name means "none".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub viewnum: u64,
    pub primary: String,
    pub backup: String,
}

impl std::fmt::Display for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "V{} p={} b={}",
            self.viewnum,
            name(&self.primary),
            name(&self.backup)
        )
    }
}

/// A server's periodic "I am alive, and I have seen view `viewnum`".
/// `viewnum == 0` says the server has just (re)started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingArgs {
    pub me: String,
    pub viewnum: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingReply {
    pub view: View,
}

/// Fetch the current view without volunteering (clients use this).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    pub view: View,
}
