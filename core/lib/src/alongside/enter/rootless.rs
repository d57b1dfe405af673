//! Rootless: the program's own PID namespace, nested in the container's, with a
//! reaper as its PID 1 and a /proc of its own, as every rootless run has.

use super::program::program;
use super::{
    clone_program, errno, fail, hand_over, keep_only, report_end, retry, CapHeader, Plan,
    CAPABILITY_VERSION_3,
};
use crate::protocol::ExecStage;
use std::os::fd::RawFd;

/// Rootless, in the process that makes the program's PID namespace: a member of
/// the container's (only a member can make one nested in it). Forks its PID 1, a
/// reaper, as the helper's child and leaves. No program of the container sees
/// this process: each runs in a PID namespace of its own.
pub(super) fn own_pid_namespace(plan: &Plan, report: RawFd) -> ! {
    // SAFETY: system calls on this process.
    unsafe {
        if libc::unshare(libc::CLONE_NEWPID) != 0 {
            fail(report, ExecStage::Namespace, errno());
        }
        match clone_program(libc::CLONE_PARENT, std::ptr::null_mut()) {
            Ok(0) => reaper(plan, report),
            Ok(_) => libc::_exit(0),
            Err(e) => fail(report, ExecStage::Namespace, e),
        }
    }
}

/// PID 1 of the program's own PID namespace, as the init's reaper of a rootless
/// run: the program must not be PID 1, which the kernel spares the signals it
/// sends by default (SIGXFSZ, SIGXCPU). Mounts the namespace's /proc, starts the
/// program, gives up its capabilities, reaps every process of the namespace until
/// the program ends, reports that and leaves, which ends what is left.
fn reaper(plan: &Plan, report: RawFd) -> ! {
    // SAFETY: system calls on this process; out-parameters are locals.
    unsafe {
        if let Err(e) = own_proc(plan) {
            fail(report, ExecStage::Namespace, e);
        }
        let mut pidfd: libc::c_int = -1;
        let program_pid = match clone_program(libc::CLONE_VFORK | libc::CLONE_PIDFD, &mut pidfd) {
            Ok(0) => program(plan, report),
            Ok(pid) => pid,
            Err(e) => fail(report, ExecStage::Namespace, e),
        };
        keep_only(report, pidfd);
        hand_over(report, pidfd);
        let header = CapHeader {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [[0u32; 3]; 2];
        libc::syscall(libc::SYS_capset, &header, data.as_ptr());
        loop {
            let mut status = 0;
            let mut usage: libc::rusage = std::mem::zeroed();
            match retry(|| libc::wait4(-1, &mut status, libc::__WALL, &mut usage) as libc::c_long) {
                Ok(pid) if pid as i32 == program_pid => {
                    report_end(report, status, &usage);
                    libc::_exit(0)
                }
                Ok(_) => {}
                Err(_) => libc::_exit(127),
            }
        }
    }
}

/// Rootless, in the reaper: give its PID namespace a mount namespace
/// with a /proc that shows it, with the init's /proc options and read-only entries.
///
/// SAFETY (for callers): only in the program's process, before exec.
unsafe fn own_proc(plan: &Plan) -> Result<(), i32> {
    let check = |rc: libc::c_int| if rc != 0 { Err(errno()) } else { Ok(()) };
    // SAFETY: mount calls with static strings and the plan's paths.
    unsafe {
        check(libc::unshare(libc::CLONE_NEWNS))?;
        check(libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        let hidden = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        check(libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            hidden,
            c"hidepid=2".as_ptr().cast(),
        ))?;
        for at in &plan.proc_entries {
            let bound = libc::mount(
                at.as_ptr(),
                at.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            );
            if bound != 0 && errno() == libc::ENOENT {
                continue;
            }
            check(bound)?;
            check(libc::mount(
                std::ptr::null(),
                at.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | hidden,
                std::ptr::null(),
            ))?;
        }
    }
    Ok(())
}
