//! `kvstore-replica PORT ID OTHER_ID…`: the reference replica for
//! `kvstore-sim` (Raft via the `raft` crate's core, over UDP on 127.0.0.1).

use std::process::ExitCode;

use kvstore::protocol;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: kvstore-replica PORT ID OTHER_ID...";
    let Some((port, rest)) = args.split_first() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("{usage}: PORT must be a UDP port number, got {port:?}");
        return ExitCode::from(2);
    };
    let Some((id, others)) = rest.split_first() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    if !protocol::is_id(id) || !others.iter().all(|o| protocol::is_id(o)) {
        eprintln!("{usage}: IDs are 4 hex digits");
        return ExitCode::from(2);
    }
    // BEGIN SOLUTION
    match kvstore::replica::run_udp(port, id, others, kvstore::replica::Fault::None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replica {id}: {e}");
            ExitCode::FAILURE
        }
    }
    // HANDOUT
    // let _ = (port, id, others);
    // todo!("kvstore: the replica: bind 127.0.0.1, send hello to PORT, serve (docs/lab-kvstore.md)")
    // END SOLUTION
}
