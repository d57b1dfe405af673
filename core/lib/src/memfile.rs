//! Anonymous in-memory files (memfd): the embedded init image, host programs copied
//! in for `exec_file`, and the stdin/stdout/stderr of `Container::run`.

use crate::error::{Error, Result};
use memfd::{FileSeal, Memfd};
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
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

/// Seals a memfd so nobody (the program included) can change it again: the seals
/// keep its bytes, and a read-only mode keeps its times and extended attributes from
/// everyone but its owner (the host's user; a rootless program is that user too).
pub(crate) fn seal(memfd: &Memfd) -> io::Result<()> {
    let file = memfd.as_file();
    let mode = file.metadata()?.permissions().mode() & 0o555;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
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
    let context = format!("copying {} into a memfd", path.display());
    let source = File::open(path).map_err(|e| Error::io(&context, e))?;
    sealed_copy("scpool-exec", true, source, u64::MAX, &context)
}

/// A program's bytes in a sealed, executable memfd, ready to pass as
/// [`ExecveParam::exec_file`](crate::ExecveParam::exec_file) to as many runs as
/// want it, at once or in turn, so a service keeps one per stored program instead
/// of writing the program into each container. No run can change its bytes, and a
/// run whose program is another user than the host's (not rootless) cannot change
/// its mode, times or attributes either (mode 0555, owned by the host's user). ELF
/// only, as with [`memfd_copy_of`].
pub fn program_memfd(bytes: &[u8]) -> Result<OwnedFd> {
    let context = "copying a program into a memfd";
    let mut file =
        File::from(sealed_executable("scpool-exec", bytes).map_err(|e| Error::io(context, e))?);
    file.rewind().map_err(|e| Error::io(context, e))?;
    Ok(file.into())
}

/// A sealed memfd holding `bytes`, positioned at the start: the safe way to hand
/// data to a program as one of [`ExecveParam::files`](crate::ExecveParam::files)
/// (C `scpool_memfd_sealed`, Go `SealedMemfd`, Python `scpool.sealed_memfd`).
///
/// Any descriptor passed to a program exposes its open file description: the
/// program can read and (if it was opened writable) write it, seek it (the offset
/// is shared with every copy of the descriptor, the host's included), fstat it,
/// read its `/proc/self/fd/N` link (which names the host path of a host file) and
/// reopen it through that link with any access its permissions allow. A sealed
/// memfd exposes only its bytes: its link reads `/memfd:scpool-data (deleted)`,
/// and writes, truncation and growth fail with EPERM for everyone.
pub fn sealed_memfd(bytes: &[u8]) -> Result<OwnedFd> {
    sealed_memfd_from_reader(bytes, bytes.len() as u64)
}

/// [`sealed_memfd`] of what `source` yields, `limit` bytes at most (the CLI's
/// `--stdin`). More than `limit` bytes is [`Error::InvalidArgument`], so an endless
/// source (a pipe, /dev/zero) cannot fill the host's memory.
pub fn sealed_memfd_from_reader(source: impl Read, limit: u64) -> Result<OwnedFd> {
    sealed_copy(
        "scpool-data",
        false,
        source,
        limit,
        "copying data into a sealed memfd",
    )
}

/// [`sealed_memfd_from_reader`] of a host file (or a pipe, /dev/stdin...).
pub fn sealed_memfd_from_path(path: impl AsRef<Path>, limit: u64) -> Result<OwnedFd> {
    let path = path.as_ref();
    let source =
        File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    sealed_memfd_from_reader(source, limit)
}

/// Copies at most `limit` bytes of `source` into a new memfd, seals it and rewinds
/// it, so a program reading it starts at byte 0.
fn sealed_copy(
    name: &str,
    executable: bool,
    mut source: impl Read,
    limit: u64,
    context: &str,
) -> Result<OwnedFd> {
    let memfd = create(name, executable).map_err(|e| Error::io(context, e))?;
    let copied = io::copy(
        &mut source.by_ref().take(limit.saturating_add(1)),
        &mut memfd.as_file(),
    )
    .map_err(|e| Error::io(context, e))?;
    if copied > limit {
        return Err(Error::invalid(format!(
            "{context}: more than {limit} bytes"
        )));
    }
    seal(&memfd).map_err(|e| Error::io(context, e))?;
    let mut file = memfd.into_file();
    file.rewind().map_err(|e| Error::io(context, e))?;
    Ok(file.into())
}

/// A memfd holding `bytes`, positioned at the start (a program's stdin).
pub(crate) fn with_contents(name: &str, bytes: &[u8]) -> io::Result<File> {
    let mut file = create(name, false)?.into_file();
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_sealed_copy_reads_back_from_the_start_and_refuses_writes() {
        let mut file = File::from(sealed_memfd(b"1 2\n").unwrap());
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        assert_eq!(data, b"1 2\n");
        let err = file.write_all(b"x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        assert_eq!(
            file.set_len(0).unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
    }

    #[test]
    fn a_program_memfd_holds_the_bytes_and_nobody_can_change_them() {
        let fd = program_memfd(b"\x7fELF-program").unwrap();
        let mut file = File::from(fd);
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        assert_eq!(data, b"\x7fELF-program");
        let mode = file.metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o555, "executable and read-only: {mode:o}");
        let err = file.write_all(b"x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        let path = format!("/proc/self/fd/{}", file.as_raw_fd());
        let reopened = std::fs::OpenOptions::new().write(true).open(&path);
        let err = reopened.and_then(|mut f| f.write_all(b"x")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    }

    #[test]
    fn an_endless_source_stops_at_the_limit_with_a_typed_error() {
        let err = sealed_memfd_from_path("/dev/zero", 1 << 16).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        let exact = sealed_memfd_from_reader(&[7u8; 100][..], 100).unwrap();
        assert_eq!(File::from(exact).metadata().unwrap().len(), 100);
    }

    #[test]
    fn a_program_copy_holds_the_program_from_its_start_and_is_sealed() {
        let mut copy = File::from(memfd_copy_of("/bin/true").unwrap());
        let mut data = Vec::new();
        copy.read_to_end(&mut data).unwrap();
        assert_eq!(data, std::fs::read("/bin/true").unwrap());
        let err = copy.write_all(b"x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    }

    #[test]
    fn a_missing_path_is_an_io_error_naming_it() {
        let err = sealed_memfd_from_path("/nonexistent/scpool-data", 10).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(
            err.to_string().contains("/nonexistent/scpool-data"),
            "{err}"
        );
        let err = memfd_copy_of("/nonexistent/scpool-program").unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(
            err.to_string().contains("/nonexistent/scpool-program"),
            "{err}"
        );
    }
}
