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

pub fn remove_all() {
    // SAFETY: IPC_RMID on identifiers of our own namespace; null buffers are allowed
    // for IPC_RMID.
    unsafe {
        for id in ids("shm") {
            libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
        }
        for id in ids("msg") {
            libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut());
        }
        for id in ids("sem") {
            libc::semctl(id, 0, libc::IPC_RMID);
        }
    }
    if let Ok(queues) = std::fs::read_dir("/dev/mqueue") {
        for queue in queues.flatten() {
            let _ = std::fs::remove_file(queue.path());
        }
    }
}
