//! Tests beyond Go: scenarios built to expose one classic Raft bug each with
//! high probability, where Go's tests reach them rarely or never.
//!
//! Each test names its part (`cargo test -p raft 2c` runs the 2C ones) and
//! the bug class it is built for. They drive the cluster with crashes,
//! restarts and links between chosen pairs of servers (`Cluster::link`) to
//! make one dangerous interleaving likely, and then rely on what a tester can
//! observe: applied values agree (the harness), terms never go back and at
//! most one leader per term (the harness's checker, plus [`StartLedger`] for
//! what `start()` acknowledges), and progress afterwards. They were measured
//! against mutants of the reference (`scripts/mutants/raft`, see
//! docs/testing.md): each catches its mutant on most seeds.

mod classic;
mod common;

use std::time::Duration;

use classic::*;
use common::*;
use labrpc::sim;

/// Bug class: votedFor not persisted. A voter votes for one candidate,
/// restarts, and a second candidate asks it in the same term: a voter that
/// forgot its vote elects a second leader in that term.
///
/// Three servers: the voter misses an entry (so it cannot win itself), then
/// everyone restarts at once from the same term, and the two others reach
/// each other only through the voter. Whichever of them wins first, the
/// voter restarts at that moment, and the other times out in the same term
/// and asks it.
#[test]
fn restarted_voter_second_candidate_2c() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2C, beyond Go): a restarted voter and a second candidate in one term");
        for round in 0..3i64 {
            cfg.one(&(100 * round + 1), servers, true).await;
            let leader = cfg.check_one_leader().await;
            let voter = (leader + 1) % servers;
            let (a, b) = (leader, (leader + 2) % servers);
            // The voter falls behind, so it cannot be elected.
            cfg.crash1(voter);
            cfg.one(&(100 * round + 2), servers - 1, true).await;
            // Everyone restarts at once; a and b are in the same term.
            cfg.crash1(a);
            cfg.crash1(b);
            for i in 0..servers {
                cfg.start1(i);
            }
            cfg.link(a, voter, true);
            cfg.link(b, voter, true);
            wait_leader(&cfg, &[a, b], 10 * RAFT_ELECTION_TIMEOUT)
                .await
                .expect("a or b is elected through the voter");
            // The voter has just voted for the winner in its term: restart it.
            cfg.start1(voter);
            cfg.link(a, voter, true);
            cfg.link(b, voter, true);
            // The other candidate asks the restarted voter in `term`: if the
            // voter grants it, both lead `term` (the checker fails the test).
            sim::sleep(2 * RAFT_ELECTION_TIMEOUT).await;
            heal(&cfg);
        }
        cfg.one(&1000i64, servers, true).await;
    });
}

/// Bug class: a leader commits an entry of an earlier term by counting
/// replicas (Figure 8 of the Raft paper, made certain rather than likely),
/// and a leader crash between replicating an old-term entry and committing
/// an entry of its own term.
///
/// Five servers. (a) Leader L appends X at index 2 and replicates it to P
/// only. (b) L crashes; W is elected by the other three, appends Y at index 2
/// alone, and crashes. (c) L restarts; L or P is elected (only they have X)
/// and replicates X to a majority, in a term later than X's: a correct leader
/// must not commit X now. It crashes before committing anything of its own.
/// (d) W restarts as the hub of a star (only it can win) and commits Y over X.
/// A leader that committed X in (c) has applied X where everyone later
/// applies Y.
#[test]
fn figure8_old_term_entry_2c() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2C, beyond Go): Figure 8, an old-term entry replicated then overwritten");
        for round in 0..2i64 {
            cfg.one(&(1000 * round + 10), servers, true).await;
            let l = cfg.check_one_leader().await;
            let p = (l + 1) % servers;
            let others: Vec<usize> = (0..servers).filter(|&i| i != l && i != p).collect();
            // (a) X reaches P only.
            cfg.partition(&[l, p], &others);
            if cfg.raft(l).start(&(1000 * round + 20)).is_none() {
                heal(&cfg);
                continue; // l lost its leadership in between: try again
            }
            sim::sleep(Duration::from_millis(100)).await;
            // (b) L crashes; W, elected by the other three, appends Y alone.
            cfg.crash1(l);
            let (w, _) = wait_leader(&cfg, &others, 10 * RAFT_ELECTION_TIMEOUT)
                .await
                .expect("the majority side elects a leader");
            cfg.disconnect(w);
            if cfg.raft(w).start(&(1000 * round + 30)).is_none() {
                heal(&cfg);
                continue;
            }
            sim::sleep(Duration::from_millis(50)).await;
            cfg.crash1(w);
            // (c) L restarts; L or P (who have X) leads and replicates X.
            cfg.start1(l);
            let mut rest: Vec<usize> = (0..servers).filter(|&i| i != w).collect();
            cfg.partition(&rest, &[w]);
            cfg.disconnect(w);
            let (l2, _) = wait_leader(&cfg, &rest, 10 * RAFT_ELECTION_TIMEOUT)
                .await
                .expect("L or P is elected");
            sim::sleep(Duration::from_millis(200)).await;
            cfg.crash1(l2);
            rest.retain(|&i| i != l2);
            // (d) W restarts as the only possible leader and commits Y.
            cfg.start1(w);
            star(&cfg, w, &rest);
            cfg.one(&(1000 * round + 40), rest.len() + 1, true).await;
            heal(&cfg);
        }
        cfg.one(&5000i64, servers, true).await;
    });
}

/// Bug class: granting a vote without the up-to-date check (§5.4.1). A
/// follower misses committed entries while cut off, its term running ahead;
/// when it returns, its higher term forces an election that it must not
/// win: a stale leader overwrites committed entries.
#[test]
fn stale_log_candidate_loses_2b() {
    run_test(3, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B, beyond Go): a candidate with a stale log and a higher term loses");
        let mut cmds = Commands::starting_at(100);
        cmds.one(&cfg, servers).await;
        for _ in 0..4 {
            let leader = cfg.check_one_leader().await;
            let stale = (leader + 1) % servers;
            cfg.disconnect(stale);
            for _ in 0..3 {
                cmds.one(&cfg, servers - 1).await;
            }
            // Alone, it times out again and again: its term runs ahead.
            sim::sleep(2 * RAFT_ELECTION_TIMEOUT).await;
            cfg.connect(stale);
            cmds.one(&cfg, servers).await;
        }
    });
}

/// Bug class: a follower that truncates its log after each AppendEntries'
/// last entry. On an unreliable network requests are reordered, so a
/// shorter, older AppendEntries can arrive after a longer one that the
/// follower already acknowledged; dropping the entries it acknowledged
/// leaves the leader believing they are there (the follower is then stuck,
/// or a committed entry is lost).
#[test]
fn stale_append_after_newer_2c() {
    run_test(3, true, false, |cfg, servers| async move {
        cfg.begin("Test (2C, beyond Go): reordered AppendEntries under a stream of commands");
        let ledger = StartLedger::default();
        let mut cmds = Commands::starting_at(0);
        cmds.one(&cfg, 1).await;
        for _ in 0..3 {
            // A stream of commands, a few milliseconds apart, so that new
            // entries keep arriving while AppendEntries are in flight.
            command_stream(&cfg, &ledger, &mut cmds, Duration::from_secs(1), 6).await;
            // Everyone must catch up with everything the leader has.
            cmds.one(&cfg, servers).await;
        }
        cfg.set_unreliable(false);
        cmds.one(&cfg, servers).await;
    });
}

/// Bug class: a snapshot that records the wrong lastIncludedTerm. The
/// snapshot indices of the harness (every `SNAPSHOT_INTERVAL`th entry) are
/// made to hold entries of an older term than the log's tail when they are
/// applied: a leader replicates entries to one follower only, crashes, and
/// that follower, elected as the hub of a star, commits them together with
/// an entry of its own term. A server that had crashed before catches up by
/// InstallSnapshot, then every server restarts from its saved state.
#[test]
fn snapshot_term_differs_from_tail_2d() {
    run_test(5, false, true, |cfg, servers| async move {
        cfg.begin("Test (2D, beyond Go): snapshots at entries older than the log's tail");
        let mut cmds = Commands::starting_at(0);
        cmds.one(&cfg, servers).await;
        for _ in 0..2 {
            // Up to two entries below the next snapshot index.
            let last = loop {
                let index = cmds.one(&cfg, servers).await;
                if (index + 3) % SNAPSHOT_INTERVAL == 0 {
                    break index;
                }
            };
            let l = cfg.check_one_leader().await;
            let p = (l + 1) % servers;
            let lagging = (l + 2) % servers;
            cfg.crash1(lagging);
            let others: Vec<usize> = (0..servers)
                .filter(|&i| i != l && i != p && i != lagging)
                .collect();
            // Entries across the snapshot index reach P only.
            let mut majority = others.clone();
            majority.push(lagging);
            cfg.partition(&[l, p], &majority);
            for _ in 0..5 {
                let command = cmds.fresh();
                if let Some(raft) = cfg.try_raft(l) {
                    raft.start(&command);
                }
            }
            sim::sleep(Duration::from_millis(100)).await;
            cfg.crash1(l);
            // P, elected as the only possible leader, commits them with an
            // entry of its own term: the snapshot index is applied (and
            // snapshotted) while the log's tail is of the newer term.
            star(&cfg, p, &others);
            let index = cmds.one(&cfg, others.len() + 1).await;
            assert!(index > last + 3, "P's entries were committed");
            // The lagging server needs the snapshot.
            cfg.start1(lagging);
            cfg.link(p, lagging, true);
            cmds.one(&cfg, others.len() + 2).await;
            // Every server restarts from what it saved.
            for i in 0..servers {
                cfg.start1(i);
            }
            heal(&cfg);
            cmds.one(&cfg, servers).await;
        }
    });
}

/// Scenario (issue 18): a follower more than one AppendEntries batch behind,
/// with a conflicting suffix (the commit rule itself is the target of
/// `heartbeat_commit_past_shared_prefix_2b`). A follower cut off with a leader that
/// keeps appending (hundreds of entries, more than one AppendEntries batch)
/// comes back to a majority that committed other entries meanwhile, in
/// another term: it must replace its conflicting suffix batch by batch and
/// never apply an entry of it.
#[test]
fn far_behind_conflicting_suffix_2b() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B, beyond Go): a follower batches behind, with a conflicting suffix");
        let mut cmds = Commands::starting_at(0);
        cmds.one(&cfg, servers).await;
        for round in 0..2 {
            // The old leader keeps appending: f takes it all.
            let (l, f, majority) = leader_with_one_follower_appends(&cfg, &mut cmds, 600).await;
            // The majority commits other entries, more than a batch.
            let (m, _) = wait_leader(&cfg, &majority, 10 * RAFT_ELECTION_TIMEOUT)
                .await
                .expect("the majority elects a leader");
            for _ in 0..(300 + 100 * round) {
                cfg.raft(m).start(&cmds.fresh());
            }
            cmds.one(&cfg, majority.len()).await;
            // The old leader goes; f comes back.
            old_leader_gone(&cfg, l, f, &majority);
            cmds.one(&cfg, servers - 1).await;
            heal(&cfg);
        }
        cmds.one(&cfg, servers).await;
    });
}

/// Bug class: a leader that counts a follower's match from its own log
/// rather than from what the acknowledged message carried. On an unreliable
/// network (delayed requests) a command arrives while an AppendEntries is in
/// flight; its acknowledgment then seems to cover the command. The leader
/// crashes a few milliseconds later, before the command can have reached a
/// majority: a command it applied is then lost.
#[test]
fn leader_crash_after_start_2b() {
    run_test(3, true, false, |cfg, servers| async move {
        cfg.begin("Test (2B, beyond Go): a leader crashes right after start()");
        let ledger = StartLedger::default();
        let mut cmds = Commands::starting_at(0);
        cmds.one(&cfg, servers).await;
        for _ in 0..12 {
            let leader = cfg.check_one_leader().await;
            let out = (leader + 1) % servers;
            cfg.disconnect(out);
            // Commands at random moments between heartbeats.
            for _ in 0..sim::gen_range(1..6) {
                ledger.start(&cfg, leader, &cmds.fresh());
                sim::sleep(Duration::from_millis(sim::gen_range(0..30u64))).await;
            }
            cfg.crash1(leader);
            cfg.connect(out);
            cmds.one(&cfg, servers - 1).await;
            cfg.start1(leader);
            cfg.connect(leader);
            cmds.one(&cfg, servers).await;
        }
    });
}

/// Bug class: a follower that advances its commit index past the entries the
/// leader's message proved it shares (to min(leaderCommit, its own last
/// index) instead of the last entry the message carried), with a leader whose
/// heartbeats carry no entries.
///
/// Five servers. The old leader L appends entries that only F receives, and
/// crashes; the majority's new leader N, whose log ends where F's suffix
/// begins, makes F follow it with a message that matches F's log and carries
/// nothing, so F keeps its conflicting suffix. F is cut off while N commits
/// an entry of its own at the first index of that suffix, and comes back
/// before it times out: N's next heartbeat proves only the shared prefix but
/// carries N's commit index. A follower that commits its own suffix applies
/// L's entry where everyone else applied N's.
#[test]
fn heartbeat_commit_past_shared_prefix_2b() {
    run_test(5, false, false, |cfg, servers| async move {
        cfg.begin("Test (2B, beyond Go): a heartbeat's commit index and a conflicting suffix");
        let mut cmds = Commands::starting_at(1);
        for _ in 0..3 {
            cmds.one(&cfg, servers).await;
            // F's suffix: entries of L's term that nobody else has.
            let (l, f, majority) = leader_with_one_follower_appends(&cfg, &mut cmds, 5).await;
            sim::sleep(Duration::from_millis(50)).await;
            wait_leader(&cfg, &majority, 10 * RAFT_ELECTION_TIMEOUT)
                .await
                .expect("the majority elects a leader");
            // F follows N, whose log ends at F's shared prefix.
            old_leader_gone(&cfg, l, f, &majority);
            sim::sleep(Duration::from_millis(150)).await;
            // N commits its own entry at the first index of F's suffix while F
            // is away, and F is back well within its election timeout.
            cfg.disconnect(f);
            cmds.one(&cfg, majority.len()).await;
            cfg.connect(f);
            cmds.one(&cfg, servers - 1).await;
            heal(&cfg);
        }
        cmds.one(&cfg, servers).await;
    });
}

/// Bug class: a follower that installs an InstallSnapshot older than what it
/// has already committed (checking it against its own snapshot instead of
/// its commit index): its service goes back to an older state. The harness
/// checks that a snapshot from Raft never takes a service back below what
/// it applied since its restart.
///
/// Such a snapshot arrives when the leader compacts past a follower's
/// nextIndex while an AppendEntries is on its way to it: the next heartbeat
/// to that follower is an InstallSnapshot, overtaken on an unreliable
/// network by that AppendEntries and the next, which bring the follower
/// past it. A stream of commands keeps the leader compacting (every
/// `SNAPSHOT_INTERVAL` commands) and the followers a little behind; the
/// followers' services snapshot rarely (services choose when, e.g. by
/// size), so a follower's own snapshot is older than the leader's. In each
/// round one follower is also cut off for a while and catches up.
#[test]
fn stale_install_snapshot_2d() {
    run_test(3, true, true, |cfg, servers| async move {
        cfg.begin("Test (2D, beyond Go): a stale InstallSnapshot after catching up by log");
        const FOLLOWER_SNAPSHOT_EVERY: u64 = 97;
        let ledger = StartLedger::default();
        let mut cmds = Commands::starting_at(0);
        cmds.one(&cfg, servers).await;
        for _ in 0..12 {
            let leader = cfg.check_one_leader().await;
            for i in 0..servers {
                let every = if i == leader {
                    SNAPSHOT_INTERVAL
                } else {
                    FOLLOWER_SNAPSHOT_EVERY
                };
                cfg.set_snapshot_every(i, every);
            }
            let out = (leader + 1) % servers;
            cfg.disconnect(out);
            command_stream(&cfg, &ledger, &mut cmds, Duration::from_millis(500), 4).await;
            cfg.connect(out);
            command_stream(&cfg, &ledger, &mut cmds, Duration::from_millis(1500), 4).await;
            cmds.one(&cfg, servers).await;
        }
        cfg.set_unreliable(false);
        cmds.one(&cfg, servers).await;
    });
}
