//! Unix sockets a run leaves unreachable (one that holds itself through SCM_RIGHTS,
//! with descriptors in flight) outlive its processes until the kernel's garbage
//! collector frees them, and meanwhile what they hold (inotify instances, memfds,
//! file locks) still counts against the program uid's quotas. Reset waits, bounded,
//! until the container's network namespace lists no unix socket, nudging the
//! collector: closing a socket with a descriptor in flight schedules it.

use std::time::{Duration, Instant};

/// Whether /proc/net/unix (the container's network namespace) lists any socket. The
/// init's own control socket lives in the host's namespace, so it is not listed.
fn any_unix_socket() -> bool {
    std::fs::read_to_string("/proc/net/unix")
        .map(|text| text.lines().nth(1).is_some())
        .unwrap_or(false)
}

/// One socket pair that passes one of its own descriptors, then closes: the kernel
/// then runs its collector of unreachable in-flight descriptors.
fn nudge_collector() {
    let Ok((a, b)) = nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    ) else {
        return;
    };
    use std::os::fd::AsRawFd;
    let fds = [a.as_raw_fd()];
    let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
    let iov = [std::io::IoSlice::new(b"x")];
    let _ = nix::sys::socket::sendmsg::<()>(
        b.as_raw_fd(),
        &iov,
        &cmsg,
        nix::sys::socket::MsgFlags::empty(),
        None,
    );
}

/// Waits up to `limit` for the container's unix sockets to be gone.
pub fn wait_until_gone(limit: Duration) {
    let started = Instant::now();
    while any_unix_socket() && started.elapsed() < limit {
        nudge_collector();
        std::thread::sleep(Duration::from_millis(2));
    }
}
