//! A fresh cgroup per run, for a peak of its own on cgroup v2 kernels that cannot
//! reset memory.peak (before 6.12) or have none (before 5.19), and for the run's
//! peak number of processes (pids.peak, 6.1+, which no kernel resets) where the
//! container asks for it ([`CgroupConfig::process_peak`](super::CgroupConfig)).
//!
//! The container's cgroup keeps the limits (they count the whole subtree); beneath
//! it the init lives in the leaf `init`, and each run's runner joins the leaf
//! `run-<n>` before its exec (a write to cgroup.procs, descriptor from the host), so
//! the leaf's memory.peak is that run's alone. The next run's leaf is made when a run
//! ends, and the finished one removed, so no mkdir waits between the request and
//! the exec. Page cache a run leaves stays charged to its removed leaf (still counted
//! in the container's cgroup until reclaimed) and is never another run's.
//!
//! Without memory.peak (5.10 to 5.18) no counter keeps a cgroup v2 peak: the figure
//! is what the run's leaf holds when it ends (files and page cache it left), and the
//! verdict takes the larger of that and the largest process's peak resident set.
//!
//! On cgroup v1 the leaves are made in the pids hierarchy only (the memory and CPU
//! figures have resettable counters there) and the runner joins by writing "0" to
//! the leaf's `tasks`: moving one thread, itself, takes no global lock, where
//! moving a whole process waits for an RCU grace period (milliseconds).

use super::knob::Knob;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

/// Which hierarchy the leaves live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// cgroup v2: every controller, the run's memory figures included.
    Unified,
    /// cgroup v1's pids hierarchy: the run's process count only.
    V1Pids,
}

/// The memory files of a v2 leaf.
struct MemoryKnobs {
    peak: Option<Knob>,
    current: Knob,
}

/// The leaf of one run: made ahead, joined by the runner, read and removed after.
struct Leaf {
    dir: PathBuf,
    procs: File,
    memory: Option<MemoryKnobs>,
    pids_peak: Option<Knob>,
}

impl Leaf {
    fn make(dir: PathBuf, kind: Kind) -> io::Result<Self> {
        super::mkdir(&dir)?;
        let open = || -> io::Result<Self> {
            let (join, memory) = match kind {
                Kind::Unified => (
                    "cgroup.procs",
                    Some(MemoryKnobs {
                        peak: Knob::open_optional(&dir, "memory.peak", false)?,
                        current: Knob::open(&dir, "memory.current", false)?,
                    }),
                ),
                Kind::V1Pids => ("tasks", None),
            };
            Ok(Self {
                procs: File::options().write(true).open(dir.join(join))?,
                memory,
                pids_peak: Knob::open_optional(&dir, "pids.peak", false)?,
                dir: dir.clone(),
            })
        };
        open().inspect_err(|_| super::remove_dir(&dir))
    }

    /// The run's memory peak: memory.peak where the kernel keeps one, else what the
    /// leaf still holds (v2 leaves; a v1 pids leaf has none: 0).
    fn peak(&self) -> io::Result<u64> {
        match &self.memory {
            Some(MemoryKnobs {
                peak: Some(peak), ..
            }) => peak.number(),
            Some(MemoryKnobs { current, .. }) => current.number(),
            None => Ok(0),
        }
    }
}

impl Drop for Leaf {
    fn drop(&mut self) {
        super::remove_dir(&self.dir);
    }
}

/// The run leaves of one container cgroup.
pub(super) struct RunLeaves {
    parent: PathBuf,
    kind: Kind,
    next: u64,
    leaf: Option<Leaf>,
    /// The leaf of a run that ended, removed (and the next made) at the reset, off
    /// a pool's path, or when the next run comes first.
    finished: Option<Leaf>,
}

impl RunLeaves {
    /// Moves `init_pid` into the leaf `init` of `parent` (a cgroup holding processes
    /// cannot give its children controllers), enables the controllers below
    /// `parent` and makes the first run's leaf. Returns the leaves and the init's
    /// leaf directory, for the caller to remove after the init is gone.
    pub fn settle(parent: &Path, init_pid: i32) -> io::Result<(Self, PathBuf)> {
        let init_dir = parent.join("init");
        super::mkdir(&init_dir)?;
        let moved = crate::eintr::retry(|| {
            std::fs::write(init_dir.join("cgroup.procs"), init_pid.to_string())
        })
        .and_then(|()| super::v2_enable_controllers(parent, false));
        if let Err(e) = moved {
            // The init stays where it was; the caller reports the failure.
            let _ = std::fs::write(parent.join("cgroup.procs"), init_pid.to_string());
            super::remove_dir(&init_dir);
            return Err(e);
        }
        let mut leaves = Self {
            parent: parent.to_path_buf(),
            kind: Kind::Unified,
            next: 0,
            leaf: None,
            finished: None,
        };
        leaves.prepare()?;
        Ok((leaves, init_dir))
    }

    /// Leaves below a container's cgroup in the v1 pids hierarchy, where the init
    /// stays (v1 lets a cgroup with processes have children).
    pub fn v1_pids(parent: &Path) -> io::Result<Self> {
        let mut leaves = Self {
            parent: parent.to_path_buf(),
            kind: Kind::V1Pids,
            next: 0,
            leaf: None,
            finished: None,
        };
        leaves.prepare()?;
        Ok(leaves)
    }

    /// Whether a run's memory figures come from its leaf (v2) or from the
    /// container's cgroup (v1).
    pub fn hold_memory(&self) -> bool {
        self.kind == Kind::Unified
    }

    fn prepare(&mut self) -> io::Result<()> {
        // A finished run's leaf goes before the next is made: one at a time.
        self.finished = None;
        if self.leaf.is_none() {
            let dir = self.parent.join(format!("run-{}", self.next));
            self.next += 1;
            self.leaf = Some(Leaf::make(dir, self.kind)?);
        }
        Ok(())
    }

    /// The cgroup.procs the next runner joins, its leaf made now if the last
    /// preparation failed.
    pub fn procs(&mut self) -> io::Result<BorrowedFd<'_>> {
        self.prepare()?;
        Ok(self.leaf.as_ref().expect("prepared").procs.as_fd())
    }

    /// The peak of the run in the current leaf (its processes are gone).
    pub fn peak(&self) -> io::Result<u64> {
        match &self.leaf {
            Some(leaf) => leaf.peak(),
            None => Ok(0),
        }
    }

    /// The most tasks (processes and threads) the run in the current leaf had at
    /// once, where the kernel counts them (pids.peak, 6.1+).
    pub fn process_peak(&self) -> io::Result<Option<u64>> {
        match self.leaf.as_ref().and_then(|leaf| leaf.pids_peak.as_ref()) {
            Some(peak) => peak.number().map(Some),
            None => Ok(None),
        }
    }

    /// The run in the current leaf ended and its figures are read: the leaf is
    /// done with, but removed later (`rotate`, or the next run's `procs`), so that
    /// the rmdir and the next mkdir are not between the run's end and its result.
    pub fn finish(&mut self) {
        if let Some(leaf) = self.leaf.take() {
            self.finished = Some(leaf);
        }
    }

    /// Removes a finished run's leaf and makes the next one.
    pub fn rotate(&mut self) -> io::Result<()> {
        if self.leaf.is_none() {
            self.prepare()?;
        }
        Ok(())
    }

    /// Removes the leaves (before the container's cgroup is removed).
    pub fn clear(&mut self) {
        self.leaf = None;
        self.finished = None;
    }
}
