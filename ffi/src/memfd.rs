//! Loading a host program so that a container can execute it by descriptor.

use crate::args;
use crate::failure::{error, guard};
use std::os::fd::IntoRawFd;
use std::os::raw::{c_char, c_int};

/// Copies the host file at `path` into a sealed memfd and stores its descriptor
/// (close-on-exec; the caller owns it) in `*fd`: pass it as `exec_fd` to run the
/// program in a container where it is not visible.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `path` is NULL or a string; `fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_memfd_copy(path: *const c_char, fd: *mut c_int) -> error {
    guard(|| {
        let fd = args::out(fd, "fd")?;
        // SAFETY: forwarded contract.
        let path = unsafe { args::path(path, "path") }?;
        let copy = scpool_core::memfd_copy_of(path)?;
        // SAFETY: fd is non-NULL and writable.
        unsafe { fd.write(copy.into_raw_fd()) };
        Ok(())
    })
}

/// Copies `len` bytes into a sealed memfd positioned at its start and stores its
/// descriptor (close-on-exec; the caller owns it) in `*fd`: the safe way to give a
/// program input through `files`. Any descriptor passed there exposes its open
/// file: the program can read it, write it if it was opened writable, seek it
/// (sharing the offset with the host), fstat it, read its /proc/self/fd link (the
/// host path of a host file) and reopen it through that link. A sealed memfd
/// shows only its bytes: nobody can write, truncate or grow it, and its link names
/// no host path.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `data` holds `len` bytes (or is NULL with `len` 0); `fd` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_memfd_sealed(data: *const u8, len: usize, fd: *mut c_int) -> error {
    guard(|| {
        let fd = args::out(fd, "fd")?;
        // SAFETY: forwarded contract.
        let data = unsafe { args::slice(data, len, "data") }?;
        let sealed = scpool_core::sealed_memfd(data)?;
        // SAFETY: fd is non-NULL and writable.
        unsafe { fd.write(sealed.into_raw_fd()) };
        Ok(())
    })
}
