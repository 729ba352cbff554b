//! dslogs: pretty-printing a lab log, one column per peer, coloured by topic.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::logline::{self, Event};

/// Width of the time column (`  1234.567`), without the separating space.
pub const TIME_WIDTH: usize = 10;

/// How to print.
#[derive(Clone, Debug)]
pub struct Options {
    /// `Some(n)`: one column per peer, `n` columns.
    pub columns: Option<usize>,
    /// Total width in characters.
    pub width: usize,
    /// ANSI colours.
    pub color: bool,
    /// Keep only these topics (lower case); empty keeps all.
    pub just: Vec<String>,
    /// Drop these topics (lower case).
    pub ignore: Vec<String>,
    /// Print the time column.
    pub time: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            columns: None,
            width: 160,
            color: false,
            just: Vec::new(),
            ignore: Vec::new(),
            time: true,
        }
    }
}

/// Splits a comma-separated topic list (`vote,LEADER, net`) into lower-case topics.
pub fn topic_list(spec: &str) -> Vec<String> {
    spec.split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

impl Options {
    /// Whether the topic filters keep an event of this topic.
    pub fn keeps(&self, topic: &str) -> bool {
        let topic = topic.to_ascii_lowercase();
        (self.just.is_empty() || self.just.contains(&topic)) && !self.ignore.contains(&topic)
    }
}

/// Which column each node's lines go to.
///
/// `S<k>` goes to column `k`; `test` and `net` always span the full width;
/// other names (`C3`, `ctrl-1`, `G100-S2`) take the free columns in order of
/// first appearance. Nodes without a column (index too large, no column free)
/// are printed full width.
#[derive(Clone, Debug)]
pub struct Layout {
    columns: usize,
    assigned: BTreeMap<String, Option<usize>>,
}

impl Layout {
    pub fn new(columns: usize) -> Layout {
        Layout {
            columns: columns.max(1),
            assigned: BTreeMap::new(),
        }
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Reserves the columns of every `S<k>` among these nodes before any
    /// other name is placed (used when the whole log is known up front, so
    /// a client seen before `S4` does not take `S4`'s column).
    pub fn reserve_servers<'a>(&mut self, nodes: impl IntoIterator<Item = &'a str>) {
        for node in nodes {
            if logline::server_index(node).is_some() {
                self.column(node);
            }
        }
    }

    /// The column of this node, `None` for full width.
    pub fn column(&mut self, node: &str) -> Option<usize> {
        if node == "test" || node == "net" {
            return None;
        }
        if let Some(&column) = self.assigned.get(node) {
            return column;
        }
        let column = match logline::server_index(node) {
            Some(k) => (k < self.columns).then_some(k),
            None => (0..self.columns).find(|&c| !self.assigned.values().any(|&a| a == Some(c))),
        };
        self.assigned.insert(node.to_string(), column);
        column
    }
}

/// The ANSI colour of a topic (SGR parameters).
pub fn topic_color(topic: &str) -> &'static str {
    match topic.to_ascii_lowercase().as_str() {
        "timer" | "timr" => "90",
        "vote" => "35",
        "leader" | "lead" => "1;32",
        "term" => "32",
        "log" | "log1" | "log2" => "34",
        "commit" | "cmit" => "36",
        "persist" | "pers" => "33",
        "snapshot" | "snap" => "95",
        "apply" => "96",
        "client" | "clnt" => "94",
        "net" | "drop" => "2",
        "test" => "1",
        "info" => "37",
        "warn" => "93",
        "error" | "erro" => "1;31",
        other => {
            const PALETTE: [&str; 6] = ["91", "92", "93", "94", "95", "96"];
            let hash = other
                .bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
            PALETTE[hash % PALETTE.len()]
        }
    }
}

/// Greedy word wrap to `width` characters; overlong words are cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // An empty line and still too long: cut the word.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Prints log lines one at a time.
pub struct Printer<W: Write> {
    out: W,
    options: Options,
    layout: Layout,
    /// A rule was printed since the last event line.
    ruled: bool,
    /// The column header was printed (columns mode, before the first event).
    header: bool,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, options: Options) -> Printer<W> {
        let layout = Layout::new(options.columns.unwrap_or(1));
        Printer {
            out,
            options,
            layout,
            ruled: false,
            header: false,
        }
    }

    /// Learns the peers' columns from the whole log before printing it.
    pub fn prescan<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        let nodes: Vec<&str> = lines
            .into_iter()
            .filter_map(logline::parse)
            .map(|e| e.node)
            .collect();
        self.layout.reserve_servers(nodes);
    }

    /// Flushes the output (after each line when streaming).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn paint(&self, color: &str, text: &str) -> String {
        if self.options.color && !text.is_empty() {
            format!("\x1b[{color}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn time_prefix(&self, time: &str) -> String {
        if self.options.time {
            format!("{time:>TIME_WIDTH$} ")
        } else {
            String::new()
        }
    }

    /// Prints one input line (without its newline).
    pub fn line(&mut self, line: &str) -> io::Result<()> {
        let line = line.trim_end_matches(['\n', '\r']);
        match logline::parse(line) {
            Some(event) => self.event(&event),
            None => self.verbatim(line),
        }
    }

    fn verbatim(&mut self, line: &str) -> io::Result<()> {
        if !self.ruled && logline::starts_failure_block(line) {
            let rule = "─".repeat(self.options.width.max(1));
            let rule = self.paint("31", &rule);
            writeln!(self.out, "{rule}")?;
            self.ruled = true;
        }
        writeln!(self.out, "{line}")
    }

    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        self.ruled = false;
        if !self.options.keeps(event.topic) {
            return Ok(());
        }
        let color = topic_color(event.topic);
        if self.options.columns.is_some() && !self.header {
            self.header = true;
            self.column_header()?;
        }
        let column = match self.options.columns {
            Some(_) => self.layout.column(event.node),
            None => None,
        };
        let Some(column) = column else {
            let named = event.message.split_whitespace().next() == Some(event.node);
            let text = if named {
                format!("{:<5} {}", event.topic, event.message)
            } else {
                format!("{:<5} {} {}", event.topic, event.node, event.message)
            };
            let text = self.paint(color, text.trim_end());
            let prefix = self.time_prefix(event.time);
            return writeln!(self.out, "{prefix}{text}");
        };
        let time_width = if self.options.time { TIME_WIDTH + 1 } else { 0 };
        let cell = self.cell_width();
        // The column names S<k>; other nodes, and messages that already
        // start with the node's name, would repeat it.
        let mut text = String::new();
        if !self.options.color {
            text.push_str(event.topic);
            text.push(' ');
        }
        let named = event.message.split_whitespace().next() == Some(event.node);
        if logline::server_index(event.node).is_none() && !named {
            text.push_str(event.node);
            text.push(' ');
        }
        text.push_str(event.message);
        let indent = " ".repeat((cell + 1) * column);
        for (i, row) in wrap(&text, cell).iter().enumerate() {
            let prefix = if i == 0 {
                self.time_prefix(event.time)
            } else {
                " ".repeat(time_width)
            };
            let row = self.paint(color, row);
            writeln!(self.out, "{prefix}{indent}{row}")?;
        }
        Ok(())
    }
}

impl<W: Write> Printer<W> {
    /// The width of one peer column, without the separating space.
    fn cell_width(&self) -> usize {
        let time_width = if self.options.time { TIME_WIDTH + 1 } else { 0 };
        (self.options.width.saturating_sub(time_width) / self.layout.columns())
            .saturating_sub(1)
            .max(8)
    }

    /// `        ms S0    S1    S2 ...` above the columns.
    fn column_header(&mut self) -> io::Result<()> {
        let cell = self.cell_width();
        let mut header = if self.options.time {
            format!("{:>TIME_WIDTH$} ", "ms")
        } else {
            String::new()
        };
        for k in 0..self.layout.columns() {
            header.push_str(&format!("{:<cell$} ", format!("S{k}")));
        }
        let header = self.paint("1;4", header.trim_end());
        writeln!(self.out, "{header}")
    }
}

/// Pretty-prints a whole log held in memory.
pub fn render(text: &str, options: Options) -> String {
    let mut printer = Printer::new(Vec::new(), options);
    if printer.options.columns.is_some() {
        printer.prescan(text.lines());
    }
    for line in text.lines() {
        printer.line(line).expect("writing to a Vec cannot fail");
    }
    String::from_utf8(printer.into_inner()).expect("the output is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
running 1 test
     0.000 TEST  test starting: initial election
    12.500 TIMER S0 election timeout
    12.600 VOTE  S1 granted vote to S0 in T1
    12.700 LEADER S0 S0 became leader in T1 votes=2
    13.000 NET   net S0->S2 dropped
simulation failed: two leaders in term 3
  seed:   42
thread 'initial_election_2a' panicked at labrpc/src/sim/runner.rs:152:17:
";

    fn plain() -> Options {
        Options {
            width: 80,
            ..Options::default()
        }
    }

    #[test]
    fn topic_lists() {
        assert_eq!(topic_list("vote, LEADER,,net"), ["vote", "leader", "net"]);
        assert!(topic_list("").is_empty());
    }

    #[test]
    fn filters() {
        let options = Options {
            just: topic_list("vote,leader"),
            ..plain()
        };
        let out = render(LOG, options);
        assert!(out.contains("VOTE  S1 granted vote to S0 in T1"));
        assert!(out.contains("LEADER S0 became leader"));
        assert!(!out.contains("TIMER"));
        assert!(!out.contains("NET"));
        // Lines that are not events are always kept.
        assert!(out.contains("running 1 test"));
        assert!(out.contains("simulation failed: two leaders"));

        let options = Options {
            ignore: topic_list("net,TIMER"),
            ..plain()
        };
        let out = render(LOG, options);
        assert!(!out.contains("election timeout"));
        assert!(!out.contains("dropped"));
        assert!(out.contains("granted vote"));
        assert!(out.contains("starting: initial election"));
    }

    #[test]
    fn single_column_keeps_the_time_and_the_rule() {
        let out = render(LOG, plain());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "running 1 test");
        assert_eq!(
            lines[3], "    12.600 VOTE  S1 granted vote to S0 in T1",
            "{out}"
        );
        // One rule before the failure block, not before each of its lines.
        assert_eq!(out.matches('─').count(), 80);
        let rule = lines.iter().position(|l| l.starts_with('─')).unwrap();
        assert!(lines[rule + 1].starts_with("simulation failed"));
    }

    #[test]
    fn columns_per_peer() {
        let options = Options {
            columns: Some(3),
            width: 11 + 3 * 20,
            ..plain()
        };
        let out = render(LOG, options);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "running 1 test");
        // The header comes before the first event.
        assert_eq!(lines[1], format!("{:>10} S0{:18}S1{:18}S2", "ms", "", ""));
        // test and net span the full width.
        assert_eq!(lines[2], "     0.000 TEST  test starting: initial election");
        // Each cell is 19 wide plus a separating space; the column names S<k>.
        assert_eq!(lines[3], "    12.500 TIMER election");
        assert_eq!(lines[4], "           timeout");
        let indent = " ".repeat(20);
        assert_eq!(lines[5], format!("    12.600 {indent}VOTE granted vote"));
        assert_eq!(lines[6], format!("           {indent}to S0 in T1"));
        // A message naming its node does not repeat it.
        assert_eq!(lines[7], "    12.700 LEADER S0 became");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("    13.000 NET   net S0->S2"))
        );
    }

    #[test]
    fn columns_of_other_nodes() {
        let mut layout = Layout::new(4);
        assert_eq!(layout.column("test"), None);
        assert_eq!(layout.column("net"), None);
        assert_eq!(layout.column("S2"), Some(2));
        assert_eq!(layout.column("C7"), Some(0));
        assert_eq!(layout.column("S9"), None);
        assert_eq!(layout.column("ctrl-1"), Some(1));
        assert_eq!(layout.column("C7"), Some(0));
        assert_eq!(layout.column("G100-S2"), Some(3));
        assert_eq!(layout.column("G101-S2"), None);

        // Known up front, servers keep their columns.
        let mut layout = Layout::new(3);
        layout.reserve_servers(["C1", "S0", "S1", "C2"]);
        assert_eq!(layout.column("C1"), Some(2));
        assert_eq!(layout.column("S0"), Some(0));
        assert_eq!(layout.column("S1"), Some(1));
        assert_eq!(layout.column("C2"), None);
    }

    #[test]
    fn colours() {
        let options = Options {
            color: true,
            ..plain()
        };
        let out = render("     1.000 VOTE  S1 x\n     2.000 ERROR S2 y\n", options);
        assert_eq!(
            out,
            "     1.000 \x1b[35mVOTE  S1 x\x1b[0m\n     2.000 \x1b[1;31mERROR S2 y\x1b[0m\n"
        );
        assert_eq!(topic_color("weird"), topic_color("WEIRD"));
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("x  y", 10), ["x y"]);
    }
}
