//! The container side of its namespaces: host and domain name, loopback up.

use crate::protocol::Setup;
use crate::sys::{Context, SysResult};
use nix::errno::Errno;

pub fn configure(setup: &Setup) -> SysResult<()> {
    let name = std::ffi::OsStr::new(std::str::from_utf8(&setup.hostname).unwrap_or("scpool"));
    nix::unistd::sethostname(name).context(|| "setting the hostname".into())?;
    // SAFETY: the pointer and length describe the domainname buffer.
    let rc =
        unsafe { libc::setdomainname(setup.domainname.as_ptr().cast(), setup.domainname.len()) };
    Errno::result(rc).context(|| "setting the domain name".into())?;
    loopback_up().context(|| "bringing up the loopback interface".into())
}

/// The new network namespace has only `lo`, down; bring it up so programs can talk
/// to themselves over 127.0.0.1. Nothing else is reachable.
fn loopback_up() -> nix::Result<()> {
    // SAFETY: plain socket creation; the descriptor is closed below.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    let sock = Errno::result(sock)?;
    // SAFETY: a zeroed ifreq is valid; we fill the name and flags fields.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS / SIOCSIFFLAGS read and write `req`, a valid ifreq.
    let result = unsafe {
        // The request's type differs between C libraries, hence `as _`.
        Errno::result(libc::ioctl(sock, libc::SIOCGIFFLAGS as _, &mut req)).and_then(|_| {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            Errno::result(libc::ioctl(sock, libc::SIOCSIFFLAGS as _, &req))
        })
    };
    // SAFETY: closing the socket we created.
    unsafe { libc::close(sock) };
    result.map(drop)
}
