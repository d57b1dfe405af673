//! Who the program runs as, and what it can never regain.
//!
//! The init drops the capability bounding set and the ambient set and locks
//! SECBIT_NOROOT once, at start-up: it never execs anything itself, so its own work is
//! unaffected, and every runner it forks inherits them. Per run only the ids change
//! and the remaining capability sets are cleared.

use crate::sys::{Context, SysResult};
use nix::errno::Errno;

/// Who the program runs as.
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub user_namespace: bool,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn check(rc: libc::c_int) -> nix::Result<()> {
    Errno::result(rc).map(drop)
}

/// Once, in the init: no exec from here on can grant a capability.
pub fn restrict_future_execs(last_cap: u32) -> SysResult<()> {
    // SAFETY: prctl calls that change only this process's capability state.
    unsafe {
        // Root (uid 0 inside a user namespace) must not regain capabilities at exec.
        check(libc::prctl(
            libc::PR_SET_SECUREBITS,
            (libc::SECBIT_NOROOT | libc::SECBIT_NOROOT_LOCKED) as libc::c_ulong,
            0,
            0,
            0,
        ))
        .context(|| "locking securebits".into())?;
        for cap in 0..=last_cap {
            match check(libc::prctl(
                libc::PR_CAPBSET_DROP,
                cap as libc::c_ulong,
                0,
                0,
                0,
            )) {
                // A capability this kernel does not know.
                Ok(()) | Err(Errno::EINVAL) => {}
                Err(e) => return Err(crate::sys::SysError::new("dropping the bounding set", e)),
            }
        }
        check(libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        ))
        .context(|| "clearing ambient capabilities".into())
    }
}

/// In the forked runner: the program's ids and no capability left in any set.
/// Returns the errno of the first failure.
///
/// SAFETY (for callers): only in the forked runner.
pub unsafe fn become_program(creds: &Credentials) -> Result<(), i32> {
    let check = |rc: libc::c_int| {
        if rc != 0 {
            Err(Errno::last_raw())
        } else {
            Ok(())
        }
    };
    // The system calls themselves, not the C library's wrappers: those apply the
    // change to every thread of the process (musl always, through a lock in the
    // memory this runner shares with the init), and the runner is one thread that
    // only borrows the init's memory.
    // SAFETY: setgroups/setres[ug]id/capset change only this process.
    unsafe {
        // With a user namespace, setgroups is denied (and only id 0 is mapped).
        if !creds.user_namespace {
            check(libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) as i32)?;
        }
        let (uid, gid) = (creds.uid, creds.gid);
        check(libc::syscall(libc::SYS_setresgid, gid, gid, gid) as i32)?;
        check(libc::syscall(libc::SYS_setresuid, uid, uid, uid) as i32)?;
        let header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        check(libc::syscall(libc::SYS_capset, &header, data.as_ptr()) as libc::c_int)
    }
}
