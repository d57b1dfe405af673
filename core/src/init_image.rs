//! The container init, embedded in the library and started from a sealed memfd, so a
//! lone libscpool.so or Python wheel needs no other file, and the init runs whatever
//! the container's root holds (it is linked statically).

use crate::memfile;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

static IMAGE: &[u8] = include_bytes!(env!("SCPOOL_INIT_PATH"));

/// The descriptor is kept at 10 or above so the init's spawn can place its own
/// descriptors at 0-3 without clobbering it.
static MEMFD: OnceLock<Result<OwnedFd, String>> = OnceLock::new();

/// The sealed memfd holding the init, created on first use.
pub(crate) fn memfd() -> io::Result<BorrowedFd<'static>> {
    let made = MEMFD.get_or_init(|| {
        let fd = memfile::sealed_executable("scpool-init", IMAGE).map_err(|e| e.to_string())?;
        let high = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
            .map_err(|e| e.to_string())?;
        // SAFETY: F_DUPFD_CLOEXEC returned a fresh descriptor that we own.
        Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(high) })
    });
    match made {
        Ok(fd) => Ok(fd.as_fd()),
        Err(msg) => Err(io::Error::other(format!(
            "cannot load the container init: {msg}"
        ))),
    }
}
