//! One cgroup per container, for exact per-run accounting and limits.
//!
//! Created inside the cgroup the host process lives in (or a configured parent), in
//! the v2 unified hierarchy or in the v1 cpu, cpuacct, memory and pids hierarchies.
//! The container's init is moved into it once, at creation, and every runner it forks
//! is born inside: moving a process between cgroups can wait for an RCU grace period
//! (milliseconds), which each run would pay otherwise. The init's own CPU time during
//! a run is reported by the init and subtracted; its memory was charged before the
//! move (charges stay where they were made) and it is shielded from the OOM killer.
//! The host keeps the counter files open, resets them at the start of each run and
//! reads them during and after it. The directories are removed when the container is
//! destroyed.

mod delegate;
mod detect;
mod knob;
mod run_leaf;
mod teardown;
mod v1;
mod v2;

#[cfg(test)]
mod tests;

pub use delegate::HOST_LEAF;
pub use detect::Layout;
pub use teardown::teardown_for_exit;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Which cgroup version this host gives us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// Whether containers use cgroups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CgroupMode {
    /// Use cgroups when the host offers them; without them, the limits that need
    /// them are refused (CPU time, memory unless in RLIMIT_AS mode, processes).
    #[default]
    Auto,
    /// Fail container creation when cgroups cannot be used.
    Required,
    /// Never use cgroups.
    Off,
}

/// Where and whether containers get their cgroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupConfig {
    pub mode: CgroupMode,
    /// The cgroup to create container cgroups in, as a path of the hierarchy (like
    /// the paths of /proc/self/cgroup, e.g. "/judge"). Default: our own cgroup.
    pub parent: Option<PathBuf>,
}

/// Limits that live in the cgroup, applied at the start of each run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RunLimits {
    pub memory: Option<u64>,
    pub processes: Option<u32>,
    pub cpu_rate: Option<f64>,
}

/// Counters read when a run starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Baseline {
    cpu_ns: u64,
    oom_kills: u64,
    /// Charged to the cgroup when the run started.
    memory: u64,
}

/// What one run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub cpu_ns: u64,
    pub peak_memory: u64,
    pub oom_killed: bool,
}

/// The version-specific files behind one container cgroup.
trait Controllers: Send {
    fn apply_memory(&self, limit: Option<u64>) -> io::Result<()>;
    fn apply_processes(&self, limit: Option<u32>) -> io::Result<()>;
    fn apply_cpu_rate(&self, cores: Option<f64>) -> io::Result<()>;
    /// Starts a run's figures afresh where the kernel allows it.
    fn reset_counters(&self) -> io::Result<()>;
    /// CPU time of the cgroup, a counter that only grows (ns).
    fn cpu_ns(&self) -> io::Result<u64>;
    fn peak_memory(&self) -> io::Result<u64>;
    /// OOM kills in the cgroup, a counter that only grows.
    fn oom_kills(&self) -> io::Result<u64>;
    /// Memory charged to the cgroup now.
    fn current_memory(&self) -> io::Result<u64>;
}

fn read_text(path: &Path) -> io::Result<String> {
    crate::eintr::retry(|| std::fs::read_to_string(path))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Reads a number from a control file that is used too rarely to hold open.
fn read_number(dir: &Path, name: &str) -> io::Result<u64> {
    let path = dir.join(name);
    let text = read_text(&path)?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::other(format!("{}: not a number: {text:?}", path.display())))
}

pub(crate) struct ContainerCgroup {
    version: CgroupVersion,
    controllers: Box<dyn Controllers>,
    /// cgroup.procs of each distinct directory.
    procs: Vec<File>,
    /// Removed on drop, in order.
    dirs: Vec<PathBuf>,
    applied: Option<RunLimits>,
    /// v2 without a resettable memory.peak: the directory that gets run leaves once
    /// the init is settled, then the leaves.
    leaf_parent: Option<PathBuf>,
    leaves: Option<run_leaf::RunLeaves>,
}

/// The host's layout, detected once per process.
pub(crate) fn host_layout() -> Option<&'static Layout> {
    static LAYOUT: OnceLock<Option<Layout>> = OnceLock::new();
    LAYOUT
        .get_or_init(|| {
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
            detect::detect(&mountinfo, &own, |dir| {
                std::fs::read_to_string(dir.join("cgroup.controllers")).ok()
            })
        })
        .as_ref()
}

/// The layout for containers of this config: the host's, checked against the
/// configured parent cgroup when there is one (a parent that offers every
/// controller is used even when our own cgroup offers fewer).
pub(crate) fn layout_for(config: &CgroupConfig) -> Result<Layout, String> {
    let Some(parent) = config.parent.as_deref() else {
        return host_layout().cloned().ok_or_else(|| {
            format!(
                "this host offers no usable cgroup hierarchy (cgroup v2 with {} available \
                 in our cgroup, or cgroup v1 hierarchies of {})",
                detect::V2_CONTROLLERS.join(" "),
                detect::V1_CONTROLLERS.join(" ")
            )
        });
    };
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    detect::detect_for_parent(
        &read("/proc/self/mountinfo")?,
        &read("/proc/self/cgroup")?,
        parent,
        |dir| std::fs::read_to_string(dir.join("cgroup.controllers")).ok(),
    )
}

/// The parent directory for container cgroups: our own cgroup's directory (the
/// one above our leaf if an earlier host moved us there), or the configured cgroup
/// path under the hierarchy's mount point.
fn parent_dir(own: &Path, configured: Option<&Path>, mount: &Path) -> PathBuf {
    match configured {
        Some(path) => mount.join(path.strip_prefix("/").unwrap_or(path)),
        None => delegate::own_parent(own).to_path_buf(),
    }
}

fn unique_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "scpool-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn mkdir(dir: &Path) -> io::Result<()> {
    crate::eintr::retry(|| std::fs::create_dir(dir))
        .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", dir.display())))
}

/// Removes a cgroup directory, waiting briefly for the last processes to be freed
/// (rmdir is EBUSY until every task has fully exited).
fn remove_dir(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => return,
        }
    }
}

/// Removes the (empty) child cgroups of a container cgroup: its init's and its
/// runs' leaves.
fn remove_leaves(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
}

/// Removes, once per process, the empty container cgroups of hosts that died without
/// cleaning up (a SIGKILLed host cannot): `scpool-<pid>-<n>` whose pid is gone.
fn sweep_stale(parents: &[PathBuf]) {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        for parent in parents {
            let Ok(entries) = std::fs::read_dir(parent) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(pid) = name
                    .to_str()
                    .and_then(|n| n.strip_prefix("scpool-"))
                    .and_then(|rest| rest.split_once('-'))
                    .and_then(|(pid, _)| pid.parse::<u32>().ok())
                else {
                    continue;
                };
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    // Fails harmlessly if it still holds processes.
                    remove_leaves(&entry.path());
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
    });
}

impl ContainerCgroup {
    /// Creates the cgroup of one container.
    pub fn create(layout: &Layout, config: &CgroupConfig) -> io::Result<Self> {
        let configured_parents: Vec<PathBuf> = match layout {
            Layout::V2 { mount, own } => vec![parent_dir(own, config.parent.as_deref(), mount)],
            Layout::V1 { mounts, own } => own
                .iter()
                .map(|(c, own)| parent_dir(own, config.parent.as_deref(), &mounts[c]))
                .collect(),
        };
        sweep_stale(&configured_parents);
        let _permit = teardown::permit(&configured_parents)?;
        let name = unique_name();
        let mut made = Cleanup(Vec::new());
        let configured = config.parent.as_deref();
        let mut leaf_parent = None;
        let (version, controllers): (_, Box<dyn Controllers>) = match layout {
            Layout::V2 { mount, own } => {
                let parent = parent_dir(own, configured, mount);
                v2_enable_controllers(&parent, configured.is_none())?;
                let dir = parent.join(&name);
                mkdir(&dir)?;
                made.0.push(dir.clone());
                let v2 = v2::V2::open(&dir)?;
                if !v2.peak_resettable() {
                    leaf_parent = Some(dir);
                }
                (CgroupVersion::V2, Box::new(v2))
            }
            Layout::V1 { mounts, own } => {
                let mut dirs = std::collections::BTreeMap::new();
                for (controller, own_dir) in own {
                    let dir = parent_dir(own_dir, configured, &mounts[controller]).join(&name);
                    if !made.0.contains(&dir) {
                        mkdir(&dir)?;
                        made.0.push(dir.clone());
                    }
                    dirs.insert(*controller, dir);
                }
                let v1 = v1::V1::open(
                    &dirs["cpu"],
                    &dirs["cpuacct"],
                    &dirs["memory"],
                    &dirs["pids"],
                )?;
                (CgroupVersion::V1, Box::new(v1))
            }
        };
        let procs = made
            .0
            .iter()
            .map(|dir| File::options().write(true).open(dir.join("cgroup.procs")))
            .collect::<io::Result<_>>()?;
        Ok(Self {
            version,
            controllers,
            procs,
            dirs: std::mem::take(&mut made.0),
            applied: None,
            leaf_parent,
            leaves: None,
        })
    }

    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// Moves a process (the container's init) into the cgroup, in every hierarchy.
    pub fn enter(&self, pid: i32) -> io::Result<()> {
        for procs in &self.procs {
            crate::eintr::retry(|| procs.write_at(pid.to_string().as_bytes(), 0))?;
        }
        Ok(())
    }

    /// Once the init has made its cgroup namespace (rooted at the container's
    /// cgroup), gives each run a leaf of its own where the kernel cannot reset the
    /// peak (see `run_leaf`): the init moves to the leaf `init`.
    pub fn settle(&mut self, init_pid: i32) -> io::Result<()> {
        if let Some(parent) = &self.leaf_parent {
            let (leaves, init_dir) = run_leaf::RunLeaves::settle(parent, init_pid)?;
            self.dirs.push(init_dir);
            self.leaves = Some(leaves);
        }
        Ok(())
    }

    /// The cgroup.procs the next run's runner joins, when runs have leaves.
    pub fn run_procs(&mut self) -> io::Result<Option<std::os::fd::BorrowedFd<'_>>> {
        self.leaves.as_mut().map(|l| l.procs()).transpose()
    }

    /// Applies the run's limits (only those that changed) and resets the counters.
    pub fn begin_run(&mut self, limits: RunLimits) -> io::Result<Baseline> {
        let previous = self.applied.take();
        let c = &self.controllers;
        if previous.map(|p| p.memory) != Some(limits.memory) {
            c.apply_memory(limits.memory)?;
        }
        if previous.map(|p| p.processes) != Some(limits.processes) {
            c.apply_processes(limits.processes)?;
        }
        if previous.map(|p| p.cpu_rate) != Some(limits.cpu_rate) {
            c.apply_cpu_rate(limits.cpu_rate)?;
        }
        c.reset_counters()?;
        self.applied = Some(limits);
        Ok(Baseline {
            cpu_ns: c.cpu_ns()?,
            oom_kills: c.oom_kills()?,
            // A run's leaf starts empty.
            memory: match self.leaves {
                Some(_) => 0,
                None => c.current_memory()?,
            },
        })
    }

    /// CPU time used by the run so far.
    pub fn cpu_used(&self, base: &Baseline) -> io::Result<u64> {
        Ok(self.controllers.cpu_ns()?.saturating_sub(base.cpu_ns))
    }

    /// Memory charged to the cgroup now.
    pub fn current_memory(&self) -> io::Result<u64> {
        self.controllers.current_memory()
    }

    /// The run's totals, once its processes are gone. The memory figure is the
    /// peak above what the cgroup held when the run started: page cache earlier runs
    /// left charged (a compiler's binaries, a data file) and files the loan keeps in
    /// /w are not the run's. (Dropping that cache instead would make the next run
    /// read the same pages back in and be charged for them.)
    /// With run leaves, the peak is the leaf's, and the next run's leaf is made.
    pub fn end_run(&mut self, base: &Baseline) -> io::Result<Usage> {
        let peak = match &self.leaves {
            // A charge the container's limit refuses is first added to the leaf and
            // then taken back, but the leaf's watermark keeps it (up to a 2 MiB huge
            // page above the limit): the run never held more than its limit.
            Some(leaves) => leaves
                .peak()?
                .min(self.applied.and_then(|a| a.memory).unwrap_or(u64::MAX)),
            None => self.controllers.peak_memory()?,
        };
        let usage = Usage {
            cpu_ns: self.cpu_used(base)?,
            peak_memory: peak.saturating_sub(base.memory),
            oom_killed: self.controllers.oom_kills()? > base.oom_kills,
        };
        if let Some(leaves) = &mut self.leaves {
            // On failure the next run makes its leaf itself, or reports why not.
            let _ = leaves.rotate();
        }
        Ok(usage)
    }
}

impl Drop for ContainerCgroup {
    fn drop(&mut self) {
        if let Some(leaves) = &mut self.leaves {
            leaves.clear();
        }
        for dir in self.dirs.iter().rev() {
            remove_dir(dir);
        }
    }
}

/// Removes directories made so far if creation fails half-way.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            remove_dir(dir);
        }
    }
}

/// In v2 a cgroup's children get a controller only when the cgroup enables it in
/// cgroup.subtree_control, which the kernel refuses while the cgroup itself holds
/// processes (unless it is the root).
///
/// When `ours` (the parent is our own cgroup) and it holds processes, they move to
/// a leaf of it first (see `delegate`).
fn v2_enable_controllers(parent: &Path, ours: bool) -> io::Result<()> {
    let control = parent.join("cgroup.subtree_control");
    let enabled = read_text(&control)?;
    let missing: Vec<String> = detect::V2_CONTROLLERS
        .iter()
        .filter(|c| !enabled.split_whitespace().any(|e| e == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let enable = || crate::eintr::retry(|| std::fs::write(&control, missing.join(" ")));
    let mut written = enable();
    if ours && matches!(&written, Err(e) if e.raw_os_error() == Some(libc::EBUSY)) {
        delegate::move_processes_to_leaf(parent)?;
        written = enable();
    }
    written.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot enable {} in {}: {e} (a cgroup holding processes cannot delegate \
                 controllers; configure a parent cgroup without processes)",
                missing.join(" "),
                control.display()
            ),
        )
    })
}
