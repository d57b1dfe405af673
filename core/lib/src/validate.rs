//! Turns caller input into protocol messages, rejecting bad input with a clear
//! `InvalidArgument` before anything reaches the container.

use crate::config::ContainerConfig;
use crate::error::{Error, Result};
use crate::execve::ExecveParam;
use crate::limits::Enforcement;
use crate::open_cmd::OpenCmd;
use crate::protocol::{self, rules, ExecRequest, MountSpec, OpenEntry, Setup};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn no_nul<'a>(what: &str, value: &'a OsStr) -> Result<&'a [u8]> {
    let bytes = value.as_bytes();
    if bytes.contains(&0) {
        return Err(Error::invalid(format!(
            "{what} contains a NUL byte: {value:?}"
        )));
    }
    Ok(bytes)
}

/// An absolute path with no `.`/`..` components and no NUL (the rule the init
/// applies again).
pub(crate) fn container_path<'a>(what: &str, path: &'a Path) -> Result<&'a [u8]> {
    let bytes = path.as_os_str().as_bytes();
    rules::path_below_root(bytes)
        .map_err(|why| Error::invalid(format!("{what} {why}: {}", path.display())))?;
    Ok(bytes)
}

/// The program's ids inside the container: fixed by the config, 0 in a user
/// namespace, else the container's own `id`.
pub(crate) fn setup(config: &ContainerConfig, id: Option<u32>) -> Result<Setup> {
    for (what, name) in [
        ("hostname", &config.hostname),
        ("domainname", &config.domainname),
    ] {
        if name.is_empty() || name.len() > 64 || name.contains('\0') {
            return Err(Error::invalid(format!(
                "{what} must be 1 to 64 bytes without NUL"
            )));
        }
    }
    let fixed = [config.uid, config.gid];
    if !config.user_namespace && fixed.contains(&Some(0)) {
        return Err(Error::invalid(
            "uid and gid 0 outside a user namespace are the host's root: use an unprivileged id",
        ));
    }
    if config.user_namespace && fixed.iter().flatten().any(|id| *id != 0) {
        return Err(Error::invalid(
            "with a user namespace only id 0 is mapped: uid and gid must be 0 or unset",
        ));
    }
    config.id_range.validate()?;
    if config.work_size == 0 || config.tmp_size == 0 {
        return Err(Error::invalid("work_size and tmp_size must be positive"));
    }
    if config.setup_timeout.is_zero() {
        return Err(Error::invalid("setup_timeout must be positive"));
    }
    let mut mounts = Vec::with_capacity(config.mounts.len());
    for m in &config.mounts {
        let source = no_nul("mount source", m.source.as_os_str())?;
        if !m.source.is_absolute() {
            return Err(Error::invalid(format!(
                "mount source must be absolute: {}",
                m.source.display()
            )));
        }
        let target = container_path("mount target", &m.target)?;
        // The container mounts its own tmpfs or filesystem over these, which would
        // hide a bind below them.
        if let Some(reserved) = ["/w", "/tmp", "/proc", "/dev"]
            .iter()
            .find(|r| m.target.starts_with(r))
            .or((m.target == Path::new("/")).then_some(&"/"))
        {
            return Err(Error::invalid(format!(
                "mount target {} is reserved by the container ({reserved} is its own)",
                m.target.display()
            )));
        }
        mounts.push(MountSpec {
            source: source.to_vec(),
            target: target.to_vec(),
            writable: m.writable,
            optional: m.optional,
        });
    }
    let rootfs = match &config.rootfs {
        Some(root) if !root.is_absolute() => {
            return Err(Error::invalid(format!(
                "rootfs must be absolute: {}",
                root.display()
            )))
        }
        Some(root) => Some(no_nul("rootfs", root.as_os_str())?.to_vec()),
        None => None,
    };
    let image_layers = image_layers(config)?;
    Ok(Setup {
        hostname: config.hostname.as_bytes().to_vec(),
        domainname: config.domainname.as_bytes().to_vec(),
        mounts,
        rootfs,
        image_layers,
        root_size: config.root_size,
        work_size: config.work_size,
        tmp_size: config.tmp_size,
        uid: program_id(config.uid, config.user_namespace, id)?,
        gid: program_id(config.gid, config.user_namespace, id)?,
        user_namespace: config.user_namespace,
    })
}

/// Overlayfs stacks at most this many lower layers.
const MAX_IMAGE_LAYERS: usize = 500;

/// The layers as the init gets them (lowest first): absolute paths of existing
/// directories, never together with `rootfs`.
fn image_layers(config: &ContainerConfig) -> Result<Vec<Vec<u8>>> {
    if config.image_layers.is_empty() {
        return Ok(Vec::new());
    }
    if config.rootfs.is_some() {
        return Err(Error::invalid(
            "rootfs and image_layers exclude each other: give one root",
        ));
    }
    if config.image_layers.len() > MAX_IMAGE_LAYERS {
        return Err(Error::invalid(format!(
            "at most {MAX_IMAGE_LAYERS} image layers (overlayfs stacks no more), not {}",
            config.image_layers.len()
        )));
    }
    if config.root_size == 0 {
        return Err(Error::invalid("root_size must be positive"));
    }
    if config.user_namespace {
        crate::kernel::check_overlay_in_user_namespace()?;
    }
    config
        .image_layers
        .iter()
        .map(|layer| {
            let bytes = no_nul("image layer", layer.as_os_str())?;
            if !layer.is_absolute() {
                return Err(Error::invalid(format!(
                    "image layer must be absolute: {}",
                    layer.display()
                )));
            }
            match std::fs::metadata(layer) {
                Ok(m) if m.is_dir() => Ok(bytes.to_vec()),
                Ok(_) => Err(Error::invalid(format!(
                    "image layer is not a directory: {}",
                    layer.display()
                ))),
                Err(e) => Err(Error::invalid(format!(
                    "image layer {}: {e}",
                    layer.display()
                ))),
            }
        })
        .collect()
}

fn program_id(fixed: Option<u32>, user_namespace: bool, own: Option<u32>) -> Result<u32> {
    match (fixed, user_namespace, own) {
        (Some(id), _, _) => Ok(id),
        (None, true, _) => Ok(0),
        (None, false, Some(id)) => Ok(id),
        (None, false, None) => Err(Error::invalid("the container has no id of its own")),
    }
}

pub(crate) fn open_entries(cmds: &[OpenCmd]) -> Result<Vec<OpenEntry>> {
    if cmds.is_empty() {
        return Err(Error::invalid("open needs at least one file"));
    }
    if cmds.len() > protocol::MAX_FDS {
        return Err(Error::invalid(format!(
            "at most {} files per open",
            protocol::MAX_FDS
        )));
    }
    cmds.iter()
        .map(|c| {
            let path = container_path("open path", &c.path)?;
            if !rules::open_flags_valid(c.flags) {
                return Err(Error::invalid(format!(
                    "unsupported open flags {:#o} for {}",
                    c.flags,
                    c.path.display()
                )));
            }
            if c.mode & !0o7777 != 0 {
                return Err(Error::invalid(format!(
                    "bad mode {:#o} for {}",
                    c.mode,
                    c.path.display()
                )));
            }
            Ok(OpenEntry {
                path: path.to_vec(),
                flags: c.flags,
                mode: c.mode,
            })
        })
        .collect()
}

pub(crate) fn execve(param: &ExecveParam<'_>, how: Enforcement<'_>) -> Result<ExecRequest> {
    if param.args.is_empty() {
        return Err(Error::invalid("args must not be empty"));
    }
    let args = param
        .args
        .iter()
        .map(|a| no_nul("argument", a).map(<[u8]>::to_vec))
        .collect::<Result<Vec<_>>>()?;
    let env = param
        .env
        .iter()
        .map(|e| no_nul("environment entry", e).map(<[u8]>::to_vec))
        .collect::<Result<Vec<_>>>()?;
    let cwd = no_nul("working directory", param.cwd.as_os_str())?;
    if !param.cwd.is_absolute() {
        return Err(Error::invalid(format!(
            "working directory must be absolute: {}",
            param.cwd.display()
        )));
    }
    let fd_count = param.files.len() + usize::from(param.exec_file.is_some());
    if fd_count > protocol::MAX_FDS {
        return Err(Error::invalid(format!(
            "at most {} descriptors per run",
            protocol::MAX_FDS - 1
        )));
    }
    param.limits.validate(how)?;
    Ok(ExecRequest {
        args,
        env,
        cwd: cwd.to_vec(),
        fd_count: param.files.len() as u32,
        exec_fd: param.exec_file.is_some(),
        rlimits: param.limits.rlimits(how),
        seccomp: param.seccomp.program_bytes(),
        // Beyond u64 nanoseconds (584 years) is no limit.
        wall_limit_ns: param
            .limits
            .wall_time
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0)),
        single_program: param.seccomp.single_program(),
        // Set by the container when its cgroup gives each run a cgroup of its own.
        join_cgroup: false,
    })
}
