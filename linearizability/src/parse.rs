//! Readers for Porcupine's two history formats: Jepsen etcd logs and the EDN-like kv logs, and a
//! writer for the kv logs ([`format_kv`]), so that a history a test recorded can be checked again
//! by `lincheck`.
//!
//! Both are logs of invocations and completions per process, turned into [`Event`]s exactly as
//! Porcupine's tests do: an invocation opens an operation for its process, the next completion of
//! that process closes it, and an operation still open at the end of the file (a timed-out or
//! crashed request, Jepsen's `:info`) gets a return with an unknown output after every other event.
//!
//! Porcupine silently skips lines it does not recognise. Here only the lines that are known to carry
//! nothing (`:info` completions, blank lines) are skipped; anything else is an error naming the
//! line, so a truncated or foreign file cannot pass as a short, linearizable history.

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::{Event, EventKind, Operation};
use crate::models::etcd::{EtcdInput, EtcdOutput};
use crate::models::kv::{KvInput, KvOp, KvOutput};

/// A history file that cannot be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
}

/// Reads a Jepsen etcd log (see [`parse_jepsen`]).
pub fn read_jepsen(path: &Path) -> Result<Vec<Event<EtcdInput, EtcdOutput>>, ParseError> {
    let (name, text) = read(path)?;
    parse_jepsen(&name, &text)
}

/// Reads a kv log (see [`parse_kv`]).
pub fn read_kv(path: &Path) -> Result<Vec<Event<KvInput, KvOutput>>, ParseError> {
    let (name, text) = read(path)?;
    parse_kv(&name, &text)
}

fn read(path: &Path) -> Result<(String, String), ParseError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((name, text)),
        Err(source) => Err(ParseError::Io { file: name, source }),
    }
}

/// Pairs each process's invocations with its completions, then closes what is still open.
struct Builder<I, O> {
    file: String,
    events: Vec<Event<I, O>>,
    open: BTreeMap<usize, usize>,
}

impl<I, O> Builder<I, O> {
    fn new(file: &str) -> Self {
        Builder {
            file: file.to_string(),
            events: Vec::new(),
            open: BTreeMap::new(),
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ParseError {
        ParseError::Syntax {
            file: self.file.clone(),
            line,
            message: message.into(),
        }
    }

    fn invoke(&mut self, line: usize, process: usize, input: I) -> Result<(), ParseError> {
        let id = self.events.len();
        if self.open.insert(process, id).is_some() {
            return Err(self.error(line, format!("process {process} invokes while busy")));
        }
        self.push(process, id, EventKind::Call(input));
        Ok(())
    }

    fn complete(&mut self, line: usize, process: usize, output: O) -> Result<(), ParseError> {
        let Some(id) = self.open.remove(&process) else {
            return Err(self.error(line, format!("process {process} completes nothing")));
        };
        self.push(process, id, EventKind::Return(output));
        Ok(())
    }

    /// Appends process `process`'s event `kind` of operation `id`.
    fn push(&mut self, process: usize, id: usize, kind: EventKind<I, O>) {
        self.events.push(Event {
            client_id: process,
            id,
            kind,
        });
    }

    fn finish(mut self, unknown: impl Fn() -> O) -> Vec<Event<I, O>> {
        for (process, id) in std::mem::take(&mut self.open) {
            self.push(process, id, EventKind::Return(unknown()));
        }
        self.events
    }
}

/// One line of a Jepsen log, after `INFO jepsen.util - `.
enum JepsenLine {
    Invoke(EtcdInput),
    Complete(EtcdOutput),
    /// `:info`: the outcome is unknown, the operation stays open.
    Info,
}

/// Parses a Jepsen etcd log: lines like `INFO  jepsen.util - 13\t:invoke\t:cas\t[4 4]`, fields
/// separated by any whitespace.
pub fn parse_jepsen(
    file: &str,
    text: &str,
) -> Result<Vec<Event<EtcdInput, EtcdOutput>>, ParseError> {
    let mut builder = Builder::new(file);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        let Some((process, parsed)) = jepsen_line(&tokens) else {
            return Err(builder.error(number, format!("not a Jepsen register operation: {line:?}")));
        };
        match parsed {
            JepsenLine::Invoke(input) => builder.invoke(number, process, input)?,
            JepsenLine::Complete(output) => builder.complete(number, process, output)?,
            JepsenLine::Info => {}
        }
    }
    Ok(builder.finish(|| EtcdOutput::Unknown))
}

fn jepsen_line(tokens: &[&str]) -> Option<(usize, JepsenLine)> {
    let [info, source, dash, process, kind, f, value @ ..] = tokens else {
        return None;
    };
    if (*info, *source, *dash) != ("INFO", "jepsen.util", "-") {
        return None;
    }
    let process = number(process)? as usize;
    let line = match (*kind, *f, value) {
        (":invoke", ":read", ["nil"]) => JepsenLine::Invoke(EtcdInput::Read),
        (":invoke", ":write", [v]) => JepsenLine::Invoke(EtcdInput::Write(number(v)?)),
        (":invoke", ":cas", [a, b]) => {
            let (from, to) = cas_pair(a, b)?;
            JepsenLine::Invoke(EtcdInput::Cas { from, to })
        }
        (":ok", ":read", ["nil"]) => JepsenLine::Complete(EtcdOutput::Read(None)),
        (":ok", ":read", [v]) => JepsenLine::Complete(EtcdOutput::Read(Some(number(v)?))),
        (":ok", ":write", [v]) => {
            number(v)?;
            JepsenLine::Complete(EtcdOutput::Write)
        }
        (":ok" | ":fail", ":cas", [a, b]) => {
            cas_pair(a, b)?;
            JepsenLine::Complete(EtcdOutput::Cas(*kind == ":ok"))
        }
        (":fail", ":read", [":timed-out"]) => JepsenLine::Complete(EtcdOutput::Unknown),
        (":info", ":read" | ":write" | ":cas", _) => JepsenLine::Info,
        _ => return None,
    };
    Some((process, line))
}

/// A non-negative decimal number, as `\d+` matches.
fn number(token: &str) -> Option<i64> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// `[a` `b]` → (a, b).
fn cas_pair(a: &str, b: &str) -> Option<(i64, i64)> {
    Some((number(a.strip_prefix('[')?)?, number(b.strip_suffix(']')?)?))
}

/// Parses a kv log: one EDN map per line, like
/// `{:process 3, :type :invoke, :f :append, :key "4", :value "x 3 7 y"}`. A get's completion carries
/// the value read; operations still open at the end get an empty output (as in Porcupine).
pub fn parse_kv(file: &str, text: &str) -> Result<Vec<Event<KvInput, KvOutput>>, ParseError> {
    let mut builder = Builder::new(file);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields = edn_map(line.trim())
            .and_then(|map| kv_fields(&map))
            .map_err(|message| builder.error(number, message))?;
        match fields {
            KvLine::Invoke(process, input) => builder.invoke(number, process, input)?,
            KvLine::Complete(process, output) => builder.complete(number, process, output)?,
            KvLine::Info => {}
        }
    }
    Ok(builder.finish(KvOutput::default))
}

/// Writes a kv history in the format [`parse_kv`] reads: one invocation and one completion line per
/// operation, in time order (calls before returns at equal times, as the checker orders them).
/// Each operation gets its own `:process` number (its index in `history`), so that the pairing of
/// calls and returns never depends on a client having one operation at a time; the checker does
/// not look at client ids. Times themselves are not written: only their order matters to a verdict.
///
/// Returns `None` if a key or value holds a line break, which the line-based format cannot carry.
pub fn format_kv(history: &[Operation<KvInput, KvOutput>]) -> Option<String> {
    let mut entries: Vec<(i64, bool, usize)> = Vec::with_capacity(2 * history.len());
    for (i, op) in history.iter().enumerate() {
        let text = [&op.input.key, &op.input.value, &op.output.value];
        if text.iter().any(|t| t.contains(['\n', '\r'])) {
            return None;
        }
        entries.push((op.call, false, i));
        entries.push((op.return_time, true, i));
    }
    entries.sort_unstable();
    let quote = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::new();
    for (_, is_return, i) in entries {
        let op = &history[i];
        let f = match op.input.op {
            KvOp::Get => "get",
            KvOp::Put => "put",
            KvOp::Append => "append",
        };
        let (kind, value) = match (is_return, op.input.op) {
            (false, KvOp::Get) => ("invoke", "nil".to_string()),
            (false, _) => ("invoke", quote(&op.input.value)),
            (true, KvOp::Get) => ("ok", quote(&op.output.value)),
            (true, _) => ("ok", quote(&op.input.value)),
        };
        out.push_str(&format!(
            "{{:process {i}, :type :{kind}, :f :{f}, :key {}, :value {value}}}\n",
            quote(&op.input.key)
        ));
    }
    Some(out)
}

/// A scalar EDN value as found in the kv logs.
#[derive(Debug, PartialEq)]
enum Edn {
    Nil,
    Int(i64),
    Keyword(String),
    Str(String),
}

enum KvLine {
    Invoke(usize, KvInput),
    Complete(usize, KvOutput),
    Info,
}

fn kv_fields(map: &BTreeMap<String, Edn>) -> Result<KvLine, String> {
    let field = |name: &str| map.get(name).ok_or(format!("missing :{name}"));
    let Edn::Int(process) = field("process")? else {
        return Err(":process is not a number".into());
    };
    let process = usize::try_from(*process).map_err(|_| "negative :process")?;
    let op = match field("f")? {
        Edn::Keyword(f) if f == "get" => KvOp::Get,
        Edn::Keyword(f) if f == "put" => KvOp::Put,
        Edn::Keyword(f) if f == "append" => KvOp::Append,
        other => return Err(format!("unknown :f {other:?}")),
    };
    let Edn::Str(key) = field("key")? else {
        return Err(":key is not a string".into());
    };
    // A get's invocation has `:value nil`; otherwise the value is a string.
    let value = match (field("value")?, op) {
        (Edn::Str(value), _) => value.clone(),
        (Edn::Nil, KvOp::Get) => String::new(),
        (other, _) => return Err(format!("unexpected :value {other:?}")),
    };
    kv_line(field("type")?, process, op, key, value)
}

/// The line's meaning by its `:type`: the input travels with the invocation, the value read with
/// a get's completion.
fn kv_line(
    kind: &Edn,
    process: usize,
    op: KvOp,
    key: &str,
    value: String,
) -> Result<KvLine, String> {
    let Edn::Keyword(kind) = kind else {
        return Err(format!("unsupported :type {kind:?}"));
    };
    let is_get = op == KvOp::Get;
    match kind.as_str() {
        "invoke" => {
            let value = if is_get { String::new() } else { value };
            let input = KvInput {
                op,
                key: key.to_string(),
                value,
            };
            Ok(KvLine::Invoke(process, input))
        }
        "ok" => {
            let value = if is_get { value } else { String::new() };
            Ok(KvLine::Complete(process, KvOutput { value }))
        }
        "info" => Ok(KvLine::Info),
        other => Err(format!("unsupported :type :{other}")),
    }
}

/// Parses `{:k v, :k v}` with scalar values.
fn edn_map(line: &str) -> Result<BTreeMap<String, Edn>, String> {
    let inner = line
        .strip_prefix('{')
        .and_then(|l| l.strip_suffix('}'))
        .ok_or("expected a {...} map")?;
    let mut rest = inner.trim_start();
    let mut map = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after) = edn_token(rest)?;
        let Edn::Keyword(key) = key else {
            return Err(format!("expected a keyword, found {key:?}"));
        };
        let (value, after) = edn_token(after.trim_start())?;
        map.insert(key, value);
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(map)
}

/// One scalar token at the start of `text`, and what follows it.
fn edn_token(text: &str) -> Result<(Edn, &str), String> {
    if let Some(body) = text.strip_prefix('"') {
        return edn_string(body);
    }
    let end = text
        .find(|c: char| c.is_whitespace() || c == ',')
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    let value = if word == "nil" {
        Edn::Nil
    } else if let Some(keyword) = word.strip_prefix(':') {
        Edn::Keyword(keyword.to_string())
    } else if let Ok(n) = word.parse() {
        Edn::Int(n)
    } else {
        return Err(format!("unexpected token {word:?}"));
    };
    Ok((value, rest))
}

/// The rest of a string literal whose opening quote is already consumed; `\"` and `\\` escape.
fn edn_string(body: &str) -> Result<(Edn, &str), String> {
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((Edn::Str(value), &body[i + 1..])),
            '\\' => value.push(chars.next().ok_or("unterminated string")?.1),
            c => value.push(c),
        }
    }
    Err("unterminated string".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jepsen_lines_become_events_and_info_stays_pending() {
        let log = "INFO  jepsen.util - 1\t:invoke\t:cas\t[4 4]\n\
                   INFO  jepsen.util - 2   :invoke :write  3\n\
                   INFO  jepsen.util - 1\t:fail\t:cas\t[4 4]\n\
                   INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n";
        let events = parse_jepsen("t", log).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| (e.id, e.kind.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (0, EventKind::Call(EtcdInput::Cas { from: 4, to: 4 })),
                (1, EventKind::Call(EtcdInput::Write(3))),
                (0, EventKind::Return(EtcdOutput::Cas(false))),
                (1, EventKind::Return(EtcdOutput::Unknown)),
            ]
        );
    }

    #[test]
    fn malformed_lines_name_their_line() {
        let log = "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO jepsen.util - 1 :ok :read x\n";
        let error = parse_jepsen("f.log", log).unwrap_err().to_string();
        assert!(error.starts_with("f.log:2: "), "{error}");
        let error = parse_jepsen("f.log", "INFO jepsen.util - 1 :ok :write 1").unwrap_err();
        assert_eq!(error.to_string(), "f.log:1: process 1 completes nothing");
        let error = parse_kv("k", "{:process 0, :type :invoke, :f :get, :key \"1\"").unwrap_err();
        assert!(error.to_string().starts_with("k:1: expected a {...} map"));
    }

    #[test]
    fn a_formatted_kv_history_reads_back_as_the_same_operations() {
        let op = |input, value: &str, call, return_time| Operation {
            client_id: 0,
            input,
            call,
            output: KvOutput {
                value: value.to_string(),
            },
            return_time,
        };
        let history = vec![
            op(KvInput::put("k", "a \"quoted\" \\ value"), "", 0, 10),
            op(KvInput::get("k"), "a \"quoted\" \\ value", 10, 20),
            op(KvInput::append("j", "x 0 1 y"), "", 5, 30),
        ];
        let text = format_kv(&history).unwrap();
        let events = parse_kv("t", &text).unwrap();
        let read = crate::operations_from_events(&events).unwrap();
        let mut inputs: Vec<_> = read.iter().map(|o| (&o.input, &o.output)).collect();
        let mut wanted: Vec<_> = history.iter().map(|o| (&o.input, &o.output)).collect();
        inputs.sort_by_key(|(i, o)| format!("{i:?}{o:?}"));
        wanted.sort_by_key(|(i, o)| format!("{i:?}{o:?}"));
        assert_eq!(inputs, wanted);
        // The put's return and the get's call share an instant: they overlap, as in the checker.
        let get = read.iter().find(|o| o.input.op == KvOp::Get).unwrap();
        let put = read.iter().find(|o| o.input.op == KvOp::Put).unwrap();
        assert!(get.call < put.return_time);
        assert_eq!(format_kv(&[op(KvInput::get("a\nb"), "", 0, 1)]), None);
    }

    #[test]
    fn kv_lines_become_events() {
        let log = "{:process 0, :type :invoke, :f :get, :key \"4\", :value nil}\n\
                   {:process 0, :type :ok, :f :get, :key \"4\", :value \"x 0 1 y\"}\n\
                   {:process 1, :type :invoke, :f :append, :key \"4\", :value \"x 1 0 y\"}\n";
        let events = parse_kv("t", log).unwrap();
        assert_eq!(events[0].kind, EventKind::Call(KvInput::get("4")));
        let read = KvOutput {
            value: "x 0 1 y".into(),
        };
        assert_eq!(events[1].kind, EventKind::Return(read));
        assert_eq!(
            events[2].kind,
            EventKind::Call(KvInput::append("4", "x 1 0 y"))
        );
        assert_eq!(events[3].kind, EventKind::Return(KvOutput::default()));
    }
}
