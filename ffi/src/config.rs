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

/// A size argument of `scpool_pool_config_set_sizes()`: not given, so it follows
/// the sizes given (`(uint32_t)-1`).
pub const SIZE_UNSET: u32 = u32::MAX;

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
    /// Host name and domain name inside (both: see the README's "Naming a
    /// container"); NULL keeps "scpool".
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
    /// The unpacked layers of an image, lowest first, `image_layers_len` absolute
    /// directory paths (may be NULL when 0): the root is then an overlay of them
    /// with a writable upper layer of the container's own, emptied at reset.
    /// Excludes `rootfs`; set `replace_default_mounts` unless host binds over the
    /// image are wanted. The strings are read during the call only.
    /// (Added after the first version.)
    pub image_layers: *const *const c_char,
    pub image_layers_len: usize,
    /// Size cap of the writable upper layer over `image_layers` (default 256 MiB).
    pub root_size: u64,
    /// An image of the image store (`NAME[:TAG]`, resolved in the default store:
    /// $SCPOOL_STORE, else /var/lib/scpool for root or ~/.local/share/scpool) whose
    /// layers become the container's root; NULL for none. An unknown or malformed
    /// name fails with `SCPOOL_ERROR_INVALID_ARGUMENT`, a damaged store with
    /// `SCPOOL_ERROR_SETUP`. (Added after the first version.)
    pub image: *const c_char,
    /// Non-zero: count each run's processes in a cgroup of the run's own, so that
    /// `scpool_result.peak_processes` is known (kernels 6.1+, cgroup v1 or v2).
    /// Runs then take the ordinary path instead of the standby runner (about 5-10%
    /// slower). Default 0. (Added after the first version.)
    pub process_peak: c_int,
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
    /// `min_idle <= max_idle <= max_size` is required; set the sizes with
    /// `scpool_pool_config_set_sizes()` to have those not given fit the others.
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
        image_layers: std::ptr::null(),
        image_layers_len: 0,
        root_size: d.root_size,
        image: std::ptr::null(),
        process_peak: 0,
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

/// Sets the pool sizes given and fits those left `SCPOOL_SIZE_UNSET` around them:
/// not given, `max_size` is raised to hold the idle counts given, `max_idle` is
/// raised to `min_idle` and lowered to `max_size`, and `min_idle` is lowered to
/// `max_idle`, starting from the values in `config` (the defaults after
/// `scpool_pool_config_init()`). Sizes given are kept as they are: ones that
/// contradict each other make `scpool_pool_new()` fail with
/// `SCPOOL_ERROR_INVALID_ARGUMENT`. The rule every binding follows.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `config` is NULL or points to a `scpool_pool_config` filled by
/// `scpool_pool_config_init()`.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_config_set_sizes(
    config: *mut pool_config,
    min_idle: u32,
    max_idle: u32,
    max_size: u32,
) -> error {
    guard(|| {
        // SAFETY: NULL or a valid struct by the contract.
        let len = unsafe { args::sized_out(config, "config") }?;
        // SAFETY: as above; sized_out refused NULL and a bad struct_size.
        let current = unsafe { args::sized_struct(config, pool_defaults()) }?;
        let mut sizes = PoolConfig::default();
        sizes.min_idle = current.min_idle as usize;
        sizes.max_idle = current.max_idle as usize;
        sizes.max_size = current.max_size as usize;
        let given = |n: u32| (n != SIZE_UNSET).then_some(n as usize);
        sizes.set_sizes(given(min_idle), given(max_idle), given(max_size));
        let mut updated = current;
        updated.min_idle = results::count(sizes.min_idle);
        updated.max_idle = results::count(sizes.max_idle);
        updated.max_size = results::count(sizes.max_size);
        // SAFETY: `config` passed sized_out, which returned `len`.
        unsafe { args::write_sized(config, &updated, len) };
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
    let mut mount = Mount::read_only(source);
    mount.target = target;
    mount.writable = m.writable != 0;
    mount.optional = m.optional != 0;
    Ok(mount)
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
    // SAFETY: forwarded contract (image_layers_len elements).
    let layers = unsafe { args::slice(c.image_layers, c.image_layers_len, "image_layers") }?;
    for layer in layers {
        // SAFETY: forwarded contract.
        config
            .image_layers
            .push(unsafe { args::path(*layer, "image layer") }?);
    }
    config.root_size = c.root_size;
    // SAFETY: forwarded contract.
    if let Some(name) = unsafe { args::optional_string(c.hostname, "hostname") }? {
        config.set_hostname(
            name.into_string()
                .map_err(|_| FfiError::invalid("hostname is not UTF-8"))?,
        );
    }
    config.id_range = IdRange::new(c.id_range_first, c.id_range_count);
    config.uid = (c.uid != ID_AUTO).then_some(c.uid);
    config.gid = (c.gid != ID_AUTO).then_some(c.gid);
    config.user_namespace = c.user_namespace != 0;
    config.work_size = c.work_size;
    config.tmp_size = c.tmp_size;
    config.setup_timeout = Duration::from_nanos(c.setup_timeout_ns);
    config.cgroup.mode = cgroup_mode_from(c.cgroup_mode)?;
    config.cgroup.process_peak = c.process_peak != 0;
    // SAFETY: forwarded contract.
    config.cgroup.parent =
        unsafe { args::optional_string(c.cgroup_parent, "cgroup_parent") }?.map(Into::into);
    // SAFETY: forwarded contract. A prefix of an older version reads as NULL.
    if let Some(image) = unsafe { args::optional_string(c.image, "image") }? {
        if !config.image_layers.is_empty() {
            return Err(FfiError::invalid("give image or image_layers, not both"));
        }
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
    let mut config = PoolConfig::default();
    // SAFETY: forwarded contract.
    config.container = unsafe { container_config_from(c.container) }?;
    config.min_idle = c.min_idle as usize;
    config.max_idle = c.max_idle as usize;
    config.max_size = c.max_size as usize;
    config.acquire_timeout = Duration::from_nanos(c.acquire_timeout_ns);
    config.health_check_interval = Duration::from_nanos(c.health_check_interval_ns);
    config.idle_timeout = Duration::from_nanos(c.idle_timeout_ns);
    config.ping_on_acquire = c.ping_on_acquire != 0;
    Ok(config)
}
