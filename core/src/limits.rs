//! Limits of one run and how they become rlimits.

use crate::error::{Error, Result};
use crate::protocol::Rlimit;
use std::time::Duration;

/// Limits of one run. `None` means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// CPU time of all processes of the run (needs cgroup accounting; not yet
    /// enforced: setting it is an `Unsupported` error rather than a silent no-op).
    pub cpu_time: Option<Duration>,
    /// Wall-clock time, enforced by the host, which kills the whole run.
    pub wall_time: Option<Duration>,
    /// Memory of all processes (needs the memory cgroup; not yet enforced).
    pub memory: Option<u64>,
    /// Bytes the program may write to any one file (RLIMIT_FSIZE) and, for
    /// `Container::run`, to each captured stream.
    pub output: Option<u64>,
    /// Processes and threads (needs the pids cgroup; not yet enforced).
    pub processes: Option<u32>,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: Option<u64>,
    /// Stack size in bytes (RLIMIT_STACK).
    pub stack: Option<u64>,
}

impl Limits {
    /// Rejects what cannot be enforced and values that make no sense.
    pub(crate) fn validate(&self) -> Result<()> {
        let pending = |what: &str| {
            Err(Error::Unsupported(format!(
                "{what} limit needs cgroup accounting, which this build does not have yet"
            )))
        };
        if self.cpu_time.is_some() {
            return pending("CPU time");
        }
        if self.memory.is_some() {
            return pending("memory");
        }
        if self.processes.is_some() {
            return pending("process");
        }
        if self.wall_time.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid("wall time limit must be positive"));
        }
        if self.open_files == Some(0) {
            return Err(Error::invalid("open files limit must be at least 1"));
        }
        Ok(())
    }

    /// The rlimits the runner applies before exec. Core dumps are always off.
    pub(crate) fn rlimits(&self) -> Vec<Rlimit> {
        let fixed = |resource: libc::__rlimit_resource_t, value: u64| Rlimit {
            resource,
            soft: value,
            hard: value,
        };
        let mut out = vec![fixed(libc::RLIMIT_CORE, 0)];
        if let Some(bytes) = self.output {
            out.push(fixed(libc::RLIMIT_FSIZE, bytes));
        }
        if let Some(n) = self.open_files {
            out.push(fixed(libc::RLIMIT_NOFILE, n));
        }
        if let Some(bytes) = self.stack {
            out.push(fixed(libc::RLIMIT_STACK, bytes));
        }
        out
    }
}
