//! seccomp-bpf policies, compiled once in the host and installed by the runner just
//! before exec.
//!
//! - [`SeccompPolicy::Default`]: a deny-list of the escape and cross-box channels
//!   (ptrace, mount family, namespaces, bpf, perf, keyrings, io_uring, ...), failing
//!   with EPERM so runtimes (python, java, gcc) keep working.
//! - [`SeccompPolicy::Strict`]: an allow-list for single-process programs; any other
//!   call kills the process and the run is DISALLOWED_SYSCALL.
//! - [`SeccompPolicy::Custom`]: a caller's classic BPF program (e.g. from seccompiler).
//!
//! Every policy starts with a guard seccompiler cannot express: the x32 ABI (syscall
//! numbers with bit 30 set, same audit arch) is refused, or a deny-list keyed on
//! x86_64 numbers would be bypassable; and `clone3`, whose flags live in memory a
//! filter cannot read, fails with ENOSYS so the C library falls back to `clone`,
//! whose flags the policy checks.

use crate::seccomp_bpf::{
    compile, guarded, Leaf, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
};
use seccompiler::{sock_filter, BpfProgram};
use std::sync::{Arc, OnceLock};

/// Which system calls a run may make.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SeccompPolicy {
    /// Deny the escape channels with EPERM; allow everything else.
    #[default]
    Default,
    /// Allow what a single-process program needs; kill on anything else.
    Strict,
    /// No filter at all (the other boundaries still hold).
    Disabled,
    /// A classic BPF program (struct sock_filter array) installed as given, after
    /// the x32/clone3 guard. A process it kills (SIGSYS) makes the run
    /// DISALLOWED_SYSCALL.
    Custom(Arc<BpfProgram>),
}

/// Calls the default policy refuses (EPERM).
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kcmp,
    libc::SYS_pidfd_getfd,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_iopl,
    libc::SYS_ioperm,
    libc::SYS_fanotify_init,
    libc::SYS_lookup_dcookie,
    libc::SYS_vhangup,
];

/// clone flags that create namespaces.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// What the strict policy allows: I/O on open descriptors, memory, time, signals to
/// itself, and exec (the runner execs after installing the filter).
const STRICT_ALLOWED: &[libc::c_long] = &[
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_lseek,
    libc::SYS_close,
    libc::SYS_fstat,
    libc::SYS_newfstatat,
    libc::SYS_stat,
    libc::SYS_lstat,
    libc::SYS_statx,
    libc::SYS_open,
    libc::SYS_openat,
    libc::SYS_access,
    libc::SYS_faccessat,
    libc::SYS_faccessat2,
    libc::SYS_readlink,
    libc::SYS_readlinkat,
    libc::SYS_getcwd,
    libc::SYS_ioctl,
    libc::SYS_fcntl,
    libc::SYS_dup,
    libc::SYS_dup2,
    libc::SYS_dup3,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mprotect,
    libc::SYS_mremap,
    libc::SYS_madvise,
    libc::SYS_brk,
    libc::SYS_exit,
    libc::SYS_exit_group,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_arch_prctl,
    libc::SYS_set_tid_address,
    libc::SYS_set_robust_list,
    libc::SYS_rseq,
    libc::SYS_prlimit64,
    libc::SYS_getrlimit,
    libc::SYS_getrandom,
    libc::SYS_futex,
    libc::SYS_clock_gettime,
    libc::SYS_clock_getres,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_gettimeofday,
    libc::SYS_time,
    libc::SYS_getpid,
    libc::SYS_gettid,
    libc::SYS_getuid,
    libc::SYS_geteuid,
    libc::SYS_getgid,
    libc::SYS_getegid,
    libc::SYS_uname,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_execve,
    libc::SYS_execveat,
];

fn namespace_mask() -> u32 {
    NAMESPACE_FLAGS
        .iter()
        .fold(0, |mask, flag| mask | *flag as u32)
}

fn default_program() -> BpfProgram {
    let deny = SECCOMP_RET_ERRNO | libc::EPERM as u32;
    let mut rules: Vec<(u32, Leaf)> = DENIED
        .iter()
        .map(|&nr| (nr as u32, Leaf::Ret(deny)))
        .collect();
    rules.push((
        libc::SYS_clone as u32,
        Leaf::ArgBits {
            mask: namespace_mask(),
            deny,
            allow: SECCOMP_RET_ALLOW,
        },
    ));
    compile(&rules, SECCOMP_RET_ALLOW, deny)
}

fn strict_program() -> BpfProgram {
    let rules: Vec<(u32, Leaf)> = STRICT_ALLOWED
        .iter()
        .map(|&nr| (nr as u32, Leaf::Ret(SECCOMP_RET_ALLOW)))
        .collect();
    compile(&rules, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_PROCESS)
}

impl SeccompPolicy {
    /// The program to install, as raw bytes for the wire; `None` for no filter.
    pub(crate) fn program_bytes(&self) -> Option<Vec<u8>> {
        static DEFAULT: OnceLock<Vec<u8>> = OnceLock::new();
        static STRICT: OnceLock<Vec<u8>> = OnceLock::new();
        match self {
            Self::Default => Some(DEFAULT.get_or_init(|| to_bytes(&default_program())).clone()),
            Self::Strict => Some(STRICT.get_or_init(|| to_bytes(&strict_program())).clone()),
            Self::Disabled => None,
            Self::Custom(program) => Some(to_bytes(&guarded(program, SECCOMP_RET_KILL_PROCESS))),
        }
    }

    /// Whether a SIGSYS death means the policy killed the process.
    pub(crate) fn kills(&self) -> bool {
        !matches!(self, Self::Disabled)
    }
}

fn to_bytes(program: &[sock_filter]) -> Vec<u8> {
    program
        .iter()
        .flat_map(|insn| {
            let mut b = [0u8; 8];
            b[0..2].copy_from_slice(&insn.code.to_ne_bytes());
            b[2] = insn.jt;
            b[3] = insn.jf;
            b[4..8].copy_from_slice(&insn.k.to_ne_bytes());
            b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp_bpf::interpreter::run;

    const X86_64: u32 = 0xc000_003e;

    #[test]
    fn default_policy_denies_the_escape_channels_only() {
        let program = default_program();
        assert!(program.len() < 120, "{} instructions", program.len());
        let eperm = SECCOMP_RET_ERRNO | libc::EPERM as u32;
        for nr in DENIED {
            assert_eq!(run(&program, X86_64, *nr as u32, 0), eperm, "syscall {nr}");
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_openat,
            libc::SYS_mmap,
            libc::SYS_execve,
        ] {
            assert_eq!(
                run(&program, X86_64, nr as u32, 0),
                SECCOMP_RET_ALLOW,
                "syscall {nr}"
            );
        }
        let clone = libc::SYS_clone as u32;
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
        assert_eq!(run(&program, X86_64, clone, thread), SECCOMP_RET_ALLOW);
        for flag in NAMESPACE_FLAGS {
            assert_eq!(
                run(&program, X86_64, clone, libc::SIGCHLD as u64 | *flag as u64),
                eperm
            );
        }
        let enosys = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(run(&program, X86_64, libc::SYS_clone3 as u32, 0), enosys);
        assert_eq!(
            run(&program, X86_64, 0x4000_0000 | libc::SYS_mount as u32, 0),
            eperm
        );
    }

    #[test]
    fn strict_policy_allows_its_list_and_kills_the_rest() {
        let program = strict_program();
        for nr in STRICT_ALLOWED {
            assert_eq!(
                run(&program, X86_64, *nr as u32, 0),
                SECCOMP_RET_ALLOW,
                "syscall {nr}"
            );
        }
        for nr in [
            libc::SYS_fork,
            libc::SYS_clone,
            libc::SYS_socket,
            libc::SYS_ptrace,
        ] {
            assert_eq!(
                run(&program, X86_64, nr as u32, 0),
                SECCOMP_RET_KILL_PROCESS,
                "syscall {nr}"
            );
        }
    }

    #[test]
    fn wire_bytes_are_whole_instructions() {
        for policy in [SeccompPolicy::Default, SeccompPolicy::Strict] {
            let bytes = policy.program_bytes().unwrap();
            assert_eq!(bytes.len() % 8, 0);
        }
        assert_eq!(SeccompPolicy::Disabled.program_bytes(), None);
        let allow = sock_filter {
            code: 6,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        };
        let custom = SeccompPolicy::Custom(Arc::new(vec![allow]));
        assert_eq!(custom.program_bytes().unwrap().len(), 9 * 8);
    }
}
