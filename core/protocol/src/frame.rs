//! Splitting encoded messages into SOCK_SEQPACKET datagrams and joining them again.
//!
//! A datagram is one flag byte then up to [`FRAME_PAYLOAD`] bytes of the message. The
//! flag says whether more datagrams of the same message follow. Small datagrams keep
//! every message within the default socket buffer, so no SO_SNDBUF tuning (which needs
//! privilege past wmem_max) is required, and rootless hosts work too.

use super::MAX_MESSAGE_BYTES;

/// Payload bytes per datagram.
pub const FRAME_PAYLOAD: usize = 32 * 1024;
/// Whole datagram size, payload plus the flag byte.
pub const FRAME_BYTES: usize = FRAME_PAYLOAD + 1;

const FLAG_LAST: u8 = 0;
const FLAG_MORE: u8 = 1;

/// The datagrams of one message, in order (an empty message is one empty frame).
pub fn frames(message: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let count = message.len().div_ceil(FRAME_PAYLOAD).max(1);
    (0..count).map(move |i| {
        let start = i * FRAME_PAYLOAD;
        let end = (start + FRAME_PAYLOAD).min(message.len());
        let mut frame = Vec::with_capacity(end - start + 1);
        frame.push(if i + 1 == count { FLAG_LAST } else { FLAG_MORE });
        frame.extend_from_slice(&message[start..end]);
        frame
    })
}

/// Why a datagram is not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A datagram without even its flag byte.
    Empty,
    /// A flag byte that is neither "more" nor "last".
    BadFlag(u8),
    /// The frames add up to more than a message may hold.
    TooLarge,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "empty datagram"),
            Self::BadFlag(b) => write!(f, "bad frame flag {b}"),
            Self::TooLarge => write!(f, "message exceeds {MAX_MESSAGE_BYTES} bytes"),
        }
    }
}

/// Collects datagrams until a message is whole.
///
/// An oversized message is skipped up to its last frame and reported once, so the
/// conversation stays in step: one request, one answer.
#[derive(Default)]
pub struct Reassembler {
    message: Vec<u8>,
    discarding: bool,
}

impl Reassembler {
    /// Adds one datagram; returns the whole message once its last frame arrived.
    pub fn push(&mut self, datagram: &[u8]) -> Result<Option<Vec<u8>>, FrameError> {
        let (&flag, payload) = datagram.split_first().ok_or(FrameError::Empty)?;
        if flag != FLAG_LAST && flag != FLAG_MORE {
            self.message.clear();
            self.discarding = false;
            return Err(FrameError::BadFlag(flag));
        }
        if !self.discarding && self.message.len() + payload.len() > MAX_MESSAGE_BYTES {
            self.message = Vec::new();
            self.discarding = true;
        }
        if !self.discarding {
            self.message.extend_from_slice(payload);
        }
        match (flag, self.discarding) {
            (FLAG_MORE, _) => Ok(None),
            (_, true) => {
                self.discarding = false;
                Err(FrameError::TooLarge)
            }
            _ => Ok(Some(std::mem::take(&mut self.message))),
        }
    }
}
