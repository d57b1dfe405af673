//! seccomp-bpf policies, compiled once in the host and installed by the runner just
//! before exec.
//!
//! - [`SeccompPolicy::Default`]: a deny-list of the escape and cross-box channels
//!   (ptrace, mount family, namespaces, bpf, perf, keyrings, io_uring, ...), failing
//!   with EPERM so runtimes (python, java, gcc) keep working. Sockets are limited to
//!   the families a program has use for (unix, inet, inet6, netlink); any other
//!   family (vsock, which a network namespace does not isolate on a VM, packet, alg,
//!   key, xdp, bluetooth, ...) fails with EAFNOSUPPORT.
//! - [`SeccompPolicy::SingleProgram`]: the default policy, and the program may not
//!   exec anything: a later execve/execveat kills it (see `seccomp_exec`).
//! - [`SeccompPolicy::Strict`]: an allow-list for single-process programs; any other
//!   call kills the process and the run is DISALLOWED_SYSCALL.
//! - [`SeccompPolicy::Custom`]: a caller's classic BPF program (e.g. from seccompiler).
//!
//! Every policy starts with a guard seccompiler cannot express: a call of another
//! ABI than the one the library is built for (`arch`) kills; on x86_64 the x32 ABI
//! (syscall numbers with bit 30 set, same audit arch) is refused, or a deny-list
//! keyed on x86_64 numbers would be bypassable; and `clone3`, whose flags live in
//! memory a filter cannot read, fails with ENOSYS so the C library falls back to
//! `clone`, whose flags the policy checks.
//!
//! The lists name calls every supported architecture has; `arch` adds the ones
//! only one of them has.

use crate::arch::{self, NATIVE};
use crate::seccomp_bpf::{
    compile, guard_len, guarded, Leaf, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS,
};
use seccompiler::{sock_filter, BpfProgram};
use std::sync::{Arc, OnceLock};

/// Which system calls a run may make.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum SeccompPolicy {
    /// Deny the escape channels with EPERM; allow everything else.
    #[default]
    Default,
    /// Allow what a single-process program needs; kill on anything else.
    Strict,
    /// [`Default`](Self::Default), and the runner's exec of the program is the only
    /// exec of the run: any later execve or execveat (system(), a shell, even the
    /// program itself) kills the process that makes it (DISALLOWED_SYSCALL).
    SingleProgram,
    /// No filter at all (the other boundaries still hold).
    Disabled,
    /// A classic BPF program (struct sock_filter array) installed as given, after
    /// the x32/clone3 guard. A process it kills (SIGSYS) makes the run
    /// DISALLOWED_SYSCALL.
    Custom(Arc<BpfProgram>),
}

/// Calls the default policy refuses (EPERM), with [`arch::DENIED_HERE`].
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
    libc::SYS_fanotify_init,
    libc::SYS_lookup_dcookie,
    libc::SYS_vhangup,
];

/// The socket families the default policy lets socket and socketpair use: local
/// sockets, IPv4, IPv6 (the network namespace isolates these) and netlink (glibc's
/// getaddrinfo asks the kernel for the interfaces through it).
const SOCKET_FAMILIES: &[u32] = &[
    libc::AF_UNIX as u32,
    libc::AF_INET as u32,
    libc::AF_INET6 as u32,
    libc::AF_NETLINK as u32,
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
/// itself, and exec (the runner execs after installing the filter); with
/// [`arch::STRICT_HERE`].
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
    libc::SYS_statx,
    libc::SYS_openat,
    libc::SYS_faccessat,
    libc::SYS_faccessat2,
    libc::SYS_readlinkat,
    libc::SYS_getcwd,
    libc::SYS_ioctl,
    libc::SYS_fcntl,
    libc::SYS_dup,
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
        .chain(arch::DENIED_HERE)
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
    let families = Leaf::ArgIn {
        values: SOCKET_FAMILIES,
        deny: SECCOMP_RET_ERRNO | libc::EAFNOSUPPORT as u32,
        allow: SECCOMP_RET_ALLOW,
    };
    rules.push((libc::SYS_socket as u32, families));
    rules.push((libc::SYS_socketpair as u32, families));
    compile(NATIVE, &rules, SECCOMP_RET_ALLOW, deny)
}

fn strict_program() -> BpfProgram {
    let rules: Vec<(u32, Leaf)> = STRICT_ALLOWED
        .iter()
        .chain(arch::STRICT_HERE)
        .map(|&nr| (nr as u32, Leaf::Ret(SECCOMP_RET_ALLOW)))
        .collect();
    compile(
        NATIVE,
        &rules,
        SECCOMP_RET_KILL_PROCESS,
        SECCOMP_RET_KILL_PROCESS,
    )
}

impl SeccompPolicy {
    /// The built-in policies by the name every language and the CLI use:
    /// "default", "strict", "single-program", "disabled" (or its alias "off").
    /// The same as [`str::parse`].
    pub fn from_name(name: &str) -> Option<Self> {
        name.parse().ok()
    }

    /// The names [`FromStr`](std::str::FromStr) accepts, for messages.
    pub const NAMES: &'static str = "\"default\", \"strict\", \"single-program\" or \"disabled\"";

    /// The canonical name of a built-in policy; `None` for a custom program.
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            Self::Default => "default",
            Self::Strict => "strict",
            Self::SingleProgram => "single-program",
            Self::Disabled => "disabled",
            Self::Custom(_) => return None,
        })
    }

    /// A custom policy from the raw bytes of a `struct sock_filter` array (8 bytes
    /// per instruction, native byte order: what `struct.pack("=HBBI", ...)` or
    /// libseccomp's `export_bpf` write). Refuses an empty program, a partial
    /// instruction and more instructions than the kernel takes.
    pub fn custom_from_bytes(bytes: &[u8]) -> crate::Result<Self> {
        let max_insns = MAX_KERNEL_INSNS - guard_len(NATIVE);
        if bytes.is_empty() || bytes.len() % 8 != 0 || bytes.len() / 8 > max_insns {
            return Err(crate::Error::invalid(format!(
                "a seccomp program is 1 to {max_insns} instructions of 8 bytes each, \
                 not {} bytes",
                bytes.len()
            )));
        }
        let program = bytes
            .chunks_exact(8)
            .map(|b| sock_filter {
                code: u16::from_ne_bytes([b[0], b[1]]),
                jt: b[2],
                jf: b[3],
                k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            })
            .collect();
        Ok(Self::Custom(Arc::new(program)))
    }

    /// Whether the init must add the exec lock (`seccomp_exec`) to the program.
    pub(crate) fn single_program(&self) -> bool {
        matches!(self, Self::SingleProgram)
    }

    /// The program to install, as raw bytes for the wire; `None` for no filter.
    pub(crate) fn program_bytes(&self) -> Option<Vec<u8>> {
        static DEFAULT: OnceLock<Vec<u8>> = OnceLock::new();
        static STRICT: OnceLock<Vec<u8>> = OnceLock::new();
        match self {
            Self::Default | Self::SingleProgram => {
                Some(DEFAULT.get_or_init(|| to_bytes(&default_program())).clone())
            }
            Self::Strict => Some(STRICT.get_or_init(|| to_bytes(&strict_program())).clone()),
            Self::Disabled => None,
            Self::Custom(program) => Some(to_bytes(&guarded(
                NATIVE,
                program,
                SECCOMP_RET_KILL_PROCESS,
            ))),
        }
    }

    /// Whether a SIGSYS death means the policy killed the process.
    /// Whether the policy refuses keyctl, add_key and request_key, so a run under it
    /// cannot leave keys behind.
    pub(crate) fn denies_keyrings(&self) -> bool {
        matches!(self, Self::Default | Self::Strict | Self::SingleProgram)
    }

    pub(crate) fn kills(&self) -> bool {
        !matches!(self, Self::Disabled)
    }
}

/// The most instructions the kernel takes in one filter (BPF_MAXINSNS).
const MAX_KERNEL_INSNS: usize = 4096;

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

/// The one parser of policy names, for every layer: the canonical names, and "off"
/// as an alias of "disabled" (the CLI's spelling before the names were unified).
impl std::str::FromStr for SeccompPolicy {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "default" => Self::Default,
            "strict" => Self::Strict,
            "single-program" => Self::SingleProgram,
            "disabled" | "off" => Self::Disabled,
            other => {
                return Err(format!(
                    "seccomp policy {other:?}: expected {}",
                    Self::NAMES
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{AARCH64, X86_64};
    use crate::seccomp_bpf::interpreter::{run, run_args};

    const AUDIT: u32 = NATIVE.audit;

    #[test]
    fn default_policy_denies_the_escape_channels_only() {
        let program = default_program();
        assert!(program.len() < 130, "{} instructions", program.len());
        let eperm = SECCOMP_RET_ERRNO | libc::EPERM as u32;
        for nr in DENIED.iter().chain(arch::DENIED_HERE) {
            assert_eq!(run(&program, AUDIT, *nr as u32, 0), eperm, "syscall {nr}");
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_openat,
            libc::SYS_mmap,
            libc::SYS_execve,
        ] {
            assert_eq!(
                run(&program, AUDIT, nr as u32, 0),
                SECCOMP_RET_ALLOW,
                "syscall {nr}"
            );
        }
        let clone = libc::SYS_clone as u32;
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND) as u64;
        assert_eq!(run(&program, AUDIT, clone, thread), SECCOMP_RET_ALLOW);
        for flag in NAMESPACE_FLAGS {
            assert_eq!(
                run(&program, AUDIT, clone, libc::SIGCHLD as u64 | *flag as u64),
                eperm
            );
        }
        let enosys = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(run(&program, AUDIT, libc::SYS_clone3 as u32, 0), enosys);
        if let Some(x32_bit) = NATIVE.x32_bit {
            assert_eq!(
                run(&program, AUDIT, x32_bit | libc::SYS_mount as u32, 0),
                eperm
            );
        }
    }

    #[test]
    fn default_policy_limits_socket_families() {
        let program = default_program();
        let refused = SECCOMP_RET_ERRNO | libc::EAFNOSUPPORT as u32;
        for nr in [libc::SYS_socket, libc::SYS_socketpair] {
            for family in 0..64 {
                let expected = if SOCKET_FAMILIES.contains(&family) {
                    SECCOMP_RET_ALLOW
                } else {
                    refused
                };
                assert_eq!(
                    run(&program, AUDIT, nr as u32, family as u64),
                    expected,
                    "syscall {nr} family {family}"
                );
            }
            for family in [
                libc::AF_VSOCK,
                libc::AF_PACKET,
                libc::AF_ALG,
                libc::AF_KEY,
                libc::AF_XDP,
                libc::AF_BLUETOOTH,
                libc::AF_TIPC,
                libc::AF_RDS,
                libc::AF_CAN,
            ] {
                assert_eq!(run(&program, AUDIT, nr as u32, family as u64), refused);
            }
            // The kernel reads an int: only the low word counts, both ways.
            let inet = libc::AF_INET as u64;
            let vsock = libc::AF_VSOCK as u64;
            assert_eq!(
                run(&program, AUDIT, nr as u32, 1 << 32 | inet),
                SECCOMP_RET_ALLOW
            );
            assert_eq!(run(&program, AUDIT, nr as u32, inet << 32 | vsock), refused);
        }
        // Neighbours of the two numbers are untouched.
        for nr in [libc::SYS_connect, libc::SYS_accept4, libc::SYS_bind] {
            assert_eq!(
                run(&program, AUDIT, nr as u32, libc::AF_VSOCK as u64),
                SECCOMP_RET_ALLOW
            );
        }
    }

    #[test]
    fn the_exec_lock_allows_only_the_runners_own_exec() {
        let path = 0x5555_1234_5678_9ab0u64;
        let empty = 0x5555_0000_0000_1000u64;
        let lock: Vec<sock_filter> =
            crate::seccomp_exec::exec_lock(path as *const _, empty as *const _)
                .iter()
                .map(|i| sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect();
        let execve = libc::SYS_execve as u32;
        let execveat = libc::SYS_execveat as u32;
        let call = |nr: u32, args: [u64; 6]| run_args(&lock, AUDIT, nr, args);
        assert_eq!(call(execve, [path, 1, 2, 0, 0, 0]), SECCOMP_RET_ALLOW);
        assert_eq!(
            call(execveat, [3, empty, 1, 2, libc::AT_EMPTY_PATH as u64, 0]),
            SECCOMP_RET_ALLOW
        );
        // Off by a word, a byte, a bit, in either half: killed.
        for forged in [
            path + 8,
            path - 1,
            path ^ 1 << 40,
            path & 0xffff_ffff,
            path & !0xffff_ffff,
            empty,
            0,
        ] {
            assert_eq!(
                call(execve, [forged, 1, 2, 0, 0, 0]),
                SECCOMP_RET_KILL_PROCESS
            );
        }
        for forged in [empty + 1, empty ^ 1 << 33, path, 0] {
            assert_eq!(
                call(execveat, [3, forged, 1, 2, 0, 0]),
                SECCOMP_RET_KILL_PROCESS
            );
        }
        // execveat's path in argument 0 does not count, nor execve's in argument 1.
        assert_eq!(
            call(execveat, [empty, path, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(
            call(execve, [empty, path, 0, 0, 0, 0]),
            SECCOMP_RET_KILL_PROCESS
        );
        // Everything else passes to the main filter; other arches are killed.
        for nr in 0..600u32 {
            if nr != execve && nr != execveat {
                assert_eq!(
                    call(nr, [path, empty, 0, 0, 0, 0]),
                    SECCOMP_RET_ALLOW,
                    "{nr}"
                );
            }
        }
        // i386 and AArch32 compat calls, and the other 64-bit architecture's.
        for other in [0x4000_0003, 0x4000_0028, X86_64.audit, AARCH64.audit] {
            if other != AUDIT {
                assert_eq!(
                    run_args(&lock, other, execve, [path, 0, 0, 0, 0, 0]),
                    SECCOMP_RET_KILL_PROCESS
                );
                assert_eq!(run_args(&lock, other, 1, [0; 6]), SECCOMP_RET_KILL_PROCESS);
            }
        }
        assert!(lock.len() <= 19);
    }

    #[test]
    fn the_exec_locks_path_is_a_read_only_copy_at_a_random_high_address() {
        let a = crate::seccomp_exec::MappedPath::new(c"/usr/bin/python3").unwrap();
        let b = crate::seccomp_exec::MappedPath::new(c"/usr/bin/python3").unwrap();
        // SAFETY: both copies stay mapped while `a` and `b` live.
        let copy = unsafe { std::ffi::CStr::from_ptr(a.as_ptr()) };
        assert_eq!(copy, c"/usr/bin/python3");
        assert_ne!(a.as_ptr(), b.as_ptr());
        for p in [a.as_ptr(), b.as_ptr()] {
            assert!((1u64 << 32..1 << 46).contains(&(p as u64)), "{p:?}");
        }
        // Read-only: mprotect to PROT_READ took effect (a write would fault), as
        // /proc/self/maps shows.
        let at = a.as_ptr() as u64;
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let line = maps
            .lines()
            .find(|line| {
                let range = line.split_once(' ').unwrap().0;
                let (start, end) = range.split_once('-').unwrap();
                let start = u64::from_str_radix(start, 16).unwrap();
                let end = u64::from_str_radix(end, 16).unwrap();
                (start..end).contains(&at)
            })
            .unwrap();
        assert!(
            line.split_whitespace().nth(1).unwrap().starts_with("r--"),
            "{line}"
        );
    }

    #[test]
    fn the_exec_locks_empty_path_is_a_read_only_page_of_its_own() {
        let first = crate::seccomp_exec::empty_path().unwrap();
        assert_eq!(crate::seccomp_exec::empty_path().unwrap(), first);
        // SAFETY: the page is mapped for the life of the process.
        assert_eq!(unsafe { *first }, 0);
        // An anonymous read-only mapping, not a string in the executable's image
        // (whose address is fixed where the init is not a PIE).
        let at = first as u64;
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let line = maps
            .lines()
            .find(|line| {
                let (start, end) = line.split_once(' ').unwrap().0.split_once('-').unwrap();
                let (start, end) = (
                    u64::from_str_radix(start, 16).unwrap(),
                    u64::from_str_radix(end, 16).unwrap(),
                );
                (start..end).contains(&at)
            })
            .unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], "r--p", "{line}");
        assert_eq!(fields[4], "0", "{line}");
        assert_eq!(fields.get(5), None, "{line}");
    }

    #[test]
    fn policies_are_named_alike_everywhere() {
        for (name, policy) in [
            ("default", SeccompPolicy::Default),
            ("strict", SeccompPolicy::Strict),
            ("single-program", SeccompPolicy::SingleProgram),
            ("disabled", SeccompPolicy::Disabled),
            ("off", SeccompPolicy::Disabled),
        ] {
            assert_eq!(name.parse::<SeccompPolicy>(), Ok(policy.clone()), "{name}");
            let canonical = policy.name().unwrap();
            assert_eq!(canonical.parse::<SeccompPolicy>(), Ok(policy), "{name}");
            assert!(SeccompPolicy::NAMES.contains(canonical), "{canonical}");
        }
        let err = "Strict".parse::<SeccompPolicy>().unwrap_err();
        assert!(err.contains(SeccompPolicy::NAMES), "{err}");
        assert_eq!(SeccompPolicy::from_name(""), None);
        assert!(SeccompPolicy::SingleProgram.single_program());
        assert!(!SeccompPolicy::Default.single_program());
        assert_eq!(
            SeccompPolicy::SingleProgram.program_bytes(),
            SeccompPolicy::Default.program_bytes()
        );
    }

    #[test]
    fn strict_policy_allows_its_list_and_kills_the_rest() {
        let program = strict_program();
        for nr in STRICT_ALLOWED.iter().chain(arch::STRICT_HERE) {
            assert_eq!(
                run(&program, AUDIT, *nr as u32, 0),
                SECCOMP_RET_ALLOW,
                "syscall {nr}"
            );
        }
        for nr in [
            libc::SYS_clone,
            libc::SYS_socket,
            libc::SYS_ptrace,
            libc::SYS_kill,
        ] {
            assert_eq!(
                run(&program, AUDIT, nr as u32, 0),
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
        let raw = to_bytes(std::slice::from_ref(&allow));
        let custom = SeccompPolicy::Custom(Arc::new(vec![allow]));
        let guard = guard_len(NATIVE);
        assert_eq!(custom.program_bytes().unwrap().len(), (guard + 1) * 8);
        // Raw bytes in, the same program out behind the guard.
        let parsed = SeccompPolicy::custom_from_bytes(&raw).unwrap();
        assert_eq!(parsed.program_bytes(), custom.program_bytes());
        for bad in [
            &[][..],
            &raw[..7],
            &[0u8; 9][..],
            &vec![0u8; 8 * (4097 - guard)][..],
        ] {
            assert!(
                SeccompPolicy::custom_from_bytes(bad).is_err(),
                "{} bytes",
                bad.len()
            );
        }
        assert!(SeccompPolicy::custom_from_bytes(&vec![0u8; 8 * (4096 - guard)]).is_ok());
    }
}
