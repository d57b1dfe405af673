//! Starting the container init as PID 1 of new namespaces.
//!
//! The host may be multithreaded (Python, Go), so the child of clone runs only raw
//! system calls on its own small stack until it execs the init image: no allocator, no
//! locks. The clone uses CLONE_VM|CLONE_VFORK (the posix_spawn trick): no page tables
//! are copied, so creating a container costs the same from a 10 GiB host as from a
//! small one.
//!
//! The init's exit signal is 0, so the host's own `waitpid(-1)` or SIGCHLD handler
//! never sees or reaps it; we wait for it through its pidfd.

use std::ffi::{c_int, c_void, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::cgroup::ThreadStep;
use crate::spawner;

/// The running init process of one container.
pub(crate) struct InitProcess {
    pub pid: i32,
    pub pidfd: OwnedFd,
}

impl InitProcess {
    /// Kills the init (which takes every process of its PID namespace with it) and
    /// reaps it.
    pub fn kill_and_reap(&self) {
        // SAFETY: pidfd is a valid pidfd we own; signal 0 flags / null siginfo are allowed.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
        self.reap();
    }

    /// Whether the init has exited: a pidfd reads as ready once its process is
    /// gone. A poll with no timeout, no round trip.
    pub fn has_exited(&self) -> bool {
        let mut fds = [nix::poll::PollFd::new(
            self.pidfd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        loop {
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
                Ok(n) => return n > 0,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return false,
            }
        }
    }

    fn reap(&self) {
        loop {
            // SAFETY: zeroed siginfo is a valid out-parameter for waitid.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: P_PIDFD with our pidfd; `info` is a valid pointer.
            let rc = unsafe {
                libc::waitid(
                    libc::P_PIDFD,
                    self.pidfd.as_raw_fd() as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::__WALL,
                )
            };
            if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return;
            }
        }
    }
}

const STACK_BYTES: usize = 64 * 1024;

/// Everything the clone child needs, prepared before the clone.
struct ChildArgs {
    image: RawFd,
    socket: RawFd,
    devnull: RawFd,
    argv: [*const libc::c_char; 2],
    envp: [*const libc::c_char; 1],
    /// Write our own id maps (a non-root host maps itself)...
    self_map: bool,
    uid_map: CString,
    gid_map: CString,
    /// ...or wait for the parent to write them (a root host maps the container's root
    /// to an unprivileged id, which only the parent namespace may do): a read that
    /// returns when the parent writes a byte (not at EOF: the child holds a copy of
    /// the write end itself). -1 when not waiting.
    map_wait: RawFd,
    /// Set by the child when it fails before exec: (step << 16) | errno.
    failure: AtomicI32,
}

const STEP_USERNS: i32 = 1;
const STEP_PDEATHSIG: i32 = 2;
const STEP_FDS: i32 = 3;
const STEP_EXEC: i32 = 4;
const STEP_IDS: i32 = 5;

fn step_name(step: i32) -> &'static str {
    match step {
        STEP_USERNS => "writing the user namespace id maps",
        STEP_PDEATHSIG => "setting the parent-death signal",
        STEP_FDS => "placing descriptors",
        STEP_IDS => "taking the mapped root ids",
        _ => "executing the init image",
    }
}

/// Runs in the clone child, sharing the parent's memory: raw syscalls only.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` points to the ChildArgs the parent keeps alive until we exec or
    // exit (CLONE_VFORK suspends it until then).
    let a = unsafe { &*(arg as *const ChildArgs) };
    let fail = |step: i32| -> c_int {
        // SAFETY: errno is this thread's; reading it is async-signal-safe.
        let errno = unsafe { *libc::__errno_location() };
        a.failure
            .store((step << 16) | (errno & 0xffff), Ordering::SeqCst);
        // SAFETY: _exit ends this child at once, touching no state it shares with
        // the parent (no atexit handlers, no stdio flush).
        unsafe { libc::_exit(127) }
    };
    if a.map_wait >= 0 {
        let mut byte = 0u8;
        let got = loop {
            // SAFETY: reads one byte into `byte`, a valid one-byte buffer.
            let n = unsafe { libc::read(a.map_wait, (&mut byte as *mut u8).cast(), 1) };
            // SAFETY: as in `fail`.
            if n >= 0 || unsafe { *libc::__errno_location() } != libc::EINTR {
                break n;
            }
        };
        if got != 1 {
            return fail(STEP_USERNS);
        }
        // We still carry the host's root ids, which the map does not cover:
        // become the mapped root (or exec would drop our capabilities), without
        // the host root's supplementary groups.
        // SAFETY: plain system calls on integers and a NULL, empty group list.
        let ids = unsafe {
            libc::setgroups(0, std::ptr::null()) == 0
                && libc::setresgid(0, 0, 0) == 0
                && libc::setresuid(0, 0, 0) == 0
        };
        if !ids {
            return fail(STEP_IDS);
        }
    }
    if a.self_map {
        // SAFETY: NUL-terminated paths; each map is a valid buffer of its length.
        let mapped = unsafe {
            write_proc_file(c"/proc/self/setgroups", b"deny")
                && write_proc_file(c"/proc/self/uid_map", a.uid_map.as_bytes())
                && write_proc_file(c"/proc/self/gid_map", a.gid_map.as_bytes())
        };
        if !mapped {
            return fail(STEP_USERNS);
        }
    }
    // The parent here is the spawner thread, which lives as long as the host.
    // SAFETY: a prctl on this process's own parent-death signal, integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } != 0 {
        return fail(STEP_PDEATHSIG);
    }
    for (from, target) in [
        (a.devnull, 0),
        (a.devnull, 1),
        (a.devnull, 2),
        (a.socket, 3),
    ] {
        // SAFETY: the parent keeps both descriptors open until we exec; dup2 onto
        // 0-3 cannot close them (high_dup numbered them 10 or above).
        if unsafe { libc::dup2(from, target) } < 0 {
            return fail(STEP_FDS);
        }
    }
    // SAFETY: `image` is an open executable; argv and envp are NULL-terminated
    // arrays of NUL-terminated strings the parent keeps alive until we exec. It
    // returns only on failure.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            a.image,
            c"".as_ptr(),
            a.argv.as_ptr(),
            a.envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    fail(STEP_EXEC)
}

/// open + write + close of a /proc file, with raw syscalls.
///
/// SAFETY (for callers): async-signal-safe; `path` must be NUL-terminated.
unsafe fn write_proc_file(path: &std::ffi::CStr, data: &[u8]) -> bool {
    // SAFETY: path is NUL-terminated (the caller's contract).
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    // SAFETY: data is a valid buffer of data.len() bytes; fd is ours.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    // SAFETY: fd is ours, closed once.
    unsafe { libc::close(fd) };
    written == data.len() as isize
}

/// A duplicate of `fd` numbered 10 or above, so that the child's dup2 onto 0-3 can
/// never overwrite it.
fn high_dup(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let raw = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a fresh descriptor that we own.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Starts the init image with `socket` as its descriptor 3, as PID 1 of new mount,
/// PID, UTS, IPC and network namespaces, and of a user namespace when `user_ns`
/// names the host id its root maps to (used by a root host; a non-root host can only
/// map itself).
///
/// With `step`, the spawner thread clones from inside the container's cgroup, so
/// the init is born there (see [`ThreadStep`]).
pub(crate) fn spawn_init(
    image: BorrowedFd<'static>,
    socket: OwnedFd,
    user_ns: Option<u32>,
    step: Option<ThreadStep>,
) -> io::Result<InitProcess> {
    let image = image.as_raw_fd();
    spawner::run(move || {
        // SAFETY: the image memfd lives in a static for the whole process.
        let image = unsafe { BorrowedFd::borrow_raw(image) };
        match step {
            Some(step) => step.spawn_inside(
                || clone_init(image, socket, user_ns),
                |init| init.kill_and_reap(),
            ),
            None => clone_init(image, socket, user_ns),
        }
    })?
}

/// The host ids the container's root maps to in a user namespace: our own when we
/// are not root (the only ones we may map), else the container's own id, never the
/// host's root, whom procfs and file permissions trust even without capabilities.
fn mapped_ids(root_host_id: u32) -> (u32, u32) {
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    if uid == 0 {
        (root_host_id, root_host_id)
    } else {
        (uid, gid)
    }
}

fn clone_init(
    image: BorrowedFd<'_>,
    socket: OwnedFd,
    root_host_id: Option<u32>,
) -> io::Result<InitProcess> {
    let user_ns = root_host_id.is_some();
    // Until the child has exec'd, no writable descriptor of a container file may be
    // open for it to copy (see `busy_text`).
    let _cloning = crate::busy_text::cloning();
    let socket = high_dup(std::os::fd::AsFd::as_fd(&socket))?;
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let devnull = high_dup(std::os::fd::AsFd::as_fd(&devnull))?;
    let (map_uid, map_gid) = mapped_ids(root_host_id.unwrap_or(0));
    // A root host writes the maps from here, so the child must wait for them.
    let parent_maps = user_ns && nix::unistd::geteuid().is_root();
    let (map_wait, map_release) = if parent_maps {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        (Some(high_dup(std::os::fd::AsFd::as_fd(&r))?), Some(w))
    } else {
        (None, None)
    };
    // Closed by the exec (or the child's exit): tells the parent the child is done
    // with its stack when we cannot use CLONE_VFORK.
    let (exec_watch, exec_mark) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let argv0 = c"scpool-init";
    let args = ChildArgs {
        image: image.as_raw_fd(),
        socket: socket.as_raw_fd(),
        devnull: devnull.as_raw_fd(),
        argv: [argv0.as_ptr(), std::ptr::null()],
        envp: [std::ptr::null()],
        self_map: user_ns && !parent_maps,
        uid_map: CString::new(format!("0 {map_uid} 1\n")).expect("digits only"),
        gid_map: CString::new(format!("0 {map_gid} 1\n")).expect("digits only"),
        map_wait: map_wait.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
        failure: AtomicI32::new(0),
    };
    let mut stack = vec![0u8; STACK_BYTES];
    // The stack grows down: pass its 16-byte aligned top.
    let top = (stack.as_mut_ptr() as usize + STACK_BYTES) & !15;

    let mut flags = libc::CLONE_VM
        | libc::CLONE_PIDFD
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWNET;
    // No CLONE_NEWCGROUP here: the init makes its cgroup namespace itself once the
    // host has moved it into the container's cgroup, so that cgroup is the root it
    // sees (a namespace made now would be rooted at the host's cgroup).
    if user_ns {
        flags |= libc::CLONE_NEWUSER;
    }
    if !parent_maps {
        // Suspend us until the child execs: the posix_spawn way, cheapest.
        flags |= libc::CLONE_VFORK;
    }
    let mut pidfd: c_int = -1;
    // SAFETY: child_main only makes raw syscalls; `args` and `stack` outlive the
    // child's use of them: CLONE_VFORK blocks us until it execs or exits, and
    // without it we wait for `exec_watch` to close below before dropping them.
    // Exit signal 0 (low byte of flags) keeps the init out of the host's SIGCHLD.
    let pid = unsafe {
        libc::clone(
            child_main,
            top as *mut c_void,
            flags,
            &args as *const ChildArgs as *mut c_void,
            &mut pidfd as *mut c_int,
        )
    };
    drop(exec_mark);
    if pid < 0 {
        let err = io::Error::last_os_error();
        let hint = if err.raw_os_error() == Some(libc::EPERM) && !user_ns {
            " (new namespaces need root; a non-root host must set user_namespace)"
        } else {
            ""
        };
        return Err(io::Error::new(
            err.kind(),
            format!("clone into new namespaces: {err}{hint}"),
        ));
    }
    // SAFETY: with CLONE_PIDFD the kernel stored a new pidfd (close-on-exec) here.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let init = InitProcess { pid, pidfd };
    if let Some(release) = map_release {
        if let Err(e) = write_id_maps(pid, &args.uid_map, &args.gid_map) {
            // Without its maps the init must not run at all.
            init.kill_and_reap();
            return Err(e);
        }
        crate::eintr::retry(|| Ok(nix::unistd::write(&release, b"1")?))?;
        wait_for_exec(&exec_watch);
    }
    let failure = args.failure.load(Ordering::SeqCst);
    if failure != 0 {
        init.reap();
        let errno = io::Error::from_raw_os_error(failure & 0xffff);
        return Err(io::Error::new(
            errno.kind(),
            format!(
                "starting the container init failed while {}: {errno}",
                step_name(failure >> 16)
            ),
        ));
    }
    drop(stack);
    Ok(init)
}

/// The parent's side of a root host's user namespace. setgroups stays allowed so the
/// child can drop the host root's groups; only one unprivileged gid is mapped, so
/// no group can be gained with it.
fn write_id_maps(pid: i32, uid_map: &CString, gid_map: &CString) -> io::Result<()> {
    let write = |file: &str, data: &[u8]| {
        std::fs::write(format!("/proc/{pid}/{file}"), data).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("writing {file} of the container init: {e}"),
            )
        })
    };
    write("uid_map", uid_map.as_bytes())?;
    write("gid_map", gid_map.as_bytes())
}

/// Blocks until the child execs or exits (the pipe's last writer closes).
fn wait_for_exec(watch: &OwnedFd) {
    let mut byte = [0u8; 1];
    while let Err(nix::errno::Errno::EINTR) = nix::unistd::read(watch, &mut byte) {}
}
