//! Unpacking a layer's tar stream into a directory that overlayfs will use as a
//! lower layer.
//!
//! The stream is read once, entry by entry, never held whole. Every path is
//! resolved from the layer's root one component at a time with O_NOFOLLOW, so no
//! entry can write through a symbolic link, and `..` or absolute paths are refused
//! before any call is made: nothing lands outside the layer. OCI/Docker whiteouts
//! become overlayfs's own form: `.wh.NAME` a 0:0 character device NAME, and
//! `.wh..wh..opq` the `overlay.opaque` attribute on its directory.

mod fsops;

use crate::digest::{Digest, Hashing};
use crate::error::{Context, Error, Result};
use fsops::retry;
use nix::fcntl::AtFlags;
use nix::sys::stat::{Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid};
use std::ffi::{CStr, OsStr, OsString};
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

pub(crate) use fsops::remove_all;

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";
/// Big reads keep decompression and the tar parser off the system-call path.
const READ_BUFFER: usize = 1 << 20;

/// What unpacking a layer found: the digest and size of the uncompressed tar
/// (its diff id), and how many entries it held.
#[derive(Debug, Clone)]
pub struct Unpacked {
    pub diff_id: Digest,
    pub tar_size: u64,
    pub entries: u64,
}

/// Wraps `input` in the decompressor its first bytes call for: gzip, zstd, or
/// none (a plain tar).
pub fn decompressed<'a, R: Read + 'a>(input: R) -> Result<Box<dyn Read + 'a>> {
    let mut input = BufReader::with_capacity(READ_BUFFER, input);
    let head = input.fill_buf().context(|| "reading a layer".into())?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(input)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder = zstd::stream::read::Decoder::with_buffer(input)
            .context(|| "starting zstd decompression".into())?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(input))
    }
}

/// Unpacks the (possibly compressed) tar `input` into `dest`, an existing empty
/// directory. `layer` names the layer in errors.
pub fn unpack(input: impl Read, dest: &Path, layer: &str) -> Result<Unpacked> {
    let root = fsops::open_dir(nix::fcntl::AT_FDCWD, dest.as_os_str())
        .context(|| format!("opening {}", dest.display()))?;
    let mut hashing = Hashing::new(decompressed(input)?);
    let mut unpacker = Unpacker {
        root,
        layer: layer.to_owned(),
        privileged: nix::unistd::geteuid().is_root(),
        parent: None,
        dirs: Vec::new(),
    };
    let mut entries = 0;
    {
        let mut archive = tar::Archive::new(&mut hashing);
        let corrupt = |e: io::Error| Error::corrupt(format!("layer {layer}"), e);
        for entry in archive.entries().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            unpacker.entry(&mut entry).map_err(|e| match e {
                // An I/O error while reading the entry's data is a short archive.
                Error::Io { source, .. } if source.kind() == io::ErrorKind::UnexpectedEof => {
                    corrupt(source)
                }
                other => other,
            })?;
            entries += 1;
        }
    }
    // The diff id covers the whole stream, the end-of-archive blocks too.
    io::copy(&mut hashing, &mut io::sink())
        .map_err(|e| Error::corrupt(format!("layer {layer}"), e))?;
    unpacker.finish_dirs()?;
    let (diff_id, tar_size, _) = hashing.finish();
    Ok(Unpacked {
        diff_id,
        tar_size,
        entries,
    })
}

/// A directory's metadata, applied once everything inside it is written.
struct DirMeta {
    path: Vec<OsString>,
    mode: u32,
    owner: (u32, u32),
    mtime: i64,
}

struct Unpacker {
    root: OwnedFd,
    layer: String,
    privileged: bool,
    /// The last parent directory opened: entries come grouped by directory.
    parent: Option<(Vec<OsString>, OwnedFd)>,
    dirs: Vec<DirMeta>,
}

impl Unpacker {
    fn refuse(&self, entry: &Path, why: impl Into<String>) -> Error {
        Error::UnsafeEntry {
            layer: self.layer.clone(),
            entry: entry.to_owned(),
            why: why.into(),
        }
    }

    /// The entry's path as plain components: `.` dropped, `..` and a leading `/`
    /// refused.
    fn components(&self, path: &Path) -> Result<Vec<OsString>> {
        let mut out = Vec::new();
        for component in path.components() {
            match component {
                Component::Normal(name) => out.push(name.to_owned()),
                Component::CurDir => {}
                Component::ParentDir => return Err(self.refuse(path, "'..' component")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.refuse(path, "absolute path"))
                }
            }
        }
        Ok(out)
    }

    /// Opens directory `path` (components from the root), creating missing ones
    /// when `create`; a symbolic link or a non-directory on the way is refused.
    fn open_dir(&mut self, path: &[OsString], create: bool, entry: &Path) -> Result<OwnedFd> {
        if let Some((cached, fd)) = &self.parent {
            if cached.as_slice() == path {
                return retry(|| nix::unistd::dup(fd)).context(|| "dup".into());
            }
        }
        let mut dir = retry(|| nix::unistd::dup(&self.root)).context(|| "dup".into())?;
        for name in path {
            let opened = match fsops::open_dir(&dir, name) {
                Err(nix::errno::Errno::ENOENT) if create => {
                    match retry(|| {
                        nix::sys::stat::mkdirat(
                            &dir,
                            name.as_os_str(),
                            Mode::from_bits_truncate(0o755),
                        )
                    }) {
                        Ok(()) | Err(nix::errno::Errno::EEXIST) => fsops::open_dir(&dir, name),
                        Err(e) => Err(e),
                    }
                }
                other => other,
            };
            dir = match opened {
                Ok(fd) => fd,
                Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR) => {
                    let st = fsops::stat(&dir, name).ok().flatten();
                    let why = if st.as_ref().is_some_and(fsops::is_symlink) {
                        format!("goes through the symbolic link {:?}", name)
                    } else {
                        format!("{name:?} on its path is not a directory")
                    };
                    return Err(self.refuse(entry, why));
                }
                Err(nix::errno::Errno::ENOENT) => {
                    return Err(self.refuse(
                        entry,
                        format!("{name:?} on its path does not exist in this layer"),
                    ))
                }
                Err(e) => return Err(Error::io(format!("opening {}", entry.display()), e.into())),
            };
        }
        let copy = retry(|| nix::unistd::dup(&dir)).context(|| "dup".into())?;
        self.parent = Some((path.to_vec(), copy));
        Ok(dir)
    }

    /// Removes whatever is at `name` in `dir` (the cached parent may be gone after).
    fn clear(&mut self, dir: &OwnedFd, name: &OsStr, entry: &Path) -> Result<()> {
        self.parent = None;
        remove_all(dir, name).context(|| format!("replacing {}", entry.display()))
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let path = entry
            .path()
            .map_err(|e| Error::corrupt(format!("layer {}", self.layer), e))?
            .into_owned();
        let kind = entry.header().entry_type();
        let mut components = self.components(&path)?;
        let Some(name) = components.pop() else {
            // The layer's root itself ("./"): only its metadata can change.
            if kind.is_dir() {
                self.dirs.push(self.dir_meta(Vec::new(), entry.header()));
                return Ok(());
            }
            return Err(self.refuse(&path, "a non-directory at the layer's root"));
        };
        let parent = self.open_dir(&components, true, &path)?;
        let text = name.as_bytes();
        if text.starts_with(WHITEOUT.as_bytes()) {
            return self.whiteout(&parent, &name, &path);
        }
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let owner = (
            header.uid().unwrap_or(0) as u32,
            header.gid().unwrap_or(0) as u32,
        );
        let mtime = header.mtime().unwrap_or(0) as i64;
        let existing =
            fsops::stat(&parent, &name).context(|| format!("checking {}", path.display()))?;
        match kind {
            tar::EntryType::Directory => {
                if !existing.as_ref().is_some_and(fsops::is_dir) {
                    if existing.is_some() {
                        self.clear(&parent, &name, &path)?;
                    }
                    retry(|| {
                        nix::sys::stat::mkdirat(
                            &parent,
                            name.as_os_str(),
                            Mode::from_bits_truncate(0o700),
                        )
                    })
                    .context(|| format!("creating {}", path.display()))?;
                }
                components.push(name);
                let meta = self.dir_meta(components, header);
                self.dirs.push(meta);
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                if existing.is_some() {
                    self.clear(&parent, &name, &path)?;
                }
                let fd = fsops::create_file(&parent, &name)
                    .context(|| format!("creating {}", path.display()))?;
                let mut file = std::fs::File::from(fd);
                io::copy(entry, &mut file).context(|| format!("writing {}", path.display()))?;
                self.set_owner(&file, owner, &path)?;
                retry(|| nix::sys::stat::fchmod(&file, Mode::from_bits_truncate(mode)))
                    .context(|| format!("setting the mode of {}", path.display()))?;
                let t = TimeSpec::new(mtime, 0);
                retry(|| nix::sys::stat::futimens(&file, &t, &t))
                    .context(|| format!("setting the time of {}", path.display()))?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| Error::corrupt(format!("layer {}", self.layer), e))?
                    .ok_or_else(|| self.refuse(&path, "a symbolic link without a target"))?;
                if existing.is_some() {
                    self.clear(&parent, &name, &path)?;
                }
                // The target is only text: it is never followed here.
                retry(|| nix::unistd::symlinkat(target.as_os_str(), &parent, name.as_os_str()))
                    .context(|| format!("creating {}", path.display()))?;
                if self.privileged {
                    retry(|| {
                        nix::unistd::fchownat(
                            &parent,
                            name.as_os_str(),
                            Some(Uid::from_raw(owner.0)),
                            Some(Gid::from_raw(owner.1)),
                            AtFlags::AT_SYMLINK_NOFOLLOW,
                        )
                    })
                    .context(|| format!("setting the owner of {}", path.display()))?;
                }
            }
            tar::EntryType::Link => {
                self.hard_link(entry, &parent, &name, &path, existing.is_some())?
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let (sflag, dev) = match kind {
                    tar::EntryType::Fifo => (SFlag::S_IFIFO, 0),
                    _ if !self.privileged => {
                        return Err(self.refuse(&path, "device nodes are unpacked only by root"))
                    }
                    tar::EntryType::Char => (SFlag::S_IFCHR, device(header)),
                    _ => (SFlag::S_IFBLK, device(header)),
                };
                if existing.is_some() {
                    self.clear(&parent, &name, &path)?;
                }
                retry(|| {
                    nix::sys::stat::mknodat(
                        &parent,
                        name.as_os_str(),
                        sflag,
                        Mode::from_bits_truncate(mode),
                        dev,
                    )
                })
                .context(|| format!("creating {}", path.display()))?;
                if self.privileged {
                    retry(|| {
                        nix::unistd::fchownat(
                            &parent,
                            name.as_os_str(),
                            Some(Uid::from_raw(owner.0)),
                            Some(Gid::from_raw(owner.1)),
                            AtFlags::AT_SYMLINK_NOFOLLOW,
                        )
                    })
                    .context(|| format!("setting the owner of {}", path.display()))?;
                }
            }
            // Pax and GNU long-name headers are folded into the next entry by the
            // tar crate; what is left (global headers, volume labels) holds no file.
            _ => {}
        }
        Ok(())
    }

    fn whiteout(&mut self, parent: &OwnedFd, name: &OsStr, path: &Path) -> Result<()> {
        let text = name.as_bytes();
        if text == OPAQUE.as_bytes() {
            let attribute = self.opaque_attribute();
            return fsops::set_xattr(parent, attribute, b"y")
                .context(|| format!("marking {} opaque", path.display()));
        }
        if text.starts_with(b".wh..wh.") {
            // Other aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs) holds no file.
            return Ok(());
        }
        let hidden = OsStr::from_bytes(&text[WHITEOUT.len()..]);
        if hidden.is_empty() || hidden == "." || hidden == ".." {
            return Err(self.refuse(path, "a whiteout of no file"));
        }
        if fsops::stat(parent, hidden)
            .context(|| format!("checking {}", path.display()))?
            .is_some()
        {
            self.clear(parent, hidden, path)?;
        }
        // A 0:0 character device is overlayfs's whiteout (allowed unprivileged).
        retry(|| nix::sys::stat::mknodat(parent, hidden, SFlag::S_IFCHR, Mode::empty(), 0))
            .context(|| format!("creating the whiteout {}", path.display()))
    }

    /// trusted.* needs CAP_SYS_ADMIN; without it overlayfs reads user.* (mounted
    /// with `userxattr`, as rootless overlayfs is).
    fn opaque_attribute(&self) -> &'static CStr {
        if self.privileged {
            c"trusted.overlay.opaque"
        } else {
            c"user.overlay.opaque"
        }
    }

    fn hard_link<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        parent: &OwnedFd,
        name: &OsStr,
        path: &Path,
        exists: bool,
    ) -> Result<()> {
        let target = entry
            .link_name()
            .map_err(|e| Error::corrupt(format!("layer {}", self.layer), e))?
            .ok_or_else(|| self.refuse(path, "a hard link without a target"))?
            .into_owned();
        let mut target_components = self.components(&target).map_err(|_| {
            self.refuse(
                path,
                format!("hard link target {} leaves the layer", target.display()),
            )
        })?;
        let Some(target_name) = target_components.pop() else {
            return Err(self.refuse(path, "a hard link to the layer's root"));
        };
        let target_dir = self.open_dir(&target_components, false, path)?;
        match fsops::stat(&target_dir, &target_name)
            .context(|| format!("checking {}", target.display()))?
        {
            None => {
                return Err(self.refuse(
                    path,
                    format!("hard link target {} is not in this layer", target.display()),
                ))
            }
            Some(st) if fsops::is_dir(&st) => {
                return Err(self.refuse(path, "a hard link to a directory"))
            }
            Some(_) => {}
        }
        if exists {
            let same =
                self.components(path)? == [target_components, vec![target_name.clone()]].concat();
            if same {
                return Ok(());
            }
            self.clear(parent, name, path)?;
        }
        // No AT_SYMLINK_FOLLOW: a link to a symbolic link links the link itself.
        retry(|| {
            nix::unistd::linkat(
                &target_dir,
                target_name.as_os_str(),
                parent,
                name,
                AtFlags::empty(),
            )
        })
        .context(|| format!("linking {} to {}", path.display(), target.display()))
    }

    fn set_owner(&self, file: &impl AsFd, owner: (u32, u32), path: &Path) -> Result<()> {
        if !self.privileged {
            return Ok(());
        }
        retry(|| {
            nix::unistd::fchown(
                file.as_fd(),
                Some(Uid::from_raw(owner.0)),
                Some(Gid::from_raw(owner.1)),
            )
        })
        .context(|| format!("setting the owner of {}", path.display()))
    }

    fn dir_meta(&self, path: Vec<OsString>, header: &tar::Header) -> DirMeta {
        DirMeta {
            path,
            mode: header.mode().unwrap_or(0o755) & 0o7777,
            owner: (
                header.uid().unwrap_or(0) as u32,
                header.gid().unwrap_or(0) as u32,
            ),
            mtime: header.mtime().unwrap_or(0) as i64,
        }
    }

    /// Applies directories' modes, owners and times last, deepest first: a
    /// read-only directory must still take its entries, and writing an entry
    /// changes its directory's time.
    fn finish_dirs(&mut self) -> Result<()> {
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.path.len()));
        self.parent = None;
        for dir in dirs {
            let shown = PathBuf::from_iter(&dir.path);
            let fd = match self.open_dir(&dir.path, false, &shown) {
                Ok(fd) => fd,
                // A later entry replaced the directory (by a link, say): its
                // metadata went with it. Never followed, so nothing to refuse.
                Err(Error::UnsafeEntry { .. }) => continue,
                Err(e) => return Err(e),
            };
            self.set_owner(&fd, dir.owner, &shown)?;
            retry(|| nix::sys::stat::fchmod(&fd, Mode::from_bits_truncate(dir.mode)))
                .context(|| format!("setting the mode of {}", shown.display()))?;
            let t = TimeSpec::new(dir.mtime, 0);
            retry(|| nix::sys::stat::futimens(&fd, &t, &t))
                .context(|| format!("setting the time of {}", shown.display()))?;
        }
        self.parent = None;
        Ok(())
    }
}

fn device(header: &tar::Header) -> libc::dev_t {
    let major = header.device_major().ok().flatten().unwrap_or(0);
    let minor = header.device_minor().ok().flatten().unwrap_or(0);
    libc::makedev(major, minor)
}
