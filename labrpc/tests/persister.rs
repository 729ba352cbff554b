//! The Persister keeps Go's semantics: atomic save of state and snapshot,
//! copies that are independent, and the crash model the harnesses use.

use labrpc::Persister;

#[test]
fn starts_empty() {
    let p = Persister::new();
    assert!(p.read_raft_state().is_empty());
    assert!(p.read_snapshot().is_empty());
    assert_eq!((p.raft_state_size(), p.snapshot_size()), (0, 0));
}

#[test]
fn save_replaces_both_together() {
    let p = Persister::new();
    p.save(b"state-1", b"snap-1");
    assert_eq!(p.read_raft_state(), b"state-1");
    assert_eq!(p.read_snapshot(), b"snap-1");
    p.save(b"state-22", b"");
    assert_eq!(p.read_raft_state(), b"state-22");
    assert!(
        p.read_snapshot().is_empty(),
        "save always replaces the snapshot too, as in Go"
    );
    assert_eq!((p.raft_state_size(), p.snapshot_size()), (8, 0));
}

#[test]
fn clones_share_copies_do_not() {
    let p = Persister::new();
    p.save(b"a", b"b");
    let shared = p.clone();
    let copy = p.copy();
    p.save(b"aa", b"bb");
    assert_eq!(shared.read_raft_state(), b"aa");
    assert_eq!(copy.read_raft_state(), b"a");
    copy.save(b"c", b"d");
    assert_eq!(p.read_raft_state(), b"aa");
}

/// The harness's crash: the crashed instance keeps the old persister, the
/// restarted one gets a copy; late writes by the crashed instance are lost.
#[test]
fn writes_after_a_crash_never_reach_the_restarted_instance() {
    let mut saved = Persister::new();
    let crashed_instance = saved.clone();
    crashed_instance.save(b"before crash", b"snap");
    saved = saved.copy(); // crash1: replace with a copy
    crashed_instance.save(b"zombie write", b"zombie snap");
    assert_eq!(saved.read_raft_state(), b"before crash");
    assert_eq!(saved.read_snapshot(), b"snap");
}

#[test]
fn reads_return_independent_buffers() {
    let p = Persister::new();
    p.save(b"xyz", b"");
    let mut read = p.read_raft_state();
    read[0] = b'!';
    assert_eq!(p.read_raft_state(), b"xyz");
}

/// `SavedState` is the same crash model, written once for every harness.
#[test]
fn saved_state_keeps_zombie_writes_out() {
    use labrpc::SavedState;
    let mut saved = SavedState::default();
    assert!(saved.persister().is_none());
    let first = saved.restart();
    assert!(first.read_raft_state().is_empty());
    first.save(b"term 3", b"snap");
    saved.crash();
    first.save(b"zombie", b"zombie");
    let second = saved.restart();
    assert_eq!(second.read_raft_state(), b"term 3");
    assert_eq!(second.read_snapshot(), b"snap");
    second.save(b"term 4", b"");
    assert_eq!(saved.persister().unwrap().read_raft_state(), b"term 4");
    assert_eq!((&saved).into_iter().count(), 1);
}
