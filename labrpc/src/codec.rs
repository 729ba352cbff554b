//! The one wire and disk encoding: serde + bincode 2 (standard configuration).
//!
//! Every RPC request and reply is really encoded, so byte counts are real
//! (Raft's RPCBytes test depends on them) and a type mismatch between caller
//! and handler shows up as a decode error, as it would on a real network. Raft
//! and the services use the same functions for persisted state and snapshots.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why bytes could not be turned back into a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {type_name}: {reason}")]
pub struct DecodeError {
    /// The type that could not be decoded.
    pub type_name: &'static str,
    /// What the decoder reported.
    pub reason: String,
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode {type_name}: {reason}")]
pub struct EncodeError {
    /// The type that could not be encoded.
    pub type_name: &'static str,
    /// What the encoder reported.
    pub reason: String,
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value`; fails only for values serde cannot represent in bincode
/// (such as a sequence of unknown length).
pub fn try_encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| EncodeError {
        type_name: std::any::type_name::<T>(),
        reason: e.to_string(),
    })
}

/// Encodes `value`, panicking on the (programming) errors `try_encode` reports.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    try_encode(value).unwrap_or_else(|e| panic!("{e}"))
}

/// Decodes a whole buffer; trailing bytes are an error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let error = |reason: String| DecodeError {
        type_name: std::any::type_name::<T>(),
        reason,
    };
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| error(e.to_string()))?;
    if used != bytes.len() {
        return Err(error(format!("{} trailing bytes", bytes.len() - used)));
    }
    Ok(value)
}

/// A short, human-readable rendering of an encoded value whose type is not
/// known here, for log lines (Raft's `APPLY`, which only sees bytes): an
/// integer or a string if the bytes are exactly one, else the byte count with
/// the text found inside (a kv op's key and value), e.g. `<14 bytes "k" "x 0 1 y">`.
pub fn summary(bytes: &[u8]) -> String {
    /// At most this many characters of a string, and this many strings.
    const MAX_CHARS: usize = 24;
    const MAX_RUNS: usize = 3;
    let cut = |s: &str| -> String {
        if s.chars().count() > MAX_CHARS {
            format!("{}…", s.chars().take(MAX_CHARS).collect::<String>())
        } else {
            s.to_string()
        }
    };
    if let Ok(x) = decode::<i64>(bytes) {
        return x.to_string();
    }
    if let Ok(s) = decode::<String>(bytes) {
        return format!("{:?}", cut(&s));
    }
    let text = String::from_utf8_lossy(bytes);
    let runs: Vec<String> = text
        .split(|c: char| !(c.is_ascii_graphic() || c == ' '))
        .filter(|run| !run.trim().is_empty())
        .take(MAX_RUNS)
        .map(|run| format!("{:?}", cut(run)))
        .collect();
    if runs.is_empty() {
        format!("<{} bytes>", bytes.len())
    } else {
        format!("<{} bytes {}>", bytes.len(), runs.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_short_and_readable() {
        assert_eq!(summary(&encode(&101i64)), "101");
        assert_eq!(summary(&encode("hello")), "\"hello\"");
        let long = "x".repeat(40);
        assert_eq!(summary(&encode(&long)), format!("\"{}…\"", "x".repeat(24)));
        #[derive(Serialize)]
        enum Op {
            _Get(String),
            Put(String, String),
        }
        let put = encode(&Op::Put("k".into(), "x 0 1 y".into()));
        assert_eq!(
            summary(&put),
            format!("<{} bytes \"k\" \"x 0 1 y\">", put.len())
        );
        assert_eq!(summary(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "<11 bytes>");
    }
}
