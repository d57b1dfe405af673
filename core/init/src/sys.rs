//! Small system-call helpers of the init.

use nix::errno::Errno;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// A failed step of the init, with the errno that explains it.
#[derive(Debug)]
pub struct SysError {
    pub context: String,
    pub errno: Errno,
}

impl SysError {
    pub fn new(context: impl Into<String>, errno: Errno) -> Self {
        Self {
            context: context.into(),
            errno,
        }
    }
}

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.context, self.errno.desc())
    }
}

pub type SysResult<T> = Result<T, SysError>;

/// Attaches a context to a nix result.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> SysResult<T>;
}

impl<T> Context<T> for nix::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> SysResult<T> {
        self.map_err(|errno| SysError::new(what(), errno))
    }
}

pub use crate::protocol::rules::monotonic_ns;

pub fn cstring(bytes: &[u8]) -> Option<CString> {
    CString::new(bytes).ok()
}

/// Kills every process of the container but the init (PID 1 may signal the whole
/// namespace with kill(-1)) and reaps them all. Every process of a PID namespace
/// descends from its init, so waiting until ECHILD leaves nothing behind.
pub fn kill_all_and_reap() {
    // SAFETY: kill(-1) from PID 1 of our namespace reaches only the container.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    loop {
        // SAFETY: waitpid with a null status pointer is allowed.
        let pid = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::__WALL) };
        if pid < 0 && Errno::last() != Errno::EINTR {
            break;
        }
    }
}

/// mount_setattr(2) attributes (not in the libc crate).
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Sets mount attributes on `path`, on every mount below it too when `recursive`.
pub fn mount_setattr(path: &CString, attrs: u64, recursive: bool) -> nix::Result<()> {
    let attr = MountAttr {
        attr_set: attrs,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: path is NUL-terminated and attr is a valid mount_attr of the given size.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    match Errno::result(rc) {
        // Before 5.12: remount instead.
        Err(Errno::ENOSYS) => crate::remount::set_attrs(
            std::path::Path::new(std::ffi::OsStr::from_bytes(path.as_bytes())),
            attrs,
            recursive,
        ),
        other => other.map(drop),
    }
}

/// Whether close_range(2) takes CLOSE_RANGE_CLOEXEC (5.11+), probed once on a range
/// that holds no descriptor.
pub fn close_range_cloexec() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let far = (1u32 << 30) - 2;
        // SAFETY: marks descriptors in a range where none is open; no memory involved.
        unsafe { close_range(far, far + 1, libc::CLOSE_RANGE_CLOEXEC) == 0 }
    })
}

pub use crate::protocol::fd_placement::close_range;

/// The highest open descriptor of this process (0 when /proc cannot tell).
pub fn highest_open_fd() -> i32 {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// The host is gone or asked us to stop: end the container.
pub fn host_gone() -> ! {
    kill_all_and_reap();
    std::process::exit(0)
}

/// Lets the host thread a reply just woke run before the init goes on with work of
/// its own (the next standby runner). The reply's wake-up is a synchronous one: the
/// kernel often queues the woken thread on the init's CPU, expecting the sender to
/// sleep next, and without preempting the init (a task of another cgroup) it waits
/// for that work. On a 2-vCPU VM that was 40-100 µs of each run's reply.
pub fn yield_to_host() {
    // sched_yield always succeeds; when nothing else waits for this CPU it returns at once.
    let _ = nix::sched::sched_yield();
}
