//! The ways an RPC can fail.
//!
//! Go's labrpc reports every failure as `ok == false`; the variants here say
//! why, for logs and tests, but lab code should treat them all alike: the call
//! may or may not have run on the server (a reply can be lost after the handler
//! ran), and the right reaction is nearly always to retry or give up.

/// Why `ClientEnd::call` returned no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The end is disabled, unconnected, or its server is gone.
    #[error("no connection to the server")]
    Unreachable,
    /// The unreliable network dropped the request; the handler did not run.
    #[error("request lost by the network")]
    RequestLost,
    /// The unreliable network dropped the reply; the handler did run.
    #[error("reply lost by the network")]
    ReplyLost,
    /// The server was killed, deleted or disconnected while the call was in flight.
    #[error("server crashed or was disconnected during the call")]
    ServerDead,
    /// The request could not be encoded, or the reply (or request, at the
    /// server) could not be decoded: caller and handler disagree on the types.
    #[error("codec error: {0}")]
    Codec(String),
}
