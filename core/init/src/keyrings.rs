//! Kernel keyrings outlive processes: a user's keyring lives as long as its user
//! namespace (for a root host, as long as the machine), and a session keyring as long
//! as any process holds it. With a seccomp policy that allows keyctl, a program could
//! leave keys there for the next borrower of the container, or for the next
//! container that gets the same uid. The init joins a session keyring of its own at
//! start (never the host's), and reset empties it and the program uid's keyrings,
//! its persistent keyring included (KEYCTL_GET_PERSISTENT: it outlives every
//! process of the uid by days).

use nix::errno::Errno;

const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
const KEYCTL_CLEAR: libc::c_long = 7;
const KEYCTL_GET_PERSISTENT: libc::c_long = 22;
const KEY_SPEC_PROCESS_KEYRING: libc::c_long = -2;
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
const KEY_SPEC_USER_KEYRING: libc::c_long = -4;
const KEY_SPEC_USER_SESSION_KEYRING: libc::c_long = -5;

fn keyctl(op: libc::c_long, arg: libc::c_long) -> nix::Result<()> {
    keyctl2(op, arg, 0).map(drop)
}

/// A keyctl operation with two integer arguments; returns the call's value.
fn keyctl2(op: libc::c_long, arg: libc::c_long, arg2: libc::c_long) -> nix::Result<libc::c_long> {
    loop {
        // SAFETY: keyctl operations with integer arguments (a null name for JOIN).
        let rc = unsafe { libc::syscall(libc::SYS_keyctl, op, arg, arg2, 0, 0) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Empties the caller's persistent keyring. Getting it links it into our process
/// keyring, which makes us its possessor (allowed to clear it).
fn clear_persistent() {
    if let Ok(ring) = keyctl2(KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_PROCESS_KEYRING) {
        let _ = keyctl(KEYCTL_CLEAR, ring);
    }
}

/// At start: a new anonymous session keyring, so runners never hold the host's.
pub fn leave_host_session() -> nix::Result<()> {
    keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0)
}

/// Whether `uid` has any key (its keyrings included): /proc/key-users lists the
/// users of our user namespace that own keys.
fn has_keys(uid: u32) -> bool {
    let prefix = format!("{uid}:");
    std::fs::read_to_string("/proc/key-users")
        .map(|text| {
            text.lines()
                .any(|line| line.trim_start().starts_with(&prefix))
        })
        // Unreadable: assume there may be keys.
        .unwrap_or(true)
}

/// Empties the init's session keyring, which every runner inherits.
pub fn clear_session() {
    let _ = keyctl(KEYCTL_CLEAR, KEY_SPEC_SESSION_KEYRING);
}

/// With no program running: when the program's uid owns keys, empties its user,
/// user-session and persistent keyrings, from a child that takes that uid (a keyring is found by
/// the uid of the caller).
pub fn clear(uid: u32, gid: u32) {
    if !has_keys(uid) {
        return;
    }
    // SAFETY: the init is single-threaded; the child makes only system calls and
    // leaves with _exit.
    match unsafe { libc::fork() } {
        0 => {
            // SAFETY: changing this child's own ids, then keyctl and _exit.
            unsafe {
                if libc::setresgid(gid, gid, gid) == 0 && libc::setresuid(uid, uid, uid) == 0 {
                    let _ = keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING);
                    let _ = keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_SESSION_KEYRING);
                    clear_persistent();
                }
                libc::_exit(0)
            }
        }
        pid if pid > 0 => loop {
            // SAFETY: waiting for our own child.
            let rc = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL) };
            if rc >= 0 || Errno::last() != Errno::EINTR {
                break;
            }
        },
        _ => {}
    }
}
