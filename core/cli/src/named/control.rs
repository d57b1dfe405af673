//! The supervisor's control socket: a SOCK_SEQPACKET unix socket in the
//! container's directory. Each connection carries one request and one reply, JSON
//! in one packet each; `exec` sends the caller's stdin, stdout and stderr with the
//! request (SCM_RIGHTS), so the program writes straight to the caller's terminal or
//! pipes.
//!
//! The socket is named through /proc/self/fd/N/control.sock, N being an O_PATH
//! descriptor of the directory: a unix socket path is limited to 108 bytes,
//! whatever the runtime directory's length.

use crate::error::CliError;
use nix::sys::socket::{
    self, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    UnixAddr,
};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::state::SOCKET;

/// Largest request or reply (a command line with its environment).
const MAX_PACKET: usize = 1 << 20;

/// Host to supervisor.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request {
    /// Run a program in the container with the three descriptors sent along as its
    /// stdin, stdout and stderr. Reply: `Reply::Exited` or `Reply::Failed`.
    Exec {
        args: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
        cwd: Vec<u8>,
    },
    /// SIGTERM to the program, SIGKILL after `grace_ms`. Reply: `Reply::Done` once
    /// it has exited (at once when it had).
    Stop { grace_ms: u64 },
    /// Destroy the container and end the supervisor. Reply: `Reply::Done` just
    /// before it exits.
    Shutdown,
}

/// Supervisor to host.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "lowercase")]
pub enum Reply {
    Exited {
        exit_status: u8,
        note: Option<String>,
    },
    Done,
    Failed {
        message: String,
    },
}

fn socket_path(dir_fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}/{SOCKET}", dir_fd.as_raw_fd())
}

fn open_dir(dir: &Path) -> Result<OwnedFd, CliError> {
    nix::fcntl::open(
        dir,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| CliError::runtime(format!("opening {}: {e}", dir.display())))
}

fn seqpacket() -> Result<OwnedFd, CliError> {
    socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| CliError::runtime(format!("creating a socket: {e}")))
}

/// The supervisor's listening socket in `dir`.
pub fn listen(dir: &Path) -> Result<OwnedFd, CliError> {
    let dir_fd = open_dir(dir)?;
    let listener = seqpacket()?;
    let addr = UnixAddr::new(socket_path(&dir_fd).as_str())
        .map_err(|e| CliError::runtime(format!("socket address: {e}")))?;
    socket::bind(listener.as_raw_fd(), &addr)
        .and_then(|()| {
            socket::listen(
                &listener,
                socket::Backlog::new(16).expect("a valid backlog"),
            )
        })
        .map_err(|e| CliError::runtime(format!("listening in {}: {e}", dir.display())))?;
    Ok(listener)
}

/// Connects to the supervisor of the container in `dir`.
pub fn connect(dir: &Path) -> Result<OwnedFd, CliError> {
    let dir_fd = open_dir(dir)?;
    let stream = seqpacket()?;
    let addr = UnixAddr::new(socket_path(&dir_fd).as_str())
        .map_err(|e| CliError::runtime(format!("socket address: {e}")))?;
    loop {
        match socket::connect(stream.as_raw_fd(), &addr) {
            Ok(()) => return Ok(stream),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                return Err(CliError::runtime(format!(
                    "the container's supervisor does not answer: {e}"
                )))
            }
        }
    }
}

/// Accepts one connection (retrying EINTR).
pub fn accept(listener: &OwnedFd) -> Result<OwnedFd, CliError> {
    loop {
        match socket::accept4(listener.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            // SAFETY: accept4 returned a new descriptor that nothing else owns.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::ECONNABORTED) => continue,
            Err(e) => return Err(CliError::runtime(format!("accepting a connection: {e}"))),
        }
    }
}

/// Sends one packet, with `fds` attached.
pub fn send<T: Serialize>(
    sock: &OwnedFd,
    message: &T,
    fds: &[BorrowedFd<'_>],
) -> Result<(), CliError> {
    let bytes = serde_json::to_vec(message).expect("a message serialises");
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let rights = [ControlMessage::ScmRights(&raw)];
    let cmsgs: &[ControlMessage<'_>] = if raw.is_empty() { &[] } else { &rights };
    loop {
        match socket::sendmsg::<()>(
            sock.as_raw_fd(),
            &[IoSlice::new(&bytes)],
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(CliError::runtime(format!("sending to the supervisor: {e}"))),
        }
    }
}

/// Receives one packet and the descriptors that came with it (close-on-exec).
/// `None` when the other side closed without a word.
pub fn recv<T: for<'de> Deserialize<'de>>(
    sock: &OwnedFd,
) -> Result<Option<(T, Vec<OwnedFd>)>, CliError> {
    let mut buf = vec![0u8; MAX_PACKET];
    let mut space = nix::cmsg_space!([RawFd; 3]);
    let (len, fds) = loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        match socket::recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => {
                let mut fds = Vec::new();
                for cmsg in msg.cmsgs().map_err(|e| CliError::runtime(format!("{e}")))? {
                    if let ControlMessageOwned::ScmRights(raw) = cmsg {
                        // SAFETY: the kernel installed these descriptors for us.
                        fds.extend(
                            raw.into_iter()
                                .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                        );
                    }
                }
                break (msg.bytes, fds);
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(CliError::runtime(format!("receiving: {e}"))),
        }
    };
    if len == 0 {
        return Ok(None);
    }
    let message = serde_json::from_slice(&buf[..len])
        .map_err(|e| CliError::runtime(format!("a malformed message: {e}")))?;
    Ok(Some((message, fds)))
}

/// One request, one reply.
pub fn call(dir: &Path, request: &Request, fds: &[BorrowedFd<'_>]) -> Result<Reply, CliError> {
    let sock = connect(dir)?;
    send(&sock, request, fds)?;
    match recv::<Reply>(&sock)? {
        Some((reply, _)) => Ok(reply),
        None => Err(CliError::runtime(
            "the container's supervisor closed the connection without a reply",
        )),
    }
}
