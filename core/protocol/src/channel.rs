//! A SOCK_SEQPACKET unix socket that carries framed messages and file descriptors.
//!
//! Descriptors are received with MSG_CMSG_CLOEXEC, so in a multithreaded host that
//! forks (Python, Go) none can leak into an unrelated child, and sent with
//! MSG_NOSIGNAL, so a vanished peer is an EPIPE error instead of a SIGPIPE that would
//! kill a C host. (The sendfd crate does neither, which is why nix is used here.)

use super::frame::{frames, FrameError, Reassembler, FRAME_BYTES};
use super::MAX_MESSAGE_FDS as MAX_FDS;
use nix::errno::Errno;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Why a message could not be sent or received.
#[derive(Debug)]
pub enum ChannelError {
    /// The peer closed its end.
    Closed,
    /// The socket call failed.
    Io(Errno),
    /// A datagram was not a valid frame.
    Frame(FrameError),
    /// A datagram or its descriptors did not fit the receive buffers.
    Truncated,
    /// More descriptors than one message may carry (`MAX_FDS`).
    TooManyFds(usize),
    /// A descriptor to pass is not open; nothing was sent.
    BadDescriptor,
}

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed => write!(f, "the peer closed the channel"),
            Self::Io(e) => write!(f, "{}", e.desc()),
            Self::Frame(e) => write!(f, "{e}"),
            Self::Truncated => write!(f, "a datagram was truncated"),
            Self::TooManyFds(n) => write!(f, "{n} descriptors exceed the limit of {MAX_FDS}"),
            Self::BadDescriptor => write!(f, "a descriptor to pass is not open"),
        }
    }
}

impl std::error::Error for ChannelError {}

/// One end of the host-init socket: whole messages, framed over datagrams, with
/// descriptors attached.
pub struct Channel {
    socket: OwnedFd,
    buf: Vec<u8>,
}

impl Channel {
    /// A channel over a connected SOCK_SEQPACKET socket.
    pub fn new(socket: OwnedFd) -> Self {
        Self {
            socket,
            buf: vec![0; FRAME_BYTES + 1],
        }
    }

    /// The socket, to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Sends one encoded message; `fds` ride on its first datagram.
    pub fn send(&self, message: &[u8], fds: &[RawFd]) -> Result<(), ChannelError> {
        if fds.len() > MAX_FDS {
            return Err(ChannelError::TooManyFds(fds.len()));
        }
        for (i, frame) in frames(message).enumerate() {
            let rights = [ControlMessage::ScmRights(fds)];
            let cmsgs: &[ControlMessage] = if i == 0 && !fds.is_empty() {
                &rights
            } else {
                &[]
            };
            loop {
                match sendmsg::<()>(
                    self.socket.as_raw_fd(),
                    &[IoSlice::new(&frame)],
                    cmsgs,
                    MsgFlags::MSG_NOSIGNAL,
                    None,
                ) {
                    Ok(_) => break,
                    Err(Errno::EINTR) => continue,
                    Err(Errno::EPIPE) | Err(Errno::ECONNRESET) => return Err(ChannelError::Closed),
                    // Our socket is always open, so EBADF names a caller's descriptor;
                    // the kernel checks them before queueing anything.
                    Err(Errno::EBADF) if !cmsgs.is_empty() => {
                        return Err(ChannelError::BadDescriptor)
                    }
                    Err(e) => return Err(ChannelError::Io(e)),
                }
            }
        }
        Ok(())
    }

    /// Receives one whole message and the descriptors that came with it (blocking).
    pub fn recv(&mut self) -> Result<(Vec<u8>, Vec<OwnedFd>), ChannelError> {
        let mut reassembler = Reassembler::default();
        let mut fds = Vec::new();
        loop {
            let len = self.recv_datagram(&mut fds)?;
            if let Some(message) = reassembler
                .push(&self.buf[..len])
                .map_err(ChannelError::Frame)?
            {
                return Ok((message, fds));
            }
        }
    }

    fn recv_datagram(&mut self, fds: &mut Vec<OwnedFd>) -> Result<usize, ChannelError> {
        let mut cmsg_space = nix::cmsg_space!([RawFd; MAX_FDS]);
        let socket = self.socket.as_raw_fd();
        loop {
            let mut iov = [IoSliceMut::new(&mut self.buf)];
            let msg = match recvmsg::<()>(
                socket,
                &mut iov,
                Some(&mut cmsg_space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => msg,
                Err(Errno::EINTR) => continue,
                Err(Errno::ECONNRESET) => return Err(ChannelError::Closed),
                Err(e) => return Err(ChannelError::Io(e)),
            };
            // Take ownership of every descriptor first, so none leaks on an error path.
            if let Ok(cmsgs) = msg.cmsgs() {
                for cmsg in cmsgs {
                    if let ControlMessageOwned::ScmRights(raw) = cmsg {
                        // SAFETY: the kernel just installed these descriptors for us
                        // and nothing else refers to them.
                        fds.extend(
                            raw.into_iter()
                                .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                        );
                    }
                }
            }
            if msg
                .flags
                .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC)
            {
                return Err(ChannelError::Truncated);
            }
            if msg.bytes == 0 {
                // A SEQPACKET datagram always carries our flag byte: 0 bytes is EOF.
                return Err(ChannelError::Closed);
            }
            if fds.len() > MAX_FDS {
                return Err(ChannelError::TooManyFds(fds.len()));
            }
            return Ok(msg.bytes);
        }
    }
}
