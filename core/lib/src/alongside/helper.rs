//! The host's side of the helper: forking it, reading its reports, reaping it.

use super::enter::{self, Plan, Record};
use super::os;
use crate::error::{Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The helper, as long as it watches the program.
pub(super) struct Helper {
    pub pid: i32,
    pub socket: OwnedFd,
}

impl Helper {
    /// The next record and the descriptor it carries; `None` once the helper is
    /// gone.
    pub fn next(&self) -> Result<Option<(Record, Option<OwnedFd>)>> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        loop {
            let mut buf = [0u8; enter::RECORD_BYTES];
            let mut space = nix::cmsg_space!([RawFd; 1]);
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let msg = match recvmsg::<()>(
                self.socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => msg,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::io("reading the helper's report", e)),
            };
            if msg.bytes == 0 {
                return Ok(None);
            }
            let len = msg.bytes;
            let mut fd = None;
            for cmsg in msg.cmsgs().into_iter().flatten() {
                if let ControlMessageOwned::ScmRights(fds) = cmsg {
                    for raw in fds {
                        // SAFETY: the kernel installed this descriptor for us.
                        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                        fd.get_or_insert(owned);
                    }
                }
            }
            match Record::decode(&buf[..len]) {
                Some(record) => return Ok(Some((record, fd))),
                None => continue,
            }
        }
    }

    /// Reaps the helper (it leaves right after its last record, or was killed).
    pub fn reap(&self) {
        reap(self.pid);
    }
}

/// Forks the helper.
pub(super) fn fork_helper(plan: &Plan) -> Result<Helper> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::io("creating the helper's socket", e))?;
    // Block every signal across the fork: the helper runs none of the host's
    // handlers (and keeps them blocked); the program resets them before its exec.
    // SAFETY: sigset operations on local values; pthread_sigmask changes only this
    // thread's mask, restored below.
    let old = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    // SAFETY: the child runs only `enter::helper`, which makes system calls on what
    // `plan` prepared and never returns.
    let forked = unsafe { enter::raw_fork(0) };
    if forked == Ok(0) {
        enter::helper(plan, theirs.as_raw_fd());
    }
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    drop(theirs);
    let pid = forked.map_err(|e| os("forking the helper that enters the container", e))?;
    Ok(Helper { pid, socket: ours })
}

/// The pid (in our PID namespace) of the process behind `pidfd`.
pub(super) fn pid_of(pidfd: &OwnedFd) -> Option<i32> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))?
        .trim()
        .parse()
        .ok()
        .filter(|pid| *pid > 0)
}

/// Waits for our child `pid` (exit signal 0: __WALL), retrying EINTR. Returns its
/// wait status and rusage.
fn reap(pid: i32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to status and usage.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::__WALL, &mut usage) };
        if rc >= 0 || nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return (status, usage);
        }
    }
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helper").field("pid", &self.pid).finish()
    }
}
