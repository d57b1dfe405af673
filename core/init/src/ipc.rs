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

/// How many SysV objects of each kind exist (shm, msg, sem), from the kernel's
/// *_INFO calls: one system call each instead of parsing /proc.
fn counts() -> [i32; 3] {
    // SAFETY: zeroed info structures are valid out-parameters for the *_INFO calls,
    // which return the number of objects in use in the relevant field.
    unsafe {
        let mut shm: ShmInfo = std::mem::zeroed();
        libc::shmctl(0, SHM_INFO, (&mut shm as *mut ShmInfo).cast());
        let mut msg: libc::msginfo = std::mem::zeroed();
        libc::msgctl(0, libc::MSG_INFO, (&mut msg as *mut libc::msginfo).cast());
        let mut sem: libc::seminfo = std::mem::zeroed();
        libc::semctl(0, 0, libc::SEM_INFO, &mut sem as *mut libc::seminfo);
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
                libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
            }
        }
        if msg > 0 {
            for id in ids("msg") {
                libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut());
            }
        }
        if sem > 0 {
            for id in ids("sem") {
                libc::semctl(id, 0, libc::IPC_RMID);
            }
        }
    }
    if let Ok(queues) = std::fs::read_dir("/dev/mqueue") {
        for queue in queues.flatten() {
            let _ = std::fs::remove_file(queue.path());
        }
    }
}
