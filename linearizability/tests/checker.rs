//! Porcupine's inline test cases (register, zero-duration ties, empty history, timeout and
//! cancellation), plus the verbose information and the report on small histories.

use std::time::Duration;

use linearizability::models::kv::{KvInput, KvModel, KvOutput};
use linearizability::models::register::{RegisterInput, RegisterModel};
use linearizability::{
    CheckResult, Limits, Model, Operation, VERBOSE_FIRST_ROUND_STEPS, check_events,
    check_operations, check_operations_verbose, check_operations_verbose_limited,
    events_from_operations, render_html,
};

type RegOp = Operation<RegisterInput<i64>, i64>;

fn op(client_id: usize, input: RegisterInput<i64>, call: i64, output: i64, ret: i64) -> RegOp {
    Operation {
        client_id,
        input,
        call,
        output,
        return_time: ret,
    }
}

fn put(client: usize, value: i64, call: i64, ret: i64) -> RegOp {
    op(client, RegisterInput::Put(value), call, 0, ret)
}

fn get(client: usize, value: i64, call: i64, ret: i64) -> RegOp {
    op(client, RegisterInput::Get, call, value, ret)
}

/// Checks every history both as operations and as events: both must give `expected` (`why` says
/// what the history shows).
fn assert_verdicts(expected: CheckResult, cases: &[(&str, &[RegOp])]) {
    let model = RegisterModel::<i64>::new();
    for &(why, history) in cases {
        let by_ops = check_operations(&model, history, None);
        let events = events_from_operations(history);
        let by_events = check_events(&model, &events, None).unwrap();
        assert_eq!(by_ops, by_events, "operations and events disagree: {why}");
        assert_eq!(by_ops, expected, "{why}");
    }
}

/// The 6.824 (2017) quiz history: linearizable.
#[test]
fn register_ok() {
    let quiz = [put(0, 100, 0, 100), get(1, 100, 25, 75), get(2, 0, 30, 60)];
    assert_verdicts(CheckResult::Ok, &[("the quiz history", &quiz)]);
}

/// ...and its non-linearizable variant: the second read cannot see the old value.
#[test]
fn register_illegal() {
    let variant = [put(0, 200, 0, 100), get(1, 200, 10, 30), get(2, 0, 40, 90)];
    assert_verdicts(CheckResult::Illegal, &[("the quiz's variant", &variant)]);
}

/// Intervals are closed: an operation called at the instant another returns is concurrent with it.
#[test]
fn zero_duration_ties_are_concurrent() {
    let cases: [(&str, &[RegOp]); 3] = [
        (
            "the read at 10 may come before the put that returns at 10",
            &[put(0, 1, 0, 10), get(1, 0, 10, 10)],
        ),
        (
            "a read at the put's call instant may see it",
            &[put(0, 1, 0, 10), get(1, 1, 0, 0)],
        ),
        (
            "zero-length operations at one instant can go in either order",
            &[put(0, 1, 30, 30), get(1, 1, 30, 30), get(2, 0, 30, 30)],
        ),
    ];
    assert_verdicts(CheckResult::Ok, &cases);
}

#[test]
fn zero_duration_illegal() {
    let cases: [(&str, &[RegOp]); 2] = [
        (
            "once the put is seen at 0, a read at 10 cannot see the old value",
            &[get(1, 1, 0, 0), put(0, 1, 0, 10), get(2, 0, 10, 10)],
        ),
        (
            "strictly after the put returned",
            &[put(0, 1, 0, 5), get(1, 0, 10, 10)],
        ),
    ];
    assert_verdicts(CheckResult::Illegal, &cases);
}

#[test]
fn empty_history_is_ok() {
    assert_verdicts(CheckResult::Ok, &[("no operations", &[])]);
    // Zero partitions.
    assert_eq!(check_operations(&KvModel, &[], None), CheckResult::Ok);
    let (result, info) = check_operations_verbose(&KvModel, Vec::new(), None);
    assert_eq!(result, CheckResult::Ok);
    assert!(info.partitions.is_empty());
    assert!(render_html(&KvModel, &info).contains("0 operations"));
}

fn kv(
    client: usize,
    input: KvInput,
    call: i64,
    value: &str,
    ret: i64,
) -> Operation<KvInput, KvOutput> {
    let output = KvOutput {
        value: value.to_string(),
    };
    Operation {
        client_id: client,
        input,
        call,
        output,
        return_time: ret,
    }
}

/// A kv model whose steps on one key are slow, to make searches that outlast any test.
struct SlowKv {
    slow_key: &'static str,
    delay: Duration,
}

impl Model for SlowKv {
    type Input = KvInput;
    type Output = KvOutput;
    type State = String;

    fn init(&self) -> String {
        KvModel.init()
    }

    #[allow(clippy::disallowed_methods)] // allowed: a deliberately slow model, outside simulations
    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        if input.key == self.slow_key {
            std::thread::sleep(self.delay); // allowed: a deliberately slow model
        }
        KvModel.step(state, input, output)
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        KvModel.partition(history)
    }
}

/// On `key`: 30 concurrent appends and a read of something never written. Proving this illegal
/// means trying every order of the appends, which at a millisecond per step takes ages.
fn hopeless(key: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let mut history: Vec<_> = (0..30)
        .map(|c| kv(c, KvInput::append(key, format!("{c},")), 0, "", 100))
        .collect();
    history.push(kv(99, KvInput::get(key), 0, "never", 100));
    history
}

/// A quickly refuted history on `key`: a read after a completed put misses it.
fn quickly_illegal(key: &str) -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        kv(100, KvInput::put(key, "1"), 0, "", 10),
        kv(101, KvInput::get(key), 20, "2", 30),
    ]
}

fn slow_model() -> SlowKv {
    SlowKv {
        slow_key: "slow",
        delay: Duration::from_millis(1),
    }
}

#[allow(clippy::disallowed_methods)] // allowed: measures the checker's wall time, outside simulations
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = std::time::Instant::now(); // allowed: times the checker itself
    let value = f();
    (value, start.elapsed())
}

/// A hang guard, not a speed check (tests assert nothing about how fast
/// anything runs): the hopeless history takes practically forever to search
/// (30 concurrent appends, every order, 1 ms a step), so a check that came
/// back at all was stopped by its timeout or by an illegal partition. Only a
/// check that did not stop runs into this bound.
fn assert_stopped(elapsed: Duration) {
    assert!(
        elapsed < Duration::from_secs(60),
        "hung: the search was not stopped ({elapsed:?})"
    );
}

#[test]
fn timeout_gives_unknown_and_bounds_wall_time() {
    let history = hopeless("slow");
    let timeout = Duration::from_millis(100);
    let (result, elapsed) = timed(|| check_operations(&slow_model(), &history, Some(timeout)));
    assert_eq!(result, CheckResult::Unknown);
    assert!(
        elapsed >= timeout,
        "gave up before its timeout: {elapsed:?}"
    );
    assert_stopped(elapsed);
}

#[test]
fn timeout_verbose_gives_unknown() {
    let timeout = Duration::from_millis(50);
    let ((result, info), elapsed) =
        timed(|| check_operations_verbose(&slow_model(), hopeless("slow"), Some(timeout)));
    assert_eq!(result, CheckResult::Unknown);
    assert_stopped(elapsed);
    assert_eq!(info.partitions[0].result, CheckResult::Unknown);
}

/// An illegal partition stops a hopeless one: without cancellation this would not terminate.
#[test]
fn illegal_partition_cancels_the_others() {
    let mut history = hopeless("slow");
    history.extend(quickly_illegal("fast"));
    let (result, elapsed) = timed(|| check_operations(&slow_model(), &history, None));
    assert_eq!(result, CheckResult::Illegal);
    assert_stopped(elapsed);
}

/// Verbose mode lets the others search on to the end of the round's step budget, unless a timeout
/// strikes meanwhile; and Illegal wins over that timeout.
#[test]
fn illegal_beats_unknown() {
    let mut history = hopeless("slow");
    history.extend(quickly_illegal("fast"));
    let timeout = Some(Duration::from_millis(100));
    let ((result, info), elapsed) =
        timed(|| check_operations_verbose(&slow_model(), history, timeout));
    assert_eq!(result, CheckResult::Illegal);
    assert_stopped(elapsed);
    // Partitions come in key order: "fast", then "slow".
    let results: Vec<_> = info.partitions.iter().map(|p| p.result).collect();
    assert_eq!(results, [CheckResult::Illegal, CheckResult::Unknown]);
}

/// Verbose mode: once a partition is illegal, a hopeless one beside it stops after the first
/// round's step budget, not after some wall time, so the report and its picture are the same on
/// every run.
#[test]
fn an_illegal_verbose_check_reports_the_same_every_time() {
    let mut history = hopeless("a");
    history.extend(quickly_illegal("b"));
    let check = || check_operations_verbose(&KvModel, history.clone(), None);
    let (result, first) = check();
    assert_eq!(result, CheckResult::Illegal);
    let hopeless = &first.partitions[0];
    assert_eq!(
        (hopeless.result, hopeless.steps, hopeless.out_of_steps),
        (CheckResult::Unknown, VERBOSE_FIRST_ROUND_STEPS, false)
    );
    let (_, second) = check();
    assert_eq!(first.partitions, second.partitions);
    assert_eq!(
        render_html(&KvModel, &first),
        render_html(&KvModel, &second)
    );
}

/// A step budget: a hopeless partition stops after exactly that many steps (`Unknown`, out of
/// steps), a small one beside it still finishes with its own count, and an illegal one still wins.
#[test]
fn a_step_budget_gives_unknown_after_exactly_that_many_steps() {
    let mut history = hopeless("a");
    history.push(kv(0, KvInput::put("b", "1"), 0, "", 10));
    history.push(kv(1, KvInput::get("b"), 20, "1", 30));
    let budget = Limits::steps_per_partition(500);
    let (result, info) = check_operations_verbose_limited(&KvModel, history.clone(), budget);
    assert_eq!(result, CheckResult::Unknown);
    let parts: Vec<_> = info
        .partitions
        .iter()
        .map(|p| (p.result, p.steps, p.out_of_steps))
        .collect();
    assert_eq!(
        parts,
        [
            (CheckResult::Unknown, 500, true),
            (CheckResult::Ok, 2, false)
        ]
    );
    assert_eq!((info.steps(), info.max_partition_steps()), (502, 500));
    assert_eq!(info.out_of_steps(), 1);

    history.extend(quickly_illegal("c"));
    let (result, _) = check_operations_verbose_limited(&KvModel, history, budget);
    assert_eq!(result, CheckResult::Illegal);
}

/// The verbose information: a full linearization for an Ok partition, the longest partial one
/// for an illegal one, and `largest` pointing at sequences that contain the operation.
#[test]
fn verbose_partial_linearizations() {
    let mut history = vec![
        kv(0, KvInput::put("x", "a"), 0, "", 10),
        kv(1, KvInput::get("x"), 5, "a", 15),
        kv(2, KvInput::append("x", "b"), 12, "", 20),
    ];
    history.extend(quickly_illegal("y"));
    let (result, info) = check_operations_verbose(&KvModel, history, None);
    assert_eq!(result, CheckResult::Illegal);
    let [x, y] = &info.partitions[..] else {
        panic!("two keys, two partitions")
    };
    assert_eq!(x.result, CheckResult::Ok);
    assert_eq!(x.partial_linearizations[0], vec![0, 1, 2]);
    assert_eq!(y.result, CheckResult::Illegal);
    assert_eq!(y.partial_linearizations[0], vec![3]);
    for part in &info.partitions {
        for (op, &k) in &part.largest {
            assert!(part.partial_linearizations[k].contains(op));
        }
        let lengths: Vec<_> = part.partial_linearizations.iter().map(Vec::len).collect();
        assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "longest first");
    }
    let html = render_html(&KvModel, &info);
    assert!(html.contains("could not be linearized next: impossible from state"));
    assert!(html.contains("get(&quot;y&quot;) -&gt; &quot;2&quot;"));
    // One section per key, the failing key first (the page opens on it), both in the picker.
    let y = html
        .find("<section class=\"pview\" id=\"part1\"")
        .expect("key y's section");
    let x = html
        .find("<section class=\"pview\" id=\"part0\"")
        .expect("key x's section");
    assert!(y < x, "the illegal partition comes first");
    assert!(html.contains("class=\"pick illegal\" data-p=\"1\""));
    assert!(html.contains(">key &quot;x&quot;</a>"));
    // "Jump to first error" points at y's failed operation.
    let jump = html.find("id=\"first-error\"").unwrap();
    let target = &html[..jump];
    let op = target.rsplit("href=\"#op").next().unwrap();
    let op: usize = op[..op.find('"').unwrap()].parse().unwrap();
    assert_eq!(info.history[op].input.key, "y");
}

#[test]
fn html_is_written_to_a_file() {
    let (_, info) = check_operations_verbose(&KvModel, quickly_illegal("k"), None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    linearizability::write_html(&KvModel, &info, &path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let temp = linearizability::write_html_temp(&KvModel, &info).unwrap();
    assert_eq!(std::fs::read_to_string(&temp).unwrap(), html);
    std::fs::remove_file(temp).unwrap();
    // Self-contained: nothing is fetched.
    for fetch in ["src=", "<link", "href=\"http", "url("] {
        assert!(!html.contains(fetch), "{fetch}");
    }
}
