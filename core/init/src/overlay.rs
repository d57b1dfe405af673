//! An image's layers as the container's tree: an overlayfs with the layers
//! read-only below and a writable upper layer on a tmpfs of its own, size-capped
//! like /w. Its top-level entries are bound into the root tmpfs as those of a
//! `rootfs` are. That indirection is what lets reset give the next program the
//! image's view again: overlayfs forbids changing an upper layer while it is
//! mounted, and the root itself cannot be swapped, but the binds can be replaced by
//! binds of a fresh overlay on a fresh upper tmpfs.

use crate::mount::{self, Source};
use crate::protocol::Setup;
use crate::sys::{self, Context, SysError, SysResult};
use nix::errno::Errno;
use nix::fcntl::{open, Flock, FlockArg, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Top-level names the container owns: an image's entries of these names are
/// hidden, as for `rootfs`.
const RESERVED: &[&str] = &["proc", "dev", "tmp", "w", "sys"];

/// Where the layers are bound, under the root's /w mount point: covered by the /w
/// tmpfs, out of every program's reach, yet in the container's mount namespace,
/// which overlayfs requires of its layers (the host's tree is detached after
/// pivot_root, and a reset mounts the overlay again).
const LAYERS_AT: &str = "/w/.layers";

pub struct ImageRoot {
    /// The layers on the host, opened before the staging tmpfs could hide their
    /// paths, until they are bound under `LAYERS_AT`.
    host_layers: Vec<Source>,
    /// Each layer directory open with a shared flock, held for the init's life: an
    /// image store removes no layer a container runs on (it takes the lock
    /// exclusive first), since overlayfs forbids changes below a mounted overlay.
    _leases: Vec<Flock<std::fs::File>>,
    /// O_PATH descriptors of the bound layers, top layer first (overlay's lowerdir
    /// order). Their /proc/self/fd names keep the mount options short whatever the
    /// host paths.
    layers: Vec<OwnedFd>,
    size: u64,
    user_namespace: bool,
    /// Top-level entries bound into the root: name and whether it is a directory.
    entries: Vec<(OsString, bool)>,
    /// The root of the upper tmpfs in service and its inode count once set up: an
    /// unchanged count means no file was copied up, created or whited out.
    upper: Option<OwnedFd>,
    fresh_inodes: u64,
}

fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

fn open_dir(path: &Path) -> SysResult<OwnedFd> {
    open(
        path,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("opening {}", path.display()))
}

/// Opens layer directory `path` and takes a shared flock on it; waits while a store
/// removing it holds it exclusive (then the layer is gone, and opening it fails).
fn lease(path: &Path) -> SysResult<Flock<std::fs::File>> {
    let mut dir = std::fs::File::open(path).map_err(|e| {
        SysError::new(
            format!("opening image layer {}", path.display()),
            mount::io_errno(&e),
        )
    })?;
    loop {
        match Flock::lock(dir, FlockArg::LockShared) {
            Ok(lock) => return Ok(lock),
            Err((again, Errno::EINTR)) => dir = again,
            Err((_, errno)) => {
                return Err(SysError::new(
                    format!("locking image layer {}", path.display()),
                    errno,
                ))
            }
        }
    }
}

fn used_inodes(fd: &OwnedFd) -> u64 {
    nix::sys::statvfs::fstatvfs(fd).map_or(u64::MAX, |fs| fs.files() - fs.files_free())
}

impl ImageRoot {
    /// Opens the layers of `setup` (none: not an image container).
    pub fn open(setup: &Setup) -> SysResult<Option<Self>> {
        if setup.image_layers.is_empty() {
            return Ok(None);
        }
        let host_layers = setup
            .image_layers
            .iter()
            .rev()
            .enumerate()
            .map(|(i, layer)| {
                let host = Path::new(std::ffi::OsStr::from_bytes(layer));
                Source::open(host, Path::new(LAYERS_AT).join(i.to_string()), false)
                    .context(|| format!("opening image layer {}", host.display()))
            })
            .collect::<SysResult<Vec<_>>>()?;
        let leases = setup
            .image_layers
            .iter()
            .map(|layer| lease(Path::new(std::ffi::OsStr::from_bytes(layer))))
            .collect::<SysResult<Vec<_>>>()?;
        Ok(Some(Self {
            host_layers,
            _leases: leases,
            layers: Vec::new(),
            size: setup.root_size,
            user_namespace: setup.user_namespace,
            entries: Vec::new(),
            upper: None,
            fresh_inodes: 0,
        }))
    }

    /// Whether a bind target lies in the image's tree (and so goes with it at reset).
    pub fn holds(&self, target: &Path) -> bool {
        match target.components().nth(1) {
            Some(Component::Normal(first)) => self.entries.iter().any(|(n, _)| n == first),
            _ => false,
        }
    }

    /// Mounts a fresh upper tmpfs and overlay, and binds the overlay's top-level
    /// entries into `root`. The first time (`root` is the writable staging tmpfs)
    /// it also lists the entries, creates their mount points and recreates the
    /// image's top-level symlinks. The tmpfs and the overlay are mounted over
    /// `root`/w and `root`/tmp only while the binds are made: the binds hold them.
    pub fn attach(&mut self, root: &Path, first: bool) -> SysResult<()> {
        let upper_at = root.join("w");
        let merged_at = root.join("tmp");
        if first {
            mount::mkdir_all(&upper_at)?;
            mount::mkdir_all(&merged_at)?;
            for layer in std::mem::take(&mut self.host_layers) {
                mount::bind(root, &layer)?;
                let at = root.join(layer.target.strip_prefix("/").unwrap_or(&layer.target));
                self.layers.push(open_dir(&at)?);
            }
        }
        mount::mount_tmpfs(
            &upper_at,
            &format!("mode=0755,size={}", self.size),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        )?;
        let result = self.mount_overlay(&upper_at, &merged_at).and_then(|()| {
            let bound = self.bind_entries(root, &merged_at, first);
            let _ = umount2(&merged_at, MntFlags::MNT_DETACH);
            bound
        });
        let _ = umount2(&upper_at, MntFlags::MNT_DETACH);
        result
    }

    fn mount_overlay(&mut self, upper_at: &Path, merged_at: &Path) -> SysResult<()> {
        for dir in ["upper", "work"] {
            mount::mkdir_all(&upper_at.join(dir))?;
        }
        let tmpfs = open_dir(upper_at)?;
        let upper = open_dir(&upper_at.join("upper"))?;
        let work = open_dir(&upper_at.join("work"))?;
        let lower: Vec<String> = self.layers.iter().map(fd_path).collect();
        // Plain overlay semantics: no index, inode numbers or metacopy to keep
        // consistent across remounts, no redirects followed (image layers have
        // none; userxattr allows no other setting).
        // userxattr: in a user namespace overlay keeps its own attributes (opaque
        // directories) in user.overlay.* instead of trusted.overlay.*.
        let mut options = format!(
            "lowerdir={},upperdir={},workdir={},redirect_dir=nofollow,index=off,xino=off,metacopy=off",
            lower.join(":"),
            fd_path(&upper),
            fd_path(&work)
        );
        if self.user_namespace {
            options.push_str(",userxattr");
        }
        mount(
            Some("overlay"),
            merged_at,
            Some("overlay"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(options.as_str()),
        )
        .context(|| "mounting the image's overlay".into())?;
        self.upper = Some(tmpfs);
        Ok(())
    }

    fn bind_entries(&mut self, root: &Path, merged: &Path, first: bool) -> SysResult<()> {
        if first {
            self.list_entries(root, merged)?;
        }
        for (name, is_dir) in &self.entries {
            let at = root.join(name);
            if first {
                mount::make_mount_point(&at, *is_dir)?;
            }
            mount(
                Some(&merged.join(name)),
                &at,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .context(|| format!("binding the image's /{}", Path::new(name).display()))?;
            sys::mount_setattr(
                &mount::c(&at),
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
                false,
            )
            .context(|| format!("setting nosuid on /{}", Path::new(name).display()))?;
        }
        Ok(())
    }

    fn list_entries(&mut self, root: &Path, merged: &Path) -> SysResult<()> {
        let entries = std::fs::read_dir(merged)
            .map_err(|e| SysError::new("reading the image's root", mount::io_errno(&e)))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| SysError::new("reading the image's root", mount::io_errno(&e)))?;
            let name = entry.file_name();
            if RESERVED.iter().any(|r| name == std::ffi::OsStr::new(r)) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| {
                SysError::new(format!("{name:?} in the image"), mount::io_errno(&e))
            })?;
            if kind.is_symlink() {
                // Top-level links (usrmerge's /bin -> usr/bin) are read-only like
                // the root; an absolute one resolves inside the container.
                let to = std::fs::read_link(entry.path()).map_err(|e| {
                    SysError::new(format!("reading link {name:?}"), mount::io_errno(&e))
                })?;
                std::os::unix::fs::symlink(&to, root.join(&name)).map_err(|e| {
                    SysError::new(format!("creating link {name:?}"), mount::io_errno(&e))
                })?;
                continue;
            }
            self.entries.push((name, kind.is_dir()));
        }
        Ok(())
    }

    /// Records the upper layer as fresh: called once every bind is in place (a bind
    /// target missing from the image was created in the upper layer).
    pub fn settle(&mut self) {
        self.fresh_inodes = self.upper.as_ref().map_or(0, used_inodes);
    }

    /// Gives the next program the image's view again: a no-op when the upper layer
    /// is as it was set up, otherwise the binds (and the `mounts` inside the
    /// image's tree, in `nested`, bound again after) move to a fresh overlay. The
    /// old upper layer goes when its last bind does. Called after pivot_root with
    /// every program gone.
    pub fn reset(&mut self, nested: &[&Source]) -> SysResult<()> {
        if self
            .upper
            .as_ref()
            .is_some_and(|u| used_inodes(u) == self.fresh_inodes)
        {
            return Ok(());
        }
        // Last mounted first, so each unmount takes the top of its stack.
        for source in nested.iter().rev() {
            umount2(&source.target, MntFlags::MNT_DETACH)
                .context(|| format!("unmounting {}", source.target.display()))?;
        }
        for (name, _) in self.entries.iter().rev() {
            let at = PathBuf::from("/").join(name);
            umount2(&at, MntFlags::MNT_DETACH)
                .context(|| format!("unmounting {}", at.display()))?;
        }
        self.upper = None;
        self.attach(Path::new("/"), false)?;
        for source in nested {
            mount::bind(Path::new("/"), source)?;
        }
        self.settle();
        Ok(())
    }
}
