//! Process CPU time, for the benchmarks' "per CPU-second" figures (the network's
//! benchmark in labtest/benches and kvraft's use it; it is not part of any lab's API).
//!
//! The benchmarks report work per second of CPU time rather than of wall
//! time, so the figure does not depend on what else the (shared, two-core)
//! machine is doing. Read from `/proc/self/stat` (Linux): user plus system
//! time, in clock ticks of 10 ms. Elsewhere it reads zero.

use std::time::Duration;

/// CPU time (user + system) this process has used so far.
pub fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the ")" that closes the command name start at field 3
    // (the state); utime and stime are fields 14 and 15, so indexes 11, 12.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    const TICK_MS: u64 = 10;
    Duration::from_millis((field(11) + field(12)) * TICK_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return; // not Linux: nothing to measure
        }
        let before = process_cpu_time();
        let mut x: u64 = 1;
        let start = before;
        while process_cpu_time() < start + Duration::from_millis(30) {
            for i in 0..1_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        assert!(process_cpu_time() > before);
    }
}
