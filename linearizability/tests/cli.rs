//! The `lincheck` binary: verdict lines, exit status, errors naming file and line, HTML output.

use std::path::Path;
use std::process::{Command, Output};

fn lincheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(args)
        .output()
        .expect("lincheck runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const KV_OK: &str = "{:process 0, :type :invoke, :f :put, :key \"1\", :value \"a\"}\n\
                     {:process 0, :type :ok, :f :put, :key \"1\", :value \"a\"}\n\
                     {:process 1, :type :invoke, :f :get, :key \"1\", :value nil}\n\
                     {:process 1, :type :ok, :f :get, :key \"1\", :value \"a\"}\n";

const ETCD_BAD: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                        INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                        INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                        INFO  jepsen.util - 1\t:ok\t:read\tnil\n";

#[test]
fn prints_one_verdict_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(dir.path(), "ok.txt", KV_OK);
    let out = lincheck(&["--model", "kv", &ok, &ok]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, format!("{ok}: Ok\n{ok}: Ok\n"));

    let bad = write(dir.path(), "bad.log", ETCD_BAD);
    let out = lincheck(&["--model", "etcd", "--timeout", "5", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{bad}: Illegal\n")
    );
}

#[test]
fn malformed_input_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(
        dir.path(),
        "broken.txt",
        &format!("{KV_OK}{{:process 2, :type :invoke\n"),
    );
    let ok = write(dir.path(), "ok.txt", KV_OK);
    let out = lincheck(&["--model", "kv", &broken, &ok]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(&format!("{broken}:5: ")), "{stderr}");
    // The other file is still checked.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{ok}: Ok\n")
    );

    let missing = dir.path().join("missing.log");
    let out = lincheck(&["--model", "etcd", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("missing.log")
    );
}

#[test]
fn empty_history_is_an_error_not_ok() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.txt", "");
    let ok = write(dir.path(), "ok.txt", KV_OK);
    let out = lincheck(&["--model", "kv", &empty, &ok]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{empty}: the history has no operations")),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{ok}: Ok\n"),
        "only the non-empty file gets a verdict"
    );
}

#[test]
fn writes_html_reports() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.log", ETCD_BAD);
    let single = dir.path().join("one.html");
    let out = lincheck(&["--model", "etcd", "--html", single.to_str().unwrap(), &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        std::fs::read_to_string(&single)
            .unwrap()
            .contains("Illegal")
    );

    let ok = write(dir.path(), "ok.txt", KV_OK);
    let reports = dir.path().join("reports");
    let out = lincheck(&[
        "--model",
        "kv",
        "--html",
        reports.to_str().unwrap(),
        &ok,
        &ok,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(reports.join("ok.txt.html").is_file());
}
