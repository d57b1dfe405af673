//! The keywords of `scpool.Pool(...)` as a `PoolConfig`.

use crate::convert;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use scpool_core::{CgroupMode, IdRange, Mount, PoolConfig};
use std::path::PathBuf;

/// The keywords of `Pool(...)`, as Python gave them (None when absent).
#[derive(Default)]
pub struct PoolKeywords<'py> {
    pub size: Option<Bound<'py, PyAny>>,
    pub min_idle: Option<Bound<'py, PyAny>>,
    pub max_idle: Option<Bound<'py, PyAny>>,
    pub max_size: Option<Bound<'py, PyAny>>,
    pub acquire_timeout: Option<Bound<'py, PyAny>>,
    pub health_check_interval: Option<Bound<'py, PyAny>>,
    pub idle_timeout: Option<Bound<'py, PyAny>>,
    pub ping_on_acquire: Option<Bound<'py, PyAny>>,
    pub mounts: Option<Bound<'py, PyAny>>,
    pub extra_mounts: Option<Bound<'py, PyAny>>,
    pub rootfs: Option<Bound<'py, PyAny>>,
    pub image_layers: Option<Bound<'py, PyAny>>,
    pub root_size: Option<Bound<'py, PyAny>>,
    pub image: Option<Bound<'py, PyAny>>,
    pub hostname: Option<Bound<'py, PyAny>>,
    pub work_size: Option<Bound<'py, PyAny>>,
    pub tmp_size: Option<Bound<'py, PyAny>>,
    pub uid: Option<Bound<'py, PyAny>>,
    pub gid: Option<Bound<'py, PyAny>>,
    pub id_range: Option<Bound<'py, PyAny>>,
    pub user_namespace: Option<Bound<'py, PyAny>>,
    pub setup_timeout: Option<Bound<'py, PyAny>>,
    pub cgroup: Option<Bound<'py, PyAny>>,
    pub cgroup_parent: Option<Bound<'py, PyAny>>,
    pub process_peak: Option<Bound<'py, PyAny>>,
}

fn usize_of(value: &Option<Bound<'_, PyAny>>, what: &str) -> PyResult<Option<usize>> {
    convert::count(value.as_ref(), what)?
        .map(|n| {
            usize::try_from(n).map_err(|_| PyValueError::new_err(format!("{what} is too large")))
        })
        .transpose()
}

fn u32_of(value: &Option<Bound<'_, PyAny>>, what: &str) -> PyResult<Option<u32>> {
    convert::count_u32(value.as_ref(), what)
}

impl PoolKeywords<'_> {
    pub fn to_config(&self) -> PyResult<PoolConfig> {
        // `size` stands for all three sizes; each one given alone overrides it, and
        // those not given fit the ones given by the library's rule.
        let size = usize_of(&self.size, "size")?;
        let mut config = PoolConfig::default();
        config.set_sizes(
            usize_of(&self.min_idle, "min_idle")?.or(size),
            usize_of(&self.max_idle, "max_idle")?.or(size),
            usize_of(&self.max_size, "max_size")?.or(size),
        );
        let seconds = |v: &Option<Bound<'_, PyAny>>, what| convert::seconds(v.as_ref(), what);
        if let Some(d) = seconds(&self.acquire_timeout, "acquire_timeout")? {
            config.acquire_timeout = d;
        }
        if let Some(d) = seconds(&self.health_check_interval, "health_check_interval")? {
            config.health_check_interval = d;
        }
        if let Some(d) = seconds(&self.idle_timeout, "idle_timeout")? {
            config.idle_timeout = d;
        }
        if let Some(b) = convert::flag(self.ping_on_acquire.as_ref(), "ping_on_acquire")? {
            config.ping_on_acquire = b;
        }

        let container = &mut config.container;
        if let Some(mounts) = &self.mounts {
            container.mounts = mount_list(mounts, "mounts")?;
        }
        if let Some(extra) = &self.extra_mounts {
            container.mounts.extend(mount_list(extra, "extra_mounts")?);
        }
        if let Some(rootfs) = &self.rootfs {
            container.rootfs = Some(PathBuf::from(convert::os_string(rootfs, "rootfs")?));
        }
        if let Some(layers) = &self.image_layers {
            container.image_layers = convert::os_strings(layers, "image_layers")?
                .into_iter()
                .map(PathBuf::from)
                .collect();
        }
        if let Some(n) = convert::count(self.root_size.as_ref(), "root_size")? {
            container.root_size = n;
        }
        if let Some(image) = &self.image {
            if self.image_layers.is_some() {
                let why = ("give image or image_layers, not both",);
                return Err(crate::errors::raise(image.py(), "InvalidArgument", why));
            }
            container.image_layers = image_layers(image)?;
        }
        if let Some(hostname) = &self.hostname {
            let name: String = hostname
                .extract()
                .map_err(|_| PyTypeError::new_err("hostname must be a str"))?;
            container.set_hostname(name);
        }
        if let Some(n) = convert::count(self.work_size.as_ref(), "work_size")? {
            container.work_size = n;
        }
        if let Some(n) = convert::count(self.tmp_size.as_ref(), "tmp_size")? {
            container.tmp_size = n;
        }
        if let Some(userns) = convert::flag(self.user_namespace.as_ref(), "user_namespace")? {
            container.user_namespace = userns;
        }
        if let Some(uid) = u32_of(&self.uid, "uid")? {
            container.uid = Some(uid);
        }
        if let Some(gid) = u32_of(&self.gid, "gid")? {
            container.gid = Some(gid);
        }
        if let Some(range) = &self.id_range {
            container.id_range = id_range(range)?;
        }
        if let Some(d) = seconds(&self.setup_timeout, "setup_timeout")? {
            container.setup_timeout = d;
        }
        if let Some(mode) = &self.cgroup {
            container.cgroup.mode = cgroup_mode(mode)?;
        }
        if let Some(parent) = &self.cgroup_parent {
            container.cgroup.parent =
                Some(PathBuf::from(convert::os_string(parent, "cgroup_parent")?));
        }
        if let Some(b) = convert::flag(self.process_peak.as_ref(), "process_peak")? {
            container.cgroup.process_peak = b;
        }
        Ok(config)
    }
}

/// The layers of the image named `value` (NAME[:TAG]) in the default store:
/// an unknown or malformed name is InvalidArgument, a damaged store SetupError.
fn image_layers(value: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    let name: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("image must be a str (NAME[:TAG])"))?;
    let py = value.py();
    let image = py
        .detach(|| scpool_image::Store::resolve_default(&name))
        .map_err(|e| {
            let class = if e.is_caller_error() {
                "InvalidArgument"
            } else {
                "SetupError"
            };
            crate::errors::raise(py, class, (format!("image: {e}"),))
        })?;
    Ok(image.layers)
}

/// `(first, count)`; the core decides which ranges are valid.
fn id_range(value: &Bound<'_, PyAny>) -> PyResult<IdRange> {
    let wrong = || PyTypeError::new_err("id_range must be a (first, count) tuple of ints");
    let tuple = value.cast::<PyTuple>().map_err(|_| wrong())?;
    if tuple.len() != 2 {
        return Err(wrong());
    }
    let part = |i: usize, what: &str| -> PyResult<u32> {
        convert::count_u32(Some(&tuple.get_item(i)?), what)?.ok_or_else(wrong)
    };
    Ok(IdRange::new(
        part(0, "id_range first")?,
        part(1, "id_range count")?,
    ))
}

/// A mode by the library's names ([`CgroupMode`]'s `FromStr`).
fn cgroup_mode(value: &Bound<'_, PyAny>) -> PyResult<CgroupMode> {
    let name: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("cgroup must be {}", CgroupMode::NAMES)))?;
    name.parse().map_err(PyValueError::new_err)
}

/// A list of mounts: each a path (bound read-only at the same place) or a tuple
/// `(source, target[, writable[, optional]])`.
fn mount_list(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Mount>> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a list of mounts, not a single path"
        )));
    }
    let items = value
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a list of mounts")))?;
    items
        .enumerate()
        .map(|(i, item)| mount(&item?, &format!("{what}[{i}]")))
        .collect()
}

fn mount(item: &Bound<'_, PyAny>, what: &str) -> PyResult<Mount> {
    let Ok(tuple) = item.cast::<PyTuple>() else {
        return Ok(Mount::read_only(PathBuf::from(convert::os_string(
            item, what,
        )?)));
    };
    if !(2..=4).contains(&tuple.len()) {
        return Err(PyValueError::new_err(format!(
            "{what} must be (source, target[, writable[, optional]])"
        )));
    }
    let source = PathBuf::from(convert::os_string(&tuple.get_item(0)?, what)?);
    let target = PathBuf::from(convert::os_string(&tuple.get_item(1)?, what)?);
    let flag_at = |i: usize| -> PyResult<bool> {
        match tuple.get_item(i) {
            Ok(v) => Ok(convert::flag(Some(&v), what)?.unwrap_or(false)),
            Err(_) => Ok(false),
        }
    };
    let mut mount = Mount::read_only(source);
    mount.target = target;
    mount.writable = flag_at(2)?;
    mount.optional = flag_at(3)?;
    Ok(mount)
}
