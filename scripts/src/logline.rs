//! Parsing one line of a lab log.
//!
//! The labs write one event per line (see `labrpc/src/log.rs`):
//!
//! ```text
//!   1234.567 VOTE  S1 granted vote to S2 in T3 key=value
//! ```
//!
//! virtual milliseconds (right-aligned), the topic in upper case (padded to
//! five, longer topics are not cut), the node name, then the message and any
//! `key=value` fields. Anything else (libtest output, panics, the failure
//! block) is not an event and is kept verbatim by the tools.

/// One parsed event line. The fields borrow from the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Event<'a> {
    /// The time as written (e.g. `1234.567`).
    pub time: &'a str,
    /// Virtual milliseconds since the start of the run.
    pub millis: f64,
    /// The topic as written (upper case, e.g. `VOTE`).
    pub topic: &'a str,
    /// The node that logged it (`S1`, `test`, `net`, `C3`, `G100-S2`, ...).
    pub node: &'a str,
    /// The message and fields, the rest of the line.
    pub message: &'a str,
}

impl Event<'_> {
    /// The topic in lower case, as `LAB_LOG` and the filters spell it.
    pub fn topic_lower(&self) -> String {
        self.topic.to_ascii_lowercase()
    }
}

/// Splits off the first whitespace-separated word: `(word, rest)` with the
/// rest's leading whitespace removed.
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], s[end..].trim_start()))
}

fn is_time(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_topic(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn is_node(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:[]#".contains(&b))
}

/// Parses an event line; `None` for lines that are not events.
///
/// Also accepts the Go labs' `dslogs` format (`008260 LEAD S1 message`):
/// a time without decimals, and the peer as the first word of the message.
pub fn parse(line: &str) -> Option<Event<'_>> {
    let line = line.trim_end_matches(['\n', '\r']);
    let (time, rest) = word(line)?;
    if !is_time(time) {
        return None;
    }
    let millis: f64 = time.parse().ok()?;
    let (topic, rest) = word(rest)?;
    if !is_topic(topic) {
        return None;
    }
    let (node, message) = word(rest)?;
    if !is_node(node) {
        return None;
    }
    Some(Event {
        time,
        millis,
        topic,
        node,
        message: message.trim_end(),
    })
}

/// The column of a Raft peer name `S<k>`: `Some(k)`. Other names (`test`,
/// `C3`, `G100-S2`) get `None`.
pub fn server_index(node: &str) -> Option<usize> {
    let digits = node.strip_prefix('S')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a verbatim line starts a panic or failure block (the pretty-printer
/// draws a rule before it).
pub fn starts_failure_block(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("thread '") && t.contains("panicked")
        || t.starts_with("simulation failed")
        || t.starts_with("---- ") && t.ends_with(" stdout ----")
        || t.starts_with("failures:") && t.trim_end() == "failures:"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed line's (time, topic, node, message).
    fn fields(line: &str) -> (&str, &str, &str, &str) {
        let e = parse(line).unwrap_or_else(|| panic!("{line:?} does not parse"));
        (e.time, e.topic, e.node, e.message)
    }

    #[test]
    fn parses_a_lab_line() {
        let line = "  1234.567 VOTE  S1 granted vote to S2 in T3";
        assert_eq!(
            fields(line),
            ("1234.567", "VOTE", "S1", "granted vote to S2 in T3")
        );
        let e = parse(line).unwrap();
        assert!((e.millis - 1234.567).abs() < 1e-9);
        assert_eq!(e.topic_lower(), "vote");
    }

    #[test]
    fn parses_long_topics_fields_and_other_nodes() {
        for (line, expected) in [
            (
                "     0.000 SNAPSHOT G100-S2 took snapshot index=12 term=3\n",
                (
                    "0.000",
                    "SNAPSHOT",
                    "G100-S2",
                    "took snapshot index=12 term=3",
                ),
            ),
            (
                "    10.000 NET   net drop S1->S2",
                ("10.000", "NET", "net", "drop S1->S2"),
            ),
            ("    10.000 TEST  test", ("10.000", "TEST", "test", "")),
        ] {
            assert_eq!(fields(line), expected, "{line:?}");
        }
    }

    #[test]
    fn parses_the_go_format() {
        let e = parse("008260 LEAD S1 Achieved Majority for T1 (3)").unwrap();
        assert_eq!(e.time, "008260");
        assert_eq!(e.topic, "LEAD");
        assert_eq!(e.node, "S1");
    }

    #[test]
    fn other_lines_do_not_parse() {
        for line in [
            "",
            "running 1 test",
            "test basic ... ok",
            "seed 123 trace 00ff00ff00ff00ff",
            "thread 'basic' panicked at raft/src/lib.rs:10:5:",
            "simulation failed: two leaders in term 3",
            "  replay: LAB_SEED=1 cargo test -p raft --test raft_2a -- --exact x",
            "12.5 vote S1 lower-case topic",
            "12.5x VOTE S1 bad time",
            "12.5 VOTE",
            "log: /tmp/x/basic-1.log",
        ] {
            assert_eq!(parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn server_indices() {
        assert_eq!(server_index("S0"), Some(0));
        assert_eq!(server_index("S12"), Some(12));
        assert_eq!(server_index("S"), None);
        assert_eq!(server_index("C3"), None);
        assert_eq!(server_index("G100-S2"), None);
        assert_eq!(server_index("S1x"), None);
        assert_eq!(server_index("test"), None);
    }

    #[test]
    fn failure_blocks() {
        for (line, starts) in [
            (
                "thread 'basic' panicked at labrpc/src/sim/runner.rs:152:17:",
                true,
            ),
            ("simulation failed: stall", true),
            ("---- basic stdout ----", true),
            ("failures:", true),
            ("failures: 3", false),
            ("test basic ... ok", false),
        ] {
            assert_eq!(starts_failure_block(line), starts, "{line:?}");
        }
    }
}
