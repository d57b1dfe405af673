//! Rootless runs get a PID namespace of their own.
//!
//! In a user namespace only one id is mapped, so the program has the init's uid and
//! the kernel lets it act on the init by pid (prlimit64, sched_setaffinity,
//! setpriority, PRIO_USER...). Inside a nested PID namespace the init has no pid at
//! all: pid 1 there is a small reaper that lives only for this run, so whatever the
//! program does to it dies with the run. The reaper also has a mount namespace of its
//! own with a /proc of the new PID namespace, so the program's pids and /proc agree
//! (`/proc/$$` is the shell itself).
//!
//! The reaper is cloned with CLONE_VM on a stack of its own. Until it says the
//! program was launched, the init only waits on a futex, so the reaper may do
//! ordinary work (the /proc mount); after that both run at once and the reaper
//! makes only system calls and atomic stores: no allocation, no lock. It starts the runner
//! as the init does (CLONE_VFORK), says when the program exec'd, reaps every process
//! of the run, records how the program ended, and exits, which makes the kernel kill
//! whatever else is left in its namespace.

use crate::protocol::ExecStage;
use crate::runner::{self, Launch};
use nix::errno::Errno;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// What the reaper tells the init, through memory they share.
#[derive(Default)]
pub struct Reaper {
    /// 1 once the program exec'd (or failed to): the init may then read the report.
    launched: AtomicU32,
    /// The program was reaped, and these are its figures.
    reaped: AtomicBool,
    status: AtomicI32,
    maxrss_kib: AtomicI64,
    ended_ns: AtomicU64,
    /// Some process of the run died of SIGXFSZ or SIGSYS.
    pub file_size_exceeded: AtomicBool,
    pub sigsys_killed: AtomicBool,
}

/// How the program ended, when the reaper saw it end.
pub struct ProgramEnd {
    pub status: i32,
    pub maxrss_kib: i64,
    pub ended_ns: u64,
}

impl Reaper {
    pub fn program_end(&self) -> Option<ProgramEnd> {
        self.reaped.load(Ordering::SeqCst).then(|| ProgramEnd {
            status: self.status.load(Ordering::SeqCst),
            maxrss_kib: self.maxrss_kib.load(Ordering::SeqCst),
            ended_ns: self.ended_ns.load(Ordering::SeqCst),
        })
    }
}

struct ReaperArgs<'a> {
    launch: &'a Launch<'a>,
    runner_top: usize,
    reaper: &'a Reaper,
}

/// Starts the reaper as PID 1 of a new PID namespace and returns its pid once the
/// program exec'd (or failed to, as `launch.report` says).
pub fn spawn(
    launch: &Launch<'_>,
    stack: &mut runner::RunnerStack,
    reaper: &Reaper,
) -> Result<i32, Errno> {
    let args = ReaperArgs {
        launch,
        runner_top: stack.top(),
        reaper,
    };
    let top = stack.reaper_top();
    // SAFETY: `reaper_main` only makes system calls and atomic stores on data that
    // outlives its use: we wait below until it has started the program, and `launch`
    // and `reaper` live until the init has reaped it.
    let pid = unsafe {
        libc::clone(
            reaper_main,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::SIGCHLD,
            &args as *const ReaperArgs as *mut libc::c_void,
        )
    };
    let pid = Errno::result(pid)?;
    wait_launched(reaper, pid);
    Ok(pid)
}

/// Waits until the reaper says the program exec'd, or the reaper is gone.
fn wait_launched(reaper: &Reaper, pid: i32) {
    let slice = libc::timespec {
        tv_sec: 0,
        tv_nsec: Duration::from_millis(20).as_nanos() as libc::c_long,
    };
    while reaper.launched.load(Ordering::SeqCst) == 0 {
        // SAFETY: a futex wait on an atomic we own, with a valid timeout.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                reaper.launched.as_ptr(),
                libc::FUTEX_WAIT,
                0u32,
                &slice as *const libc::timespec,
            )
        };
        // SAFETY: a zeroed siginfo (plain integers) is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid writes only `info`, which lives across the call; WNOWAIT
        // leaves the reaper to be reaped by the run's wait.
        let gone = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT | libc::__WALL,
            )
        };
        // SAFETY: reading the pid field waitid filled in (0 when nothing exited).
        if gone != 0 || unsafe { info.si_pid() } != 0 {
            return;
        }
    }
}

fn say_launched(reaper: &Reaper) {
    reaper.launched.store(1, Ordering::SeqCst);
    // SAFETY: waking the init's futex wait on our shared atomic.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            reaper.launched.as_ptr(),
            libc::FUTEX_WAKE,
            1,
        )
    };
}

extern "C" fn reaper_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the ReaperArgs `spawn` passed; it lives until we say launched.
    let args = unsafe { &*(arg as *const ReaperArgs) };
    let (launch, reaper) = (args.launch, args.reaper);
    let program = match crate::mount::mount_proc(std::path::Path::new("/proc")) {
        Err(e) => Err((ExecStage::Namespace, e.errno)),
        Ok(()) => runner::spawn_at(launch, args.runner_top).map_err(|e| (ExecStage::Exec, e)),
    };
    if let Err((stage, errno)) = program {
        launch.report.set(stage, errno as i32);
    }
    // `args` lives in the init's frame, which may end once we say this.
    say_launched(reaper);
    let Ok(program) = program else {
        // SAFETY: leaving without running anything of the init's.
        unsafe { libc::_exit(127) }
    };
    loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to status and usage.
        let pid = unsafe { libc::wait4(-1, &mut status, libc::__WALL, &mut usage) };
        if pid < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            break;
        }
        if libc::WIFSTOPPED(status) {
            // A child that made us its tracer (PTRACE_TRACEME) goes on untraced.
            // SAFETY: detaching a tracee of ours.
            unsafe {
                libc::ptrace(
                    libc::PTRACE_DETACH,
                    pid,
                    0,
                    libc::WSTOPSIG(status) as libc::c_long,
                )
            };
            continue;
        }
        if libc::WIFSIGNALED(status) {
            match libc::WTERMSIG(status) {
                libc::SIGXFSZ => reaper.file_size_exceeded.store(true, Ordering::SeqCst),
                libc::SIGSYS => reaper.sigsys_killed.store(true, Ordering::SeqCst),
                _ => {}
            }
        }
        if pid == program {
            reaper.status.store(status, Ordering::SeqCst);
            reaper.maxrss_kib.store(usage.ru_maxrss, Ordering::SeqCst);
            reaper
                .ended_ns
                .store(crate::sys::monotonic_ns(), Ordering::SeqCst);
            reaper.reaped.store(true, Ordering::SeqCst);
            break;
        }
    }
    // Our exit takes every other process of the namespace with it.
    // SAFETY: leaving without running anything of the init's.
    unsafe { libc::_exit(0) }
}
