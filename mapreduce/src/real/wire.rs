//! The socket protocol: length-prefixed bincode frames.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes of a
//! bincode-2 (serde) encoded message. A worker connects, sends one
//! [`Request`], reads one [`Response`] and hangs up, like Go's `call()` which
//! dials per call; the server also accepts several requests per connection.
//! Frames above [`MAX_FRAME`] are refused, so garbage on the socket cannot
//! make the coordinator allocate gigabytes.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::protocol::{Assignment, DoneAck, DoneReport, TaskRequest};

/// The largest frame either side accepts.
pub const MAX_FRAME: u32 = 16 << 20;

/// A worker's call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    RequestTask(TaskRequest),
    ReportDone(DoneReport),
}

/// The coordinator's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Assignment(Assignment),
    DoneAck(DoneAck),
    /// The request made no sense (e.g. a reply to a different call).
    Error(String),
}

impl Response {
    /// The assignment this answer is, or the answer back.
    pub fn assignment(self) -> Result<Assignment, Response> {
        match self {
            Response::Assignment(assignment) => Ok(assignment),
            other => Err(other),
        }
    }

    /// The acknowledgement this answer is, or the answer back.
    pub fn done_ack(self) -> Result<DoneAck, Response> {
        match self {
            Response::DoneAck(ack) => Ok(ack),
            other => Err(other),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection cleanly before a frame started.
    #[error("connection closed")]
    Closed,
    #[error("frame of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    TooLarge(u32),
    #[error("malformed message: {0}")]
    Decode(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub fn write_frame<T: Serialize>(w: &mut impl Write, message: &T) -> io::Result<()> {
    let body = bincode::serde::encode_to_vec(message, bincode::config::standard())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&n| n <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    // One write, so a frame is never interleaved with another writer's.
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame)?;
    w.flush()
}

pub fn read_frame<T: DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(FrameError::Closed),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes(len);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)?;
    let (message, used) = bincode::serde::decode_from_slice(&body, bincode::config::standard())
        .map_err(|e| FrameError::Decode(e.to_string()))?;
    if used != body.len() {
        return Err(FrameError::Decode(format!(
            "{} trailing bytes",
            body.len() - used
        )));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TaskId;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        let request = Request::ReportDone(DoneReport {
            worker: 7,
            task: TaskId::Reduce(3),
        });
        write_frame(&mut buf, &request).unwrap();
        write_frame(&mut buf, &Response::Assignment(Assignment::Wait)).unwrap();
        let mut r = buf.as_slice();
        assert_eq!(read_frame::<Request>(&mut r).unwrap(), request);
        assert_eq!(
            read_frame::<Response>(&mut r).unwrap(),
            Response::Assignment(Assignment::Wait)
        );
        assert!(matches!(
            read_frame::<Request>(&mut r),
            Err(FrameError::Closed)
        ));
    }

    #[test]
    fn rejects_oversized_and_garbled_frames() {
        let huge = (MAX_FRAME + 1).to_be_bytes();
        assert!(matches!(
            read_frame::<Request>(&mut huge.as_slice()),
            Err(FrameError::TooLarge(_))
        ));
        let garbage = [0, 0, 0, 2, 0xff, 0xff];
        assert!(matches!(
            read_frame::<Request>(&mut garbage.as_slice()),
            Err(FrameError::Decode(_))
        ));
        let truncated = [0, 0, 0, 9, 1];
        assert!(matches!(
            read_frame::<Request>(&mut truncated.as_slice()),
            Err(FrameError::Io(_))
        ));
    }
}
