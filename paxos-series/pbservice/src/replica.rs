// SOLUTION FILE
//! A server's data and the pure rules of replication, apart from I/O: the
//! key/value map with its at-most-once table, the primary's bookkeeping of
//! whether its backup holds a full copy, and the backup's checks on what the
//! primary sends it (forwarded operations and full transfers). The server
//! (`server.rs`) does the RPCs around these; the unit tests below drive them
//! directly.
//!
//! Why each rule:
//! * A backup applies a forwarded operation only when it holds the full copy
//!   of the very view the sender is primary of, and has not seen a newer view:
//!   a primary that lost its role (and a stale Get it would answer) is caught
//!   by its backup, which has moved on.
//! * A transfer replaces the whole state (map and dedup table), and only a
//!   newer transfer than the last one counts, so a retried or late copy never
//!   rolls the backup back.
//! * Appends are forwarded as the operation, not the resulting value, and the
//!   dedup table travels with the data, so a retry after a failover is still
//!   applied once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use viewservice::View;

use crate::common::{Op, PutAppendArgs, Status};

/// What the primary forwards to its backup before answering a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardOp {
    /// Only asks "am I still your primary?": a Get is answered only once the
    /// backup confirms the view.
    Get {
        key: String,
    },
    PutAppend(PutAppendArgs),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardArgs {
    /// The view the sender is primary of.
    pub viewnum: u64,
    pub from: String,
    pub op: ForwardOp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardReply {
    pub status: Status,
}

/// The primary's full copy for the backup of `view`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferArgs {
    pub view: View,
    /// Counts the primary's transfers, so a late duplicate is recognised.
    pub transfer_no: u64,
    pub db: BTreeMap<String, String>,
    pub applied: BTreeMap<u64, u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReply {
    pub status: Status,
}

/// One server's data and replication state.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub db: BTreeMap<String, String>,
    /// Per clerk, the sequence number of its latest applied Put or Append.
    pub applied: BTreeMap<u64, u64>,
    /// True once this server holds the service's data: it is view 1's first
    /// primary, or it received a full copy as a backup. A fresh server that
    /// finds itself primary of a later view (its old self's role) must not
    /// serve from its empty map.
    pub initialized: bool,
    /// As primary: the view whose backup has acknowledged a full copy.
    pub synced_viewnum: u64,
    /// As primary: the backup refused a forward (it restarted, or moved to
    /// a newer view): send it a full copy again before acknowledging more.
    /// Forwarding stays required meanwhile.
    pub needs_resync: bool,
    /// As primary: transfers sent so far.
    pub transfers_sent: u64,
    /// As backup: the view of the latest full copy received, and its number.
    pub copy_view: View,
    pub copy_no: u64,
}

impl Store {
    /// Applies a Put or Append unless this clerk's request was applied before.
    /// Returns whether it was applied now.
    pub fn apply(&mut self, args: &PutAppendArgs) -> bool {
        if self.is_duplicate(args) {
            return false;
        }
        match args.op {
            Op::Put => {
                self.db.insert(args.key.clone(), args.value.clone());
            }
            Op::Append => self
                .db
                .entry(args.key.clone())
                .or_default()
                .push_str(&args.value),
        }
        self.applied.insert(args.client_id, args.seq);
        true
    }

    pub fn is_duplicate(&self, args: &PutAppendArgs) -> bool {
        self.applied
            .get(&args.client_id)
            .is_some_and(|&seq| seq >= args.seq)
    }

    /// The value of `key`, with the reply status.
    pub fn get(&self, key: &str) -> (Status, String) {
        match self.db.get(key) {
            Some(value) => (Status::Ok, value.clone()),
            None => (Status::NoKey, String::new()),
        }
    }

    /// Whether this server, named `me`, whose latest view from the
    /// viewservice is `known`, accepts `args` as a backup.
    pub fn accepts_forward(&self, me: &str, known: &View, args: &ForwardArgs) -> bool {
        self.initialized
            && self.copy_view.viewnum == args.viewnum
            && self.copy_view.backup == me
            && self.copy_view.primary == args.from
            && known.viewnum <= args.viewnum
    }

    /// Applies a forwarded operation if accepted (see `accepts_forward`).
    pub fn forward(&mut self, me: &str, known: &View, args: &ForwardArgs) -> Status {
        if !self.accepts_forward(me, known, args) {
            return Status::WrongServer;
        }
        if let ForwardOp::PutAppend(op) = &args.op {
            self.apply(op);
        }
        Status::Ok
    }

    /// Installs a full copy if it is for a view naming `me` the backup, not
    /// older than `known`, and newer than the last copy installed.
    pub fn transfer(&mut self, me: &str, known: &View, args: TransferArgs) -> Status {
        if args.view.backup != me || args.view.viewnum < known.viewnum {
            return Status::WrongServer;
        }
        let incoming = (args.view.viewnum, args.transfer_no);
        let installed = (self.copy_view.viewnum, self.copy_no);
        if incoming == installed {
            return Status::Ok; // a duplicate of the copy we hold
        }
        if incoming < installed {
            return Status::WrongServer; // a late, older copy
        }
        self.db = args.db;
        self.applied = args.applied;
        self.copy_view = args.view;
        self.copy_no = args.transfer_no;
        self.initialized = true;
        Status::Ok
    }

    /// The primary's full copy for the backup of `view`.
    pub fn make_transfer(&mut self, view: &View) -> TransferArgs {
        self.transfers_sent += 1;
        TransferArgs {
            view: view.clone(),
            transfer_no: self.transfers_sent,
            db: self.db.clone(),
            applied: self.applied.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(n: u64, p: &str, b: &str) -> View {
        View {
            viewnum: n,
            primary: p.into(),
            backup: b.into(),
        }
    }

    fn op(client_id: u64, seq: u64, op: Op, key: &str, value: &str) -> PutAppendArgs {
        PutAppendArgs {
            key: key.into(),
            value: value.into(),
            op,
            client_id,
            seq,
        }
    }

    /// A backup "b" holding the copy of view 2 = (a, b).
    fn backup() -> Store {
        let mut primary = Store {
            initialized: true,
            ..Store::default()
        };
        primary.apply(&op(1, 1, Op::Put, "k", "v"));
        let copy = primary.make_transfer(&view(2, "a", "b"));
        let mut store = Store::default();
        assert_eq!(store.transfer("b", &view(1, "a", ""), copy), Status::Ok);
        store
    }

    fn forward(viewnum: u64, from: &str, args: PutAppendArgs) -> ForwardArgs {
        ForwardArgs {
            viewnum,
            from: from.into(),
            op: ForwardOp::PutAppend(args),
        }
    }

    #[test]
    fn append_to_a_missing_key_starts_from_empty() {
        let mut store = Store::default();
        store.apply(&op(1, 1, Op::Append, "k", "x"));
        assert_eq!(store.get("k"), (Status::Ok, "x".into()));
    }

    #[test]
    fn a_retried_append_is_applied_once() {
        let mut store = Store::default();
        assert!(store.apply(&op(1, 1, Op::Append, "k", "x")));
        assert!(!store.apply(&op(1, 1, Op::Append, "k", "x")));
        assert_eq!(store.get("k").1, "x");
    }

    #[test]
    fn get_of_a_missing_key_is_no_key() {
        assert_eq!(Store::default().get("k"), (Status::NoKey, String::new()));
    }

    #[test]
    fn a_transfer_installs_data_and_dedup_table() {
        let mut store = backup();
        assert!(store.initialized);
        assert_eq!(store.get("k").1, "v");
        assert!(
            !store.apply(&op(1, 1, Op::Put, "k", "again")),
            "dedup state travels"
        );
    }

    #[test]
    fn backup_applies_forwards_from_its_primary() {
        let mut store = backup();
        let args = forward(2, "a", op(2, 1, Op::Append, "k", "w"));
        assert_eq!(store.forward("b", &view(2, "a", "b"), &args), Status::Ok);
        assert_eq!(store.get("k").1, "vw");
    }

    #[test]
    fn backup_refuses_forwards_it_must_not_apply() {
        // (the backup, the view it knows, the forward, why it must refuse)
        let cases = [
            (
                backup(),
                view(3, "b", ""),
                forward(2, "a", op(2, 1, Op::Put, "k", "stale")),
                "b has moved on to view 3, where a is not primary",
            ),
            (
                backup(),
                view(2, "a", "b"),
                forward(2, "c", op(2, 1, Op::Put, "k", "x")),
                "c is not the primary of b's view",
            ),
            (
                Store::default(),
                view(2, "a", "b"),
                forward(2, "a", op(2, 1, Op::Put, "k", "x")),
                "an uninitialized backup has no copy to apply it to",
            ),
        ];
        for (mut store, known, args, why) in cases {
            let before = store.get("k");
            assert_eq!(
                store.forward("b", &known, &args),
                Status::WrongServer,
                "{why}"
            );
            assert_eq!(store.get("k"), before, "{why}: nothing applied");
        }
    }

    #[test]
    fn backup_refuses_transfers_it_must_not_install() {
        let older = TransferArgs {
            view: view(2, "a", "b"),
            transfer_no: 0,
            db: BTreeMap::new(),
            applied: BTreeMap::new(),
        };
        // (the backup, the view it knows, the transfer, why it must refuse)
        let cases = [
            (
                backup(),
                view(2, "a", "b"),
                older,
                "an older transfer never rolls the backup back",
            ),
            (
                Store::default(),
                view(3, "b", ""),
                Store::default().make_transfer(&view(2, "a", "b")),
                "the transfer is for an older view than b knows",
            ),
            (
                Store::default(),
                view(1, "a", ""),
                Store::default().make_transfer(&view(2, "a", "c")),
                "the transfer names another backup",
            ),
        ];
        for (mut store, known, copy, why) in cases {
            let (initialized, before) = (store.initialized, store.get("k"));
            assert_eq!(
                store.transfer("b", &known, copy),
                Status::WrongServer,
                "{why}"
            );
            assert_eq!(store.initialized, initialized, "{why}: nothing installed");
            assert_eq!(store.get("k"), before, "{why}: nothing installed");
        }
    }
}
