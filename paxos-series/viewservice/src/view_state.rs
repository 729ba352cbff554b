// SOLUTION FILE
//! The viewservice's rules as a pure state machine: no I/O, no clock, no
//! locks. The server feeds it pings and ticks and asks it for the view; the
//! unit tests below drive it directly, one rule per test.
//!
//! The rules (the 2015 lab page):
//! * the first server to ping when there is no view becomes the primary of
//!   view 1; the backup may be empty;
//! * the primary of view i+1 is the primary or the backup of view i, so an
//!   idle (uninitialized) server is never promoted to primary;
//! * a primary or backup that missed [`DEAD_PINGS`] ticks of pings, or that
//!   pings with view 0 (it restarted and lost its state) once the view is
//!   acknowledged, has failed;
//! * a new view is due when the primary or backup failed, or when there is no
//!   backup and an idle server is alive;
//! * but the service never moves past view X until X's primary has pinged
//!   with X (acknowledged it): that primary may still be bringing the backup
//!   up to date, and promoting that backup too early would lose data. A
//!   primary that dies before it acknowledges leaves the service stuck, as
//!   the lab accepts.

use std::collections::BTreeMap;

use crate::common::{DEAD_PINGS, View};

/// Everything the viewservice remembers.
#[derive(Clone, Debug, Default)]
pub struct ViewState {
    view: View,
    /// Whether `view.primary` has pinged with `view.viewnum`.
    acked: bool,
    /// Ticks counted so far.
    now_tick: u64,
    /// The tick of each server's latest ping.
    last_ping_tick: BTreeMap<String, u64>,
    /// The current primary pinged with 0 (restarted) since the view began.
    primary_restarted: bool,
    /// The current backup pinged with 0 since the view began.
    backup_restarted: bool,
}

impl ViewState {
    pub fn new() -> ViewState {
        ViewState::default()
    }

    /// The current view (viewnum 0 before the first ping).
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Whether the current view's primary has acknowledged it.
    pub fn is_acked(&self) -> bool {
        self.acked
    }

    /// Server `me` pings, saying it has seen view `viewnum` (0: restarted).
    /// Returns the view after the ping took effect.
    pub fn ping(&mut self, me: &str, viewnum: u64) -> View {
        if me.is_empty() {
            // Not a server (an empty name means "none" in a view): answer,
            // but never make it primary or backup.
            return self.view.clone();
        }
        self.last_ping_tick.insert(me.to_string(), self.now_tick);
        if self.view.viewnum == 0 {
            // Any server may be the very first primary.
            self.set_view(me.to_string(), String::new());
            return self.view.clone();
        }
        // A restart counts only when the view can change anyway (it is
        // acked): before that, the primary is still copying its data to
        // the backup, and will copy it to the restarted instance.
        if me == self.view.primary {
            if viewnum == 0 && self.acked {
                self.primary_restarted = true;
            } else if viewnum == self.view.viewnum {
                self.acked = true;
            }
        } else if me == self.view.backup && viewnum == 0 && self.acked {
            self.backup_restarted = true;
        }
        self.advance();
        self.view.clone()
    }

    /// One PingInterval passed.
    pub fn tick(&mut self) {
        self.now_tick += 1;
        self.advance();
    }

    fn is_alive(&self, server: &str) -> bool {
        self.last_ping_tick
            .get(server)
            .is_some_and(|&t| self.now_tick - t < DEAD_PINGS)
    }

    /// An alive server that is neither primary nor backup, if any (the
    /// smallest name, so the choice is deterministic).
    fn idle_server(&self) -> Option<String> {
        self.last_ping_tick
            .keys()
            .find(|s| **s != self.view.primary && **s != self.view.backup && self.is_alive(s))
            .cloned()
    }

    /// Moves to the next view if one is due and the current one is acked.
    fn advance(&mut self) {
        if self.view.viewnum == 0 || !self.acked {
            return;
        }
        let primary_failed = self.primary_restarted || !self.is_alive(&self.view.primary);
        let has_backup = !self.view.backup.is_empty();
        let backup_failed =
            has_backup && (self.backup_restarted || !self.is_alive(&self.view.backup));
        if primary_failed {
            if !has_backup {
                // Nobody holds the data: never promote an idle server.
                return;
            }
            let primary = self.view.backup.clone();
            // The old primary (if it restarted and is alive) may come back
            // as the new backup; it gets a full copy like any new backup.
            let backup = self.idle_or_restarted(&primary);
            self.set_view(primary, backup);
        } else if backup_failed {
            let primary = self.view.primary.clone();
            let backup = self.idle_or_restarted(&primary);
            self.set_view(primary, backup);
        } else if !has_backup && let Some(idle) = self.idle_server() {
            let primary = self.view.primary.clone();
            self.set_view(primary, idle);
        }
    }

    /// A new backup for a view whose primary is `primary`: an idle server, or
    /// else an old member that restarted and is alive, or else none.
    fn idle_or_restarted(&self, primary: &str) -> String {
        if let Some(idle) = self.idle_server() {
            return idle;
        }
        let restarted = [
            (self.primary_restarted, &self.view.primary),
            (self.backup_restarted, &self.view.backup),
        ];
        restarted
            .into_iter()
            .find(|(r, s)| *r && s.as_str() != primary && self.is_alive(s))
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }

    fn set_view(&mut self, primary: String, backup: String) {
        assert_ne!(primary, backup, "primary and backup must differ");
        self.view = View {
            viewnum: self.view.viewnum + 1,
            primary,
            backup,
        };
        self.acked = false;
        self.primary_restarted = false;
        self.backup_restarted = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(n: u64, p: &str, b: &str) -> View {
        View {
            viewnum: n,
            primary: p.to_string(),
            backup: b.to_string(),
        }
    }

    /// A state with view 2 = (a, b), acked by a.
    fn acked_pair() -> ViewState {
        let mut vs = ViewState::new();
        vs.ping("a", 0);
        vs.ping("a", 1);
        vs.ping("b", 0);
        assert_eq!(vs.view(), &view(2, "a", "b"));
        vs.ping("a", 2);
        vs
    }

    /// `ticks` rounds of: every `(server, viewnum)` of `pings` pings, then
    /// the viewservice ticks.
    fn ping_and_tick(vs: &mut ViewState, ticks: u64, pings: &[(&str, u64)]) {
        for _ in 0..ticks {
            for &(server, viewnum) in pings {
                vs.ping(server, viewnum);
            }
            vs.tick();
        }
    }

    #[test]
    fn no_view_before_the_first_ping() {
        assert_eq!(ViewState::new().view(), &view(0, "", ""));
    }

    #[test]
    fn first_pinger_becomes_primary_of_view_1() {
        let mut vs = ViewState::new();
        assert_eq!(vs.ping("a", 0), view(1, "a", ""));
    }

    #[test]
    fn idle_server_becomes_backup_once_primary_acked() {
        let mut vs = ViewState::new();
        vs.ping("a", 0);
        vs.ping("b", 0);
        assert_eq!(vs.view(), &view(1, "a", ""), "view 1 is not acked yet");
        vs.ping("a", 1);
        assert_eq!(vs.view(), &view(2, "a", "b"));
    }

    #[test]
    fn a_server_that_misses_dead_pings_leaves_the_view() {
        // (the one of (a, b) that keeps pinging, the view that follows)
        let cases = [
            ("b", view(3, "b", "")), // the backup takes over from a
            ("a", view(3, "a", "")), // the dead backup is removed
        ];
        for (alive, next) in cases {
            let mut vs = acked_pair();
            ping_and_tick(&mut vs, DEAD_PINGS, &[(alive, 2)]);
            assert_eq!(vs.view(), &next, "only {alive} kept pinging");
        }
    }

    #[test]
    fn alive_for_fewer_than_dead_pings_ticks() {
        let mut vs = acked_pair();
        ping_and_tick(&mut vs, DEAD_PINGS - 1, &[]);
        assert_eq!(vs.view(), &view(2, "a", "b"));
    }

    #[test]
    fn restarted_primary_is_treated_as_dead() {
        let mut vs = acked_pair();
        vs.ping("a", 0);
        assert_eq!(vs.view(), &view(3, "b", "a"));
    }

    #[test]
    fn restarted_backup_is_replaced_by_an_idle_server() {
        let mut vs = acked_pair();
        vs.ping("c", 0);
        vs.ping("b", 0);
        assert_eq!(vs.view(), &view(3, "a", "c"));
    }

    #[test]
    fn no_new_view_until_the_primary_acks() {
        let mut vs = acked_pair();
        vs.ping("a", 0); // view 3 = (b, a), not acked by b
        ping_and_tick(&mut vs, 3 * DEAD_PINGS, &[("a", 3)]);
        assert_eq!(
            vs.view(),
            &view(3, "b", "a"),
            "b died without acking view 3"
        );
    }

    #[test]
    fn idle_server_is_never_promoted_to_primary() {
        let mut vs = ViewState::new();
        vs.ping("a", 0);
        vs.ping("a", 1);
        ping_and_tick(&mut vs, 3 * DEAD_PINGS, &[("c", 0)]);
        assert_eq!(vs.view().primary, "a");
    }

    #[test]
    fn promotion_and_new_backup_happen_in_one_view_change() {
        let mut vs = acked_pair();
        ping_and_tick(&mut vs, DEAD_PINGS, &[("b", 2), ("c", 0)]);
        assert_eq!(vs.view(), &view(3, "b", "c"));
    }

    #[test]
    fn a_restart_before_the_ack_is_not_remembered() {
        let mut vs = ViewState::new();
        vs.ping("a", 0);
        vs.ping("a", 1);
        vs.ping("b", 0); // view 2 = (a, b), not acked
        vs.ping("b", 0); // b restarts: ignored, a will copy to the new b
        vs.ping("a", 2);
        assert_eq!(vs.view(), &view(2, "a", "b"));
    }

    #[test]
    fn a_ping_without_a_name_changes_nothing() {
        let mut vs = ViewState::new();
        assert_eq!(vs.ping("", 0), view(0, "", ""));
        assert_eq!(vs.ping("a", 0), view(1, "a", ""));
    }

    #[test]
    fn ack_of_an_older_view_does_not_count() {
        let mut vs = acked_pair();
        vs.ping("a", 0); // view 3 = (b, a)
        vs.ping("b", 2);
        assert!(!vs.is_acked());
        vs.ping("b", 3);
        assert!(vs.is_acked());
    }
}
