//! How a container is built.

use crate::cgroup::CgroupConfig;
pub use crate::ids::IdRange;
use std::path::PathBuf;
use std::time::Duration;

/// A host path bound into the container. Build it with [`Mount::read_only`] or
/// [`Mount::optional`], then change fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mount {
    /// Host path.
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub target: PathBuf,
    /// Read-write when true. Binds are read-only by default.
    pub writable: bool,
    /// Skip the bind when the source does not exist instead of failing set-up.
    pub optional: bool,
}

impl Mount {
    /// A bind of host path `source` at `target` inside the container, read-only.
    pub fn new(source: impl Into<PathBuf>, target: impl Into<PathBuf>) -> Self {
        Self {
            source: source.into(),
            target: target.into(),
            writable: false,
            optional: false,
        }
    }

    /// A read-only bind of `path` at the same path inside the container.
    pub fn read_only(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Self {
            source: path.clone(),
            target: path,
            writable: false,
            optional: false,
        }
    }

    /// Like [`Mount::read_only`], skipped when the host lacks the path.
    pub fn optional(path: impl Into<PathBuf>) -> Self {
        Self {
            optional: true,
            ..Self::read_only(path)
        }
    }
}

/// The host directories bound read-only by default: enough for /bin/sh, coreutils,
/// gcc/g++ and python3 from the host. Missing ones are skipped.
pub const DEFAULT_MOUNTS: &[&str] = &[
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr",
    "/etc/alternatives",
    "/etc/ld.so.cache",
];

/// Everything that shapes a container. Plain fields; `Default` gives a working box
/// (`let mut c = ContainerConfig::default(); c.work_size = ...;`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContainerConfig {
    /// Read-only (unless marked writable) binds of host paths.
    pub mounts: Vec<Mount>,
    /// An unpacked image used as the root instead of the host binds: its top-level
    /// entries are bound read-only; `mounts` are added on top.
    pub rootfs: Option<PathBuf>,
    /// The unpacked layers of an image, lowest first: when not empty the root is an
    /// overlayfs with these directories read-only below and a writable upper layer
    /// of the container's own (capped by `root_size`, emptied at reset). Excludes
    /// `rootfs`; `mounts` are added on top (clear them unless host binds over the
    /// image are wanted). Its top-level entries are bound into the root, so the
    /// program changes anything below them but creates nothing beside them. In a
    /// user namespace (5.11+) overlay reads opaque directories from
    /// `user.overlay.opaque` (`userxattr`), as root from `trusted.overlay.opaque`;
    /// whiteouts are 0:0 character devices either way.
    pub image_layers: Vec<PathBuf>,
    /// Size cap of the writable upper layer over `image_layers`, bytes.
    pub root_size: u64,
    /// The container's host name (uname's nodename); see [`ContainerConfig::set_hostname`].
    pub hostname: String,
    /// The container's NIS domain name; [`ContainerConfig::set_hostname`] sets it too.
    pub domainname: String,
    /// Size cap of the writable work directory `/w`, bytes.
    pub work_size: u64,
    /// Size cap of `/tmp`, bytes.
    pub tmp_size: u64,
    /// Fixed credentials for the program. `None` (the default): ids of the
    /// container's own from `id_range`, so no kernel per-user quota is shared with
    /// another container or a host process. With `user_namespace` only id 0 exists
    /// inside, so these must be `None` or 0 there (the program still has no
    /// capabilities).
    pub uid: Option<u32>,
    /// The program's gid, like `uid`.
    pub gid: Option<u32>,
    /// Where containers' own ids come from (see [`IdRange::DEFAULT`]). A root host
    /// with `user_namespace` maps the container's root to its id.
    pub id_range: IdRange,
    /// Put the container in a new user namespace too (rootless mode): a non-root
    /// host can create containers; the host user is mapped to root inside.
    pub user_namespace: bool,
    /// How long creating the container may take before it is abandoned.
    pub setup_timeout: Duration,
    /// The container's cgroup (accounting, CPU/memory/process limits).
    pub cgroup: CgroupConfig,
}

/// The host name and domain name of a container whose config names none.
pub const DEFAULT_HOSTNAME: &str = "scpool";

impl ContainerConfig {
    /// Names the container: its host name and its domain name both become `name`,
    /// in every language, so `hostname` and `domainname` inside never disagree
    /// about which container they are in. Set `domainname` afterwards to differ.
    pub fn set_hostname(&mut self, name: impl Into<String>) {
        let name = name.into();
        self.domainname.clone_from(&name);
        self.hostname = name;
    }
}

impl Default for ContainerConfig {
    fn default() -> Self {
        let rootless = !nix::unistd::geteuid().is_root();
        Self {
            mounts: DEFAULT_MOUNTS.iter().map(|p| Mount::optional(*p)).collect(),
            rootfs: None,
            image_layers: Vec::new(),
            root_size: 256 << 20,
            hostname: DEFAULT_HOSTNAME.into(),
            domainname: DEFAULT_HOSTNAME.into(),
            work_size: 256 << 20,
            tmp_size: 64 << 20,
            uid: None,
            gid: None,
            id_range: IdRange::DEFAULT,
            user_namespace: rootless,
            setup_timeout: Duration::from_secs(10),
            cgroup: CgroupConfig::default(),
        }
    }
}
