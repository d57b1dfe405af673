//! One cgroup per container, for exact per-run accounting and limits.
//!
//! Created inside the cgroup the host process lives in (or a configured parent), in
//! the v2 unified hierarchy or in the v1 cpu, cpuacct, memory and pids hierarchies.
//! The container's init is born inside it on v1 (see [`step`]) and moved into it
//! once, at creation, on v2, and every runner it forks is born inside: moving a
//! process between cgroups can wait for an RCU grace period (milliseconds), which
//! each run would pay otherwise. The init's own CPU time during a run is reported
//! by the init and subtracted. Its memory is charged where it was made: on v2 to the
//! parent before the move; on v1 to the container from birth (~0.5 MiB with its
//! namespaces), part of what the cgroup holds when a run starts, which a run's
//! figure leaves out. It is shielded from the OOM killer.
//! The host opens the counter files at the start of each run, resets them, reads
//! them during and after it and closes them when it ends: an idle container holds
//! no descriptor here (opening costs a few microseconds per run; holding ~10 files
//! per idle container ran hosts out of descriptors). The directories are removed
//! when the container is destroyed.

mod cpuset;
mod delegate;
mod detect;
mod keeper;
mod knob;
mod mode_name;
mod run_leaf;
mod step;
mod teardown;
mod v1;
mod v2;

#[cfg(test)]
mod tests;

pub use cpuset::cpus_for_containers;
pub use delegate::HOST_LEAF;
pub use detect::Layout;
pub(crate) use keeper::drop_stock;
pub use keeper::flush;
pub(crate) use step::ThreadStep;
pub use teardown::teardown_for_exit;

use crate::cpu_set::CpuSet;
use crate::error::Error;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Which cgroup version this host gives us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CgroupVersion {
    /// Per-controller hierarchies (cpuacct, memory, pids, cpu).
    V1,
    /// The unified hierarchy.
    V2,
}

/// Whether containers use cgroups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct CgroupConfig {
    /// Whether containers use a cgroup.
    pub mode: CgroupMode,
    /// The cgroup to create container cgroups in, as a path of the hierarchy (like
    /// the paths of /proc/self/cgroup, e.g. "/judge"). Default: our own cgroup.
    pub parent: Option<PathBuf>,
    /// Give each run a cgroup of its own, so that its peak number of processes is
    /// known (`RunResult::peak_processes`; the kernel's pids.peak, 6.1+, cannot be
    /// reset). It costs the standby runner, which cannot join one (see README);
    /// cgroup v2 kernels before 6.12 give runs their own cgroup anyway.
    pub process_peak: bool,
}

/// Limits that live in the cgroup, applied at the start of each run.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RunLimits {
    pub memory: Option<u64>,
    pub processes: Option<u32>,
    pub cpu_rate: Option<f64>,
    pub cpu_set: Option<CpuSet>,
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
    /// The most tasks the run had at once, where the run has a cgroup of its own
    /// and the kernel counts them.
    pub peak_processes: Option<u64>,
}

/// The version-specific files behind one container cgroup.
trait Controllers: Send {
    /// Closes the control files until the next run opens them.
    fn close_files(&self);
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
    /// Page cache charged to the cgroup that could be reclaimed (file pages that are
    /// not tmpfs files), bytes.
    fn reclaimable_cache(&self) -> io::Result<u64>;
    /// Gives back what the kernel can reclaim, when no program runs.
    fn reclaim(&self) -> io::Result<()>;
}

/// Page cache left charged beyond this after a run, or at reset, is given back: a
/// run's figure is its peak above what the cgroup held at its start, and when a run
/// needs room the kernel evicts that cache and the peak then hides the run's own
/// memory (two 50 MiB processes under a 128 MiB limit read 67 MB after a 64 MiB
/// file had been read, 105 MB in a fresh container).
const CACHE_KEPT: u64 = 1 << 20;

/// Room below a run's memory limit that the init needs: between runs (its replies
/// and resets) and for the next runner's first steps, while it still shares the
/// init's memory (a clone's kernel stack and a few pages).
const INIT_ROOM: u64 = 256 << 10;

/// The value of `key` in a "key value" per line text (memory.stat).
fn stat_field(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A control file read at set-up, its path in the error.
fn read_path(path: &Path) -> io::Result<String> {
    crate::eintr::retry(|| std::fs::read_to_string(path))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// A control file used too rarely to hold open.
fn read_text(dir: &Path, name: &str) -> io::Result<String> {
    crate::eintr::retry(|| std::fs::read_to_string(dir.join(name)))
}

fn write_once(dir: &Path, name: &str, value: &str) -> io::Result<()> {
    crate::eintr::retry(|| std::fs::write(dir.join(name), value))
        .map_err(|e| crate::error::doing(format!("writing {value:?} to {name}"), e))
}

pub(crate) struct ContainerCgroup {
    version: CgroupVersion,
    controllers: Box<dyn Controllers>,
    /// Removed on drop, in order.
    dirs: Vec<PathBuf>,
    /// v1: how a thread steps in and out to clone the init inside.
    step: Option<ThreadStep>,
    applied: Option<RunLimits>,
    cpuset: Option<cpuset::Cpuset>,
    /// Why there is no cpuset, when there is none.
    no_cpuset: Option<String>,
    /// No run has begun: the cpuset has every CPU of its parent.
    fresh: bool,
    /// v2 without a resettable memory.peak, or asked for a process peak: the
    /// directory that gets run leaves once the init is settled.
    leaf_parent: Option<PathBuf>,
    /// Each run's own cgroup (see `run_leaf`): v2 as above, v1 in the pids
    /// hierarchy when asked for a process peak.
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
        .map_err(|e| crate::error::doing(format!("creating {}", dir.display()), e))
}

/// Makes container cgroup `name` under every parent, or nothing.
fn make_dirs(parents: &keeper::Parents, name: &str) -> io::Result<()> {
    if parents.v2 {
        v2_enable_controllers(&parents.dirs[0], !parents.configured)?;
        cpuset::v2_enable(&parents.dirs[0]);
    }
    let mut made = Cleanup(Vec::new());
    for dir in keeper::dirs_of(parents, name) {
        mkdir(&dir)?;
        made.0.push(dir);
        let dir = made.0.last().expect("just pushed");
        if !parents.v2 && dir.join("cpuset.mems").exists() {
            cpuset::v1_prepare(dir)?;
        }
    }
    made.0.clear();
    Ok(())
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
    /// Creates the cgroup of one container: a stocked one when there is one (see
    /// [`keeper`]), else made now.
    pub fn create(layout: &Layout, config: &CgroupConfig) -> io::Result<Self> {
        let configured = config.parent.as_deref();
        // Per distinct hierarchy: the parent of the container's dir, and our own dir.
        let mut homes: Vec<PathBuf> = Vec::new();
        let parents = keeper::Parents {
            dirs: match layout {
                Layout::V2 { mount, own } => vec![parent_dir(own, configured, mount)],
                Layout::V1 { mounts, own } => {
                    let mut dirs: Vec<PathBuf> = Vec::new();
                    for (c, own) in own {
                        let dir = parent_dir(own, configured, &mounts[c]);
                        if *c == "cpuset" && !cpuset::v1_usable_parent(&dir) {
                            continue;
                        }
                        if !dirs.contains(&dir) {
                            dirs.push(dir);
                            homes.push(own.clone());
                        }
                    }
                    dirs
                }
            },
            v2: matches!(layout, Layout::V2 { .. }),
            configured: configured.is_some(),
        };
        sweep_stale(&parents.dirs);
        let _permit = teardown::permit(&parents.dirs)?;
        let name = match keeper::take(&parents) {
            Some(name) => name,
            None => {
                let name = unique_name();
                make_dirs(&parents, &name)?;
                name
            }
        };
        let made = Cleanup(keeper::dirs_of(&parents, &name));
        let mut leaf_parent = None;
        let mut leaves = None;
        let (version, controllers, step, cpuset_dir): (_, Box<dyn Controllers>, _, _) = match layout
        {
            Layout::V2 { .. } => {
                let v2 = v2::V2::open(&made.0[0])?;
                if !v2.peak_resettable() || config.process_peak {
                    leaf_parent = Some(made.0[0].clone());
                }
                (
                    CgroupVersion::V2,
                    Box::new(v2) as Box<dyn Controllers>,
                    None,
                    Some(made.0[0].clone()),
                )
            }
            Layout::V1 { mounts, own } => {
                let dir = |c: &str| parent_dir(&own[c], configured, &mounts[c]).join(&name);
                let v1 = v1::V1::open(&dir("cpu"), &dir("cpuacct"), &dir("memory"), &dir("pids"))?;
                if config.process_peak {
                    leaves = Some(run_leaf::RunLeaves::v1_pids(&dir("pids"))?);
                }
                let step = Some(ThreadStep {
                    into: made.0.iter().map(|d| d.join("tasks")).collect(),
                    home: homes.iter().map(|d| d.join("tasks")).collect(),
                });
                let cpuset_dir = own
                    .contains_key("cpuset")
                    .then(|| dir("cpuset"))
                    .filter(|d| made.0.contains(d));
                (CgroupVersion::V1, Box::new(v1), step, cpuset_dir)
            }
        };
        controllers.close_files();
        let cpuset = match &cpuset_dir {
            Some(dir) => cpuset::Cpuset::open(dir, version)?,
            None => None,
        };
        let no_cpuset = cpuset
            .is_none()
            .then(|| cpuset::missing(version, cpuset_dir.as_deref().and_then(Path::parent)));
        let mut made = made;
        Ok(Self {
            version,
            controllers,
            dirs: std::mem::take(&mut made.0),
            step,
            applied: None,
            cpuset,
            no_cpuset,
            fresh: true,
            leaf_parent,
            leaves,
        })
    }

    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// How the spawning thread steps into this cgroup so that the init is born
    /// inside (v1), if it can.
    pub fn thread_step(&self) -> Option<ThreadStep> {
        self.step.clone()
    }

    /// Moves a process (the container's init) into the cgroup, in every hierarchy.
    pub fn enter(&self, pid: i32) -> io::Result<()> {
        for dir in &self.dirs {
            let path = dir.join("cgroup.procs");
            let procs = crate::eintr::retry(|| File::options().write(true).open(&path))?;
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

    /// The directories the init is in, one per hierarchy: v1 the container's in
    /// each, v2 the container's or, once settled with run leaves, its `init` leaf.
    pub fn init_dirs(&self) -> Vec<PathBuf> {
        match self.version {
            CgroupVersion::V1 => self.dirs.clone(),
            CgroupVersion::V2 => self.dirs.last().cloned().into_iter().collect(),
        }
    }

    /// The cgroup.procs the next run's runner joins, when runs have leaves.
    pub fn run_procs(&mut self) -> io::Result<Option<std::os::fd::BorrowedFd<'_>>> {
        self.leaves.as_mut().map(|l| l.procs()).transpose()
    }

    /// Applies the run's limits (only those that changed) and resets the counters.
    /// The control files stay open until [`end_run`](Self::end_run).
    pub fn begin_run(&mut self, limits: RunLimits) -> io::Result<Baseline> {
        let begun = self.begin_run_files(limits);
        if begun.is_err() {
            self.close_files();
        }
        begun
    }

    fn close_files(&self) {
        self.controllers.close_files();
        if let Some(cpuset) = &self.cpuset {
            cpuset.close();
        }
    }

    /// Why a run cannot be given a CPU set here, when it cannot.
    pub fn no_cpuset(&self) -> Option<&str> {
        self.no_cpuset.as_deref()
    }

    /// Checks that every CPU of `cpus` is one the container may be given (the
    /// parent's): v2 would take others and silently fall back to the parent's.
    pub fn check_cpu_set(&self, cpus: &CpuSet) -> crate::Result<()> {
        if self
            .applied
            .as_ref()
            .is_some_and(|a| a.cpu_set.as_ref() == Some(cpus))
        {
            return Ok(());
        }
        let Some(cpuset) = &self.cpuset else {
            return Err(Error::Unsupported(format!(
                "a CPU set limit needs the cgroup cpuset controller: {}",
                self.no_cpuset.as_deref().unwrap_or("it is missing")
            )));
        };
        let allowed = cpuset
            .allowed()
            .map_err(|e| Error::io("reading the CPUs containers may use", e))?;
        let outside = cpus.outside(&allowed);
        if let Ok(shown) = CpuSet::from_cpus(outside) {
            return Err(Error::invalid(format!(
                "CPU set {cpus}: CPU {shown} is not among the CPUs this host lets containers \
                 use ({allowed})"
            )));
        }
        Ok(())
    }

    fn begin_run_files(&mut self, limits: RunLimits) -> io::Result<Baseline> {
        // Until the runner has raised its OOM score it shares the init's memory, and
        // the OOM killer would take both: with less room than that, the run does not
        // start (the caller reports MEMORY_LIMIT_EXCEEDED). Checked before the limit
        // is written: a limit below what the cgroup holds (files this loan left in
        // /w) sends cgroup v2 into reclaim and the OOM killer at once, and leaves the
        // init stuck on its next page until the limit is lifted.
        if let Some(limit) = limits.memory {
            if self.controllers.current_memory()?.saturating_add(INIT_ROOM) > limit {
                return Err(io::Error::from(io::ErrorKind::ResourceBusy));
            }
        }
        let previous = self.applied.take();
        // A new cgroup has every CPU of its parent.
        let previous_cpus = previous
            .as_ref()
            .map_or(self.fresh.then_some(None), |p| Some(p.cpu_set.clone()));
        self.fresh = false;
        let kept = match (&self.cpuset, &limits.cpu_set) {
            (Some(cpuset), Some(cpus)) if previous_cpus.as_ref() == Some(&limits.cpu_set) => {
                cpuset.holds(cpus)?
            }
            _ => previous_cpus.as_ref() == Some(&limits.cpu_set),
        };
        if !kept {
            match (&self.cpuset, &limits.cpu_set) {
                (Some(cpuset), cpus) => cpuset.apply(cpus.as_ref())?,
                (None, None) => {}
                (None, Some(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "this container's cgroup has no cpuset",
                    ))
                }
            }
        }
        let previous = previous.as_ref();
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
        let memory_limit = limits.memory;
        self.applied = Some(limits);
        let held = c.current_memory()?;
        let base = Baseline {
            cpu_ns: c.cpu_ns()?,
            oom_kills: c.oom_kills()?,
            // A run's leaf starts empty.
            memory: match &self.leaves {
                Some(leaves) if leaves.hold_memory() => 0,
                _ => held,
            },
        };
        // Checked again with the limit in place (the init may have grown since).
        if memory_limit.is_some_and(|limit| held.saturating_add(INIT_ROOM) > limit) {
            // Lifted again until the next run, as after a run that left too much.
            c.apply_memory(None)?;
            if let Some(applied) = &mut self.applied {
                applied.memory = None;
            }
            return Err(io::Error::from(io::ErrorKind::ResourceBusy));
        }
        Ok(base)
    }

    /// CPU time used by the run so far.
    pub fn cpu_used(&self, base: &Baseline) -> io::Result<u64> {
        Ok(self.controllers.cpu_ns()?.saturating_sub(base.cpu_ns))
    }

    /// Memory charged to the cgroup now (outside a run: the file is closed again).
    pub fn current_memory(&self) -> io::Result<u64> {
        let current = self.controllers.current_memory();
        self.close_files();
        current
    }

    /// The run's totals, once its processes are gone. The memory figure is the
    /// peak above what the cgroup held when the run started: files the loan keeps in
    /// /w are not the run's. Page cache the run leaves (a compiler's binaries and
    /// headers) is given back before the next run, so it neither counts nor makes
    /// room the next run's peak would hide (see [`CACHE_KEPT`]). Closes the control
    /// files.
    pub fn end_run(&mut self, base: &Baseline) -> io::Result<Usage> {
        let usage = self.end_run_figures(base);
        self.close_files();
        usage
    }

    fn end_run_figures(&mut self, base: &Baseline) -> io::Result<Usage> {
        let usage = self.run_usage(base);
        // Whatever the reads gave, the run's leaf is done with: its counters (no
        // kernel resets pids.peak, nor memory.peak before 6.12) are never another
        // run's.
        if let Some(leaves) = &mut self.leaves {
            leaves.finish();
        }
        let usage = usage?;
        // One cheap read decides; memory.stat is read only when much is left.
        let left = self.controllers.current_memory()?;
        if left > 4 * CACHE_KEPT {
            self.reclaim_cache();
        }
        // Files the run left in /w and /tmp can fill the limit, and nothing of the
        // run is alive for the OOM killer to take: the init's own next allocation
        // would make it the victim. Lift the limit until the next run applies one
        // (refused there, as MEMORY_LIMIT_EXCEEDED, if the files still exceed it).
        if let Some(limit) = self.applied.as_ref().and_then(|applied| applied.memory) {
            if left.saturating_add(INIT_ROOM) > limit {
                self.controllers.apply_memory(None)?;
                if let Some(applied) = &mut self.applied {
                    applied.memory = None;
                }
            }
        }
        Ok(usage)
    }

    /// The run's figures, read before its leaf is finished.
    fn run_usage(&self, base: &Baseline) -> io::Result<Usage> {
        let peak = match &self.leaves {
            // A charge the container's limit refuses is first added to the leaf and
            // then taken back, but the leaf's watermark keeps it (up to a 2 MiB huge
            // page above the limit): the run never held more than its limit.
            Some(leaves) if leaves.hold_memory() => leaves.peak()?.min(
                self.applied
                    .as_ref()
                    .and_then(|a| a.memory)
                    .unwrap_or(u64::MAX),
            ),
            _ => self.controllers.peak_memory()?,
        };
        Ok(Usage {
            cpu_ns: self.cpu_used(base)?,
            peak_memory: peak.saturating_sub(base.memory),
            oom_killed: self.controllers.oom_kills()? > base.oom_kills,
            peak_processes: match &self.leaves {
                Some(leaves) => leaves.process_peak()?,
                None => None,
            },
        })
    }

    /// Between loans: the next borrower starts on every CPU (a program it starts
    /// beside a run, before any run, too), and the last run's leaf is removed and
    /// the next run's made, so a pooled run finds its leaf ready (on failure the
    /// next run makes its leaf itself, or reports why not).
    pub fn prepare_next_run(&mut self) -> io::Result<()> {
        if let Some(leaves) = &mut self.leaves {
            let _ = leaves.rotate();
        }
        let Some(applied) = self.applied.as_mut().filter(|a| a.cpu_set.is_some()) else {
            return Ok(());
        };
        let Some(cpuset) = &self.cpuset else {
            return Ok(());
        };
        let every_cpu = cpuset.apply(None);
        cpuset.close();
        match every_cpu {
            Ok(()) => applied.cpu_set = None,
            // The next run writes every limit again.
            Err(_) => self.applied = None,
        }
        every_cpu
    }

    /// Gives back the page cache charged to the cgroup when there is more than
    /// [`CACHE_KEPT`] of it, best effort.
    /// Closes the control files it opened.
    pub fn reclaim_cache(&self) {
        let c = &self.controllers;
        if c.reclaimable_cache().unwrap_or(0) > CACHE_KEPT {
            let _ = c.reclaim();
        }
        c.close_files();
    }
}

impl Drop for ContainerCgroup {
    fn drop(&mut self) {
        if let Some(leaves) = &mut self.leaves {
            leaves.clear();
        }
        keeper::remove(std::mem::take(&mut self.dirs));
    }
}

/// Removes (in the background) the directories made so far if creation fails
/// half-way.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        keeper::remove(std::mem::take(&mut self.0));
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
    let enabled = read_path(&control)?;
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
