//! The forked side of [`spawn`](super::ExecHandle::spawn): a helper that enters the
//! container and the program it forks there.
//!
//! The helper is a fork of the host, which may be multithreaded (Python, Go): from
//! the fork to the exec only system calls run, on what [`Plan`] prepared before it,
//! with every signal blocked until the program resets them. Failures travel back
//! through a close-on-exec pipe as [`Record`]s; its end of file means the program
//! exec'd or died.
//!
//! The helper stays the program's parent until the program ends: outside the
//! container's PID namespace, out of reach of the init's kill(-1), it reaps the
//! program at once (a zombie the init's namespace waits for must never depend on
//! the host calling wait), kills what is left of the program's process group, and
//! reports the program's status and rusage.
//!
//! The helper makes itself non-dumpable before it joins anything, so no process of
//! the container can ptrace it or open its /proc/PID/mem, exe or fd while it still
//! holds the host's memory and privileges; the program inherits that until its exec
//! gives it a memory of its own.

mod program;
mod rootless;

use crate::protocol::{ExecStage, Rlimit};
use program::program;
use rootless::own_pid_namespace;
use std::ffi::CString;
use std::os::fd::{OwnedFd, RawFd};

/// Everything the helper and the program need, decided before the fork.
pub(super) struct Plan {
    pub init_pidfd: RawFd,
    /// The namespaces of the init to join, in order, through its pidfd.
    pub namespaces: Vec<libc::c_int>,
    /// The container has a user namespace (rootless). Then the program also gets a
    /// PID namespace of its own, nested in the container's, with its own /proc, as
    /// each rootless run does (see the init's `pid_ns`): with the init's uid it
    /// could otherwise act on the init by pid.
    pub user_namespace: bool,
    /// cgroup.procs of the cgroup the init is in, one per hierarchy.
    pub cgroup_procs: Vec<OwnedFd>,
    pub argv: Vec<*const libc::c_char>,
    pub envp: Vec<*const libc::c_char>,
    pub exec_path: *const libc::c_char,
    pub cwd: CString,
    pub files: Vec<RawFd>,
    pub exec_file: Option<RawFd>,
    pub empty_path: *const libc::c_char,
    pub rlimits: Vec<Rlimit>,
    pub filters: Vec<Vec<libc::sock_filter>>,
    pub uid: u32,
    pub gid: u32,
    pub last_cap: u32,
    /// For kernels whose close_range cannot mark descriptors close-on-exec (5.10).
    pub highest_fd: RawFd,
    /// /proc entries made read-only in the program's own /proc (rootless).
    pub proc_entries: Vec<CString>,
}

/// What the socket carries: [`RECORD_BYTES`] bytes, native order, one packet each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Record {
    /// A step failed with this errno; nothing after it ran.
    Failed(ExecStage, i32),
    /// The program exec'd or failed to (a `Failed` came first); its pidfd comes
    /// with this record (SCM_RIGHTS).
    Program,
    /// The program ended: its wait status and rusage.
    Ended(Ended),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ended {
    pub status: i32,
    pub user_us: u64,
    pub system_us: u64,
    pub maxrss_kib: u64,
}

pub(super) const RECORD_BYTES: usize = 40;

impl Record {
    fn encode(self) -> [u8; RECORD_BYTES] {
        let (kind, a, b, c, d, e) = match self {
            Record::Failed(stage, errno) => (1u32, stage as i32, errno, 0, 0, 0),
            Record::Program => (2, 0, 0, 0, 0, 0),
            Record::Ended(x) => (3, x.status, 0, x.user_us, x.system_us, x.maxrss_kib),
        };
        let mut out = [0u8; RECORD_BYTES];
        out[..4].copy_from_slice(&kind.to_ne_bytes());
        out[4..8].copy_from_slice(&a.to_ne_bytes());
        out[8..12].copy_from_slice(&b.to_ne_bytes());
        out[16..24].copy_from_slice(&c.to_ne_bytes());
        out[24..32].copy_from_slice(&d.to_ne_bytes());
        out[32..40].copy_from_slice(&e.to_ne_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != RECORD_BYTES {
            return None;
        }
        let word = |i: usize| i32::from_ne_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
        let long = |i: usize| u64::from_ne_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        match word(0) {
            1 => Some(Record::Failed(
                ExecStage::from_u8(u8::try_from(word(4)).ok()?)?,
                word(8),
            )),
            2 => Some(Record::Program),
            3 => Some(Record::Ended(Ended {
                status: word(4),
                user_us: long(16),
                system_us: long(24),
                maxrss_kib: long(32),
            })),
            _ => None,
        }
    }
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

fn say(report: RawFd, record: Record) {
    let bytes = record.encode();
    loop {
        // SAFETY: a write of a stack buffer to the report pipe.
        let n = unsafe { libc::write(report, bytes.as_ptr().cast(), bytes.len()) };
        if n >= 0 || errno() != libc::EINTR {
            return;
        }
    }
}

/// [`say`] with a descriptor attached (SCM_RIGHTS), from buffers on the stack.
fn say_with_fd(report: RawFd, record: Record, fd: RawFd) -> Result<(), i32> {
    let mut bytes = record.encode();
    // Room for one cmsghdr and one int, aligned as cmsghdr.
    let mut control = [0u64; 4];
    let mut iov = libc::iovec {
        iov_base: bytes.as_mut_ptr().cast(),
        iov_len: bytes.len(),
    };
    // SAFETY: the msghdr points to the buffers above, which outlive the call; the
    // CMSG macros stay within `control` (sized for one descriptor).
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
        retry(|| libc::sendmsg(report, &msg, libc::MSG_NOSIGNAL) as libc::c_long).map(drop)
    }
}

fn fail(report: RawFd, stage: ExecStage, errno: i32) -> ! {
    say(report, Record::Failed(stage, errno));
    // SAFETY: leaves at once, running nothing of the host's.
    unsafe { libc::_exit(127) }
}

/// `rc` as the errno of a failed call, retrying EINTR.
fn retry(mut call: impl FnMut() -> libc::c_long) -> Result<libc::c_long, i32> {
    loop {
        let rc = call();
        if rc >= 0 {
            return Ok(rc);
        }
        if errno() != libc::EINTR {
            return Err(errno());
        }
    }
}

/// A fork with exit signal 0 and no atfork handlers (they may take the host's
/// locks): the child's end is seen only by a wait with __WALL, so a host's own
/// `waitpid(-1)` or SIGCHLD handler never takes it from us.
///
/// SAFETY (for callers): the child may only make system calls before it exits.
pub(super) unsafe fn raw_fork(flags: libc::c_long) -> Result<i32, i32> {
    // SAFETY: clone without CLONE_VM and without a new stack behaves as fork.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    if pid < 0 {
        Err(errno())
    } else {
        Ok(pid as i32)
    }
}

/// The helper, in the forked copy of the host. Never returns.
pub(super) fn helper(plan: &Plan, report: RawFd) -> ! {
    // SAFETY: system calls on this process and on descriptors the plan holds.
    unsafe {
        // Before anything of the container can see us.
        if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 {
            fail(report, ExecStage::Namespace, errno());
        }
        // One at a time, the user namespace first (the rest then checks our
        // capabilities in it): 6.x refuses a rootless container's set in one call
        // with EINVAL, though each alone succeeds.
        for namespace in &plan.namespaces {
            if let Err(e) = retry(|| libc::setns(plan.init_pidfd, *namespace) as libc::c_long) {
                fail(report, ExecStage::Namespace, e);
            }
        }
        // setns(CLONE_NEWPID) places our children, not us. The program's clone
        // waits until it exec'd or failed (CLONE_VFORK).
        if !plan.user_namespace {
            let mut pidfd: libc::c_int = -1;
            match clone_program(libc::CLONE_VFORK | libc::CLONE_PIDFD, &mut pidfd) {
                Ok(0) => program(plan, report),
                Ok(_) => {
                    keep_only(report, pidfd);
                    hand_over(report, pidfd);
                }
                Err(e) => fail(report, ExecStage::Namespace, e),
            }
        } else {
            // Rootless: the program's own PID namespace must be made by a member
            // of the container's; that process forks the namespace's reaper as
            // our child (CLONE_PARENT) and leaves.
            match clone_program(0, std::ptr::null_mut()) {
                Ok(0) => own_pid_namespace(plan, report),
                Ok(maker) => {
                    // The maker has its own copies of what it needs.
                    keep_only(report, -1);
                    let mut status = 0;
                    if retry(|| {
                        libc::wait4(maker, &mut status, libc::__WALL, std::ptr::null_mut())
                            as libc::c_long
                    })
                    .is_err()
                    {
                        libc::_exit(127);
                    }
                }
                Err(e) => fail(report, ExecStage::Namespace, e),
            }
        }
        watch(report, !plan.user_namespace)
    }
}

/// Clones with `flags` and exit signal 0; `pidfd` receives a pidfd with
/// CLONE_PIDFD (the parent-tid argument, third on every architecture).
///
/// SAFETY (for callers): as [`raw_fork`].
unsafe fn clone_program(flags: libc::c_int, pidfd: *mut libc::c_int) -> Result<i32, i32> {
    // SAFETY: clone without CLONE_VM and without a new stack behaves as fork.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as libc::c_long,
            0usize,
            pidfd,
            0usize,
            0usize,
        )
    };
    if pid < 0 {
        Err(errno())
    } else {
        Ok(pid as i32)
    }
}

/// Closes every descriptor but `a` and `b` (-1: none): a copy of the host's
/// descriptors kept while the program runs would hold the host's pipes and
/// sockets open (a reader would wait for an end of file that never comes).
fn keep_only(a: RawFd, b: RawFd) {
    let (low, high) = if b >= 0 {
        (a.min(b), a.max(b))
    } else {
        (a, -1)
    };
    let close = |from: i32, to: i32| {
        if from <= to {
            // SAFETY: closes descriptors of this process only.
            unsafe { crate::protocol::fd_placement::close_range(from as u32, to as u32, 0) };
        }
    };
    close(0, low - 1);
    if high >= 0 {
        close(low + 1, high - 1);
        close(high + 1, i32::MAX);
    } else {
        close(low + 1, i32::MAX);
    }
}

/// Sends the program's pidfd to the host; a host that is gone ends us.
fn hand_over(report: RawFd, pidfd: RawFd) {
    if say_with_fd(report, Record::Program, pidfd).is_err() {
        // SAFETY: leaving; the program is our child and the kernel re-parents it.
        unsafe { libc::_exit(127) }
    }
    // SAFETY: closing our copy of the pidfd.
    unsafe { libc::close(pidfd) };
}

/// Waits for our only child: the program (then ends what is left of its process
/// group while its zombie still holds the group's id, reaps it and reports), or
/// rootless the reaper that reports for it.
fn watch(report: RawFd, program: bool) -> ! {
    // SAFETY: waitid/kill/wait4 on our own child; out-parameters are locals.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let noticed = retry(|| {
            libc::waitid(
                libc::P_ALL,
                0,
                &mut info,
                libc::WEXITED | libc::WNOWAIT | libc::__WALL,
            ) as libc::c_long
        });
        if noticed.is_err() {
            libc::_exit(127);
        }
        let pid = info.si_pid();
        if program {
            // Its children that stayed in its group end with it, as a run's do.
            libc::kill(-pid, libc::SIGKILL);
        }
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        if retry(|| libc::wait4(pid, &mut status, libc::__WALL, &mut usage) as libc::c_long)
            .is_err()
        {
            libc::_exit(127);
        }
        // Rootless the reaper reported the program's end, unless it was killed
        // (the init's kill(-1) at the end of a run, a reset): then the program
        // died with its namespace, of the same signal.
        if program || libc::WIFSIGNALED(status) {
            report_end(report, status, &usage);
        }
        libc::_exit(0)
    }
}

/// Sends the program's end. Its peak resident set is not reported: ru_maxrss
/// also counts the host's memory the program was forked from (before its exec).
fn report_end(report: RawFd, status: i32, usage: &libc::rusage) {
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    say(
        report,
        Record::Ended(Ended {
            status,
            user_us: micros(usage.ru_utime),
            system_us: micros(usage.ru_stime),
            maxrss_kib: 0,
        }),
    );
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_pipe_and_garbage_is_refused() {
        for record in [
            Record::Program,
            Record::Ended(Ended {
                status: 9,
                user_us: 1,
                system_us: 2,
                maxrss_kib: 0,
            }),
            Record::Failed(ExecStage::Exec, libc::ENOENT),
            Record::Failed(ExecStage::Namespace, libc::ESRCH),
        ] {
            assert_eq!(Record::decode(&record.encode()), Some(record));
        }
        assert_eq!(Record::decode(&[0; RECORD_BYTES]), None);
        let mut bad = Record::Failed(ExecStage::Exec, 1).encode();
        bad[4] = 200;
        assert_eq!(Record::decode(&bad), None);
    }
}
