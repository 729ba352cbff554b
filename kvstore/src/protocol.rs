//! The wire protocol between the simulator, its clients and the replicas
//! (CS3700 Project 6, "Gen D"): one JSON object per UDP datagram, no
//! terminator, at most 65 535 bytes.
//!
//! Every message carries the envelope `src`, `dst`, `leader` and `type`; IDs
//! are four uppercase hex digits and `FFFF` means "everyone" as a `dst` and
//! "unknown" as a `leader`. Client requests add `MID`, `key` (and `value` for
//! a put); answers echo the `MID`. Replicas may add any keys and types of
//! their own for replica-to-replica traffic: the simulator only looks at the
//! envelope of those.
//!
//! Parsing is strict and total: [`parse_envelope`] turns any byte string into
//! either an [`Envelope`] or a [`Malformed`] reason, never a panic, because the
//! simulator must survive whatever a student's replica sends.

use serde_json::{Map, Value};

/// The broadcast destination and the "no leader known" value.
pub const BROADCAST: &str = "FFFF";

/// The largest datagram either side reads.
pub const MAX_DATAGRAM_BYTES: usize = 65_535;

/// The ID of replica `index` (`0000`, `0001`, …).
pub fn replica_id(index: usize) -> String {
    format!("{index:04X}")
}

/// The ID of client `index` among `clients`, for `replicas` replicas: the
/// simulator numbers clients from `replicas + 16` (N = 5: `0015`…`001C`).
pub fn client_id(replicas: usize, index: usize) -> String {
    format!("{:04X}", replicas + 16 + index)
}

/// Whether `s` has the ID format: exactly four hex digits.
pub fn is_id(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses an ID into its number (`None` unless [`is_id`]).
pub fn parse_id(s: &str) -> Option<u16> {
    if is_id(s) {
        u16::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

/// A message whose envelope is well formed.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub src: String,
    pub dst: String,
    pub leader: String,
    pub kind: String,
    /// The whole object, envelope keys included.
    pub body: Map<String, Value>,
}

impl Envelope {
    /// A string field of the body, if present and a string.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    /// The `leader` field as an ID number, `None` for `FFFF`.
    pub fn leader_number(&self) -> Option<u16> {
        if self.leader.eq_ignore_ascii_case(BROADCAST) {
            None
        } else {
            parse_id(&self.leader)
        }
    }
}

/// Why a datagram is not a valid message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a JSON object")]
    NotObject,
    #[error("missing or non-string key `{0}`")]
    MissingKey(&'static str),
    #[error("`{key}` is not a 4-hex-digit ID: {value:?}")]
    BadId { key: &'static str, value: String },
}

/// Parses one datagram.
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope, Malformed> {
    let text = std::str::from_utf8(bytes).map_err(|_| Malformed::NotUtf8)?;
    let value: Value = serde_json::from_str(text).map_err(|e| Malformed::NotJson(e.to_string()))?;
    let Value::Object(body) = value else {
        return Err(Malformed::NotObject);
    };
    let field = |key: &'static str| -> Result<String, Malformed> {
        body.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(Malformed::MissingKey(key))
    };
    let id = |key: &'static str| -> Result<String, Malformed> {
        let value = field(key)?;
        if is_id(&value) {
            Ok(value)
        } else {
            Err(Malformed::BadId { key, value })
        }
    };
    let (src, dst, leader) = (id("src")?, id("dst")?, id("leader")?);
    let kind = field("type")?;
    Ok(Envelope {
        src,
        dst,
        leader,
        kind,
        body,
    })
}

/// Builds a message: the envelope plus `extra` key/value pairs.
pub fn message(src: &str, dst: &str, leader: &str, kind: &str, extra: &[(&str, &str)]) -> Value {
    let mut body = Map::new();
    body.insert("src".into(), src.into());
    body.insert("dst".into(), dst.into());
    body.insert("leader".into(), leader.into());
    body.insert("type".into(), kind.into());
    for (key, value) in extra {
        body.insert((*key).into(), (*value).into());
    }
    Value::Object(body)
}

/// The `hello` a replica sends to the simulator right after start-up.
pub fn hello(src: &str) -> Value {
    message(src, BROADCAST, BROADCAST, "hello", &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_four_hex_digits() {
        assert_eq!(replica_id(10), "000A");
        assert_eq!(client_id(5, 0), "0015");
        assert_eq!(client_id(5, 7), "001C");
        assert!(is_id("FFFF") && is_id("00a1"));
        assert!(!is_id("FFF") && !is_id("FFFFF") && !is_id("00G0"));
    }

    #[test]
    fn a_valid_envelope_parses() {
        let env =
            parse_envelope(br#"{"src":"0001","dst":"FFFF","leader":"0000","type":"x","n":3}"#)
                .expect("valid");
        assert_eq!(env.kind, "x");
        assert_eq!(env.leader_number(), Some(0));
    }

    #[test]
    fn every_kind_of_garbage_is_rejected_with_its_reason() {
        assert_eq!(parse_envelope(&[0xff, 0xfe]), Err(Malformed::NotUtf8));
        assert!(matches!(parse_envelope(b"{"), Err(Malformed::NotJson(_))));
        assert_eq!(parse_envelope(b"[1]"), Err(Malformed::NotObject));
        assert_eq!(
            parse_envelope(br#"{"src":"0001","dst":"0002","leader":"FFFF"}"#),
            Err(Malformed::MissingKey("type"))
        );
        assert!(matches!(
            parse_envelope(br#"{"src":"1","dst":"0002","leader":"FFFF","type":"t"}"#),
            Err(Malformed::BadId { key: "src", .. })
        ));
    }
}
