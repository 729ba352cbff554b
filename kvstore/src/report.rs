//! Judging a run: the statistics, the seven correctness checks and the four
//! performance metrics with their tiers (Gen D), and how they are printed.

use serde::Serialize;

use crate::config::{Config, Tiers};

/// Why the run ended (the simulator sets it; the report prints it). It lives
/// here, with the rest of what a run counted, so that the report does not
/// depend on the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The configured time ran out.
    Time,
    /// `total_msgs` reached `max_packets`.
    PacketStorm,
    /// No replica is alive.
    NoReplicas,
}

/// What a run counted. Filled by the simulator.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub replicas: usize,
    /// The leader history (`FFFF` = unknown), one entry per change.
    pub leaders: Vec<String>,
    pub killed: usize,
    pub died: usize,
    /// Replica-bound messages, dropped ones included (`FFFF` counts N − 1).
    pub total_msgs: u64,
    pub total_drops: u64,
    pub blocked: u64,
    /// Client requests sent, retries included.
    pub get_sent: u64,
    pub put_sent: u64,
    /// Operations the workload drew (a get that became a put counts as a get).
    pub generated_get: u64,
    pub generated_put: u64,
    pub failed_to_generate_get: u64,
    pub duplicates: u64,
    pub unanswered_get: u64,
    pub unanswered_put: u64,
    /// `redirect` and `fail` answers.
    pub redirects: u64,
    pub failed_get: u64,
    pub failed_put: u64,
    pub incorrect_gets: u64,
    /// Everything counted incorrect (wrong values included).
    pub incorrect: u64,
    pub clients_with_state: usize,
    /// Seconds from a request's creation to its first answer of any kind.
    #[serde(skip)]
    pub latencies: Vec<f64>,
    pub ended: Option<EndReason>,
    /// What was counted as incorrect or died, and when (at most 50).
    pub notes: Vec<String>,
}

impl Stats {
    /// failed + unanswered gets and puts.
    pub fn failures(&self) -> u64 {
        self.failed_get + self.failed_put + self.unanswered_get + self.unanswered_put
    }

    pub fn mean_latency(&self) -> f64 {
        if self.latencies.is_empty() {
            return f64::INFINITY;
        }
        self.latencies.iter().sum::<f64>() / self.latencies.len() as f64
    }

    /// Element ⌊n/2⌋ of the sorted latencies (infinite if none).
    pub fn median_latency(&self) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
            .get(sorted.len() / 2)
            .copied()
            .unwrap_or(f64::INFINITY)
    }
}

/// One correctness check.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

/// A performance metric, its value and its tier (0 Bonus … 3 No credit).
#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub tiers: Tiers,
    pub tier: u8,
}

pub const TIER_NAMES: [&str; 4] = [
    "Bonus!",
    "Full credit",
    "Partial credit, needs improvement",
    "No credit",
];

/// The tier of `value` against `[a, b, c]` (strict `<`).
pub fn tier(value: f64, tiers: Tiers) -> u8 {
    tiers.iter().position(|&t| value < t).unwrap_or(3) as u8
}

/// The verdict on one run.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub name: String,
    pub seed: u64,
    pub passed: bool,
    pub checks: Vec<Check>,
    /// Only meaningful if `passed` (CS3700 grades performance only then).
    pub metrics: Vec<Metric>,
    pub mean_latency: f64,
    pub stats: Stats,
}

impl Verdict {
    /// Judges `stats` of a run of `config`.
    pub fn judge(name: &str, seed: u64, config: &Config, stats: Stats) -> Verdict {
        let t = &config.tests;
        let check = |name, passed, detail: String| Check {
            name,
            passed,
            detail,
        };
        // A count that may be at most a fraction of the operations of its
        // kind the workload drew.
        let at_most = |name, count: u64, what: &str, generated: u64, fraction: f64| {
            let detail = format!("{count} {what}, at most {generated} * {fraction:.2}");
            check(name, count as f64 <= generated as f64 * fraction, detail)
        };
        let (gets, puts) = (stats.generated_get, stats.generated_put);
        let min_msgs = config.requests as f64
            * config.replicas as f64
            * (1.0 - config.mix)
            * (1.0 - t.maximum_appends_batched_fraction);
        let checks = vec![
            check(
                "incorrect",
                stats.incorrect == 0,
                format!("{} incorrect responses or messages", stats.incorrect),
            ),
            check(
                "died",
                stats.died == 0,
                format!("{} replicas died (not killed by an event)", stats.died),
            ),
            check(
                "no_state",
                stats.clients_with_state > 0,
                format!(
                    "{} clients hold an acknowledged key",
                    stats.clients_with_state
                ),
            ),
            at_most(
                "get_answered",
                stats.unanswered_get,
                "unanswered gets",
                gets,
                t.maximum_get_fail_fraction,
            ),
            at_most(
                "put_answered",
                stats.unanswered_put,
                "unanswered puts",
                puts,
                t.maximum_put_fail_fraction,
            ),
            at_most(
                "get_generated",
                stats.failed_to_generate_get,
                "gets became puts",
                gets,
                t.maximum_get_generation_fail_fraction,
            ),
            check(
                "total_msgs",
                stats.total_msgs as f64 >= min_msgs,
                format!(
                    "{} replica messages, at least {min_msgs:.0} (puts must be replicated)",
                    stats.total_msgs
                ),
            ),
        ];
        let b = &t.benchmarks;
        let metric = |name, value: f64, tiers: Tiers| Metric {
            name,
            value,
            tiers,
            tier: tier(value, tiers),
        };
        let metrics = vec![
            metric("total_msgs", stats.total_msgs as f64, b.total_msgs),
            metric("failures", stats.failures() as f64, b.failures),
            metric("duplicates", stats.duplicates as f64, b.duplicates),
            metric("median_latency", stats.median_latency(), b.median_latency),
        ];
        Verdict {
            name: name.to_owned(),
            seed,
            passed: checks.iter().all(|c| c.passed),
            checks,
            metrics,
            mean_latency: stats.mean_latency(),
            stats,
        }
    }

    /// The names of the failed checks.
    pub fn failed_checks(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect()
    }

    /// The four tiers, in the `all` line's order.
    pub fn tiers(&self) -> [u8; 4] {
        [0, 1, 2, 3].map(|i| self.metrics[i].tier)
    }

    /// Gen D's single-config statistics and verdict.
    pub fn full_report(&self) -> String {
        let s = &self.stats;
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        line(format!(
            "Simulation finished ({:?}).",
            s.ended.unwrap_or(EndReason::Time)
        ));
        line(format!("Leaders: {}", s.leaders.join(" ")));
        line(format!(
            "Replicas that died/were killed: {}/{}",
            s.died, s.killed
        ));
        line(format!("Total messages sent: {}", s.total_msgs));
        line(format!("Total messages dropped: {}", s.total_drops));
        line(format!("Total messages blocked: {}", s.blocked));
        line(format!(
            "Total client get()/put() requests: {}/{}",
            s.get_sent, s.put_sent
        ));
        line(format!("Total duplicate responses: {}", s.duplicates));
        line(format!(
            "Total unanswered get()/put() requests: {}/{}",
            s.unanswered_get, s.unanswered_put
        ));
        line(format!("Total redirects: {}", s.redirects));
        line(format!(
            "Total get()/put() failures: {}/{}",
            s.failed_get, s.failed_put
        ));
        line(format!(
            "Total get() with incorrect response: {}",
            s.incorrect_gets
        ));
        line(format!(
            "Mean/Median query latency: {:.6}sec/{:.6}sec",
            self.mean_latency,
            s.median_latency()
        ));
        for note in &s.notes {
            line(format!("  note: {note}"));
        }
        line(String::new());
        for c in &self.checks {
            line(format!(
                "{} {:<14} {}",
                if c.passed { "[ OK ]" } else { "[FAIL]" },
                c.name,
                c.detail
            ));
        }
        if self.passed {
            for m in &self.metrics {
                line(format!(
                    "{:<15} {:>12} tiers {:?}: {} ({})",
                    m.name,
                    format_value(m.name, m.value),
                    m.tiers,
                    m.tier,
                    TIER_NAMES[m.tier as usize]
                ));
            }
            line("Correctness checks passed".to_owned());
        } else {
            line(format!(
                "Correctness checks failed: {}",
                self.failed_checks().join(", ")
            ));
        }
        out
    }

    /// The one line `all` prints for this config.
    pub fn summary_line(&self, description: &str) -> String {
        if self.passed {
            let t = self.tiers();
            format!(
                "\t{description:<60}\t[PASS]\tPerformance Tiers: {} {} {} {}",
                t[0], t[1], t[2], t[3]
            )
        } else {
            format!(
                "\t{description:<60}\t[FAIL]\t{}",
                self.failed_checks().join(", ")
            )
        }
    }
}

fn format_value(name: &str, value: f64) -> String {
    if name == "median_latency" {
        format!("{value:.6}s")
    } else {
        format!("{value:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_strict_upper_bounds() {
        let t = [0.0, 2.0, 5.0];
        assert_eq!(tier(0.0, t), 1, "a = 0 makes Bonus unattainable");
        assert_eq!(tier(1.9, t), 1);
        assert_eq!(tier(2.0, t), 2);
        assert_eq!(tier(5.0, t), 3);
        assert_eq!(tier(-1.0, t), 0);
    }

    #[test]
    fn median_is_element_n_over_2() {
        let stats = Stats {
            latencies: vec![3.0, 1.0, 2.0, 4.0],
            ..Stats::default()
        };
        assert_eq!(stats.median_latency(), 3.0);
    }
}
