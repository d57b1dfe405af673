//! Anonymous in-memory files (memfd): the embedded init image, host programs copied
//! in for `exec_file`, and the stdin/stdout/stderr of `Container::run`.

use crate::error::{Error, Result};
use memfd::{FileSeal, Memfd};
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

/// Creates a close-on-exec memfd. `executable` asks for MFD_EXEC, which kernels with
/// `vm.memfd_noexec` need; older kernels that reject the flag get a plain memfd.
pub(crate) fn create(name: &str, executable: bool) -> io::Result<Memfd> {
    let name = CString::new(name).expect("memfd names are literals without NUL");
    let base = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    let mut flags = base
        | if executable {
            libc::MFD_EXEC
        } else {
            libc::MFD_NOEXEC_SEAL
        };
    loop {
        // SAFETY: `name` is a valid NUL-terminated string; the call has no other inputs.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
        if fd >= 0 {
            // SAFETY: memfd_create returned a new descriptor that we now own.
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            return Memfd::try_from_fd(owned)
                .map_err(|_| io::Error::other("memfd_create returned a non-memfd"));
        }
        let err = io::Error::last_os_error();
        // Kernels before 6.3 know neither MFD_EXEC nor MFD_NOEXEC_SEAL.
        if err.raw_os_error() == Some(libc::EINVAL) && flags != base {
            flags = base;
            continue;
        }
        return Err(err);
    }
}

/// Seals a memfd so nobody (the program included) can change it again.
pub(crate) fn seal(memfd: &Memfd) -> io::Result<()> {
    for seal in [
        FileSeal::SealShrink,
        FileSeal::SealGrow,
        FileSeal::SealWrite,
        FileSeal::SealSeal,
    ] {
        memfd
            .add_seal(seal)
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// A sealed, executable memfd holding `bytes`.
pub(crate) fn sealed_executable(name: &str, bytes: &[u8]) -> io::Result<OwnedFd> {
    let memfd = create(name, true)?;
    let mut file = memfd.as_file();
    file.write_all(bytes)?;
    seal(&memfd)?;
    Ok(memfd.into_file().into())
}

/// Copies a host program into a sealed memfd, ready to pass as
/// [`ExecveParam::exec_file`](crate::ExecveParam::exec_file) (the seed's DupToMemfd).
/// ELF binaries work; a `#!` script does not (its interpreter cannot open the
/// close-on-exec descriptor).
pub fn memfd_copy_of(path: impl AsRef<Path>) -> Result<OwnedFd> {
    let path = path.as_ref();
    let context = || format!("copying {} into a memfd", path.display());
    let mut source = File::open(path).map_err(|e| Error::io(context(), e))?;
    let memfd = create("scpool-exec", true).map_err(|e| Error::io(context(), e))?;
    io::copy(&mut source, &mut memfd.as_file()).map_err(|e| Error::io(context(), e))?;
    seal_from_start(memfd).map_err(|e| Error::io(context(), e))
}

/// A sealed memfd holding `bytes`, positioned at the start: the safe way to hand
/// data to a program as one of [`ExecveParam::files`](crate::ExecveParam::files).
///
/// Any descriptor passed to a program exposes its open file description: the
/// program can read and (if it was opened writable) write it, seek it (the offset
/// is shared with every copy of the descriptor, the host's included), fstat it,
/// read its `/proc/self/fd/N` link (which names the host path of a host file) and
/// reopen it through that link with any access its permissions allow. A sealed
/// memfd exposes only its bytes: its link reads `/memfd:scpool-data (deleted)`,
/// and writes, truncation and growth fail with EPERM for everyone.
pub fn sealed_memfd(bytes: &[u8]) -> Result<OwnedFd> {
    let context = "creating a sealed memfd";
    let memfd = create("scpool-data", false).map_err(|e| Error::io(context, e))?;
    memfd
        .as_file()
        .write_all(bytes)
        .map_err(|e| Error::io(context, e))?;
    seal_from_start(memfd).map_err(|e| Error::io(context, e))
}

/// Seals a filled memfd and rewinds it, so a program reading it starts at byte 0.
fn seal_from_start(memfd: Memfd) -> io::Result<OwnedFd> {
    use std::io::Seek;
    seal(&memfd)?;
    let mut file = memfd.into_file();
    file.rewind()?;
    Ok(file.into())
}

/// A memfd holding `bytes`, positioned at the start (a program's stdin).
pub(crate) fn with_contents(name: &str, bytes: &[u8]) -> io::Result<File> {
    use std::io::Seek;
    let mut file = create(name, false)?.into_file();
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}
