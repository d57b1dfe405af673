//! The few file-system calls unpacking makes, each relative to a directory
//! descriptor and never following a symbolic link, each retried on EINTR.

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use nix::unistd::UnlinkatFlags;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

/// Runs `call` until it does not fail with EINTR.
pub fn retry<T>(mut call: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match call() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Opens the directory `name` in `dir`; a symbolic link there fails (ELOOP or
/// ENOTDIR) instead of being followed.
pub fn open_dir(dir: impl AsFd, name: &OsStr) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    retry(|| nix::fcntl::openat(dir.as_fd(), name, flags, Mode::empty()))
}

/// Creates the regular file `name` in `dir`; it must not exist (not even as a link).
pub fn create_file(dir: impl AsFd, name: &OsStr) -> nix::Result<OwnedFd> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    retry(|| nix::fcntl::openat(dir.as_fd(), name, flags, Mode::from_bits_truncate(0o600)))
}

/// What `name` in `dir` is, the link itself for a symbolic link; None if absent.
pub fn stat(dir: impl AsFd, name: &OsStr) -> nix::Result<Option<FileStat>> {
    match retry(|| nix::sys::stat::fstatat(dir.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW)) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

pub fn is_symlink(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK
}

/// Removes `name` from `dir` whatever it is, a directory with all it holds.
pub fn remove_all(dir: impl AsFd, name: &OsStr) -> nix::Result<()> {
    let Some(st) = stat(dir.as_fd(), name)? else {
        return Ok(());
    };
    if !is_dir(&st) {
        return retry(|| nix::unistd::unlinkat(dir.as_fd(), name, UnlinkatFlags::NoRemoveDir));
    }
    let child = open_dir(dir.as_fd(), name)?;
    let mut listing = nix::dir::Dir::from_fd(retry(|| nix::unistd::dup(&child))?)?;
    let mut names = Vec::new();
    for entry in listing.iter() {
        let entry = entry?;
        let bytes = entry.file_name().to_bytes();
        if bytes != b"." && bytes != b".." {
            names.push(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes).to_owned());
        }
    }
    for child_name in names {
        remove_all(&child, &child_name)?;
    }
    retry(|| nix::unistd::unlinkat(dir.as_fd(), name, UnlinkatFlags::RemoveDir))
}

/// Sets extended attribute `name` on an open file.
pub fn set_xattr(fd: impl AsFd, name: &std::ffi::CStr, value: &[u8]) -> nix::Result<()> {
    use std::os::fd::AsRawFd;
    retry(|| {
        // SAFETY: the name is NUL-terminated and the value slice is valid for its length.
        let rc = unsafe {
            libc::fsetxattr(
                fd.as_fd().as_raw_fd(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        Errno::result(rc).map(drop)
    })
}
