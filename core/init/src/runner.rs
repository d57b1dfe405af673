//! The forked runner: becomes the program. Everything that can be decided was
//! decided before the fork (see `Prepared`); here only system calls remain, and the
//! first failure is reported to the init through memory both share.
//!
//! The runner is started with clone(CLONE_VM | CLONE_VFORK) on a stack of its own:
//! no page tables are copied, no copy-on-write faults follow, and the init sleeps
//! until the exec. Sharing the init's memory, the runner must not allocate or take a
//! lock: only system calls on what `Prepared` holds.

use crate::privileges;
use crate::privileges::Credentials;
use crate::protocol::fd_placement::place_files;
pub use crate::protocol::fd_placement::Placement;
use crate::protocol::{ExecStage, Rlimit, MAX_FDS};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// The raw prlimit64 takes two 64-bit values, which `libc::rlimit` is on every
/// target this builds for.
const _: () = assert!(std::mem::size_of::<libc::rlimit>() == 16);

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
    /// The single-program policy's second filter (`seccomp_exec`).
    exec_lock: Option<Vec<libc::sock_filter>>,
    /// What execveat gets as its path: [`EMPTY_PATH`], or the exec lock's own.
    empty_path: *const libc::c_char,
    /// What execve gets as its path under the exec lock: a copy of `args[0]` at an
    /// address the lock names and nobody can guess.
    exec_path: Option<crate::seccomp_exec::MappedPath>,
    /// cgroup.procs of the run's own cgroup, joined first (see `join_cgroup`).
    pub cgroup: Option<OwnedFd>,
    /// The highest descriptor the init holds, for kernels whose close_range cannot
    /// mark descriptors close-on-exec (before 5.11); -1 where it can.
    pub highest_fd: i32,
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
            exec_lock: None,
            empty_path: EMPTY_PATH.as_ptr(),
            exec_path: None,
            cgroup: None,
            highest_fd: -1,
            _env: env,
        }
    }

    pub fn files(&self) -> &[OwnedFd] {
        &self.files
    }

    pub fn exec_file(&self) -> Option<&OwnedFd> {
        self.exec_file.as_ref()
    }

    /// The single-program policy's exec lock is on.
    pub fn exec_locked(&self) -> bool {
        self.exec_lock.is_some()
    }

    pub fn rlimits(&self) -> &[Rlimit] {
        &self.rlimits
    }

    /// Lets this run's program make no exec but the runner's own: the filter
    /// allows exactly the filename pointers `exec` passes, which stay valid (and
    /// unseen by the program) because the mapped copy of the path and the mapped
    /// empty path do not move until the run is over.
    pub fn lock_exec(&mut self) -> std::io::Result<()> {
        self.empty_path = crate::seccomp_exec::empty_path()?;
        let path = crate::seccomp_exec::MappedPath::new(&self.args[0])?;
        self.exec_lock = Some(crate::seccomp_exec::exec_lock(
            path.as_ptr(),
            self.empty_path,
        ));
        self.exec_path = Some(path);
        Ok(())
    }
}

/// The path execveat gets for an exec by descriptor (AT_EMPTY_PATH) when no exec
/// lock needs an address nobody can know.
static EMPTY_PATH: &std::ffi::CStr = c"";

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

/// Where the runner reports the stage and errno of its first failure: 0 until then.
#[derive(Default)]
pub struct Report(AtomicU64, AtomicU64);

impl Report {
    /// When the runner called exec (CLOCK_MONOTONIC ns), if it got that far.
    pub fn exec_ns(&self) -> Option<u64> {
        Some(self.1.load(Ordering::SeqCst)).filter(|ns| *ns != 0)
    }

    pub fn set(&self, stage: ExecStage, errno: i32) {
        self.0.store(
            ((stage as u64) << 32) | errno as u32 as u64,
            Ordering::SeqCst,
        );
    }

    /// `None` when the runner exec'd.
    pub fn failure(&self) -> Option<(ExecStage, i32)> {
        let value = self.0.load(Ordering::SeqCst);
        (value != 0).then(|| {
            let stage = ExecStage::from_u8((value >> 32) as u8).unwrap_or(ExecStage::Exec);
            (stage, value as u32 as i32)
        })
    }
}

/// What the runner's entry point receives.
pub struct Launch<'a> {
    pub prepared: &'a Prepared,
    pub creds: &'a Credentials,
    pub report: Report,
}

/// Bytes of the runner's own stack until its exec.
const STACK_BYTES: usize = 64 * 1024;

/// Stacks for a runner and, in rootless mode, for the reaper of its PID namespace
/// (`pid_ns`), allocated once.
pub struct RunnerStack(Vec<u8>);

impl RunnerStack {
    pub fn new() -> Self {
        Self(vec![0; 2 * STACK_BYTES])
    }

    /// The 16-byte aligned top of the runner's stack (stacks grow down).
    pub fn top(&mut self) -> usize {
        (self.0.as_mut_ptr() as usize + STACK_BYTES) & !15
    }

    /// The top of the second stack, for the reaper.
    pub fn reaper_top(&mut self) -> usize {
        (self.0.as_mut_ptr() as usize + 2 * STACK_BYTES) & !15
    }
}

/// Starts the runner; returns once it exec'd or failed (CLONE_VFORK). Returns its
/// pid, or the errno of clone.
pub fn spawn(launch: &Launch<'_>, stack: &mut RunnerStack) -> Result<i32, nix::errno::Errno> {
    spawn_at(launch, stack.top())
}

/// [`spawn`] on the stack whose top is `top`: also called by the reaper of a
/// rootless run's PID namespace, which shares our memory.
pub fn spawn_at(launch: &Launch<'_>, top: usize) -> Result<i32, nix::errno::Errno> {
    // SAFETY: `runner_main` only makes system calls on data `launch` points to, which
    // outlives the runner's use of it: CLONE_VFORK suspends the caller until it
    // execs or exits, and the stack at `top` is reserved for it until then.
    let pid = unsafe {
        libc::clone(
            runner_main,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            launch as *const Launch as *mut libc::c_void,
        )
    };
    nix::errno::Errno::result(pid)
}

extern "C" fn runner_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the Launch `spawn` passed, alive until we exec or exit.
    let launch = unsafe { &*(arg as *const Launch) };
    exec(launch.prepared, &launch.report, launch.creds)
}

pub fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

/// Reports a failed stage to the init and leaves.
pub fn fail(report: &Report, stage: ExecStage, errno: i32) -> ! {
    report.set(stage, errno);
    // SAFETY: leaves at once, running none of the init's destructors.
    unsafe { libc::_exit(127) }
}

/// Turns the forked child into the program. Never returns.
fn exec(p: &Prepared, report: &Report, creds: &Credentials) -> ! {
    if let Some(procs) = &p.cgroup {
        if let Err(e) = join_cgroup(procs) {
            fail(report, ExecStage::Cgroup, e);
        }
    }
    // SAFETY: each step acts on this child process only, before its exec.
    unsafe {
        leave_init_state();
        let files: [i32; MAX_FDS] =
            std::array::from_fn(|i| p.files.get(i).map_or(-1, |f| f.as_raw_fd()));
        let placed = Placement {
            files: &files[..p.files.len()],
            exec_file: p.exec_file.as_ref().map(|f| f.as_raw_fd()),
            highest_fd: p.highest_fd,
        };
        let exec_fd = enter(p, &placed, report);
        lock_down(&[&p.seccomp, &p.exec_lock], creds, report);
        exec_program(p, exec_fd, report)
    }
}

/// Gives the runner the program's signal state, session and OOM score.
///
/// SAFETY (for callers): only in a runner, before its exec.
pub unsafe fn leave_init_state() {
    // SAFETY: the system calls below act on this child process only.
    unsafe {
        // The init blocks SIGCHLD and Rust ignores SIGPIPE: give the program the
        // defaults (the init reset every other disposition at start-up).
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::setsid();
        // The OOM killer must take the program's processes first, never the init
        // while one of them is left: the highest score, which needs no privilege
        // (the init's -1000, set by the host, needs CAP_SYS_RESOURCE, which hosts
        // such as Docker's default do not grant).
        let adj = libc::open(
            c"/proc/self/oom_score_adj".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if adj >= 0 {
            libc::write(adj, b"1000".as_ptr().cast(), 4);
            libc::close(adj);
        }
    }
}

/// Places the files, changes to the working directory and sets the limits.
/// Returns the exec file's new number.
///
/// SAFETY (for callers): only in a runner, before its exec.
pub unsafe fn enter(p: &Prepared, placed: &Placement<'_>, report: &Report) -> Option<i32> {
    // SAFETY: the system calls below act on this child process only, with pointers
    // to buffers that `p` keeps alive.
    unsafe {
        let exec_fd = place_files(placed).unwrap_or_else(|e| fail(report, ExecStage::Files, e));
        if libc::chdir(p.cwd.as_ptr()) != 0 {
            fail(report, ExecStage::Chdir, errno());
        }
        for r in &p.rlimits {
            let lim = libc::rlimit {
                rlim_cur: r.soft,
                rlim_max: r.hard,
            };
            // The system call, as for the ids (see `privileges`).
            let none = std::ptr::null_mut::<libc::rlimit>();
            if libc::syscall(libc::SYS_prlimit64, 0, r.resource, &lim, none) != 0 {
                fail(report, ExecStage::Rlimit, errno());
            }
        }
        exec_fd
    }
}

/// The program's ids, no capability, no_new_privs, then the seccomp filters.
///
/// SAFETY (for callers): only in a runner, before its exec.
pub unsafe fn lock_down(
    filters: &[&Option<Vec<libc::sock_filter>>],
    creds: &Credentials,
    report: &Report,
) {
    // SAFETY: the system calls below act on this child process only, with pointers
    // to filters the caller keeps alive.
    unsafe {
        if let Err(e) = privileges::become_program(creds) {
            fail(report, ExecStage::Credentials, e);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            fail(report, ExecStage::NoNewPrivs, errno());
        }
        // The policy, then the exec lock: the kernel runs every filter installed
        // and the strictest answer wins.
        for filter in filters.iter().copied().flatten() {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut _,
            };
            if libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0 {
                fail(report, ExecStage::Seccomp, errno());
            }
        }
    }
}

/// Notes the instant and execs the program (by `exec_fd` when there is one).
///
/// SAFETY (for callers): only in a runner; `p` stays alive until the exec is done.
pub unsafe fn exec_program(p: &Prepared, exec_fd: Option<i32>, report: &Report) -> ! {
    // SAFETY: exec with argument vectors `p` keeps alive.
    unsafe {
        // The clock is read through the vDSO: no system call, nothing allocated.
        report.1.store(crate::sys::monotonic_ns(), Ordering::SeqCst);
        match exec_fd {
            Some(fd) => {
                libc::syscall(
                    libc::SYS_execveat,
                    fd,
                    p.empty_path,
                    p.argv.as_ptr(),
                    p.envp.as_ptr(),
                    libc::AT_EMPTY_PATH,
                );
            }
            None => {
                let path = p
                    .exec_path
                    .as_ref()
                    .map_or(p.args[0].as_ptr(), |mapped| mapped.as_ptr());
                libc::execve(path, p.argv.as_ptr(), p.envp.as_ptr());
            }
        }
        fail(report, ExecStage::Exec, errno())
    }
}

/// Moves the runner into the run's own cgroup, before its exec makes the memory the
/// program will be charged for (charges stay where they are made), then gives it a
/// cgroup namespace rooted there, so the program sees its cgroup as "/" as it would
/// in the container's. The host opened `procs`: the kernel checks its credentials.
fn join_cgroup(procs: &OwnedFd) -> Result<(), i32> {
    loop {
        // SAFETY: a write of a static buffer to a descriptor the runner holds;
        // "0" moves the writing process.
        let n = unsafe { libc::write(procs.as_raw_fd(), b"0".as_ptr().cast(), 1) };
        if n >= 0 {
            break;
        }
        if errno() != libc::EINTR {
            return Err(errno());
        }
    }
    // SAFETY: unshare has no memory arguments and affects only this process.
    if unsafe { libc::unshare(libc::CLONE_NEWCGROUP) } != 0 {
        return Err(errno());
    }
    Ok(())
}
