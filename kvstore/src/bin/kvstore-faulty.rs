//! `kvstore-faulty PORT ID OTHER_ID…`: a test program, the reference replica
// SOLUTION FILE
//! with a deliberate bug, for testing the simulator's judge. The bug is named
//! by the environment variable `KVSTORE_FAULT` (see
//! `kvstore::replica::Fault::parse`: `local-gets`, `lose-acked-puts`,
//! `answer-retired`, `duplicate-ok`, `malformed-json`, `no-hello`,
//! `non-utf8`, `unknown-dst`, `flood`, `exit`, `hang`) and applies to the
//! replicas listed in `KVSTORE_FAULT_IDS` (comma-separated; default: all).
//! With `KVSTORE_PID_DIR` set, each writes its process ID to `DIR/ID.pid`.

use std::process::ExitCode;

use kvstore::protocol;
use kvstore::replica::{Fault, run_udp};

#[allow(clippy::disallowed_methods)] // allowed: a real process, told its fault by the tests through its environment
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: kvstore-faulty PORT ID OTHER_ID...");
        return ExitCode::from(2);
    }
    let name = std::env::var("KVSTORE_FAULT").unwrap_or_default();
    let Some(fault) = Fault::parse(&name) else {
        eprintln!("kvstore-faulty: unknown KVSTORE_FAULT {name:?}");
        return ExitCode::from(2);
    };
    let id = &args[1];
    let applies = match std::env::var("KVSTORE_FAULT_IDS") {
        Ok(ids) if !ids.is_empty() => ids.split(',').any(|i| i == id),
        _ => true,
    };
    let fault = if applies { fault } else { Fault::None };
    let Ok(port) = args[0].parse::<u16>() else {
        eprintln!("kvstore-faulty: bad port {:?}", args[0]);
        return ExitCode::from(2);
    };
    if !protocol::is_id(id) {
        eprintln!("kvstore-faulty: bad id {id:?}");
        return ExitCode::from(2);
    }
    // Lets a test check that the simulator ended this process.
    if let Ok(dir) = std::env::var("KVSTORE_PID_DIR") {
        let path = std::path::Path::new(&dir).join(format!("{id}.pid"));
        if let Err(e) = std::fs::write(&path, std::process::id().to_string()) {
            eprintln!("kvstore-faulty: cannot write {}: {e}", path.display());
        }
    }
    match run_udp(port, id, &args[2..], fault) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replica {id}: {e}");
            ExitCode::FAILURE
        }
    }
}
