//! The program's process, between its fork and its exec: the steps a run's
//! runner takes in the init, with system calls only.

use super::{errno, fail, retry, CapHeader, Plan, CAPABILITY_VERSION_3};
use crate::protocol::fd_placement::{place_files, Placement};
use crate::protocol::ExecStage;
use std::os::fd::AsRawFd;
use std::os::fd::RawFd;

/// The raw prlimit64 takes two 64-bit values, which `libc::rlimit` is on every
/// target this builds for.
const _: () = assert!(std::mem::size_of::<libc::rlimit>() == 16);

/// The program's process: the same steps as a run's runner in the init, then exec.
pub(super) fn program(plan: &Plan, report: RawFd) -> ! {
    let floor = (plan.files.len() as i32).max(3);
    // SAFETY: system calls on this process only, with pointers the plan keeps alive.
    unsafe {
        // Lift the report socket out of the range the program's files take.
        let report = match libc::fcntl(report, libc::F_DUPFD_CLOEXEC, floor) {
            fd if fd >= 0 => fd,
            _ => fail(report, ExecStage::Files, errno()),
        };
        // Into the container's cgroup first, so its limits and accounting cover
        // the program from here on (charges stay where they are made). Only the
        // program joins it: a helper there could be the OOM killer's choice (its
        // resident set counts the host's memory it was forked from).
        for procs in &plan.cgroup_procs {
            let fd = procs.as_raw_fd();
            if let Err(e) = retry(|| libc::write(fd, b"0".as_ptr().cast(), 1) as libc::c_long) {
                fail(report, ExecStage::Cgroup, e);
            }
        }
        // The host's dispositions and mask are not the program's: a signal the host
        // ignores (SIGPIPE) would stay ignored across the exec. Raw calls: glibc
        // refuses its own internal signals, which a host may have ignored too.
        for signal in 1..=64 {
            if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                default_action(signal);
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::setsid();
        // As a run's program: the OOM killer takes it before the init.
        let adj = libc::open(
            c"/proc/self/oom_score_adj".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if adj >= 0 {
            libc::write(adj, b"1000".as_ptr().cast(), 4);
            libc::close(adj);
        }
        let placement = Placement {
            files: &plan.files,
            exec_file: plan.exec_file,
            highest_fd: plan.highest_fd,
        };
        let exec_fd = place_files(&placement).unwrap_or_else(|e| fail(report, ExecStage::Files, e));
        if libc::chdir(plan.cwd.as_ptr()) != 0 {
            fail(report, ExecStage::Chdir, errno());
        }
        for r in &plan.rlimits {
            let lim = libc::rlimit {
                rlim_cur: r.soft,
                rlim_max: r.hard,
            };
            // The raw call, as in the init's runner: C libraries type the resource
            // differently (glibc u32, musl int).
            let none = std::ptr::null_mut::<libc::rlimit>();
            if libc::syscall(libc::SYS_prlimit64, 0, r.resource, &lim, none) != 0 {
                fail(report, ExecStage::Rlimit, errno());
            }
        }
        if let Err(e) = drop_privileges(plan) {
            fail(report, ExecStage::Credentials, e);
        }
        // A uid change resets dumpability to fs.suid_dumpable, which may be 1.
        if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 {
            fail(report, ExecStage::Credentials, errno());
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            fail(report, ExecStage::NoNewPrivs, errno());
        }
        for filter in &plan.filters {
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
                    plan.empty_path,
                    plan.argv.as_ptr(),
                    plan.envp.as_ptr(),
                    libc::AT_EMPTY_PATH,
                );
            }
            None => {
                libc::execve(plan.exec_path, plan.argv.as_ptr(), plan.envp.as_ptr());
            }
        }
        fail(report, ExecStage::Exec, errno())
    }
}

/// Gives `signal` its default action (rt_sigaction, the kernel's own struct).
fn default_action(signal: libc::c_int) {
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let action = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: rt_sigaction with a valid struct and no old action; the mask size
    // is the kernel's (8 bytes).
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            signal,
            &action as *const KernelSigaction,
            std::ptr::null::<KernelSigaction>(),
            8usize,
        )
    };
}

/// What the init does once at start-up and each runner per run: no capability in
/// any set, none regained by an exec as root, the container's ids.
///
/// SAFETY (for callers): only in the program's process, before exec.
unsafe fn drop_privileges(plan: &Plan) -> Result<(), i32> {
    let check = |rc: libc::c_int| if rc != 0 { Err(errno()) } else { Ok(()) };
    // SAFETY: prctl, setgroups, setres[ug]id and capset change only this process.
    unsafe {
        check(libc::prctl(
            libc::PR_SET_SECUREBITS,
            (libc::SECBIT_NOROOT | libc::SECBIT_NOROOT_LOCKED) as libc::c_ulong,
            0,
            0,
            0,
        ))?;
        for cap in 0..=plan.last_cap {
            let rc = libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0);
            // EINVAL: a capability this kernel does not know.
            if rc != 0 && errno() != libc::EINVAL {
                return Err(errno());
            }
        }
        check(libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        ))?;
        // Raw system calls: glibc's wrappers set the ids of every thread it knows
        // of, taking locks that another thread of the host may have held at the
        // fork. In a user namespace setgroups is denied (only id 0 is mapped).
        let ids = |call: libc::c_long, id: u32| {
            libc::syscall(
                call,
                id as libc::c_long,
                id as libc::c_long,
                id as libc::c_long,
            ) as libc::c_int
        };
        if !plan.user_namespace {
            check(
                libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>())
                    as libc::c_int,
            )?;
        }
        check(ids(libc::SYS_setresgid, plan.gid))?;
        check(ids(libc::SYS_setresuid, plan.uid))?;
        let header = CapHeader {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [[0u32; 3]; 2];
        check(libc::syscall(libc::SYS_capset, &header, data.as_ptr()) as libc::c_int)
    }
}
