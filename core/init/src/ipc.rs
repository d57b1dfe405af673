//! IPC objects outlive the processes that made them: reset removes every one in the
//! container's IPC namespace, SysV (listed in /proc/sysvipc) and POSIX message queues
//! (listed in /dev/mqueue).

use std::path::Path;

/// The identifiers in the second column of a /proc/sysvipc table.
fn ids(table: &str) -> Vec<i32> {
    std::fs::read_to_string(Path::new("/proc/sysvipc").join(table))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// struct shm_info and SHM_INFO from <sys/shm.h> (not in the libc crate).
#[repr(C)]
struct ShmInfo {
    used_ids: libc::c_int,
    shm_tot: libc::c_ulong,
    shm_rss: libc::c_ulong,
    shm_swp: libc::c_ulong,
    swap_attempts: libc::c_ulong,
    swap_successes: libc::c_ulong,
}
const SHM_INFO: libc::c_int = 14;

/// struct seminfo from <sys/sem.h> (not in the libc crate for every C library).
#[repr(C)]
struct SemInfo {
    semmap: libc::c_int,
    semmni: libc::c_int,
    semmns: libc::c_int,
    semmnu: libc::c_int,
    semmsl: libc::c_int,
    semopm: libc::c_int,
    semume: libc::c_int,
    semusz: libc::c_int,
    semvmx: libc::c_int,
    semaem: libc::c_int,
}

/// The SysV control calls as system calls: C libraries rewrite their commands
/// (musl adds IPC_64 to each), and these *_INFO commands are the kernel's own.
///
/// # Safety
/// `buf` must be what `cmd` reads or writes (or null where the command allows).
unsafe fn ctl(call: libc::c_long, id: i32, cmd: i32, buf: *mut libc::c_void) -> i64 {
    // SAFETY: forwarded contract. semctl takes a semaphore number before the command.
    unsafe {
        if call == libc::SYS_semctl {
            libc::syscall(call, id, 0, cmd, buf)
        } else {
            libc::syscall(call, id, cmd, buf)
        }
    }
}

/// How many SysV objects of each kind exist (shm, msg, sem), from the kernel's
/// *_INFO calls: one system call each instead of parsing /proc.
fn counts() -> [i32; 3] {
    // SAFETY: zeroed info structures are valid out-parameters for the *_INFO calls,
    // which return the number of objects in use in the relevant field.
    unsafe {
        let mut shm: ShmInfo = std::mem::zeroed();
        ctl(libc::SYS_shmctl, 0, SHM_INFO, (&raw mut shm).cast());
        let mut msg: libc::msginfo = std::mem::zeroed();
        ctl(libc::SYS_msgctl, 0, libc::MSG_INFO, (&raw mut msg).cast());
        let mut sem: SemInfo = std::mem::zeroed();
        ctl(libc::SYS_semctl, 0, libc::SEM_INFO, (&raw mut sem).cast());
        [shm.used_ids, msg.msgpool, sem.semusz]
    }
}

pub fn remove_all() {
    let [shm, msg, sem] = counts();
    // SAFETY: IPC_RMID on identifiers of our own namespace; null buffers are allowed
    // for IPC_RMID.
    unsafe {
        if shm > 0 {
            for id in ids("shm") {
                ctl(libc::SYS_shmctl, id, libc::IPC_RMID, std::ptr::null_mut());
            }
        }
        if msg > 0 {
            for id in ids("msg") {
                ctl(libc::SYS_msgctl, id, libc::IPC_RMID, std::ptr::null_mut());
            }
        }
        if sem > 0 {
            for id in ids("sem") {
                ctl(libc::SYS_semctl, id, libc::IPC_RMID, std::ptr::null_mut());
            }
        }
    }
    if let Ok(queues) = std::fs::read_dir("/dev/mqueue") {
        for queue in queues.flatten() {
            let _ = std::fs::remove_file(queue.path());
        }
    }
}
