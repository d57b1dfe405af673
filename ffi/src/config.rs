//! Container and pool configuration as C structs, with their `_init` functions.

use crate::args::{self, SizedStruct};
use crate::failure::{error, guard, FfiError, FfiResult};
use crate::results;
use scpool_core::{CgroupMode, ContainerConfig, IdRange, Mount, PoolConfig};
use std::os::raw::{c_char, c_int};
use std::time::Duration;

/// Whether containers use a cgroup (`scpool_container_config.cgroup_mode`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum cgroup_mode {
    /// Use cgroups when the host offers them.
    Auto = 0,
    /// Fail container creation when cgroups cannot be used.
    Required = 1,
    /// Never use cgroups (CPU-time, memory and process limits are then refused).
    Off = 2,
}

/// `uid`/`gid` value: an id of the container's own, from the id range (never a
/// valid id: it is `(uid_t)-1`).
pub const ID_AUTO: u32 = u32::MAX;

/// A host path bound into the container.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mount {
    /// Host path.
    pub source: *const c_char,
    /// Absolute path inside the container; NULL means the same as `source`.
    pub target: *const c_char,
    /// Non-zero: read-write. Binds are read-only by default.
    pub writable: c_int,
    /// Non-zero: skip the bind when `source` does not exist instead of failing.
    pub optional: c_int,
}

/// How a container is built. Fill with `scpool_container_config_init()` and then
/// change fields; durations are in nanoseconds, sizes in bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct container_config {
    /// `sizeof(scpool_container_config)`, set by the `_init` function.
    pub struct_size: u32,
    /// Credentials of the program. Default `SCPOOL_ID_AUTO`: ids of the container's
    /// own from the id range (0 inside a user namespace, where only id 0 exists).
    pub uid: u32,
    pub gid: u32,
    /// Non-zero: new user namespace too (rootless mode). Default: on when not root.
    pub user_namespace: c_int,
    /// Extra binds, `mounts_len` of them (may be NULL when 0).
    pub mounts: *const mount,
    pub mounts_len: usize,
    /// Non-zero: `mounts` replace the default binds (/bin /lib /lib64 /usr ...)
    /// instead of adding to them.
    pub replace_default_mounts: c_int,
    /// An unpacked image used as the root instead of host binds; NULL for none.
    pub rootfs: *const c_char,
    /// Hostname inside; NULL keeps "scpool".
    pub hostname: *const c_char,
    /// Size caps of the writable `/w` and `/tmp`.
    pub work_size: u64,
    pub tmp_size: u64,
    /// How long creating a container may take (must be positive).
    pub setup_timeout_ns: u64,
    /// A `scpool_cgroup_mode`.
    pub cgroup_mode: u32,
    /// The cgroup to create container cgroups in (a path like those of
    /// /proc/self/cgroup); NULL means the cgroup this process is in.
    pub cgroup_parent: *const c_char,
    /// Where containers' own ids come from: `id_range_count` ids from
    /// `id_range_first` (default 0x70000000 and 65536, ids no host process uses).
    /// A container takes one for its lifetime; when all are taken, creating one
    /// fails with `SCPOOL_ERROR_SETUP`. (Added after the first version.)
    pub id_range_first: u32,
    pub id_range_count: u32,
    /// An image of the image store (`NAME[:TAG]`, resolved in the default store:
    /// $SCPOOL_STORE, else /var/lib/scpool for root or ~/.local/share/scpool) whose
    /// layers become the container's root; NULL for none. An unknown or malformed
    /// name fails with `SCPOOL_ERROR_INVALID_ARGUMENT`, a damaged store with
    /// `SCPOOL_ERROR_SETUP`. (Added after the first version.)
    pub image: *const c_char,
}

impl SizedStruct for container_config {
    const NAME: &'static str = "scpool_container_config";
    // The first version ended before the id range.
    const FIRST_SIZE: usize = std::mem::offset_of!(Self, id_range_first);
}

/// How a pool sizes itself. Fill with `scpool_pool_config_init()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pool_config {
    /// `sizeof(scpool_pool_config)`, set by the `_init` function.
    pub struct_size: u32,
    /// Idle containers kept ready (created at start, refilled in the background).
    /// `min_idle <= max_idle <= max_size` is required: lowering `max_size` alone
    /// below the defaults is refused.
    pub min_idle: u32,
    /// Idle containers above this are destroyed, longest idle first.
    pub max_idle: u32,
    /// Containers alive at once: idle, in use, being created or reset.
    pub max_size: u32,
    /// How long `scpool_pool_acquire()` waits when given a negative timeout; 0 fails
    /// at once when no container is free.
    pub acquire_timeout_ns: u64,
    /// How often idle containers are pinged (must be positive).
    pub health_check_interval_ns: u64,
    /// Idle containers above `min_idle` unused this long are destroyed (must be
    /// positive).
    pub idle_timeout_ns: u64,
    /// Non-zero: ping a container before handing it out.
    pub ping_on_acquire: c_int,
    /// How every container is built; NULL means the defaults.
    pub container: *const container_config,
}

impl SizedStruct for pool_config {
    const NAME: &'static str = "scpool_pool_config";
    // Version 1 of the ABI: the whole struct.
    const FIRST_SIZE: usize = std::mem::size_of::<Self>();
}

fn container_defaults() -> container_config {
    let d = ContainerConfig::default();
    container_config {
        struct_size: std::mem::size_of::<container_config>() as u32,
        uid: d.uid.unwrap_or(ID_AUTO),
        gid: d.gid.unwrap_or(ID_AUTO),
        user_namespace: d.user_namespace.into(),
        mounts: std::ptr::null(),
        mounts_len: 0,
        replace_default_mounts: 0,
        rootfs: std::ptr::null(),
        hostname: std::ptr::null(),
        work_size: d.work_size,
        tmp_size: d.tmp_size,
        setup_timeout_ns: results::nanos(d.setup_timeout),
        cgroup_mode: cgroup_mode::Auto as u32,
        cgroup_parent: std::ptr::null(),
        id_range_first: d.id_range.first,
        id_range_count: d.id_range.count,
        image: std::ptr::null(),
    }
}

fn pool_defaults() -> pool_config {
    let d = PoolConfig::default();
    pool_config {
        struct_size: std::mem::size_of::<pool_config>() as u32,
        min_idle: results::count(d.min_idle),
        max_idle: results::count(d.max_idle),
        max_size: results::count(d.max_size),
        acquire_timeout_ns: results::nanos(d.acquire_timeout),
        health_check_interval_ns: results::nanos(d.health_check_interval),
        idle_timeout_ns: results::nanos(d.idle_timeout),
        ping_on_acquire: d.ping_on_acquire.into(),
        container: std::ptr::null(),
    }
}

/// Fills `config` with the defaults (and its `struct_size`).
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `config` is NULL or points to writable memory for a `scpool_container_config`.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_config_init(config: *mut container_config) -> error {
    guard(|| {
        let config = args::out(config, "config")?;
        // SAFETY: non-NULL and writable by the contract.
        unsafe { config.write_unaligned(container_defaults()) };
        Ok(())
    })
}

/// Fills `config` with the defaults (and its `struct_size`); `container` stays NULL
/// (default containers).
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `config` is NULL or points to writable memory for a `scpool_pool_config`.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_config_init(config: *mut pool_config) -> error {
    guard(|| {
        let config = args::out(config, "config")?;
        // SAFETY: non-NULL and writable by the contract.
        unsafe { config.write_unaligned(pool_defaults()) };
        Ok(())
    })
}

fn cgroup_mode_from(raw: u32) -> FfiResult<CgroupMode> {
    match raw {
        x if x == cgroup_mode::Auto as u32 => Ok(CgroupMode::Auto),
        x if x == cgroup_mode::Required as u32 => Ok(CgroupMode::Required),
        x if x == cgroup_mode::Off as u32 => Ok(CgroupMode::Off),
        other => Err(FfiError::invalid(format!(
            "cgroup_mode {other} is not a scpool_cgroup_mode"
        ))),
    }
}

/// # Safety
/// The pointers inside `m` are NULL or valid strings.
unsafe fn mount_from(m: &mount, index: usize) -> FfiResult<Mount> {
    // SAFETY: forwarded contract.
    let source = unsafe { args::path(m.source, &format!("mounts[{index}].source")) }?;
    // SAFETY: forwarded contract.
    let target = unsafe { args::optional_string(m.target, &format!("mounts[{index}].target")) }?
        .map_or_else(|| source.clone(), Into::into);
    Ok(Mount {
        source,
        target,
        writable: m.writable != 0,
        optional: m.optional != 0,
    })
}

/// Converts a caller's container config (NULL = defaults).
///
/// # Safety
/// `p` is NULL or a valid `scpool_container_config` whose pointers are valid.
pub(crate) unsafe fn container_config_from(
    p: *const container_config,
) -> FfiResult<ContainerConfig> {
    let mut config = ContainerConfig::default();
    if p.is_null() {
        return Ok(config);
    }
    // SAFETY: forwarded contract.
    let c = unsafe { args::sized_struct(p, container_defaults()) }?;
    // SAFETY: forwarded contract (mounts_len elements).
    let mounts = unsafe { args::slice(c.mounts, c.mounts_len, "mounts") }?;
    let mut extra = Vec::with_capacity(mounts.len());
    for (i, m) in mounts.iter().enumerate() {
        // SAFETY: forwarded contract.
        extra.push(unsafe { mount_from(m, i) }?);
    }
    if c.replace_default_mounts != 0 {
        config.mounts.clear();
    }
    config.mounts.extend(extra);
    // SAFETY: forwarded contract.
    config.rootfs = unsafe { args::optional_string(c.rootfs, "rootfs") }?.map(Into::into);
    // SAFETY: forwarded contract.
    if let Some(name) = unsafe { args::optional_string(c.hostname, "hostname") }? {
        config.hostname = name
            .into_string()
            .map_err(|_| FfiError::invalid("hostname is not UTF-8"))?;
    }
    config.id_range = IdRange {
        first: c.id_range_first,
        count: c.id_range_count,
    };
    config.uid = (c.uid != ID_AUTO).then_some(c.uid);
    config.gid = (c.gid != ID_AUTO).then_some(c.gid);
    config.user_namespace = c.user_namespace != 0;
    config.work_size = c.work_size;
    config.tmp_size = c.tmp_size;
    config.setup_timeout = Duration::from_nanos(c.setup_timeout_ns);
    config.cgroup.mode = cgroup_mode_from(c.cgroup_mode)?;
    // SAFETY: forwarded contract.
    config.cgroup.parent =
        unsafe { args::optional_string(c.cgroup_parent, "cgroup_parent") }?.map(Into::into);
    // SAFETY: forwarded contract. A prefix of an older version reads as NULL.
    if let Some(image) = unsafe { args::optional_string(c.image, "image") }? {
        config.image_layers = image_layers(&image)?;
    }
    Ok(config)
}

/// The layers of image `name` in the default store, lowest first.
fn image_layers(name: &std::ffi::OsStr) -> FfiResult<Vec<std::path::PathBuf>> {
    let name = name
        .to_str()
        .ok_or_else(|| FfiError::invalid("image is not UTF-8"))?;
    scpool_image::Store::resolve_default(name)
        .map(|image| image.layers)
        .map_err(|e| FfiError {
            code: if e.is_caller_error() {
                error::InvalidArgument
            } else {
                error::Setup
            },
            message: format!("image: {e}"),
            errno: 0,
        })
}

/// Converts a caller's pool config (NULL = defaults).
///
/// # Safety
/// `p` is NULL or a valid `scpool_pool_config` whose pointers are valid.
pub(crate) unsafe fn pool_config_from(p: *const pool_config) -> FfiResult<PoolConfig> {
    if p.is_null() {
        return Ok(PoolConfig::default());
    }
    // SAFETY: forwarded contract.
    let c = unsafe { args::sized_struct(p, pool_defaults()) }?;
    Ok(PoolConfig {
        // SAFETY: forwarded contract.
        container: unsafe { container_config_from(c.container) }?,
        min_idle: c.min_idle as usize,
        max_idle: c.max_idle as usize,
        max_size: c.max_size as usize,
        acquire_timeout: Duration::from_nanos(c.acquire_timeout_ns),
        health_check_interval: Duration::from_nanos(c.health_check_interval_ns),
        idle_timeout: Duration::from_nanos(c.idle_timeout_ns),
        ping_on_acquire: c.ping_on_acquire != 0,
    })
}
