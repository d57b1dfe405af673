//! Directory trees between the host and a container: `copy_in` and `copy_out`.
//!
//! Both walk first and act second: the walk counts entries and bytes against the
//! caller's caps and refuses what cannot be copied (special files, symlinks that
//! are absolute or climb out of the tree, trees deeper than [`MAX_DEPTH`]) before
//! anything is written. Symlinks are copied as symlinks and never followed; on the
//! container side every entry is reached from the init-opened top directory with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (see `files` for why the host
//! may do this itself). Existing directories are merged; an existing file or link
//! is an error (nothing is overwritten).

use crate::container::Container;
use crate::error::{Error, Result};
use crate::files::{
    self, copy_bounded, fstatat, make_dir, openat, require_regular, retry, set_mode, AsProgram,
    FileKind, FileSettings, DEFAULT_MAX_ENTRIES,
};
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Deepest tree a copy walks (each level holds one descriptor while walking).
pub const MAX_DEPTH: usize = 128;

/// Caps of one tree copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeLimits {
    /// Bytes of all regular files together.
    pub max_bytes: u64,
    /// Files, directories and symlinks together (the top directory not counted).
    pub max_entries: u64,
}

impl TreeLimits {
    /// At most `max_bytes` of file contents in at most `max_entries` entries.
    pub const fn new(max_bytes: u64, max_entries: u64) -> Self {
        Self {
            max_bytes,
            max_entries,
        }
    }
}

/// What a tree copy copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeCopied {
    /// Files, directories and symlinks copied.
    pub entries: u64,
    /// Bytes of file contents copied.
    pub bytes: u64,
}

/// One entry found by the walk, relative to the top of the tree.
struct Planned {
    path: PathBuf,
    kind: FileKind,
    mode: u32,
    size: u64,
    link: Option<PathBuf>,
}

/// The walk's running totals against the caps.
struct Plan {
    limits: TreeLimits,
    entries: Vec<Planned>,
    bytes: u64,
}

impl Plan {
    fn new(limits: TreeLimits) -> Self {
        Self {
            limits,
            entries: Vec::new(),
            bytes: 0,
        }
    }

    fn add(&mut self, top: &Path, entry: Planned) -> Result<()> {
        let shown = top.join(&entry.path);
        match entry.kind {
            FileKind::File | FileKind::Directory => {}
            FileKind::Symlink => {
                let target = entry.link.as_deref().unwrap_or(Path::new(""));
                if !link_stays_inside(&entry.path, target) {
                    return Err(Error::invalid(format!(
                        "{} is a symlink to {} outside the tree",
                        shown.display(),
                        target.display()
                    )));
                }
            }
            other => return Err(files::not_regular(&shown, other)),
        }
        if entry.path.components().count() > MAX_DEPTH {
            return Err(Error::invalid(format!(
                "{} is deeper than {MAX_DEPTH} levels",
                shown.display()
            )));
        }
        if self.entries.len() as u64 >= self.limits.max_entries {
            return Err(Error::invalid(format!(
                "{} holds more than {} entries",
                top.display(),
                self.limits.max_entries
            )));
        }
        if entry.kind == FileKind::File {
            self.bytes = self.bytes.saturating_add(entry.size);
            if self.bytes > self.limits.max_bytes {
                return Err(Error::FileTooLarge {
                    path: top.display().to_string(),
                    limit: self.limits.max_bytes,
                });
            }
        }
        self.entries.push(entry);
        Ok(())
    }
}

/// Whether a relative symlink at `at` (relative to the top) resolves inside the top.
fn link_stays_inside(at: &Path, target: &Path) -> bool {
    let mut depth = at.components().count() as i64 - 1;
    for part in target.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    !target.as_os_str().is_empty()
}

impl Container {
    /// The default caps of a tree copy: the container's read maximum in bytes and
    /// [`DEFAULT_MAX_ENTRIES`] entries.
    pub fn default_tree_limits(&self) -> TreeLimits {
        TreeLimits {
            max_bytes: self.file_settings().max_read,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }

    /// Copies the host directory `host_dir` into `container_dir` (made if missing,
    /// with `host_dir`'s mode). Everything made belongs to the program's user and
    /// keeps its host permission bits.
    pub fn copy_in(
        &mut self,
        host_dir: impl AsRef<Path>,
        container_dir: impl AsRef<Path>,
        limits: &TreeLimits,
    ) -> Result<TreeCopied> {
        let (host_dir, container_dir) = (host_dir.as_ref(), container_dir.as_ref());
        let top = fs::metadata(host_dir)
            .map_err(|e| Error::io(format!("reading {}", host_dir.display()), e))?;
        if !top.is_dir() {
            return Err(Error::invalid(format!(
                "{} is not a directory",
                host_dir.display()
            )));
        }
        let mut plan = Plan::new(*limits);
        walk_host(host_dir, Path::new(""), &mut plan)?;

        let settings = self.file_settings();
        let (parent, name) = files::split_parent(container_dir)?;
        let parent_dir = self.open_dir(parent)?;
        match fstatat(parent_dir.as_fd(), name, parent) {
            Ok(_) => {}
            Err(_) => make_dir(
                parent_dir.as_fd(),
                name,
                top.mode() & 0o7777,
                &settings,
                container_dir,
            )?,
        }
        let root = self.open_dir(container_dir)?;
        let mut copied = TreeCopied::default();
        for entry in &plan.entries {
            put_in(root.as_fd(), host_dir, container_dir, entry, &settings)?;
            copied.entries += 1;
            copied.bytes += if entry.kind == FileKind::File {
                entry.size
            } else {
                0
            };
        }
        Ok(copied)
    }

    /// Copies the container directory `container_dir` to `host_dir` on the host
    /// (made if missing). Files get their permission bits without set-id bits and
    /// belong to the caller.
    pub fn copy_out(
        &mut self,
        container_dir: impl AsRef<Path>,
        host_dir: impl AsRef<Path>,
        limits: &TreeLimits,
    ) -> Result<TreeCopied> {
        let (container_dir, host_dir) = (container_dir.as_ref(), host_dir.as_ref());
        let root = self.open_dir(container_dir)?;
        let mut plan = Plan::new(*limits);
        walk_container(root.as_fd(), container_dir, Path::new(""), &mut plan)?;

        let host_error =
            |path: &Path, e: std::io::Error| Error::io(format!("writing {}", path.display()), e);
        match fs::create_dir(host_dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && host_dir.is_dir() => {}
            other => other.map_err(|e| host_error(host_dir, e))?,
        }
        let mut copied = TreeCopied::default();
        for entry in &plan.entries {
            let target = host_dir.join(&entry.path);
            match entry.kind {
                FileKind::Directory => match fs::create_dir(&target) {
                    Err(e)
                        if e.kind() == std::io::ErrorKind::AlreadyExists
                            && fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) => {}
                    other => other.map_err(|e| host_error(&target, e))?,
                },
                FileKind::Symlink => {
                    let link = entry.link.as_deref().unwrap_or(Path::new(""));
                    std::os::unix::fs::symlink(link, &target).map_err(|e| host_error(&target, e))?
                }
                _ => {
                    let shown = container_dir.join(&entry.path);
                    let source = open_beneath(root.as_fd(), &entry.path, libc::O_RDONLY)
                        .map_err(|e| Error::io(format!("opening {}", shown.display()), e))?;
                    let source = File::from(source);
                    require_regular(&shown, &files::fstat(&source, &shown)?)?;
                    let mut sink = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(entry.mode & 0o777)
                        .custom_flags(libc::O_NOFOLLOW)
                        .open(&target)
                        .map_err(|e| host_error(&target, e))?;
                    copy_bounded(source, entry.size, &mut sink, entry.size, &shown)?;
                    sink.flush().map_err(|e| host_error(&target, e))?;
                    copied.bytes += entry.size;
                }
            }
            copied.entries += 1;
        }
        Ok(copied)
    }
}

/// Lists a host tree depth-first (parents before children).
fn walk_host(top: &Path, relative: &Path, plan: &mut Plan) -> Result<()> {
    let dir = top.join(relative);
    let read_error = |e: std::io::Error| Error::io(format!("reading {}", dir.display()), e);
    let mut names: Vec<_> = fs::read_dir(&dir)
        .map_err(read_error)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(read_error)?;
    names.sort();
    for name in names {
        let path = relative.join(&name);
        let full = top.join(&path);
        let meta = fs::symlink_metadata(&full)
            .map_err(|e| Error::io(format!("reading {}", full.display()), e))?;
        let kind = FileKind::of_mode(meta.mode());
        let link = match kind {
            FileKind::Symlink => Some(
                fs::read_link(&full)
                    .map_err(|e| Error::io(format!("reading {}", full.display()), e))?,
            ),
            _ => None,
        };
        plan.add(
            top,
            Planned {
                path: path.clone(),
                kind,
                mode: meta.mode() & 0o7777,
                size: meta.len(),
                link,
            },
        )?;
        if kind == FileKind::Directory {
            walk_host(top, &path, plan)?;
        }
    }
    Ok(())
}

/// Lists a container tree from a directory descriptor, never following a link.
fn walk_container(dir: BorrowedFd<'_>, top: &Path, relative: &Path, plan: &mut Plan) -> Result<()> {
    let shown = top.join(relative);
    let names = files::dir_names(dir, &shown, plan.limits.max_entries + 1)?;
    for name in names {
        let path = relative.join(&name);
        let stat = fstatat(dir, &name, &shown)?;
        let kind = FileKind::of_mode(stat.st_mode);
        let link = match kind {
            FileKind::Symlink => Some(PathBuf::from(
                retry(|| nix::fcntl::readlinkat(dir, name.as_os_str()))
                    .map_err(|e| Error::io(format!("reading {}", top.join(&path).display()), e))?,
            )),
            _ => None,
        };
        plan.add(
            top,
            Planned {
                path: path.clone(),
                kind,
                mode: stat.st_mode & 0o7777,
                size: stat.st_size as u64,
                link,
            },
        )?;
        if kind == FileKind::Directory {
            let sub = openat(dir, &name, libc::O_RDONLY | libc::O_DIRECTORY, 0)
                .map_err(|e| Error::io(format!("opening {}", top.join(&path).display()), e))?;
            walk_container(sub.as_fd(), top, &path, plan)?;
        }
    }
    Ok(())
}

/// Makes one planned entry below the container tree's top.
fn put_in(
    root: BorrowedFd<'_>,
    host_top: &Path,
    container_top: &Path,
    entry: &Planned,
    settings: &FileSettings,
) -> Result<()> {
    let shown = container_top.join(&entry.path);
    let parent_path = entry.path.parent().unwrap_or(Path::new(""));
    let name = entry.path.file_name().unwrap_or(OsStr::new(""));
    let parent =
        open_beneath(root, parent_path, libc::O_RDONLY | libc::O_DIRECTORY).map_err(|e| {
            Error::io(
                format!("opening {}", container_top.join(parent_path).display()),
                e,
            )
        })?;
    let context = || format!("copying into {}", shown.display());
    match entry.kind {
        FileKind::Directory => match fstatat(parent.as_fd(), name, &shown) {
            Ok(stat) if FileKind::of_mode(stat.st_mode) == FileKind::Directory => Ok(()),
            _ => make_dir(parent.as_fd(), name, entry.mode, settings, &shown),
        },
        FileKind::Symlink => {
            let link = entry.link.as_deref().unwrap_or(Path::new(""));
            require_writable(&parent, settings, &shown)?;
            let _ids = AsProgram::assume(settings);
            retry(|| nix::unistd::symlinkat(link, parent.as_fd(), name))
                .map_err(|e| Error::io(context(), e))
        }
        _ => {
            require_writable(&parent, settings, &shown)?;
            let source_path = host_top.join(&entry.path);
            let source = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(&source_path)
                .map_err(|e| Error::io(format!("reading {}", source_path.display()), e))?;
            require_regular(&source_path, &files::fstat(&source, &source_path)?)?;
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
            // No init is cloned while the descriptor is open (see `busy_text`).
            let _writing = crate::busy_text::writing();
            let target = {
                let _ids = AsProgram::assume(settings);
                openat(parent.as_fd(), name, flags, 0o600).map_err(|e| Error::io(context(), e))?
            };
            set_mode(&target, entry.mode).map_err(|e| Error::io(context(), e))?;
            // The walk counted `size` bytes: copy no more, even if the file grew.
            let mut sink = File::from(target);
            copy_bounded(source, 0, &mut sink, entry.size, &source_path)?;
            Ok(())
        }
    }
}

fn require_writable(parent: &OwnedFd, settings: &FileSettings, shown: &Path) -> Result<()> {
    let stat = files::fstat(parent, shown)?;
    if files::program_may_write(&stat, settings) {
        Ok(())
    } else {
        Err(Error::Open {
            path: shown.display().to_string(),
            errno: libc::EACCES,
            message: format!("{}: the program may not write its parent", shown.display()),
        })
    }
}

/// Opens `relative` below `root` without leaving it or following any symlink.
fn open_beneath(root: BorrowedFd<'_>, relative: &Path, flags: i32) -> nix::Result<OwnedFd> {
    let relative = if relative.as_os_str().is_empty() {
        Path::new(".")
    } else {
        relative
    };
    let how = OpenHow::new()
        .flags(OFlag::from_bits_truncate(
            flags | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        ))
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
    retry(|| nix::fcntl::openat2(root, relative, how))
}

#[cfg(test)]
mod tests {
    use super::link_stays_inside;
    use std::path::Path;

    #[test]
    fn links_that_climb_out_or_are_absolute_are_outside() {
        let inside = |at: &str, to: &str| link_stays_inside(Path::new(at), Path::new(to));
        assert!(inside("a", "b"));
        assert!(inside("d/a", "../b"));
        assert!(inside("d/e/a", "../../b"));
        assert!(!inside("a", "../b"));
        assert!(!inside("d/a", "../../b"));
        assert!(!inside("a", "/etc/passwd"));
        assert!(!inside("a", ""));
        assert!(!inside("d/a", "x/../../../y"));
    }
}
