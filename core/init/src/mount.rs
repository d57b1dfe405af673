//! The container's root filesystem: a fresh tmpfs holding read-only binds of host
//! paths (or of an unpacked image), writable tmpfs /w and /tmp, a fresh /proc and a
//! minimal /dev; then pivot_root with the old root detached.

use crate::overlay::ImageRoot;
use crate::protocol::Setup;
use crate::sys::{self, Context, SysError, SysResult};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{fstat, Mode, SFlag};
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the new root is assembled before pivot_root. Mounting over it only affects
/// our own mount namespace; bind sources are opened before, so sources under /tmp
/// still work.
const STAGING: &str = "/tmp";

const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// What reset needs to recreate the writable mounts.
pub struct Writable {
    work: Scratch,
    tmp: Scratch,
    /// The overlay of an image's layers, with the `mounts` bound inside its tree
    /// (bound again when reset swaps the overlay).
    image: Option<(ImageRoot, Vec<Source>)>,
}

/// One writable tmpfs: how to mount it, and its root as it was when mounted.
struct Scratch {
    dir: &'static str,
    options: String,
    fresh: Option<RootStat>,
}

/// Everything about a tmpfs root that a program could change: mode, owner and every
/// timestamp. The kernel sets ctime to now on any change of metadata (chmod, chown,
/// utimes, setxattr, an ACL) and no caller can set it back, so an equal ctime means
/// nothing was changed.
#[derive(PartialEq, Eq, Clone, Copy)]
struct RootStat {
    mode: u32,
    uid: u32,
    gid: u32,
    times: [(i64, i64); 3],
    inodes: u64,
}

impl RootStat {
    fn of(dir: &str) -> Option<Self> {
        let fs = nix::sys::statvfs::statvfs(dir).ok()?;
        let st = nix::sys::stat::stat(dir).ok()?;
        Some(Self {
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            times: [
                (st.st_atime, st.st_atime_nsec),
                (st.st_mtime, st.st_mtime_nsec),
                (st.st_ctime, st.st_ctime_nsec),
            ],
            inodes: fs.files() - fs.files_free(),
        })
    }
}

/// A host path opened (O_PATH) before the staging tmpfs can hide it.
pub(crate) struct Source {
    fd: OwnedFd,
    is_dir: bool,
    pub target: PathBuf,
    writable: bool,
}

impl Source {
    pub(crate) fn open(host: &Path, target: PathBuf, writable: bool) -> nix::Result<Self> {
        let fd = open(host, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())?;
        let is_dir = SFlag::from_bits_truncate(fstat(&fd)?.st_mode).contains(SFlag::S_IFDIR);
        Ok(Self {
            fd,
            is_dir,
            target,
            writable,
        })
    }

    fn proc_path(&self) -> String {
        format!("/proc/self/fd/{}", self.fd.as_raw_fd())
    }
}

fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

pub(crate) fn c(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("paths were checked for NUL")
}

fn under_root(root: &Path, target: &Path) -> PathBuf {
    root.join(target.strip_prefix("/").unwrap_or(target))
}

/// Builds the root and pivots into it. The caller is PID 1 of fresh namespaces.
pub fn build_root(setup: &Setup) -> SysResult<Writable> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context(|| "making mounts private".into())?;
    let mut links = Vec::new();
    let sources = open_sources(setup, &mut links)?;
    let mut image = ImageRoot::open(setup)?;

    let root = Path::new(STAGING);
    mount_tmpfs(
        root,
        "mode=0755,size=1m",
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
    )?;
    for (name, to) in &links {
        std::os::unix::fs::symlink(to, root.join(name))
            .map_err(|e| SysError::new(format!("creating /{}", name.display()), io_errno(&e)))?;
    }
    if let Some(image) = &mut image {
        image.attach(root, true)?;
    }
    for source in &sources {
        bind(root, source)?;
    }
    // Binds inside the image's tree go and come back with its overlay at reset.
    let image = image.map(|image| {
        let nested = sources
            .into_iter()
            .filter(|s| image.holds(&s.target))
            .collect::<Vec<_>>();
        (image, nested)
    });

    let mut writable = Writable {
        work: Scratch {
            dir: "/w",
            options: format!(
                "mode=0755,size={},uid={},gid={}",
                setup.work_size, setup.uid, setup.gid
            ),
            fresh: None,
        },
        tmp: Scratch {
            dir: "/tmp",
            options: format!("mode=1777,size={}", setup.tmp_size),
            fresh: None,
        },
        image,
    };
    for scratch in [&writable.work, &writable.tmp] {
        let at = under_root(root, Path::new(scratch.dir));
        mkdir_all(&at)?;
        mount_tmpfs(
            &at,
            &scratch.options,
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        )?;
    }
    let proc_dir = root.join("proc");
    mkdir_all(&proc_dir)?;
    mount_proc(&proc_dir)?;
    build_dev(root)?;

    pivot_into(root)?;
    // Nothing may be created at the top level: only /w and /tmp are writable.
    sys::mount_setattr(&c(Path::new("/")), sys::MOUNT_ATTR_RDONLY, false)
        .context(|| "making the root read-only".into())?;
    for scratch in [&mut writable.work, &mut writable.tmp] {
        scratch.fresh = RootStat::of(scratch.dir);
    }
    if let Some((image, _)) = &mut writable.image {
        image.settle();
    }
    Ok(writable)
}

/// Opens every bind source. Top-level symlinks of an image are returned in `links`
/// to be recreated as they are (an absolute link must resolve inside the image).
fn open_sources(setup: &Setup, links: &mut Vec<(PathBuf, PathBuf)>) -> SysResult<Vec<Source>> {
    let mut sources = Vec::new();
    if let Some(image) = &setup.rootfs {
        let image = path_of(image);
        let entries = std::fs::read_dir(&image).map_err(|e| {
            SysError::new(format!("reading rootfs {}", image.display()), io_errno(&e))
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if ["proc", "dev", "tmp", "w", "sys"]
                .iter()
                .any(|r| name == OsStr::new(r))
            {
                continue;
            }
            let host = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                let to = std::fs::read_link(&host).map_err(|e| {
                    SysError::new(format!("reading link {}", host.display()), io_errno(&e))
                })?;
                links.push((PathBuf::from(&name), to));
                continue;
            }
            let source = Source::open(&host, Path::new("/").join(&name), false)
                .context(|| format!("opening rootfs entry {}", host.display()))?;
            sources.push(source);
        }
    }
    for m in &setup.mounts {
        let host = path_of(&m.source);
        match Source::open(&host, path_of(&m.target), m.writable) {
            Ok(source) => sources.push(source),
            Err(Errno::ENOENT) if m.optional => {}
            Err(errno) => {
                return Err(SysError::new(
                    format!("mount source {}", host.display()),
                    errno,
                ))
            }
        }
    }
    Ok(sources)
}

pub(crate) fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

pub(crate) fn mount_tmpfs(at: &Path, options: &str, flags: MsFlags) -> SysResult<()> {
    mount(Some("tmpfs"), at, Some("tmpfs"), flags, Some(options))
        .context(|| format!("mounting tmpfs at {}", at.display()))
}

pub(crate) fn mkdir_all(path: &Path) -> SysResult<()> {
    std::fs::create_dir_all(path)
        .map_err(|e| SysError::new(format!("creating {}", path.display()), io_errno(&e)))
}

/// Creates the mount point (a directory or an empty file, like the source). An
/// existing file is left as it is: opening it for writing would copy it up into an
/// image's upper layer.
pub(crate) fn make_mount_point(at: &Path, is_dir: bool) -> SysResult<()> {
    if is_dir {
        return mkdir_all(at);
    }
    if at.is_file() {
        return Ok(());
    }
    if let Some(parent) = at.parent() {
        mkdir_all(parent)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(at)
    {
        Ok(_) => Ok(()),
        Err(e) => Err(SysError::new(
            format!("creating {}", at.display()),
            io_errno(&e),
        )),
    }
}

pub(crate) fn bind(root: &Path, source: &Source) -> SysResult<()> {
    let at = under_root(root, &source.target);
    make_mount_point(&at, source.is_dir)?;
    mount(
        Some(source.proc_path().as_str()),
        &at,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(|| format!("binding {}", source.target.display()))?;
    let mut attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
    if !source.writable {
        attrs |= sys::MOUNT_ATTR_RDONLY;
    }
    // Recursive, so submounts of the source are read-only too.
    sys::mount_setattr(&c(&at), attrs, true)
        .context(|| format!("making {} read-only", source.target.display()))
}

/// Kernel controls in /proc stay read-only even for a uid that procfs would trust
/// (as Docker does): sysctls, sysrq, IRQ affinity, bus and filesystem settings.
/// A fresh procfs of the caller's PID namespace at `proc_dir`, with its kernel
/// controls read-only. hidepid=2: a process that may not ptrace another does not
/// even see its /proc/<pid> directory; the init is not dumpable, so no program sees
/// /proc/1.
pub fn mount_proc(proc_dir: &Path) -> SysResult<()> {
    let hidden = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(
        Some("proc"),
        proc_dir,
        Some("proc"),
        hidden,
        Some("hidepid=2"),
    )
    .context(|| "mounting /proc".into())?;
    protect_proc(proc_dir)
}

fn protect_proc(proc_dir: &Path) -> SysResult<()> {
    for entry in ["sys", "sysrq-trigger", "irq", "bus", "fs"] {
        let at = proc_dir.join(entry);
        if !at.exists() {
            continue;
        }
        mount(
            Some(&at),
            &at,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .context(|| format!("binding /proc/{entry}"))?;
        let attrs = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
        sys::mount_setattr(&c(&at), attrs, true)
            .context(|| format!("making /proc/{entry} read-only"))?;
    }
    Ok(())
}

/// A tmpfs /dev with the host's harmless devices bound in, then made read-only.
fn build_dev(root: &Path) -> SysResult<()> {
    let dev = root.join("dev");
    mkdir_all(&dev)?;
    mount_tmpfs(
        &dev,
        "mode=0755,size=64k",
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
    )?;
    for name in DEVICES {
        let at = dev.join(name);
        make_mount_point(&at, false)?;
        let host = Path::new("/dev").join(name);
        mount(
            Some(&host),
            &at,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .context(|| format!("binding {}", host.display()))?;
    }
    // POSIX message queues of the container's IPC namespace, listed for reset.
    let mqueue = dev.join("mqueue");
    mkdir_all(&mqueue)?;
    let hidden = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(
        Some("mqueue"),
        &mqueue,
        Some("mqueue"),
        hidden,
        None::<&str>,
    )
    .context(|| "mounting /dev/mqueue".into())?;
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(to, dev.join(link))
            .map_err(|e| SysError::new(format!("creating /dev/{link}"), io_errno(&e)))?;
    }
    sys::mount_setattr(&c(&dev), sys::MOUNT_ATTR_RDONLY, false)
        .context(|| "making /dev read-only".into())
}

/// pivot_root(".", ".") stacks the old root on top of the new one; detaching it
/// leaves only the new root, with no path back to the host's tree.
fn pivot_into(root: &Path) -> SysResult<()> {
    nix::unistd::chdir(root).context(|| "entering the new root".into())?;
    nix::unistd::pivot_root(".", ".").context(|| "pivot_root".into())?;
    umount2(".", MntFlags::MNT_DETACH).context(|| "detaching the old root".into())?;
    nix::unistd::chdir("/").context(|| "chdir /".into())
}

impl Writable {
    /// Gives an image container a fresh upper layer (see `overlay`), then replaces
    /// /w and /tmp with empty tmpfs mounts (constant time whatever they
    /// held), skipping one whose root is exactly as it was when mounted: one inode,
    /// same mode, owner and timestamps. A tmpfs root holds no extended attribute or
    /// ACL that did not change its ctime, so the next borrower cannot tell a skipped
    /// wipe from a fresh mount.
    pub fn wipe(&mut self) -> SysResult<()> {
        if let Some((image, nested)) = &mut self.image {
            let nested: Vec<&Source> = nested.iter().collect();
            image.reset(&nested)?;
        }
        for scratch in [&mut self.work, &mut self.tmp] {
            if scratch.fresh.is_some() && RootStat::of(scratch.dir) == scratch.fresh {
                continue;
            }
            let dir = scratch.dir;
            umount2(dir, MntFlags::MNT_DETACH).context(|| format!("unmounting {dir}"))?;
            mount_tmpfs(
                Path::new(dir),
                &scratch.options,
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            )?;
            scratch.fresh = RootStat::of(dir);
        }
        Ok(())
    }
}
