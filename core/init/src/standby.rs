//! The standby runner: the next run's runner, made while the container is idle.
//!
//! After the init has answered a run (or a reset), it clones a runner that does at
//! once what every run needs and nothing of the run itself: it leaves the init's
//! signal state and session, takes the program's ids, drops every capability, sets
//! no_new_privs and installs the seccomp filter of the last run. Then it waits on a
//! private socket. A request it can honour (the same filter, no exec lock, no
//! cgroup of its own, limits it can still lower to) costs one message to it, with the
//! request's descriptors attached: it places them, changes to the working directory,
//! lowers its limits and execs, while the init waits for the socket's end, which the
//! exec closes (close-on-exec), as CLONE_VFORK would have made it wait. Any other
//! request kills it and takes the ordinary path (`runner`).
//!
//! The standby shares the init's memory (CLONE_VM) and runs at the same time as the
//! init: like the ordinary runner it makes only system calls on memory the init
//! keeps still for it (the `Shared` block, and the request's `Prepared` until the
//! exec), and allocates nothing. Only its failing system calls write the errno both
//! share; the init then falls back to the ordinary path, which reports what failed.
//!
//! It lives in the container's PID namespace and cgroup as a child of the init, so
//! it dies with the init, with every kill(-1), and is counted by the process limit
//! as the runner it will become.

use crate::privileges::Credentials;
use crate::protocol::{ExecStage, MAX_FDS};
use crate::runner::{self, Placement, Prepared, Report};
use nix::errno::Errno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicPtr, Ordering};

/// The standby's process name until its exec (which renames it), for whoever lists
/// the container's processes.
const STANDBY_NAME: &std::ffi::CStr = c"scpool-standby";

/// Bytes of the standby's stack.
const STACK_BYTES: usize = 64 * 1024;

/// What the standby reads, in memory it shares with the init, which neither moves
/// nor changes while the standby lives, except `job`, set before the wake-up.
struct Shared {
    /// The seccomp filter it installs (the last run's), as the host sent it.
    filter_bytes: Option<Vec<u8>>,
    filter: Option<Vec<libc::sock_filter>>,
    creds: Credentials,
    /// Its end of the private socket.
    socket: RawFd,
    /// The request, set by the init before the wake-up message.
    job: AtomicPtr<Prepared>,
    report: Report,
    stack: Stack,
}

/// The standby's stack: a private mapping, so that an idle container holds only the
/// pages the standby touched (a few), not all of them.
struct Stack(*mut libc::c_void);

impl Stack {
    fn new() -> Option<Self> {
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                STACK_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        (base != libc::MAP_FAILED).then_some(Self(base))
    }

    /// The 16-byte aligned top (stacks grow down).
    fn top(&self) -> usize {
        (self.0 as usize + STACK_BYTES) & !15
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used: `Standby` drops its shared block
        // only once the standby is gone or exec'd.
        unsafe { libc::munmap(self.0, STACK_BYTES) };
    }
}

/// A standby runner and the init's end of its socket.
pub struct Standby {
    pid: i32,
    socket: OwnedFd,
    shared: Box<Shared>,
}

/// The ends a standby is cloned with, closed by the init once it runs.
fn socket_pair() -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut ends = [0; 2];
    // SAFETY: socketpair writes two descriptors into `ends`.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            ends.as_mut_ptr(),
        )
    };
    Errno::result(rc)?;
    // SAFETY: both descriptors were just made and belong to nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) })
}

impl Standby {
    /// Clones a standby with `filter_bytes` (the last run's seccomp filter)
    /// installed. `None` when the kernel cannot make one the way runs need
    /// (close_range without CLOSE_RANGE_CLOEXEC), or a system call failed.
    pub fn prepare(filter_bytes: Option<Vec<u8>>, creds: &Credentials) -> Option<Self> {
        if !crate::sys::close_range_cloexec() {
            return None;
        }
        let filter = match &filter_bytes {
            Some(bytes) => Some(runner::filter_from_bytes(bytes)?),
            None => None,
        };
        let (ours, theirs) = socket_pair().ok()?;
        let shared = Box::new(Shared {
            filter_bytes,
            filter,
            creds: Credentials {
                uid: creds.uid,
                gid: creds.gid,
                user_namespace: creds.user_namespace,
            },
            socket: theirs.as_raw_fd(),
            job: AtomicPtr::new(std::ptr::null_mut()),
            report: Report::default(),
            stack: Stack::new()?,
        });
        let top = shared.stack.top();
        // Born with its name (a clone takes the parent's), so that nobody listing
        // the container's processes ever sees it under the init's.
        let mut own_name = [0u8; 16];
        // SAFETY: PR_GET_NAME writes at most 16 bytes into `own_name`; PR_SET_NAME
        // reads a NUL-terminated name; both change only this process's name.
        unsafe {
            libc::prctl(libc::PR_GET_NAME, own_name.as_mut_ptr(), 0, 0, 0);
            libc::prctl(libc::PR_SET_NAME, STANDBY_NAME.as_ptr(), 0, 0, 0);
        }
        // SAFETY: `standby_main` only makes system calls on `shared`, which the
        // returned Standby owns and keeps in place until the standby is gone (killed
        // and reaped, or exec'd), and on the stack inside it.
        let pid = unsafe {
            libc::clone(
                standby_main,
                top as *mut libc::c_void,
                libc::CLONE_VM | libc::SIGCHLD,
                &*shared as *const Shared as *mut libc::c_void,
            )
        };
        // SAFETY: as above; `own_name` is NUL-terminated (PR_GET_NAME).
        unsafe { libc::prctl(libc::PR_SET_NAME, own_name.as_ptr(), 0, 0, 0) };
        // Ours to close once it holds its copy; its exec closes that one.
        drop(theirs);
        let pid = Errno::result(pid).ok()?;
        Some(Self {
            pid,
            socket: ours,
            shared,
        })
    }

    /// Whether the standby can run a request exactly as the ordinary runner would:
    /// the same seccomp filter, no exec lock, no cgroup of its own to join first,
    /// and limits it can still set without privilege (`lowerable`: no hard limit
    /// above the init's own, which only a privileged runner may raise).
    pub fn honours(&self, prepared: &Prepared, seccomp: &Option<Vec<u8>>, lowerable: bool) -> bool {
        prepared.cgroup.is_none()
            && !prepared.exec_locked()
            && lowerable
            && *seccomp == self.shared.filter_bytes
    }

    /// Hands `prepared` to the standby and waits until it exec'd or gave up.
    /// Returns its pid and report; or, once it is killed and reaped, the stage it
    /// failed at (`None`: it could not be woken, or died) when it did not exec.
    /// The caller then takes the ordinary path, which reports any failure itself.
    pub fn launch(mut self, prepared: &Prepared) -> Result<(i32, Report), Option<ExecStage>> {
        self.shared.job.store(
            prepared as *const Prepared as *mut Prepared,
            Ordering::SeqCst,
        );
        let mut fds: Vec<RawFd> = prepared.files().iter().map(|f| f.as_raw_fd()).collect();
        fds.extend(prepared.exec_file().map(|f| f.as_raw_fd()));
        if send_wake(&self.socket, &fds).is_err() {
            self.dismiss();
            return Err(None);
        }
        // Until its end of the socket closes (exec, or exit) it may still read
        // `prepared`.
        wait_for_close(&self.socket);
        let report = std::mem::take(&mut self.shared.report);
        if let Some((stage, _)) = report.failure() {
            self.dismiss();
            return Err(Some(stage));
        }
        if report.exec_ns().is_none() {
            self.dismiss();
            return Err(None);
        }
        let pid = self.pid;
        // Its memory is its own now: nothing of `shared` is read any more.
        self.pid = 0;
        Ok((pid, report))
    }

    /// Kills the standby and reaps it.
    pub fn dismiss(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        if self.pid <= 0 {
            return;
        }
        // SAFETY: a child of ours, not yet reaped, so its pid is still its own.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        loop {
            // SAFETY: waitpid with a null status pointer is allowed.
            let rc = unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL) };
            if rc >= 0 || Errno::last() != Errno::EINTR {
                break;
            }
        }
        self.pid = 0;
    }
}

impl Drop for Standby {
    // The shared block must outlive the standby's use of it.
    fn drop(&mut self) {
        self.kill();
    }
}

/// One byte, with the run's descriptors attached.
fn send_wake(socket: &OwnedFd, fds: &[RawFd]) -> Result<(), Errno> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [std::io::IoSlice::new(b"r")];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    loop {
        match sendmsg::<()>(
            socket.as_raw_fd(),
            &iov,
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Err(Errno::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

/// Blocks until the peer's end is closed (read returns 0 or fails).
fn wait_for_close(socket: &OwnedFd) {
    let mut byte = [0u8; 1];
    loop {
        // SAFETY: reads into a one-byte buffer we own.
        let n = unsafe { libc::read(socket.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
        if n == 0 || (n < 0 && Errno::last() != Errno::EINTR) {
            return;
        }
    }
}

extern "C" fn standby_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the Shared block `prepare` passed, kept in place until we are
    // gone.
    let shared = unsafe { &*(arg as *const Shared) };
    let report = &shared.report;
    // SAFETY: every step below acts on this process only, before its exec.
    unsafe {
        runner::leave_init_state();
        runner::lock_down(&[&shared.filter], &shared.creds, report);
        let mut received = [-1i32; MAX_FDS + 1];
        let count = receive_wake(shared.socket, &mut received)
            .unwrap_or_else(|e| runner::fail(report, ExecStage::Files, e));
        // The init set `job` before it sent the message we received.
        let Some(p) = shared.job.load(Ordering::SeqCst).as_ref() else {
            libc::_exit(127)
        };
        let files = p.files().len();
        if count != files + usize::from(p.exec_file().is_some()) {
            runner::fail(report, ExecStage::Files, libc::EBADF);
        }
        let placed = Placement {
            files: &received[..files],
            exec_file: p.exec_file().map(|_| received[files]),
            highest_fd: -1,
        };
        let exec_fd = runner::enter(p, &placed, report);
        runner::exec_program(p, exec_fd, report)
    }
}

/// Waits for the wake-up; returns how many descriptors came with it (stored in
/// `fds`, close-on-exec). Exits quietly when the init closed its end.
///
/// SAFETY (for callers): only in the standby.
unsafe fn receive_wake(socket: RawFd, fds: &mut [i32; MAX_FDS + 1]) -> Result<usize, i32> {
    const SPACE: usize = (MAX_FDS + 1) * std::mem::size_of::<i32>() + 64;
    // u64 words keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; SPACE / 8];
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: recvmsg into buffers on our stack; the cmsg walk stays inside
    // `control` (CMSG_NXTHDR checks msg_controllen).
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = loop {
            let n = libc::recvmsg(socket, &mut msg, libc::MSG_CMSG_CLOEXEC);
            if n >= 0 || runner::errno() != libc::EINTR {
                break n;
            }
        };
        if n == 0 {
            libc::_exit(0);
        }
        if n < 0 {
            return Err(runner::errno());
        }
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            return Err(libc::EMSGSIZE);
        }
        let mut count = 0;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
                let bytes = header.cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg) as *const i32;
                for i in 0..bytes / std::mem::size_of::<i32>() {
                    if count < fds.len() {
                        fds[count] = data.add(i).read_unaligned();
                        count += 1;
                    }
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        Ok(count)
    }
}

/// The init's standby, if any, and what it is made with.
#[derive(Default)]
pub struct Standbys {
    current: Option<Standby>,
    /// The seccomp filter of the last run, which the next standby installs.
    last_filter: Option<Option<Vec<u8>>>,
    /// A filter a standby could not work under (it denies a system call the
    /// standby makes after installing it): none is made for it again.
    unusable: Option<Option<Vec<u8>>>,
    /// Runs answered since the set-up.
    runs: u64,
    /// The last run joined a cgroup of its own (cgroup v2 before 6.12): its
    /// namespace needs privileges a standby has dropped, so none is made for the
    /// next, which will too.
    own_cgroups: bool,
}

impl Standbys {
    /// After a run was answered. A container's first run makes none: a one-shot
    /// container (`scpool run`) is destroyed next, and the standby would only
    /// compete with its teardown for the CPU.
    pub fn after_run(&mut self, creds: &Credentials) {
        self.runs += 1;
        if self.runs >= 2 {
            self.refill(creds);
        }
    }

    /// After a reset was answered: the container is being reused.
    pub fn after_reset(&mut self, creds: &Credentials) {
        self.refill(creds);
    }

    /// Makes the next standby if there is none, for a filter a run has used.
    fn refill(&mut self, creds: &Credentials) {
        // Rootless runs get a PID namespace of their own (`pid_ns`), made per run.
        if self.current.is_some() || creds.user_namespace || self.own_cgroups {
            return;
        }
        let Some(filter) = &self.last_filter else {
            return;
        };
        if self.unusable.as_ref() == Some(filter) {
            return;
        }
        // Refills follow replies: the host thread a reply woke runs first.
        crate::sys::yield_to_host();
        self.current = Standby::prepare(filter.clone(), creds);
    }

    /// The standby, to serve a run with `filter` (joining a cgroup of its own when
    /// `own_cgroup`), which the next one installs.
    pub fn take(&mut self, filter: &Option<Vec<u8>>, own_cgroup: bool) -> Option<Standby> {
        self.own_cgroups = own_cgroup;
        if self.last_filter.as_ref() != Some(filter) {
            self.last_filter = Some(filter.clone());
        }
        self.current.take()
    }

    /// A standby with `filter` failed before its exec at `stage` (`None`: it died).
    /// Failures of the request itself (working directory, limits, the exec) say
    /// nothing about the standby; any other means it cannot work under the filter.
    pub fn failed(&mut self, filter: &Option<Vec<u8>>, stage: Option<ExecStage>) {
        if !matches!(
            stage,
            Some(ExecStage::Chdir | ExecStage::Rlimit | ExecStage::Exec)
        ) {
            self.unusable = Some(filter.clone());
        }
    }

    /// Kills the standby (before a reset, so that nothing of the init's making
    /// outlives the reset's kill unreaped).
    pub fn dismiss(&mut self) {
        if let Some(standby) = self.current.take() {
            standby.dismiss();
        }
    }
}
