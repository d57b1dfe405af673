//! What scpool depends on that differs between CPU architectures, in one place:
//! the audit architecture a seccomp filter sees, whether a second ABI shares it
//! (x86_64's x32), the system calls only one architecture has, and the kernel's
//! `struct sigaction`. Supported: x86_64 and aarch64, little-endian Linux.
//!
//! System call numbers come from the libc crate, which has them per target: a
//! name that does not exist on the target does not compile there. aarch64 uses
//! the generic table, which has no `open`, `stat`, `access`, `dup2`, `fork`,
//! `pipe`, `poll`, `select`, ... only their `*at`/`*2`/`p*` forms, which x86_64
//! has too. So the policies (`seccomp`) name the calls both have, and add
//! [`DENIED_HERE`] and [`STRICT_HERE`] for the rest.
//!
//! Used by the host and the init alike: depends only on libc.

use libc::c_long;

#[cfg(not(all(
    target_os = "linux",
    target_endian = "little",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("scpool supports Linux on x86_64 and little-endian aarch64 only");

/// One architecture's system call ABI as a seccomp filter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// `AUDIT_ARCH_*`: what the kernel puts in `seccomp_data.arch` for a call of
    /// this ABI. A call of any other ABI the CPU runs (i386 on x86_64, AArch32 on
    /// aarch64) carries another value, and its numbers mean other calls.
    pub audit: u32,
    /// The bit that marks a call of x86_64's x32 ABI. x32 calls carry x86_64's
    /// audit arch but numbers of their own, so a filter keyed on native numbers
    /// must refuse them first. `None` where no such ABI exists.
    pub x32_bit: Option<u32>,
}

/// x86_64: `EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`, with x32 beside it.
pub const X86_64: Arch = Arch {
    audit: 0xc000_003e,
    x32_bit: Some(0x4000_0000),
};

/// aarch64: `EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`; no second ABI
/// shares it (AArch32 compat calls carry `AUDIT_ARCH_ARM`).
pub const AARCH64: Arch = Arch {
    audit: 0xc000_00b7,
    x32_bit: None,
};

/// The architecture this code is built for.
#[cfg(target_arch = "x86_64")]
pub const NATIVE: Arch = X86_64;
/// The architecture this code is built for.
#[cfg(target_arch = "aarch64")]
pub const NATIVE: Arch = AARCH64;

/// Calls only this architecture has that the default policy refuses: x86's
/// I/O-port access (a root-only door to hardware, denied for depth).
#[cfg(target_arch = "x86_64")]
pub const DENIED_HERE: &[c_long] = &[libc::SYS_iopl, libc::SYS_ioperm];
/// Calls only this architecture has that the default policy refuses: none.
#[cfg(target_arch = "aarch64")]
pub const DENIED_HERE: &[c_long] = &[];

/// Calls only this architecture has that the strict policy allows: x86_64's
/// older forms of the file calls (`open`, `stat`, ...; their `*at` forms are
/// allowed everywhere), `time`, and `arch_prctl`, with which the C library sets
/// up thread-local storage (aarch64 does that with a register, no call).
#[cfg(target_arch = "x86_64")]
pub const STRICT_HERE: &[c_long] = &[
    libc::SYS_open,
    libc::SYS_stat,
    libc::SYS_lstat,
    libc::SYS_access,
    libc::SYS_readlink,
    libc::SYS_dup2,
    libc::SYS_time,
    libc::SYS_arch_prctl,
];
/// Calls only this architecture has that the strict policy allows: none (the
/// generic table has only the forms every architecture has).
#[cfg(target_arch = "aarch64")]
pub const STRICT_HERE: &[c_long] = &[];

/// The kernel's `struct sigaction`, what `rt_sigaction` takes (glibc's differs:
/// its mask is 128 bytes). The same on x86_64 and aarch64: both define
/// `SA_RESTORER` (aarch64 for its AArch32 compat), so the restorer sits between
/// the flags and the mask, and the mask is one word of 64 signals.
#[repr(C)]
pub struct KernelSigaction {
    /// `sa_handler`: the handler's address, or `SIG_DFL`/`SIG_IGN`.
    pub handler: usize,
    /// `sa_flags` (`SA_*`).
    pub flags: libc::c_ulong,
    /// `sa_restorer`, with `SA_RESTORER` in `flags`.
    pub restorer: usize,
    /// `sa_mask`: signals blocked while the handler runs, one bit each.
    pub mask: u64,
}

/// The `sigsetsize` argument of `rt_sigaction`: the size of [`KernelSigaction::mask`].
pub const KERNEL_SIGSET_BYTES: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    /// A disposition set through the C library reads back through the raw call
    /// with the handler, flags and mask where `KernelSigaction` puts them.
    #[test]
    fn kernel_sigaction_matches_what_the_kernel_reads_and_writes() {
        extern "C" fn handler(_: libc::c_int) {}
        // A real-time signal nothing in the tests uses.
        let signal = libc::SIGRTMIN() + 7;
        // SAFETY: a zeroed sigaction is a valid "default, no flags, empty mask";
        // the fields set are valid; the old action is restored below.
        let old = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaddset(&mut action.sa_mask, libc::SIGUSR2);
            let mut old: libc::sigaction = std::mem::zeroed();
            assert_eq!(libc::sigaction(signal, &action, &mut old), 0);
            old
        };
        let mut read = KernelSigaction {
            handler: 0,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        // SAFETY: `read` is a writable kernel sigaction; no new action is set.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                std::ptr::null::<KernelSigaction>(),
                &mut read as *mut KernelSigaction,
                KERNEL_SIGSET_BYTES,
            )
        };
        // SAFETY: `old` is the action read above.
        unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
        assert_eq!(rc, 0);
        assert_eq!(read.handler, handler as extern "C" fn(libc::c_int) as usize);
        assert_ne!(read.flags & libc::SA_RESTART as libc::c_ulong, 0);
        assert_eq!(read.mask, 1 << (libc::SIGUSR2 - 1));
    }
}
