//! The 2015 MapReduce's tests: MIT 6.824 Spring 2015's `test_test.go`
//! (TestBasic, TestOneFailure, TestManyFailures, with `check` and
//! `checkWorker`) and UCLA CS134's 2026 Assignment 1 (Part I word count,
//! Part IIA DoMap/DoReduce, Part IIB Basic/Parallelism, Part III
//! OneFailure/ManyFailures/Timeout), on labrpc's simulation with the 2015
//! network profile and virtual time. Every test prints its seed; a failure
//! prints the command that replays it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use labrpc::sim;
use labrpc::{Network, Profile};
use mapreduce::sim::MemStore;
use mapreduce::store::FileStore;
use mapreduce_2015::common::{ihash, map_name, merge_name, reduce_name, split_name};
use mapreduce_2015::files::{decode_file, do_map, do_reduce, encode, run_single};
use mapreduce_2015::master::{Done, MapReduce};
use mapreduce_2015::{App, KeyValue, run_worker};

/// Go's test constants.
const N_NUMBER: usize = 100_000;
const N_MAP: usize = 100;
const N_REDUCE: usize = 50;
/// The MIT test's input file (UCLA names it 134-mrinput.txt).
const INPUT: &str = "824-mrinput.txt";
const MASTER: &str = "mr-master";
/// Virtual time one file operation takes: a fast disk, so that a 5,000-file
/// job takes well under a virtual second per worker.
const IO_LATENCY: Duration = Duration::from_micros(100);

fn store() -> MemStore {
    MemStore::with_latency(IO_LATENCY)
}

fn net() -> Network {
    Network::with_profile(Profile::Go2015)
}

/// Go's test Map: every whitespace-separated word, with an empty value.
fn test_app() -> App {
    App::new(
        |value| {
            value
                .split_whitespace()
                .map(|w| KeyValue::new(w, ""))
                .collect()
        },
        |_, _| String::new(),
    )
}

/// Go's `makeInput`: the lines 0 .. N_NUMBER-1.
fn make_input(store: &MemStore) {
    let text: String = (0..N_NUMBER).map(|i| format!("{i}\n")).collect();
    store.insert(INPUT, text.into_bytes());
}

/// Go's `check`: the merged output holds every input line once, in string
/// order, and nothing else.
fn check(store: &MemStore) {
    let mut expected: Vec<String> = (0..N_NUMBER).map(|i| i.to_string()).collect();
    expected.sort();
    let output = store
        .get(&merge_name(INPUT))
        .expect("the merged output exists");
    let output = String::from_utf8(output).expect("UTF-8 output");
    let mut lines = 0;
    for (i, line) in output.lines().enumerate() {
        let key = line.split(": ").next().unwrap_or_default();
        let got: u64 = key.parse().unwrap_or_else(|_| panic!("line {i}: {line:?}"));
        let want: u64 = expected[i].parse().expect("a number");
        assert_eq!(got, want, "line {i} of the output");
        lines += 1;
    }
    assert_eq!(lines, N_NUMBER, "expected {N_NUMBER} lines in the output");
}

/// Go's `checkWorker`: every worker that was shut down did some job.
fn check_worker(counts: &[u64]) {
    assert!(!counts.is_empty(), "no worker reported its job count");
    for (i, &n) in counts.iter().enumerate() {
        assert_ne!(n, 0, "worker {i} did no job: {counts:?}");
    }
}

fn worker_name(i: usize) -> String {
    format!("mr-worker-{i}")
}

/// Starts the standard job (100 maps, 50 reduces over the numbers).
fn setup(net: &Network, store: &MemStore) -> (Arc<MapReduce>, Done) {
    make_input(store);
    MapReduce::start(net, store, N_MAP, N_REDUCE, INPUT, MASTER).expect("a valid job")
}

async fn wait_done(done: Done) -> Vec<u64> {
    done.await
        .expect("the master's node is never killed")
        .expect("the job succeeds")
}

// ---- MIT 2015 -------------------------------------------------------------

#[test]
fn basic_2015() {
    sim::run(async {
        let (net, store) = (net(), store());
        let (_mr, done) = setup(&net, &store);
        for i in 0..2 {
            run_worker(&net, &store, MASTER, &worker_name(i), test_app(), -1).await;
        }
        let counts = wait_done(done).await;
        check(&store);
        check_worker(&counts);
        assert_eq!(counts.len(), 2, "both workers were shut down: {counts:?}");
    });
}

/// MIT 2015's TestOneFailure (also the determinism test's run).
async fn one_failure() {
    let (net, store) = (net(), store());
    let (_mr, done) = setup(&net, &store);
    // Start 2 workers that fail after 10 jobs (the first) or never.
    run_worker(&net, &store, MASTER, &worker_name(0), test_app(), 10).await;
    run_worker(&net, &store, MASTER, &worker_name(1), test_app(), -1).await;
    let counts = wait_done(done).await;
    check(&store);
    check_worker(&counts);
}

#[test]
fn one_failure_2015() {
    sim::run(one_failure());
}

#[test]
fn many_failures_2015() {
    sim::run(async {
        let (net, store) = (net(), store());
        let (_mr, done) = setup(&net, &store);
        let mut done = std::pin::pin!(done);
        let mut i = 0;
        let counts = loop {
            // Every second, two new workers that each fail after 10 jobs.
            for _ in 0..2 {
                run_worker(&net, &store, MASTER, &worker_name(i), test_app(), 10).await;
                i += 1;
            }
            futures::select_biased! {
                result = (&mut done).fuse_done() => break result,
                () = futures::FutureExt::fuse(sim::sleep(Duration::from_secs(1))) => {}
            }
        };
        counts
            .expect("the master's node is never killed")
            .expect("the job succeeds");
        check(&store);
    });
}

/// `select!` needs fused futures; a small adapter for the job's handle.
trait FuseDone: std::future::Future + Sized {
    fn fuse_done(self) -> futures::future::Fuse<Self> {
        futures::FutureExt::fuse(self)
    }
}
impl<F: std::future::Future> FuseDone for F {}

// ---- UCLA 2026, Part I: word count ----------------------------------------

/// Runs wc sequentially (test-wc.sh: 5 maps, 3 reduces) over `text` and
/// returns the merged output as word → count.
async fn wc_counts(text: &str) -> BTreeMap<String, u64> {
    let store = store();
    store.insert("input.txt", text.as_bytes().to_vec());
    run_single(&store, &App::wc(), 5, 3, "input.txt")
        .await
        .expect("wc runs");
    let output = String::from_utf8(store.get(&merge_name("input.txt")).unwrap()).unwrap();
    output
        .lines()
        .map(|line| {
            let (word, count) = line.rsplit_once(": ").expect("`word: count` lines");
            (word.to_string(), count.parse().expect("a count"))
        })
        .collect()
}

/// Counts ASCII words the obvious way (the inputs below are ASCII).
fn ascii_counts(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_string()).or_default() += 1;
    }
    counts
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|&(w, n)| (w.to_string(), n)).collect()
}

#[test]
fn part1_small() {
    sim::run(async {
        let got = wc_counts("the quick brown fox jumps over the lazy dog; the end.\n").await;
        let want = counts(&[
            ("brown", 1),
            ("dog", 1),
            ("end", 1),
            ("fox", 1),
            ("jumps", 1),
            ("lazy", 1),
            ("over", 1),
            ("quick", 1),
            ("the", 3),
        ]);
        assert_eq!(got, want);
    });
}

#[test]
fn part1_random() {
    sim::run(async {
        // 5,000 words from a small vocabulary, random separators.
        let vocabulary = ["alpha", "beta", "gamma", "delta", "Epsilon", "zeta", "eta"];
        let separators = [" ", "  ", "\n", ", ", ". ", "\t", "--", "1"];
        let mut text = String::new();
        for _ in 0..5_000 {
            text.push_str(vocabulary[sim::gen_range(0..vocabulary.len())]);
            text.push_str(separators[sim::gen_range(0..separators.len())]);
        }
        assert_eq!(wc_counts(&text).await, ascii_counts(&text));
    });
}

#[test]
fn part1_single_word() {
    sim::run(async {
        assert_eq!(wc_counts("hello").await, counts(&[("hello", 1)]));
        assert_eq!(
            wc_counts("hello hello hello\n").await,
            counts(&[("hello", 3)])
        );
    });
}

#[test]
fn part1_case() {
    sim::run(async {
        // Words are case-sensitive, as in Go's wc.
        let got = wc_counts("Go go GO go\n").await;
        assert_eq!(got, counts(&[("GO", 1), ("Go", 1), ("go", 2)]));
    });
}

#[test]
fn part1_whitespace() {
    sim::run(async {
        let got = wc_counts("  \t\n  a \n\n\n b\t\tc   \r\n").await;
        assert_eq!(got, counts(&[("a", 1), ("b", 1), ("c", 1)]));
        assert!(wc_counts(" \n\t \n").await.is_empty());
    });
}

#[test]
fn part1_no_letters() {
    sim::run(async {
        assert!(
            wc_counts("123 456 !!! ... 7-8-9 __ ²³ ,;:\n")
                .await
                .is_empty()
        );
        assert!(wc_counts("").await.is_empty());
    });
}

/// The original checks the top entries of `sort -n -k2 | tail -10` on the
/// King James Bible; the text is not shipped, so a generated corpus stands
/// in, and its counts come from counting Lab 1's words directly.
#[test]
fn part1_top_n() {
    sim::run(async {
        let config = mrtools::corpus::CorpusConfig {
            files: 1,
            bytes_per_file: 300_000,
            seed: 12,
        };
        let (_, text) = mrtools::corpus::generate(&config).remove(0);
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for word in mapreduce::letters::words(&text) {
            *want.entry(word.to_string()).or_default() += 1;
        }
        let got = wc_counts(&text).await;
        assert_eq!(got, want, "every word's count");
        let top = |counts: &BTreeMap<String, u64>| {
            let mut v: Vec<(u64, String)> = counts.iter().map(|(w, &n)| (n, w.clone())).collect();
            v.sort();
            v.split_off(v.len().saturating_sub(10))
        };
        let top_got = top(&got);
        assert_eq!(top_got, top(&want));
        assert_eq!(top_got.last().map(|(_, w)| w.as_str()), Some("the"));
    });
}

// ---- UCLA 2026, Part IIA: DoMap and DoReduce ------------------------------

#[test]
fn part2a_do_map_partitioning() {
    sim::run(async {
        let store = store();
        let n_reduce = 3;
        let text = "apple banana cherry apple date elderberry fig grape banana\n";
        store.insert(&split_name("f", 0), text.as_bytes().to_vec());
        do_map(&store, &App::wc(), 0, "f", n_reduce)
            .await
            .expect("DoMap");
        let mut seen = Vec::new();
        for r in 0..n_reduce {
            let name = map_name("f", 0, r);
            let data = store.get(&name).unwrap_or_else(|| panic!("{name} exists"));
            for kv in decode_file(&name, &data).expect("JSON lines") {
                assert_eq!(
                    ihash(&kv.key) as usize % n_reduce,
                    r,
                    "{:?} belongs in partition {}",
                    kv.key,
                    ihash(&kv.key) as usize % n_reduce
                );
                assert_eq!(kv.value, "1");
                seen.push(kv.key);
            }
        }
        seen.sort();
        let mut want: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        want.sort();
        assert_eq!(seen, want, "every pair once, in its partition");
        let mut names = store.names();
        names.retain(|n| !n.starts_with(".tmp"));
        assert_eq!(
            names,
            [
                split_name("f", 0),
                map_name("f", 0, 0),
                map_name("f", 0, 1),
                map_name("f", 0, 2),
            ],
            "no extra file"
        );
    });
}

#[test]
fn part2a_do_reduce_aggregates_and_sorts() {
    sim::run(async {
        let store = store();
        let file = "g";
        // Two map jobs' output for reduce job 1, keys out of order.
        let lines = |pairs: &[(&str, &str)]| -> Vec<u8> {
            pairs
                .iter()
                .map(|&(k, v)| encode(&KeyValue::new(k, v)) + "\n")
                .collect::<String>()
                .into_bytes()
        };
        store.insert(
            &map_name(file, 0, 1),
            lines(&[("pear", "1"), ("apple", "1"), ("pear", "1")]),
        );
        store.insert(
            &map_name(file, 1, 1),
            lines(&[("zucchini", "1"), ("apple", "1"), ("mango", "1")]),
        );
        do_reduce(&store, &App::wc(), 1, file, 2)
            .await
            .expect("DoReduce");
        let name = reduce_name(file, 1);
        let got = decode_file(&name, &store.get(&name).expect("the reduce output")).unwrap();
        assert_eq!(
            got,
            [
                KeyValue::new("apple", "2"),
                KeyValue::new("mango", "1"),
                KeyValue::new("pear", "2"),
                KeyValue::new("zucchini", "1"),
            ],
            "one pair per key, counts aggregated, keys sorted"
        );
    });
}

// ---- UCLA 2026, Part IIB: the master ---------------------------------------

/// MIT 2015's TestBasic.
#[test]
fn part2b_basic() {
    basic_2015();
}

#[test]
fn part2b_parallelism() {
    sim::run(async {
        let (net, store) = (net(), store());
        let (_mr, done) = setup(&net, &store);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let app = {
            let base = test_app();
            let (running, most) = (running.clone(), most.clone());
            App {
                map: Arc::new(move |value: String| {
                    let (base, running, most) = (base.clone(), running.clone(), most.clone());
                    Box::pin(async move {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        sim::sleep(Duration::from_millis(10)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                        (base.map)(value).await
                    })
                }),
                reduce: test_app().reduce,
            }
        };
        for i in 0..2 {
            run_worker(&net, &store, MASTER, &worker_name(i), app.clone(), -1).await;
        }
        let counts = wait_done(done).await;
        check(&store);
        check_worker(&counts);
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 2,
            "at most {most} map call(s) ran at once; expected at least 2"
        );
    });
}

// ---- UCLA 2026, Part III: failures -----------------------------------------

/// MIT 2015's TestOneFailure.
#[test]
fn part3_one_failure() {
    one_failure_2015();
}

/// MIT 2015's TestManyFailures.
#[test]
fn part3_many_failures() {
    many_failures_2015();
}

/// A worker dies after 5 RPCs; a backup starts 3 s later. The job must wait
/// for the backup (not finish before it starts) and finish within 10 s.
#[test]
fn part3_timeout() {
    sim::run(async {
        let (net, store) = (net(), store());
        let start = sim::now();
        let (_mr, done) = setup(&net, &store);
        run_worker(&net, &store, MASTER, &worker_name(0), test_app(), 5).await;
        let backup_at = Arc::new(std::sync::Mutex::new(None));
        let (n, s, b) = (net.clone(), store.clone(), backup_at.clone());
        let backup = sim::spawn(async move {
            sim::sleep(Duration::from_secs(3)).await;
            *b.lock().unwrap() = Some(sim::now().duration_since(start));
            run_worker(&n, &s, MASTER, &worker_name(1), test_app(), -1).await;
        });
        let _counts = wait_done(done).await;
        let finished = sim::now().duration_since(start);
        backup.await.expect("the test's own task");
        let backup_at = backup_at.lock().unwrap().expect("the backup started");
        assert!(
            finished >= backup_at,
            "the job finished at {finished:?}, before the backup worker started at {backup_at:?}"
        );
        assert!(
            finished <= Duration::from_secs(10),
            "the job took {finished:?}, more than 10 s"
        );
        check(&store);
    });
}

// ---- Determinism and bad input ---------------------------------------------

/// A run is a function of its seed.
#[test]
fn same_seed_same_run() {
    labtest::run::assert_same_run(11, one_failure);
}

#[test]
fn bad_input_is_a_clear_error() {
    sim::run(async {
        let (net, store) = (net(), store());
        let Err(err) = MapReduce::start(&net, &store, 0, N_REDUCE, INPUT, MASTER) else {
            panic!("nMap = 0 was accepted");
        };
        assert!(
            err.to_string()
                .contains("nMap and nReduce must be at least 1"),
            "{err}"
        );
        let err = run_single(&store, &App::wc(), 5, 3, "no-such-file.txt")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no-such-file.txt"), "{err}");
        // A corrupt intermediate file names itself.
        store.insert(&map_name("h", 0, 0), b"{not json\n".to_vec());
        let err = do_reduce(&store, &App::wc(), 0, "h", 1).await.unwrap_err();
        assert!(err.to_string().contains(&map_name("h", 0, 0)), "{err}");
        // Nothing was lost: a good job still runs in the same store.
        store.insert("ok.txt", b"a b a\n".to_vec());
        run_single(&store, &App::wc(), 2, 2, "ok.txt")
            .await
            .expect("a good job");
        let out = store.get(&merge_name("ok.txt")).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a: 2\nb: 1\n");
        let _ = store.list().await;
    });
}
