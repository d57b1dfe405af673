//! Files between the host and a container, between runs: read and write one file,
//! make a directory or a symlink, list one (the trees are in `tree`).
//!
//! Everything here starts from a descriptor the init opened inside the container
//! (`Container::open`): the init resolves the path beneath the container's root,
//! follows no symlink and checks permissions with the program's ids. What the host
//! then does on that descriptor touches one name at a time (`mkdirat`, `fstatat`,
//! `openat` with O_NOFOLLOW, or `openat2` with RESOLVE_BENEATH and no symlinks), so a
//! link the program planted can redirect nothing.
//!
//! Why not a protocol request per operation: the init would need a mkdir, a listing
//! and a tree walk of its own, each with a reply format, while the host can do them
//! on the init's descriptors with the same guarantees. The one thing the host must
//! add is ownership: an entry a root host creates would be root's (and in a container
//! with a user namespace, where root of the host is unmapped, cannot be made at
//! all), so the calling thread takes the program's filesystem ids while it creates
//! (`AsProgram`, as the init does for its opens) and sets the mode exactly
//! (`fchmod`; the host's umask must not decide it). No program runs
//! between runs (every process of a run is killed when it ends), so nothing races
//! these calls. Permission to create in an existing directory is checked against the
//! program's ids, as the init's own opens are.
//!
//! The program chooses what /w holds, so nothing is trusted: every open is
//! non-blocking (a FIFO cannot stall the host), anything but a regular file is
//! refused with [`Error::NotRegularFile`], and reads stop at a caller-given maximum
//! (default: the larger size cap of /w and /tmp, more than the program could write)
//! whatever the file claims its size is.

use crate::config::ContainerConfig;
use crate::container::{Container, OpenCmd};
use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{FileStat, Mode, SFlag};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The most entries `list_dir` returns and the default entry cap of a tree copy.
pub const DEFAULT_MAX_ENTRIES: u64 = 10_000;

/// What the host needs to know of a container to move files in and out of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileSettings {
    /// Default maximum of a read: nothing the program wrote can be larger.
    pub max_read: u64,
    /// The program's user and group as the host sees them.
    pub uid: u32,
    pub gid: u32,
}

impl FileSettings {
    /// `program_ids`: the program's ids as the host sees them.
    pub(crate) fn of(config: &ContainerConfig, (uid, gid): (u32, u32)) -> Self {
        Self {
            max_read: config.work_size.max(config.tmp_size),
            uid,
            gid,
        }
    }
}

/// The type of a file in the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (never followed).
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
}

impl FileKind {
    pub(crate) fn of_mode(mode: u32) -> Self {
        match SFlag::from_bits_truncate(mode & SFlag::S_IFMT.bits()) {
            SFlag::S_IFDIR => Self::Directory,
            SFlag::S_IFLNK => Self::Symlink,
            SFlag::S_IFIFO => Self::Fifo,
            SFlag::S_IFSOCK => Self::Socket,
            SFlag::S_IFCHR => Self::CharDevice,
            SFlag::S_IFBLK => Self::BlockDevice,
            _ => Self::File,
        }
    }

    /// The type with its article, for messages ("a FIFO").
    pub fn describe(self) -> &'static str {
        match self {
            Self::File => "a regular file",
            Self::Directory => "a directory",
            Self::Symlink => "a symlink",
            Self::Fifo => "a FIFO",
            Self::Socket => "a socket",
            Self::CharDevice => "a character device",
            Self::BlockDevice => "a block device",
        }
    }
}

/// One entry of a directory listing (symlinks are reported, never followed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirEntry {
    /// The entry's name in its directory.
    pub name: OsString,
    /// What it is.
    pub kind: FileKind,
    /// Size in bytes (what stat says; for a symlink, the length of its target).
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
}

impl Container {
    /// Reads a whole regular file from inside the container, at most the container's
    /// default maximum (the larger size cap of /w and /tmp).
    pub fn read_file(&mut self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        let max = self.file_settings().max_read;
        self.read_file_max(path, max)
    }

    /// Reads a whole regular file from inside the container; a file larger than
    /// `max` bytes is [`Error::FileTooLarge`] and nothing more than `max + 1` bytes
    /// is ever read or held.
    pub fn read_file_max(&mut self, path: impl AsRef<Path>, max: u64) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        self.read_file_into(path, &mut data, max)?;
        Ok(data)
    }

    /// Copies a regular file from inside the container into `sink`, at most `max`
    /// bytes (a larger file is [`Error::FileTooLarge`], detected before anything is
    /// written when its size says so). Returns the bytes copied.
    pub fn read_file_into(
        &mut self,
        path: impl AsRef<Path>,
        sink: &mut dyn Write,
        max: u64,
    ) -> Result<u64> {
        let path = path.as_ref();
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        let file = self.open_one(path, flags, 0)?;
        let stat = fstat(&file, path)?;
        require_regular(path, &stat)?;
        copy_bounded(file, stat.st_size as u64, sink, max, path)
    }

    /// Writes `data` to a file inside the container (created or truncated, mode 0644).
    pub fn write_file(&mut self, path: impl AsRef<Path>, data: &[u8]) -> Result<()> {
        self.write_file_mode(path, data, 0o644)
    }

    /// Writes `data` to a file inside the container, created (owned by the program's
    /// user) or truncated, with exactly `mode` (0o7777 bits) whatever the umask.
    pub fn write_file_mode(
        &mut self,
        path: impl AsRef<Path>,
        data: &[u8],
        mode: u32,
    ) -> Result<()> {
        let path = path.as_ref();
        check_mode(mode)?;
        // No O_TRUNC before we know it is a file; O_NONBLOCK so a FIFO fails at once.
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        // No init is cloned while the descriptor is open (see `busy_text`).
        let _writing = crate::busy_text::writing();
        let mut file = match self.open_one(path, flags, mode) {
            // A FIFO with no reader (or a socket): nothing a file write can go to.
            Err(Error::Open { errno, .. }) if errno == libc::ENXIO => {
                return Err(not_regular(path, FileKind::Fifo))
            }
            other => other?,
        };
        require_regular(path, &fstat(&file, path)?)?;
        let context = || format!("writing {}", path.display());
        retry(|| nix::sys::stat::fchmod(&file, Mode::from_bits_truncate(mode)))
            .map_err(|e| Error::io(context(), e))?;
        file.set_len(0).map_err(|e| Error::io(context(), e))?;
        file.write_all(data).map_err(|e| Error::io(context(), e))
    }

    /// Makes a directory inside the container with exactly `mode`, owned by the
    /// program's user. Its parent must exist and be writable by the program.
    pub fn mkdir(&mut self, path: impl AsRef<Path>, mode: u32) -> Result<()> {
        let path = path.as_ref();
        check_mode(mode)?;
        let (parent, name) = split_parent(path)?;
        let dir = self.open_dir(parent)?;
        let settings = self.file_settings();
        make_dir(dir.as_fd(), name, mode, &settings, path)
    }

    /// Makes a symbolic link at `link` inside the container that points to `target`,
    /// owned by the program's user. `target` is stored as given and never resolved
    /// here: the kernel resolves it when the program follows the link, inside the
    /// container's root, so a target "outside" names a file of the container. The
    /// link's parent must exist and be writable by the program; no component of
    /// `link` may be a symlink, and an existing entry at `link` is not replaced
    /// ([`Error::Open`] with EEXIST).
    pub fn symlink(&mut self, target: impl AsRef<Path>, link: impl AsRef<Path>) -> Result<()> {
        let (target, link) = (target.as_ref(), link.as_ref());
        check_link_target(target)?;
        let (parent, name) = split_parent(link)?;
        let dir = self.open_dir(parent)?;
        let settings = self.file_settings();
        make_symlink(dir.as_fd(), name, target, &settings, link)
    }

    /// Lists a directory inside the container: names (without "." and ".."), types,
    /// sizes and modes, sorted by name. More than [`DEFAULT_MAX_ENTRIES`] entries is
    /// an error.
    pub fn list_dir(&mut self, path: impl AsRef<Path>) -> Result<Vec<DirEntry>> {
        let path = path.as_ref();
        let dir = self.open_dir(path)?;
        let mut entries = Vec::new();
        for name in dir_names(dir.as_fd(), path, DEFAULT_MAX_ENTRIES)? {
            let stat = fstatat(dir.as_fd(), &name, path)?;
            entries.push(DirEntry {
                kind: FileKind::of_mode(stat.st_mode),
                size: stat.st_size as u64,
                mode: stat.st_mode & 0o7777,
                name,
            });
        }
        Ok(entries)
    }

    // -----------------------------------------------------------------------------

    /// Opens one file through the init (its path rules, the program's ids).
    pub(crate) fn open_one(&mut self, path: &Path, flags: i32, mode: u32) -> Result<File> {
        self.open(&[OpenCmd::new(path, flags, mode)])?
            .pop()
            .ok_or_else(|| Error::ContainerBroken("open returned no file".into()))
    }

    /// Opens a directory through the init; anything else is refused.
    pub(crate) fn open_dir(&mut self, path: &Path) -> Result<File> {
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        let file = self.open_one(path, flags, 0)?;
        let stat = fstat(&file, path)?;
        match FileKind::of_mode(stat.st_mode) {
            FileKind::Directory => Ok(file),
            other => Err(Error::Open {
                path: path.display().to_string(),
                errno: libc::ENOTDIR,
                message: format!(
                    "{} is {}, not a directory",
                    path.display(),
                    other.describe()
                ),
            }),
        }
    }
}

/// Makes `name` in `dir`: checks the program may, then sets owner and mode.
pub(crate) fn make_dir(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
    settings: &FileSettings,
    path: &Path,
) -> Result<()> {
    let context = || format!("making directory {}", path.display());
    require_program_may_write(dir, settings, path, context)?;
    let _ids = AsProgram::assume(settings);
    retry(|| nix::sys::stat::mkdirat(dir, name, Mode::S_IRWXU))
        .map_err(|errno| refused(path, errno))?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    let made = openat(dir, name, flags, 0).map_err(|e| Error::io(context(), e))?;
    set_mode(&made, mode).map_err(|e| Error::io(context(), e))
}

/// Makes the symlink `name` in `dir` pointing to `target`, as the program.
pub(crate) fn make_symlink(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    target: &Path,
    settings: &FileSettings,
    path: &Path,
) -> Result<()> {
    require_program_may_write(dir, settings, path, || {
        format!("making symlink {}", path.display())
    })?;
    let _ids = AsProgram::assume(settings);
    retry(|| nix::unistd::symlinkat(target, dir, name)).map_err(|errno| refused(path, errno))
}

/// EACCES unless the program may write the directory `dir`, where `path` is to be
/// made.
fn require_program_may_write(
    dir: BorrowedFd<'_>,
    settings: &FileSettings,
    path: &Path,
    context: impl Fn() -> String,
) -> Result<()> {
    let parent = retry(|| nix::sys::stat::fstat(dir)).map_err(|e| Error::io(context(), e))?;
    if program_may_write(&parent, settings) {
        return Ok(());
    }
    Err(Error::Open {
        path: path.display().to_string(),
        errno: libc::EACCES,
        message: format!("{}: the program may not write its parent", path.display()),
    })
}

/// A system call on `path` the kernel refused.
fn refused(path: &Path, errno: nix::errno::Errno) -> Error {
    Error::Open {
        path: path.display().to_string(),
        errno: errno as i32,
        message: format!("{}: {}", path.display(), errno.desc()),
    }
}

/// Sets exactly `mode` on an entry the host made (the host's umask must not decide).
pub(crate) fn set_mode(fd: &OwnedFd, mode: u32) -> nix::Result<()> {
    retry(|| nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(mode)))
}

/// The calling thread acts on files as the program while this guard lives: entries
/// it makes belong to the program's user, and the kernel checks permissions as for
/// the program. A root host must: in a container with a user namespace, root of the
/// host is not mapped and could create nothing there (EOVERFLOW). Filesystem ids
/// are per thread, so other threads of the host are untouched. A host that is not
/// root already has the program's ids (it is mapped to them).
pub(crate) struct AsProgram {
    switched: bool,
}

impl AsProgram {
    pub(crate) fn assume(settings: &FileSettings) -> Self {
        let switched = nix::unistd::geteuid().is_root();
        if switched {
            // SAFETY: setfsgid/setfsuid change only this thread's filesystem ids.
            unsafe {
                libc::setfsgid(settings.gid);
                libc::setfsuid(settings.uid);
            }
        }
        Self { switched }
    }
}

impl Drop for AsProgram {
    fn drop(&mut self) {
        if self.switched {
            // SAFETY: back to root's filesystem ids, which this thread had before.
            unsafe {
                libc::setfsuid(0);
                libc::setfsgid(0);
            }
        }
    }
}

/// Whether the program (no supplementary groups, no capabilities) may create
/// entries in a directory with this stat.
pub(crate) fn program_may_write(dir: &FileStat, settings: &FileSettings) -> bool {
    let needed = if dir.st_uid == settings.uid {
        0o300
    } else if dir.st_gid == settings.gid {
        0o030
    } else {
        0o003
    };
    dir.st_mode & needed == needed
}

/// The names in a directory, sorted, at most `max` of them.
pub(crate) fn dir_names(dir: BorrowedFd<'_>, path: &Path, max: u64) -> Result<Vec<OsString>> {
    let context = || format!("listing {}", path.display());
    // Our own descriptor of the directory: reading it moves the offset.
    let own = openat(dir, OsStr::new("."), libc::O_RDONLY | libc::O_DIRECTORY, 0)
        .map_err(|e| Error::io(context(), e))?;
    let mut listing = nix::dir::Dir::from_fd(own).map_err(|e| Error::io(context(), e))?;
    let mut names = Vec::new();
    for entry in listing.iter() {
        let entry = entry.map_err(|e| Error::io(context(), e))?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if names.len() as u64 >= max {
            return Err(Error::invalid(format!(
                "{} holds more than {max} entries",
                path.display()
            )));
        }
        names.push(OsStr::from_bytes(name).to_owned());
    }
    names.sort();
    Ok(names)
}

/// Copies at most `max` bytes of `file` to `sink`; more is [`Error::FileTooLarge`].
/// `claimed` (its stat size) refuses a large file early and sizes nothing else.
pub(crate) fn copy_bounded(
    file: File,
    claimed: u64,
    sink: &mut dyn Write,
    max: u64,
    path: &Path,
) -> Result<u64> {
    let too_large = || Error::FileTooLarge {
        path: path.display().to_string(),
        limit: max,
    };
    if claimed > max {
        return Err(too_large());
    }
    let mut source = file.take(max.saturating_add(1));
    let mut buffer = vec![0u8; 64 << 10];
    let mut copied: u64 = 0;
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        if copied + n as u64 > max {
            return Err(too_large());
        }
        sink.write_all(&buffer[..n])
            .map_err(|e| Error::io(format!("copying {}", path.display()), e))?;
        copied += n as u64;
    }
}

pub(crate) fn require_regular(path: &Path, stat: &FileStat) -> Result<()> {
    match FileKind::of_mode(stat.st_mode) {
        FileKind::File => Ok(()),
        other => Err(not_regular(path, other)),
    }
}

pub(crate) fn not_regular(path: &Path, found: FileKind) -> Error {
    Error::NotRegularFile {
        path: path.display().to_string(),
        found,
    }
}

fn check_mode(mode: u32) -> Result<()> {
    if mode & !0o7777 != 0 {
        return Err(Error::invalid(format!(
            "mode {mode:#o} has bits beyond the permission bits (0o7777)"
        )));
    }
    Ok(())
}

/// A link's target: what symlink(2) itself takes (not empty, no NUL byte, less
/// than PATH_MAX), refused here with a clear message.
fn check_link_target(target: &Path) -> Result<()> {
    let bytes = target.as_os_str().as_bytes();
    if bytes.is_empty() || bytes.contains(&0) || bytes.len() >= libc::PATH_MAX as usize {
        return Err(Error::invalid(format!(
            "symlink target {:?} must be 1 to {} bytes without a NUL byte",
            target,
            libc::PATH_MAX - 1
        )));
    }
    Ok(())
}

/// A container path's parent and last name (the path must name something below /).
pub(crate) fn split_parent(path: &Path) -> Result<(&Path, &OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if path.is_absolute() => Ok((parent, name)),
        _ => Err(Error::invalid(format!(
            "{} must be an absolute path below / ending in a name",
            path.display()
        ))),
    }
}

pub(crate) fn fstat(file: &impl AsFd, path: &Path) -> Result<FileStat> {
    retry(|| nix::sys::stat::fstat(file.as_fd()))
        .map_err(|e| Error::io(format!("stat of {}", path.display()), e))
}

pub(crate) fn fstatat(dir: BorrowedFd<'_>, name: &OsStr, path: &Path) -> Result<FileStat> {
    retry(|| nix::sys::stat::fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW))
        .map_err(|e| Error::io(format!("stat of {}", path.join(name).display()), e))
}

/// `openat` of one name, never following a symlink, never blocking, close-on-exec.
pub(crate) fn openat(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    flags: i32,
    mode: u32,
) -> nix::Result<OwnedFd> {
    let flags = nix::fcntl::OFlag::from_bits_truncate(
        flags | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
    );
    retry(|| nix::fcntl::openat(dir, name, flags, Mode::from_bits_truncate(mode)))
}

/// Retries a call interrupted by a signal.
pub(crate) fn retry<T>(mut call: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match call() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}
