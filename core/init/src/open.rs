//! Open: files opened by the init inside the container for the host.
//!
//! Paths resolve from the container's root with RESOLVE_BENEATH and without following
//! any symlink, and the opens run with the program's filesystem ids: a link planted
//! by a program cannot redirect an open, and the host gets nothing the program could
//! not open itself. New files belong to the program's user.

use crate::protocol::rules::{open_flags_valid, path_below_root};
use crate::protocol::{ErrorKind, ErrorReport, OpenEntry};
use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

fn invalid(index: usize, path: &[u8], why: &str) -> ErrorReport {
    ErrorReport::invalid(format!("{}: {why}", String::from_utf8_lossy(path))).at_entry(index)
}

/// Switches the filesystem ids for the lifetime of the guard.
struct FsIds;

impl FsIds {
    fn assume(uid: u32, gid: u32) -> Self {
        // SAFETY: setfsgid/setfsuid only change this process's filesystem ids.
        unsafe {
            libc::setfsgid(gid);
            libc::setfsuid(uid);
        }
        FsIds
    }
}

impl Drop for FsIds {
    fn drop(&mut self) {
        // SAFETY: back to the init's own ids (root in the container).
        unsafe {
            libc::setfsuid(0);
            libc::setfsgid(0);
        }
    }
}

/// openat2 rejects a mode without O_CREAT or O_TMPFILE (open(2) ignores it), and
/// callers pass one with every flag combination.
fn creation_mode(entry: &OpenEntry) -> Mode {
    if entry.flags & libc::O_CREAT != 0 || entry.flags & libc::O_TMPFILE == libc::O_TMPFILE {
        Mode::from_bits_truncate(entry.mode & 0o7777)
    } else {
        Mode::empty()
    }
}

pub fn open_all(entries: &[OpenEntry], uid: u32, gid: u32) -> Result<Vec<OwnedFd>, ErrorReport> {
    let root = nix::fcntl::open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ErrorReport::system("opening /", e))?;
    let _ids = FsIds::assume(uid, gid);
    let mut files = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let relative =
            path_below_root(&entry.path).map_err(|why| invalid(index, &entry.path, why))?;
        if !open_flags_valid(entry.flags) {
            return Err(invalid(index, &entry.path, "unsupported open flags"));
        }
        let how = OpenHow::new()
            .flags(OFlag::from_bits_truncate(entry.flags) | OFlag::O_CLOEXEC | OFlag::O_NOCTTY)
            .mode(creation_mode(entry))
            .resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            );
        match openat2(&root, OsStr::from_bytes(relative), how) {
            Ok(fd) => files.push(fd),
            Err(errno) => {
                let why = match errno {
                    Errno::ELOOP => {
                        "the path goes through a symlink, which open never follows".to_string()
                    }
                    Errno::EXDEV => "the path leaves the container's root".to_string(),
                    other => other.desc().to_string(),
                };
                let path = String::from_utf8_lossy(&entry.path);
                let report =
                    ErrorReport::new(ErrorKind::System, errno as i32, format!("{path}: {why}"));
                return Err(report.at_entry(index));
            }
        }
    }
    Ok(files)
}
