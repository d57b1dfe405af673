//! The forked runner: becomes the program. Everything that can be decided was
//! decided before the fork (see `Prepared`); here only system calls remain, and the
//! first failure is reported to the init through a close-on-exec pipe.

use crate::privileges;
use crate::protocol::{ExecStage, Rlimit};
use crate::runner::Credentials;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

/// The request, ready for the system calls of the child.
pub struct Prepared {
    args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    cwd: CString,
    files: Vec<OwnedFd>,
    exec_file: Option<OwnedFd>,
    rlimits: Vec<Rlimit>,
    seccomp: Option<Vec<libc::sock_filter>>,
    // Owns the strings `envp` points into.
    _env: Vec<CString>,
}

impl Prepared {
    pub fn new(
        args: Vec<CString>,
        env: Vec<CString>,
        cwd: CString,
        files: Vec<OwnedFd>,
        exec_file: Option<OwnedFd>,
        rlimits: Vec<Rlimit>,
        seccomp: Option<Vec<libc::sock_filter>>,
    ) -> Self {
        let pointers = |list: &[CString]| {
            list.iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        Self {
            argv: pointers(&args),
            envp: pointers(&env),
            args,
            cwd,
            files,
            exec_file,
            rlimits,
            seccomp,
            _env: env,
        }
    }
}

/// A classic BPF program from its raw bytes (8 bytes per instruction).
pub fn filter_from_bytes(bytes: &[u8]) -> Option<Vec<libc::sock_filter>> {
    const INSN: usize = std::mem::size_of::<libc::sock_filter>();
    if bytes.is_empty() || bytes.len() % INSN != 0 || bytes.len() / INSN > 4096 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(INSN)
            .map(|b| libc::sock_filter {
                code: u16::from_ne_bytes([b[0], b[1]]),
                jt: b[2],
                jf: b[3],
                k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            })
            .collect(),
    )
}

/// Reads the child's report: `None` when the pipe closed on a successful exec.
pub fn read_failure(pipe: &OwnedFd) -> Option<(ExecStage, i32)> {
    let mut buf = [0u8; 8];
    let mut filled = 0;
    while filled < buf.len() {
        match nix::unistd::read(pipe, &mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if filled < buf.len() {
        return None;
    }
    let stage = ExecStage::from_u8(buf[0]).unwrap_or(ExecStage::Exec);
    Some((stage, i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]])))
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

/// Reports a failed stage to the init and leaves.
fn fail(report: i32, stage: ExecStage, errno: i32) -> ! {
    let mut msg = [0u8; 8];
    msg[0] = stage as u8;
    msg[4..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: writing a local buffer to our pipe, then leaving without running any of
    // the init's destructors.
    unsafe {
        libc::write(report, msg.as_ptr().cast(), msg.len());
        libc::_exit(127)
    }
}

/// Turns the forked child into the program. Never returns.
pub fn exec(p: &Prepared, report: OwnedFd, creds: &Credentials) -> ! {
    let report = report.as_raw_fd();
    // SAFETY: the system calls below act on this child process only, with pointers
    // to buffers that `p` keeps alive.
    unsafe {
        // The init blocks SIGCHLD and Rust ignores SIGPIPE: give the program the
        // defaults (the init reset every other disposition at start-up).
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::setsid();
        // The host shields the init from the OOM killer; the program gets the
        // ordinary score back (raising it needs no privilege).
        let adj = libc::open(
            c"/proc/self/oom_score_adj".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if adj >= 0 {
            libc::write(adj, b"0".as_ptr().cast(), 1);
            libc::close(adj);
        }

        let (report, exec_fd) =
            place_files(p, report).unwrap_or_else(|e| fail(report, ExecStage::Files, e));
        if libc::chdir(p.cwd.as_ptr()) != 0 {
            fail(report, ExecStage::Chdir, errno());
        }
        for r in &p.rlimits {
            let lim = libc::rlimit {
                rlim_cur: r.soft,
                rlim_max: r.hard,
            };
            if libc::setrlimit(r.resource as libc::__rlimit_resource_t, &lim) != 0 {
                fail(report, ExecStage::Rlimit, errno());
            }
        }
        if let Err(e) = privileges::become_program(creds) {
            fail(report, ExecStage::Credentials, e);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            fail(report, ExecStage::NoNewPrivs, errno());
        }
        if let Some(filter) = &p.seccomp {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut _,
            };
            if libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0 {
                fail(report, ExecStage::Seccomp, errno());
            }
        }
        match exec_fd {
            Some(fd) => {
                libc::syscall(
                    libc::SYS_execveat,
                    fd,
                    c"".as_ptr(),
                    p.argv.as_ptr(),
                    p.envp.as_ptr(),
                    libc::AT_EMPTY_PATH,
                );
            }
            None => {
                libc::execve(p.args[0].as_ptr(), p.argv.as_ptr(), p.envp.as_ptr());
            }
        }
        fail(report, ExecStage::Exec, errno())
    }
}

/// Puts the given files at 0..n, /dev/null at any of 0-2 left over, and marks every
/// other descriptor close-on-exec. Returns the new numbers of the report pipe and the
/// exec file, both lifted above the range and closed by the exec itself.
///
/// SAFETY (for callers): only in the forked child.
unsafe fn place_files(p: &Prepared, report: i32) -> Result<(i32, Option<i32>), i32> {
    let n = p.files.len() as i32;
    let floor = n.max(3);
    // SAFETY: fcntl/dup2/open/close_range on descriptors of this child.
    unsafe {
        // First lift everything we keep above the target range, so no dup2 below
        // overwrites a descriptor still needed.
        let lift = |fd: i32| {
            let high = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor);
            if high < 0 {
                Err(errno())
            } else {
                Ok(high)
            }
        };
        let report = lift(report)?;
        let exec_fd = match &p.exec_file {
            Some(f) => Some(lift(f.as_raw_fd())?),
            None => None,
        };
        let mut lifted = Vec::with_capacity(p.files.len());
        for f in &p.files {
            lifted.push(lift(f.as_raw_fd())?);
        }
        for (target, fd) in lifted.iter().enumerate() {
            if libc::dup2(*fd, target as i32) < 0 {
                return Err(errno());
            }
        }
        for target in n..3 {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
            if null < 0 {
                return Err(errno());
            }
            // open may hand out `target` itself: then only the flag must go.
            let placed = if null == target {
                libc::fcntl(target, libc::F_SETFD, 0)
            } else {
                let rc = libc::dup2(null, target);
                libc::close(null);
                rc
            };
            if placed < 0 {
                return Err(errno());
            }
        }
        if libc::close_range(floor as u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) != 0 {
            return Err(errno());
        }
        Ok((report, exec_fd))
    }
}
