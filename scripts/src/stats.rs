//! Run-time statistics and dstest's summary table.

/// Mean and standard deviation of a stream of numbers (Welford's method).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    count: u64,
    mean: f64,
    m2: f64,
}

impl Stats {
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean, 0 when empty.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sample standard deviation, 0 for fewer than two values.
    pub fn std(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            (self.m2 / (self.count - 1) as f64).sqrt()
        }
    }
}

/// One test's line in the summary table.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub name: String,
    /// Finished runs that failed.
    pub failed: u64,
    /// Finished runs that passed with an undecided linearizability check.
    pub unknown: u64,
    /// Finished runs (interrupted runs are not counted).
    pub total: u64,
    /// Wall seconds per finished run.
    pub time: Stats,
}

/// The summary table: test, failed, unknown (passed, but the linearizability
/// check was undecided), total, mean ± std of the wall time per run. `color`
/// paints the failed counts red, rows with unknowns yellow and the all-passed
/// ones green.
pub fn table(rows: &[Row], color: bool) -> String {
    let name_width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let mut out = format!(
        "{:<name_width$}  {:>6}  {:>7}  {:>6}  {:>17}\n",
        "Test", "Failed", "Unknown", "Total", "Time (s)"
    );
    for row in rows {
        let time = if row.total == 0 {
            "-".to_string()
        } else {
            format!("{:.2} ± {:.2}", row.time.mean(), row.time.std())
        };
        let line = format!(
            "{:<name_width$}  {:>6}  {:>7}  {:>6}  {:>17}",
            row.name, row.failed, row.unknown, row.total, time
        );
        let line = match (color, row.failed > 0, row.unknown > 0, row.total > 0) {
            (true, true, _, _) => format!("\x1b[31m{line}\x1b[0m"),
            (true, false, true, _) => format!("\x1b[33m{line}\x1b[0m"),
            (true, false, false, true) => format!("\x1b[32m{line}\x1b[0m"),
            _ => line,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn welford() {
        let mut s = Stats::default();
        assert_eq!(s.count(), 0);
        assert!(close(s.mean(), 0.0) && close(s.std(), 0.0));
        s.push(3.0);
        assert!(close(s.mean(), 3.0) && close(s.std(), 0.0));
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.push(x);
        }
        // 3,2,4,4,4,5,5,7,9: mean 43/9, sample variance 36.2222/8.
        assert_eq!(s.count(), 9);
        assert!(close(s.mean(), 43.0 / 9.0));
        let var = [3.0, 2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
            .iter()
            .map(|x: &f64| (x - 43.0 / 9.0).powi(2))
            .sum::<f64>()
            / 8.0;
        assert!(close(s.std(), var.sqrt()));
    }

    #[test]
    fn the_table() {
        let mut a = Row {
            name: "initial_election_2a".into(),
            failed: 1,
            total: 3,
            ..Row::default()
        };
        for x in [1.0, 2.0, 3.0] {
            a.time.push(x);
        }
        let b = Row {
            name: "x".into(),
            ..Row::default()
        };
        let mut c = Row {
            name: "unreliable_3a".into(),
            unknown: 1,
            total: 1,
            ..Row::default()
        };
        c.time.push(0.5);
        let out = table(&[a, b, c.clone()], false);
        assert_eq!(
            out,
            "\
Test                 Failed  Unknown   Total           Time (s)
initial_election_2a       1        0       3        2.00 ± 1.00
x                         0        0       0                  -
unreliable_3a             0        1       1        0.50 ± 0.00
"
        );
        assert!(table(&[c], true).contains("\x1b[33munreliable_3a "));
        let out = table(
            &[Row {
                name: "t".into(),
                failed: 2,
                total: 2,
                ..Row::default()
            }],
            true,
        );
        assert!(out.contains("\x1b[31mt "));
    }
}
