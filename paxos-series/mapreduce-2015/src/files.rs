//! The file side of a job: Split, DoMap, DoReduce, Merge, RunSingle (Go's
//! `mapreduce.go`).
//!
//! Intermediate and reduce files hold one JSON object per line, a
//! [`KeyValue`], as Go's `json.Encoder` writes them. Every file goes through
//! Lab 1's [`FileStore`], so the same code runs on the in-memory store of the
//! simulation; a write is atomic (temporary file, then rename), so a job done
//! twice, by a worker that was thought dead and one that replaced it, leaves
//! one complete file.

use std::collections::BTreeMap;

use mapreduce::store::FileStore;

use crate::common::{App, Error, KeyValue, ihash, map_name, merge_name, reduce_name, split_name};

/// Go's `Split`: cuts `file` at line boundaries into `n_map` pieces of about
/// equal size, `mrtmp.<file>-0` … `mrtmp.<file>-<n_map - 1>` (some may be
/// empty when the file has few lines).
pub async fn split<S: FileStore>(store: &S, file: &str, n_map: usize) -> Result<(), Error> {
    check_counts(n_map, 1)?;
    let data = store.read(file).await?;
    let text = String::from_utf8(data).map_err(|e| Error::Corrupt {
        name: file.to_string(),
        reason: format!("not UTF-8: {e}"),
    })?;
    let chunk = text.len() / n_map + 1;
    let mut pieces = vec![String::new(); n_map];
    let mut written = 0;
    let mut current = 0;
    for line in text.lines() {
        if written > chunk * (current + 1) && current + 1 < n_map {
            current += 1;
        }
        pieces[current].push_str(line);
        pieces[current].push('\n');
        written += line.len() + 1;
    }
    for (m, piece) in pieces.into_iter().enumerate() {
        store
            .write_atomic(&split_name(file, m), piece.into_bytes())
            .await?;
    }
    Ok(())
}

/// Map job `job` of `file`: reads its split `mrtmp.<file>-<job>`, maps it and
/// writes `n_reduce` files `mrtmp.<file>-<job>-<r>`, pair `kv` into file
/// `ihash(kv.key) % n_reduce` (every file, even an empty one).
pub async fn do_map<S: FileStore>(
    store: &S,
    app: &App,
    job: usize,
    file: &str,
    n_reduce: usize,
) -> Result<(), Error> {
    check_counts(1, n_reduce)?;
    // BEGIN SOLUTION
    let name = split_name(file, job);
    let data = store.read(&name).await?;
    let value = String::from_utf8_lossy(&data).into_owned();
    let pairs = (app.map)(value).await;
    let mut buckets = vec![String::new(); n_reduce];
    for kv in &pairs {
        let r = ihash(&kv.key) as usize % n_reduce;
        buckets[r].push_str(&encode(kv));
        buckets[r].push('\n');
    }
    for (r, bucket) in buckets.into_iter().enumerate() {
        store
            .write_atomic(&map_name(file, job, r), bucket.into_bytes())
            .await?;
    }
    Ok(())
    // HANDOUT
    // let _ = (store, app, job, file, ihash, map_name, encode);
    // todo!("P1: DoMap")
    // END SOLUTION
}

/// Reduce job `job` of `file`: reads `mrtmp.<file>-<m>-<job>` of every map
/// job `m < n_map`, groups the values by key, and writes
/// `mrtmp.<file>-res-<job>`: one `KeyValue { key, reduce(key, values) }` per
/// key, keys sorted.
pub async fn do_reduce<S: FileStore>(
    store: &S,
    app: &App,
    job: usize,
    file: &str,
    n_map: usize,
) -> Result<(), Error> {
    check_counts(n_map, 1)?;
    // BEGIN SOLUTION
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in 0..n_map {
        let name = map_name(file, m, job);
        for kv in decode_file(&name, &store.read(&name).await?)? {
            groups.entry(kv.key).or_default().push(kv.value);
        }
    }
    let mut out = String::new();
    for (key, values) in &groups {
        let value = (app.reduce)(key, values);
        out.push_str(&encode(&KeyValue::new(key.clone(), value)));
        out.push('\n');
    }
    store
        .write_atomic(&reduce_name(file, job), out.into_bytes())
        .await?;
    Ok(())
    // HANDOUT
    // let _ = (store, app, job, file, n_map, decode_file);
    // todo!("P1: DoReduce")
    // END SOLUTION
}

/// Go's `Merge`: reads every `mrtmp.<file>-res-<r>` and writes `mrtmp.<file>`,
/// one `key: value` line per key, keys sorted (bytewise, as Go's
/// `sort.Strings`).
pub async fn merge<S: FileStore>(store: &S, file: &str, n_reduce: usize) -> Result<(), Error> {
    check_counts(1, n_reduce)?;
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    for r in 0..n_reduce {
        let name = reduce_name(file, r);
        for kv in decode_file(&name, &store.read(&name).await?)? {
            all.insert(kv.key, kv.value);
        }
    }
    let mut out = String::new();
    for (key, value) in &all {
        out.push_str(key);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    store
        .write_atomic(&merge_name(file), out.into_bytes())
        .await?;
    Ok(())
}

/// Go's `RunSingle`: the whole job in one place, no master, no workers.
pub async fn run_single<S: FileStore>(
    store: &S,
    app: &App,
    n_map: usize,
    n_reduce: usize,
    file: &str,
) -> Result<(), Error> {
    check_counts(n_map, n_reduce)?;
    split(store, file, n_map).await?;
    for m in 0..n_map {
        do_map(store, app, m, file, n_reduce).await?;
    }
    for r in 0..n_reduce {
        do_reduce(store, app, r, file, n_map).await?;
    }
    merge(store, file, n_reduce).await
}

/// nMap and nReduce must be positive (a zero would divide by zero or leave
/// keys nowhere to go).
pub fn check_counts(n_map: usize, n_reduce: usize) -> Result<(), Error> {
    if n_map == 0 || n_reduce == 0 {
        return Err(Error::BadJob(format!(
            "nMap and nReduce must be at least 1 (got nMap {n_map}, nReduce {n_reduce})"
        )));
    }
    Ok(())
}

/// One pair as one line of JSON.
pub fn encode(kv: &KeyValue) -> String {
    serde_json::to_string(kv).expect("a pair of strings always encodes")
}

/// The pairs of a file of JSON lines; an error names the file and the line.
pub fn decode_file(name: &str, data: &[u8]) -> Result<Vec<KeyValue>, Error> {
    let text = std::str::from_utf8(data).map_err(|e| Error::Corrupt {
        name: name.to_string(),
        reason: format!("not UTF-8: {e}"),
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| Error::Corrupt {
                name: name.to_string(),
                reason: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}
