//! The cpuset controller: the CPUs a run may use, a limit no process inside can
//! widen (sched_setaffinity picks within the cgroup's CPUs; a wider mask is cut
//! down to them).
//!
//! Optional: a host without it (no v1 cpuset hierarchy, or v2 that does not offer
//! the controller to our cgroup) still gives containers their cgroup, and only a
//! run that asks for a CPU set is refused, with the reason. Set on the container's
//! cgroup, so the init, its prepared runner and every process of the run follow
//! it (the kernel moves the tasks of a cgroup whose CPUs change). A run without a
//! CPU set gets back every CPU of the parent, its list written again: v1 the
//! parent's cpuset.cpus; v2 the parent's effective CPUs (an empty cpuset.cpus
//! would follow the parent, but the kernel refuses to empty it while the cgroup
//! holds processes: ENOSPC on 6.1).

use super::knob::Knob;
use super::CgroupVersion;
use crate::cpu_set::CpuSet;
use crate::error::{doing, Error, Result};
use std::io;
use std::path::{Path, PathBuf};

pub(super) struct Cpuset {
    version: CgroupVersion,
    /// The container's cpuset directory.
    dir: PathBuf,
    parent: PathBuf,
    cpus: Knob,
}

/// The file holding the CPUs a cgroup really has.
fn effective_name(version: CgroupVersion) -> &'static str {
    match version {
        CgroupVersion::V1 => "cpuset.effective_cpus",
        CgroupVersion::V2 => "cpuset.cpus.effective",
    }
}

fn read_cpus(dir: &Path, name: &str) -> io::Result<Option<CpuSet>> {
    let text = super::read_path(&dir.join(name))?;
    CpuSet::from_kernel(&text).map_err(|why| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", dir.join(name).display()),
        )
    })
}

impl Cpuset {
    /// The cpuset files of a container's cgroup, `None` when the controller is
    /// not there (v2: not enabled for it).
    pub fn open(dir: &Path, version: CgroupVersion) -> io::Result<Option<Self>> {
        let Some(cpus) = Knob::open_optional(dir, "cpuset.cpus", true)? else {
            return Ok(None);
        };
        let parent = dir
            .parent()
            .ok_or_else(|| io::Error::other(format!("{} has no parent", dir.display())))?;
        Ok(Some(Self {
            version,
            dir: dir.to_path_buf(),
            parent: parent.to_path_buf(),
            cpus,
        }))
    }

    /// The CPUs a container may be given: those its parent really has.
    pub fn allowed(&self) -> io::Result<CpuSet> {
        read_cpus(&self.parent, effective_name(self.version))?.ok_or_else(|| {
            io::Error::other(format!(
                "{} has no CPU",
                self.parent.join(effective_name(self.version)).display()
            ))
        })
    }

    /// Restricts the cgroup to `cpus`, or gives it every CPU of its parent, and
    /// checks that the kernel took exactly that: a limit that did not hold is an
    /// error, never a wider set.
    pub fn apply(&self, cpus: Option<&CpuSet>) -> io::Result<()> {
        let value = match (cpus, self.version) {
            (Some(cpus), _) => cpus.to_string(),
            (None, CgroupVersion::V2) => self.allowed()?.to_string(),
            (None, CgroupVersion::V1) => super::read_path(&self.parent.join("cpuset.cpus"))?,
        };
        self.cpus.write(&value)?;
        let expected = match cpus {
            Some(cpus) => cpus.clone(),
            None => self.allowed()?,
        };
        let effective = read_cpus(&self.dir, effective_name(self.version))?;
        if effective.as_ref() != Some(&expected) {
            return Err(io::Error::other(format!(
                "{} is {} after writing {:?} to cpuset.cpus, not {expected}",
                effective_name(self.version),
                effective.map_or("empty".to_string(), |e| e.to_string()),
                value.trim()
            )));
        }
        Ok(())
    }

    /// Whether the cgroup really has exactly `cpus` now: a CPU taken offline, or
    /// a parent narrowed since the set was written, changes what v2 gives (it
    /// falls back to the parent's CPUs), so a set kept from the last run is
    /// checked again before the next.
    pub fn holds(&self, cpus: &CpuSet) -> io::Result<bool> {
        Ok(read_cpus(&self.dir, effective_name(self.version))?.as_ref() == Some(cpus))
    }

    pub fn close(&self) {
        self.cpus.close();
    }
}

/// Whether container cgroups may be made in the v1 cpuset directory `parent`: it
/// exists, we may write there and it has CPUs to give.
pub(super) fn v1_usable_parent(parent: &Path) -> bool {
    let writable = nix::unistd::access(parent, nix::unistd::AccessFlags::W_OK).is_ok();
    writable
        && read_cpus(parent, "cpuset.cpus").is_ok_and(|cpus| cpus.is_some())
        && read_cpus(parent, "cpuset.mems").is_ok_and(|mems| mems.is_some())
}

/// A new v1 cpuset cgroup has no CPU and no memory node, and no task may join it
/// until it has both (ENOSPC): it starts with its parent's.
pub(super) fn v1_prepare(dir: &Path) -> io::Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for name in ["cpuset.mems", "cpuset.cpus"] {
        let value = super::read_path(&parent.join(name))?;
        crate::eintr::retry(|| std::fs::write(dir.join(name), &value))
            .map_err(|e| doing(format!("writing {:?} to {name}", value.trim()), e))?;
    }
    Ok(())
}

/// Gives the children of a v2 `parent` the cpuset controller when the parent is
/// offered it. Best effort: a host that refuses keeps its containers without a
/// cpuset (runs that ask for a CPU set are refused). cpuset is a threaded
/// controller, which the kernel enables even where the parent holds processes.
pub(super) fn v2_enable(parent: &Path) {
    let offered = super::read_path(&parent.join("cgroup.controllers")).unwrap_or_default();
    let control = parent.join("cgroup.subtree_control");
    let enabled = super::read_path(&control).unwrap_or_default();
    let has = |text: &str| text.split_whitespace().any(|c| c == "cpuset");
    if has(&offered) && !has(&enabled) {
        let _ = crate::eintr::retry(|| std::fs::write(&control, "+cpuset"));
    }
}

/// Why the container at `dir` (its cpuset directory on v1) has no cpuset.
pub(super) fn missing(version: CgroupVersion, parent: Option<&Path>) -> String {
    match (version, parent) {
        (CgroupVersion::V2, Some(parent)) => format!(
            "the cgroup {} does not give its children the cpuset controller (it must be in \
             its cgroup.controllers and be enabled in its cgroup.subtree_control)",
            parent.display()
        ),
        _ => "this host has no cgroup v1 cpuset hierarchy that the library may create \
              cgroups in"
            .to_string(),
    }
}

/// The CPUs runs in containers made with `config` may be given (see
/// [`Limits::cpu_set`](crate::Limits::cpu_set)): those of the cgroup their cgroups
/// are made in. [`Error::Unsupported`] where they could have no cpuset.
pub fn cpus_for_containers(config: &super::CgroupConfig) -> Result<CpuSet> {
    let unsupported = |why: String| Error::Unsupported(format!("CPU sets: {why}"));
    if config.mode == super::CgroupMode::Off {
        return Err(unsupported("cgroups are turned off".into()));
    }
    let layout = super::layout_for(config).map_err(unsupported)?;
    let configured = config.parent.as_deref();
    let (parent, version) = match &layout {
        super::Layout::V2 { mount, own } => {
            let parent = super::parent_dir(own, configured, mount);
            let offered = super::read_path(&parent.join("cgroup.controllers"))
                .map_err(|e| Error::io("reading the controllers of the containers' parent", e))?;
            if !offered.split_whitespace().any(|c| c == "cpuset") {
                return Err(unsupported(missing(CgroupVersion::V2, Some(&parent))));
            }
            (parent, CgroupVersion::V2)
        }
        super::Layout::V1 { mounts, own } => {
            let parent = own
                .get("cpuset")
                .map(|own| super::parent_dir(own, configured, &mounts["cpuset"]))
                .filter(|parent| v1_usable_parent(parent))
                .ok_or_else(|| unsupported(missing(CgroupVersion::V1, None)))?;
            (parent, CgroupVersion::V1)
        }
    };
    read_cpus(&parent, effective_name(version))
        .map_err(|e| Error::io("reading the CPUs containers may use", e))?
        .ok_or_else(|| unsupported(format!("{} has no CPU", parent.display())))
}
