//! Porcupine's public histories (102 Jepsen etcd logs, 6 kv logs) against the verdicts its own tests
//! expect (`EXPECTED.tsv`). The data lives outside the repository, in `../shared/porcupine`; where it
//! is absent (a fresh clone), the build script leaves the `porcupine_data` cfg unset and every test
//! here is `#[ignore]`d with that reason, so the runner says `ignored, needs ../shared/porcupine`
//! instead of a misleading `ok`.

use std::path::{Path, PathBuf};

use linearizability::models::etcd::EtcdModel;
use linearizability::models::kv::{KvInput, KvModel, KvOutput, KvUnpartitionedModel};
use linearizability::parse::{read_jepsen, read_kv};
use linearizability::{CheckResult, Model, check_events, check_events_verbose, render_html};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/porcupine");

/// The data folder, or `None` if this checkout does not have it. That only happens when the
/// ignored tests are run anyway (`--include-ignored`, as dstest does): then the test says so on the
/// real stderr, which libtest does not capture, and passes.
fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(DATA);
    if dir.join("EXPECTED.tsv").is_file() {
        return Some(dir.to_path_buf());
    }
    if cfg!(porcupine_data) {
        panic!("{DATA}/EXPECTED.tsv is gone since the build; rebuild to skip these tests");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {DATA} is absent; this Porcupine data test checked nothing"
    );
    None
}

/// (file, expected verdict) rows of EXPECTED.tsv for one model, or `None` without the data (see
/// [`data_dir`]); rows whose expectation is neither ok nor illegal (the empty etcd_095, which
/// Porcupine does not test) are left out.
fn expected(model: &str) -> Option<Vec<(PathBuf, CheckResult)>> {
    let dir = data_dir()?;
    let table = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    let rows = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let verdict = match *fields.get(2)? {
                "ok" => CheckResult::Ok,
                "illegal" => CheckResult::Illegal,
                _ => return None,
            };
            (fields[1] == model).then(|| (dir.join(fields[0]), verdict))
        })
        .collect();
    Some(rows)
}

/// The row of EXPECTED.tsv for the file of `model` whose path ends in `file`, or `None` without
/// the data.
fn case(model: &str, file: &str) -> Option<(PathBuf, CheckResult)> {
    let row = expected(model)?
        .into_iter()
        .find(|(f, _)| f.ends_with(file));
    Some(row.expect("listed in EXPECTED.tsv"))
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn etcd_histories_match_porcupine() {
    let Some(cases) = expected("etcd") else {
        return;
    };
    assert_eq!(cases.len(), 102);
    let ok = cases.iter().filter(|(_, v)| *v == CheckResult::Ok).count();
    assert_eq!(ok, 23, "EXPECTED.tsv should list 23 linearizable etcd logs");
    for (file, verdict) in cases {
        let events = read_jepsen(&file).unwrap();
        let result = check_events(&EtcdModel, &events, None).unwrap();
        assert_eq!(result, verdict, "{}", file.display());
    }
}

fn check_kv<M: Model<Input = KvInput, Output = KvOutput>>(model: &M, name: &str) {
    let Some((file, verdict)) = case("kv", &format!("kv/{name}.txt")) else {
        return;
    };
    let events = read_kv(&file).unwrap();
    let result = check_events(model, &events, None).unwrap();
    assert_eq!(result, verdict, "{}", file.display());
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_1_client_ok() {
    check_kv(&KvModel, "c01-ok");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_1_client_bad() {
    check_kv(&KvModel, "c01-bad");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_10_clients_ok() {
    check_kv(&KvModel, "c10-ok");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_10_clients_bad() {
    check_kv(&KvModel, "c10-bad");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_50_clients_ok() {
    check_kv(&KvModel, "c50-ok");
}

/// Needs the partitions searched concurrently with cancel-on-first-illegal: some partitions of
/// this history do not finish in any reasonable time on their own.
#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_50_clients_bad() {
    check_kv(&KvModel, "c50-bad");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_no_partition_1_client_ok() {
    check_kv(&KvUnpartitionedModel, "c01-ok");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_no_partition_1_client_bad() {
    check_kv(&KvUnpartitionedModel, "c01-bad");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn kv_no_partition_10_clients_ok() {
    check_kv(&KvUnpartitionedModel, "c10-ok");
}

#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
#[cfg_attr(
    porcupine_data,
    ignore = "the slowest case: 2 s of CPU in a debug build (7 s wall on a busy 2-core box); run with --ignored"
)]
fn kv_no_partition_10_clients_bad() {
    check_kv(&KvUnpartitionedModel, "c10-bad");
}

/// The report of a real failure renders, and names the failing partition.
#[test]
#[cfg_attr(
    not(porcupine_data),
    ignore = "needs ../shared/porcupine (absent in this checkout)"
)]
fn etcd_070_report_renders() {
    let Some((file, verdict)) = case("etcd", "jepsen/etcd_070.log") else {
        return;
    };
    assert_eq!(
        verdict,
        CheckResult::Illegal,
        "Porcupine's large picture is of a failure"
    );
    let events = read_jepsen(&file).unwrap();
    let (result, info) = check_events_verbose(&EtcdModel, &events, None).unwrap();
    assert_eq!(result, CheckResult::Illegal);
    let longest = &info.partitions[0].partial_linearizations[0];
    assert!(!longest.is_empty() && longest.len() < info.history.len());
    let html = render_html(&EtcdModel, &info);
    assert!(html.contains("Illegal"));
}
