//! Bad input: every failure is one clear line on stderr, a non-zero exit,
//! and nothing half-written. The tests are named `bad_input::<name>`.

use std::process::Command;
use std::time::Duration;

use libtest_mimic::Trial;

use crate::common::{
    MRCOORDINATOR, MRSEQUENTIAL, MRWORKER, PROCESS_LIMIT, Proc, QUICK_LINGER, Sandbox, run,
};

pub fn trials() -> Vec<Trial> {
    trials!("bad_input::";
        coordinator_rejects_a_missing_input,
        coordinator_rejects_a_directory_as_input,
        coordinator_rejects_a_bad_task_timeout,
        sequential_rejects_a_missing_input_and_writes_nothing,
        unknown_app_is_a_usage_error,
        a_live_coordinators_socket_is_not_taken_over,
        a_stale_socket_is_replaced,
        a_regular_file_at_the_socket_path_is_left_alone,
        a_worker_without_a_coordinator_exits_with_an_error,
        workers_exit_when_the_coordinator_dies_mid_job,
        a_worker_started_by_hand_can_be_killed_without_partial_output,
    )
}

fn tiny(name: &str) -> Sandbox {
    Sandbox::with_inputs(name, 2, 2_000)
}

fn assert_fails(status: std::process::ExitStatus, log: &str, expect: &str) {
    assert!(!status.success(), "should fail; stderr: {log}");
    assert!(
        log.contains(expect),
        "stderr should mention {expect:?}: {log}"
    );
}

fn coordinator_rejects_a_missing_input() {
    let sandbox = tiny("missing-input");
    let missing = sandbox.root().join("no-such-book.txt");
    let (status, log) = run(
        sandbox
            .command(MRCOORDINATOR)
            .arg(&sandbox.inputs[0])
            .arg(&missing),
        &sandbox.work,
    );
    assert_fails(status, &log, "no-such-book.txt");
    assert!(!sandbox.socket.exists(), "never started listening");
}

fn coordinator_rejects_a_directory_as_input() {
    let sandbox = tiny("dir-input");
    let (status, log) = run(
        sandbox.command(MRCOORDINATOR).arg(sandbox.root()),
        &sandbox.work,
    );
    assert_fails(status, &log, "not a regular file");
}

fn coordinator_rejects_a_bad_task_timeout() {
    let sandbox = tiny("bad-timeout");
    for (value, expect) in [
        ("10", "give a unit"),
        ("0s", "more than 0"),
        ("soon", "soon"),
    ] {
        let (status, log) = run(
            sandbox
                .command(MRCOORDINATOR)
                .args(["--task-timeout", value])
                .args(&sandbox.inputs),
            &sandbox.work,
        );
        assert_eq!(status.code(), Some(2), "clap's usage-error status: {log}");
        assert!(
            log.contains(expect),
            "stderr should mention {expect:?}: {log}"
        );
        assert!(!sandbox.socket.exists(), "never started listening");
    }
}

fn sequential_rejects_a_missing_input_and_writes_nothing() {
    let sandbox = tiny("seq-missing");
    let (status, log) = run(
        Command::new(MRSEQUENTIAL)
            .arg("wc")
            .arg(&sandbox.inputs[0])
            .arg("no-such-book.txt"),
        &sandbox.work,
    );
    assert_fails(status, &log, "no-such-book.txt");
    assert!(!sandbox.work.join("mr-out-0").exists());
}

fn unknown_app_is_a_usage_error() {
    let sandbox = tiny("unknown-app");
    for command in [
        Command::new(MRWORKER).arg("wordcount"),
        Command::new(MRSEQUENTIAL)
            .arg("wordcount")
            .arg(&sandbox.inputs[0]),
    ] {
        let (status, log) = run(command, &sandbox.work);
        assert_eq!(status.code(), Some(2), "clap's usage-error status: {log}");
        assert!(log.contains("unknown app \"wordcount\""), "{log}");
        assert!(
            log.contains("wc, indexer, mtiming"),
            "lists the apps: {log}"
        );
    }
    assert!(!sandbox.work.join("mr-out-0").exists());
}

fn a_live_coordinators_socket_is_not_taken_over() {
    let sandbox = tiny("socket-in-use");
    let first = sandbox.coordinator(PROCESS_LIMIT);
    let (status, log) = run(
        sandbox.command(MRCOORDINATOR).args(&sandbox.inputs),
        &sandbox.work,
    );
    assert_fails(status, &log, "in use by another running coordinator");
    // The first coordinator is undisturbed: its job still completes.
    completes_with_one_worker(&sandbox, first);
    assert!(!sandbox.socket.exists(), "removed on exit");
}

/// `coordinator`'s job, done by one wc worker: both succeed and the output
/// is mrsequential's.
fn completes_with_one_worker(sandbox: &Sandbox, mut coordinator: Proc) {
    let mut worker = sandbox.worker("wc", PROCESS_LIMIT);
    assert!(
        coordinator.wait().success(),
        "coordinator failed: {}",
        coordinator.log()
    );
    assert!(worker.wait().success(), "worker failed: {}", worker.log());
    assert_eq!(sandbox.output(), sandbox.sequential("wc"));
}

fn a_stale_socket_is_replaced() {
    let sandbox = tiny("stale-socket");
    // A socket file nobody listens on, left by a crashed coordinator (killed
    // with SIGKILL, so it removes nothing). Not made by binding a listener in
    // this process and dropping it: a process that another test spawns at
    // that moment holds a copy of the listener until its exec, and while it
    // does the socket is live (this test then failed, rarely, under load).
    let mut crashed = sandbox.coordinator(PROCESS_LIMIT);
    crashed.kill();
    assert!(sandbox.socket.exists());
    completes_with_one_worker(&sandbox, sandbox.coordinator(PROCESS_LIMIT));
}

fn a_regular_file_at_the_socket_path_is_left_alone() {
    let sandbox = tiny("not-a-socket");
    std::fs::write(&sandbox.socket, "precious").unwrap();
    let (status, log) = run(
        sandbox.command(MRCOORDINATOR).args(&sandbox.inputs),
        &sandbox.work,
    );
    assert_fails(status, &log, "not a socket");
    assert_eq!(
        std::fs::read_to_string(&sandbox.socket).unwrap(),
        "precious"
    );
}

fn a_worker_without_a_coordinator_exits_with_an_error() {
    let sandbox = tiny("no-coordinator");
    let (status, log) = run(sandbox.command(MRWORKER).arg("wc"), &sandbox.work);
    assert_fails(status, &log, "coordinator gone");
}

fn workers_exit_when_the_coordinator_dies_mid_job() {
    let sandbox = tiny("coordinator-dies");
    let mut coordinator = sandbox.coordinator(PROCESS_LIMIT);
    // jobcount maps take 0.5–1.25 s on a clock 4 times faster than Go's
    // (2–5 s): the worker is mid-task when the coordinator dies 300 ms after
    // the worker started (unless starting it took longer than that).
    let mut worker = sandbox.worker_with("jobcount", PROCESS_LIMIT, &["--app-speedup", "4"]);
    std::thread::sleep(Duration::from_millis(300));
    coordinator.kill();
    // The worker exits by itself, failing with the reason (a worker that
    // never noticed would be reported hung at PROCESS_LIMIT).
    let status = worker.wait();
    assert_fails(status, &worker.log(), "coordinator gone");
    let outputs: Vec<_> = std::fs::read_dir(&sandbox.work)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("mr-out"))
        .collect();
    assert!(outputs.is_empty(), "no partial output");
}

fn a_worker_started_by_hand_can_be_killed_without_partial_output() {
    // A worker killed at any moment leaves only temporary files behind, and
    // the job still finishes with another worker.
    let sandbox = Sandbox::with_inputs("kill-worker", 4, 200_000);
    // A short task timeout: the victim's task is handed out again after
    // 500 ms instead of 10 s; the scenario is the same.
    let mut coordinator = sandbox.coordinator_with(
        PROCESS_LIMIT,
        &["--task-timeout", "500ms", "--linger", QUICK_LINGER],
    );
    let mut victim: Proc = sandbox.worker("wc", PROCESS_LIMIT);
    std::thread::sleep(Duration::from_millis(150));
    victim.kill();
    let mut survivor = sandbox.worker("wc", PROCESS_LIMIT);
    assert!(
        coordinator.wait().success(),
        "coordinator failed: {}",
        coordinator.log()
    );
    survivor.wait();
    assert_eq!(sandbox.output(), sandbox.sequential("wc"));
}
