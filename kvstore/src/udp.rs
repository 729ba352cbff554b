//! The real-process driver: runs a [`Simulator`] against N copies of a replica
//! program, over UDP on 127.0.0.1, in real time.
//!
//! As in Gen D, the simulator binds one socket per replica (ephemeral port)
//! and starts the program as `PROGRAM port id other_id…`; the replica's
//! address is the source of its `hello` on that socket. Every datagram that
//! arrives on replica *i*'s socket is replica *i*'s, whatever its `src` says.
//!
//! Hostile replicas cannot crash or stall the driver: datagrams of any
//! content go to the simulator's total parser; each socket is read at most
//! [`MAX_READS_PER_PASS`] times per pass so a flood cannot starve the others
//! (and ends the run at `max_packets`); sends never block (a full socket
//! buffer is counted `blocked`); a replica that exits is noticed within
//! [`EXIT_POLL`]. Each replica runs in its own process group, and
//! [`Cluster`]'s `Drop` sends the group SIGTERM, then SIGKILL to any that
//! lingers, and reaps them: on a normal end, on an error, on a failed start,
//! on a panic, and (via the interrupt flag the binary sets on Ctrl-C) on an
//! interrupt. No temporary files are created.

#![allow(clippy::disallowed_methods)] // allowed: real processes and real time, not a simulation

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::config::Config;
use crate::protocol::{self, MAX_DATAGRAM_BYTES};
use crate::report::Verdict;
use crate::sim::{Action, Simulator};

/// Datagrams read from one socket before the others get their turn.
pub const MAX_READS_PER_PASS: usize = 256;

/// How often the driver checks whether a replica process has exited.
pub const EXIT_POLL: Duration = Duration::from_millis(50);

/// How long a replica may take to exit after SIGTERM before SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_millis(500);

/// Why a run could not be carried out (a replica's misbehaviour is never an
/// error: it is judged).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot bind a UDP socket on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("cannot start replica {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot wait for the sockets: {0}")]
    Poll(nix::Error),
    #[error("interrupted")]
    Interrupted,
}

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The replica program.
    pub replica: PathBuf,
    /// Don't echo the replicas' stdout/stderr.
    pub silence: bool,
    /// Show a progress line on stderr (only if it is a terminal).
    pub progress: bool,
}

/// The replica processes of one run. Dropping it ends them all.
pub struct Cluster {
    children: Vec<Option<Child>>,
}

impl Cluster {
    /// Starts `program` once per replica of `sim`, the i-th told the port of
    /// `ports[i]`. On failure, the ones already started are ended.
    fn start(
        program: &Path,
        sim: &Simulator,
        ports: &[u16],
        silence: bool,
        started: Instant,
    ) -> Result<Cluster, RunError> {
        let mut cluster = Cluster {
            children: Vec::new(),
        };
        for (i, port) in ports.iter().enumerate() {
            let mut command = Command::new(program);
            command
                .arg(port.to_string())
                .args(sim.replica_args(i))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0);
            let mut child = command.spawn().map_err(|source| RunError::Spawn {
                program: program.display().to_string(),
                source,
            })?; // `cluster` drops here on error, ending the others
            let id = sim.ids()[i].clone();
            if let Some(out) = child.stdout.take() {
                echo(out, id.clone(), silence, started);
            }
            if let Some(err) = child.stderr.take() {
                echo(err, id, silence, started);
            }
            cluster.children.push(Some(child));
        }
        Ok(cluster)
    }

    /// SIGTERM to replica `i`'s process group (it is reaped at the end).
    fn terminate(&mut self, i: usize) {
        if let Some(Some(child)) = self.children.get(i) {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        }
    }

    /// Replicas whose process has exited since the last call.
    fn exited(&mut self) -> Vec<usize> {
        let mut gone = Vec::new();
        for (i, slot) in self.children.iter_mut().enumerate() {
            if let Some(child) = slot
                && let Ok(Some(_)) = child.try_wait()
            {
                // Its group may live on (a shell wrapper's children).
                let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                *slot = None;
                gone.push(i);
            }
        }
        gone
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let groups: Vec<Pid> = self
            .children
            .iter()
            .flatten()
            .map(|c| Pid::from_raw(c.id() as i32))
            .collect();
        for &pid in &groups {
            let _ = killpg(pid, Signal::SIGTERM);
        }
        let deadline = Instant::now() + TERM_GRACE;
        for child in self.children.iter_mut().flatten() {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // Whatever is left (or was left behind in a group) is killed.
        for &pid in &groups {
            let _ = killpg(pid, Signal::SIGKILL);
        }
        for child in self.children.iter_mut().flatten() {
            let _ = child.wait();
        }
    }
}

/// Echoes a replica's output as `[secs  Replica id]: line`, on a thread that
/// ends when the pipe closes (an OS thread is fine: this is real time).
fn echo<R: std::io::Read + Send + 'static>(pipe: R, id: String, silence: bool, started: Instant) {
    std::thread::spawn(move || {
        let reader = BufReader::new(pipe);
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            if !silence {
                let text = String::from_utf8_lossy(&line);
                println!(
                    "[{:10.6}  Replica {id}]: {text}",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    });
}

/// Runs config `name` with `seed`. Returns the verdict, or an error if the
/// run could not be done (then every started replica has been ended).
pub fn run(
    name: &str,
    config: &Config,
    seed: u64,
    options: &Options,
    interrupted: &AtomicBool,
) -> Result<Verdict, RunError> {
    let mut sim = Simulator::new(config.clone(), seed);
    let n = config.replicas;
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(RunError::Bind)?;
        socket.set_nonblocking(true).map_err(RunError::Bind)?;
        sockets.push(Some(socket));
    }
    let ports: Vec<u16> = sockets
        .iter()
        .flatten()
        .map(|s| s.local_addr().map(|a| a.port()).unwrap_or(0))
        .collect();
    let mut addrs: Vec<Option<SocketAddr>> = vec![None; n];
    let started = Instant::now();
    let mut cluster = Cluster::start(&options.replica, &sim, &ports, options.silence, started)?;
    let show_progress = options.progress && std::io::stderr().is_terminal();
    let mut last_exit_poll = Instant::now();
    let mut last_progress = Instant::now();
    let mut buf = vec![0u8; MAX_DATAGRAM_BYTES + 1];

    loop {
        if interrupted.load(Ordering::SeqCst) {
            return Err(RunError::Interrupted);
        }
        let now = started.elapsed();
        sim.tick(now);
        perform(&mut sim, &mut sockets, &addrs, &mut cluster);
        if sim.ended().is_some() {
            break;
        }
        if last_exit_poll.elapsed() >= EXIT_POLL {
            last_exit_poll = Instant::now();
            for i in cluster.exited() {
                sim.replica_exited(i, started.elapsed());
                sockets[i] = None;
            }
            perform(&mut sim, &mut sockets, &addrs, &mut cluster);
        }
        if show_progress && last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            let s = sim.stats();
            eprint!(
                "\r  {name}: {:5.1}s of {:.0}s, requests {}/{}, msgs {}   ",
                now.as_secs_f64(),
                config.end().as_secs_f64(),
                sim.requests_issued(),
                config.requests,
                s.total_msgs
            );
            let _ = std::io::stderr().flush();
        }

        // Wait for a datagram, the next deadline, or the next exit poll.
        let wait = sim
            .next_deadline()
            .saturating_sub(started.elapsed())
            .min(Duration::from_millis(10));
        let live: Vec<usize> = (0..n).filter(|&i| sockets[i].is_some()).collect();
        let mut fds: Vec<PollFd> = live
            .iter()
            .map(|&i| {
                let socket = sockets[i].as_ref().expect("filtered on is_some");
                PollFd::new(socket.as_fd(), PollFlags::POLLIN)
            })
            .collect();
        let timeout = PollTimeout::try_from(wait.as_millis() as u64).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(RunError::Poll(e)),
        }
        let ready: Vec<usize> = live
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(&i, _)| i)
            .collect();
        drop(fds);
        for i in ready {
            for _ in 0..MAX_READS_PER_PASS {
                let Some(socket) = sockets[i].as_ref() else {
                    break;
                };
                let (len, from) = match socket.recv_from(&mut buf) {
                    Ok(x) => x,
                    Err(_) => break, // WouldBlock, or an ICMP error: nothing to read
                };
                let datagram = &buf[..len];
                if addrs[i].is_none() && is_hello(datagram, &sim.ids()[i]) {
                    addrs[i] = Some(from);
                }
                sim.on_datagram(i, datagram, started.elapsed());
                perform(&mut sim, &mut sockets, &addrs, &mut cluster);
                if sim.ended().is_some() {
                    break;
                }
            }
        }
    }
    if show_progress {
        eprint!("\r{:70}\r", "");
    }
    drop(cluster);
    Ok(Verdict::judge(name, seed, config, sim.stats()))
}

fn is_hello(datagram: &[u8], id: &str) -> bool {
    protocol::parse_envelope(datagram).is_ok_and(|m| m.kind == "hello" && m.src == id)
}

fn perform(
    sim: &mut Simulator,
    sockets: &mut [Option<UdpSocket>],
    addrs: &[Option<SocketAddr>],
    cluster: &mut Cluster,
) {
    for action in sim.take_actions() {
        match action {
            Action::Deliver { to, payload } => {
                let (Some(socket), Some(addr)) = (&sockets[to], addrs[to]) else {
                    continue;
                };
                match socket.send_to(&payload, addr) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => sim.count_blocked(),
                    Err(_) => {} // ECONNREFUSED from an earlier send: it is exiting
                }
            }
            Action::Kill { replica } => {
                cluster.terminate(replica);
                sockets[replica] = None;
            }
        }
    }
}
