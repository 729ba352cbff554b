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
    pub type_name: &'static str,
    pub reason: String,
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode {type_name}: {reason}")]
pub struct EncodeError {
    pub type_name: &'static str,
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
