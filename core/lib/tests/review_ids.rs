//! Container ids between processes: two scpool processes never hand out the same
//! id, whether the second was forked from the first (a pre-forking judge server) or
//! not, and no unprivileged local user can make a range look exhausted.
//!
//! Each test uses a range of its own, well away from the default range that other
//! tests use at the same time.

use scpool_core::{Container, ContainerConfig, IdRange};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};

/// The tests fork: one at a time, so no other test thread holds a lock the child
/// would need.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn config(first: u32, count: u32) -> ContainerConfig {
    let mut config = ContainerConfig::default();
    config.id_range = IdRange::new(first, count);
    config
}

fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills in two new descriptors that nothing else owns.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created and are owned here only.
    unsafe {
        (
            OwnedFd::from_raw_fd(fds[0]).into(),
            OwnedFd::from_raw_fd(fds[1]).into(),
        )
    }
}

fn wait_child(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child with a valid status pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return status;
        }
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR)
        );
    }
}

/// A process forked after it created a container shares the lock file's open file
/// description with its parent: a lock one holds must still keep the other out.
#[test]
fn a_forked_process_never_gets_an_id_its_parent_holds() {
    let _alone = one_at_a_time();
    let first = IdRange::DEFAULT.first + IdRange::DEFAULT.count + 1000;
    let held = Container::new(&config(first, 2)).expect("the parent's first container");
    assert_eq!(held.program_ids().0, first);
    let (mut ready_r, mut ready_w) = pipe();
    let (mut answer_r, mut answer_w) = pipe();
    // SAFETY: the child only creates a container, writes its answer and leaves with
    // _exit; no other test runs meanwhile (`one_at_a_time`).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let mut byte = [0u8; 1];
        let _ = ready_r.read_exact(&mut byte);
        let answer = match Container::new(&config(first, 2)) {
            Ok(c) => format!("id {}", c.program_ids().0),
            Err(e) => format!("error {e}"),
        };
        let _ = answer_w.write_all(answer.as_bytes());
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(0) }
    }
    drop(answer_w);
    // After the fork the parent takes the range's second id...
    let second = Container::new(&config(first, 2)).expect("the parent's second container");
    assert_eq!(second.program_ids().0, first + 1);
    // ...and only then does the child ask for one.
    ready_w.write_all(b"x").unwrap();
    let mut answer = String::new();
    answer_r.read_to_string(&mut answer).unwrap();
    wait_child(pid);
    assert!(
        answer.starts_with("error ") && answer.contains("id_range"),
        "the forked process got {answer:?} while its parent holds ids {first} and {}",
        first + 1
    );
}

/// The lock file is root's: a local user who can read it must not be able to lock
/// ids, or a read lock over a range would refuse every container.
#[test]
fn an_unprivileged_user_cannot_lock_ids() {
    let _alone = one_at_a_time();
    let first = IdRange::DEFAULT.first + IdRange::DEFAULT.count + 2000;
    // Makes sure the lock file exists.
    drop(Container::new(&config(first, 1)).expect("a container"));
    let (mut ready_r, ready_w) = pipe();
    let (release_r, release_w) = pipe();
    // SAFETY: the child makes only system calls (no allocation) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        drop(ready_r);
        drop(release_w);
        // SAFETY: system calls on this child's own state, then _exit.
        unsafe {
            let mut result = b'n';
            if libc::setresgid(65534, 65534, 65534) == 0
                && libc::setresuid(65534, 65534, 65534) == 0
            {
                let fd = libc::open(c"/run/scpool/ids.lock".as_ptr(), libc::O_RDONLY);
                if fd >= 0 {
                    let mut fl: libc::flock = std::mem::zeroed();
                    fl.l_type = libc::F_RDLCK as libc::c_short;
                    fl.l_whence = libc::SEEK_SET as libc::c_short;
                    fl.l_start = libc::off_t::from(first);
                    fl.l_len = 1;
                    if libc::fcntl(fd, libc::F_OFD_SETLK, &fl) == 0 {
                        result = b'y';
                    }
                }
            }
            let write_end = std::os::fd::AsRawFd::as_raw_fd(&ready_w);
            libc::write(write_end, [result].as_ptr().cast(), 1);
            let mut byte = 0u8;
            let read_end = std::os::fd::AsRawFd::as_raw_fd(&release_r);
            libc::read(read_end, (&mut byte as *mut u8).cast(), 1);
            libc::_exit(0)
        }
    }
    drop(ready_w);
    drop(release_r);
    let mut locked = [0u8; 1];
    ready_r.read_exact(&mut locked).unwrap();
    let created = Container::new(&config(first, 1));
    drop(release_w);
    wait_child(pid);
    let created = created.map(drop).map_err(|e| e.to_string());
    assert_eq!(
        (locked[0] as char, created),
        ('n', Ok(())),
        "user 65534 read-locked id {first} in /run/scpool/ids.lock (y/n), and then a \
         container in a range of that one id"
    );
}
