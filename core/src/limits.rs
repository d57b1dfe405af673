//! Limits of one run: which the cgroup enforces, which become rlimits.

use crate::cgroup::RunLimits;
use crate::error::{Error, Result};
use crate::protocol::Rlimit;
use std::time::Duration;

/// The kernel's PID_MAX_LIMIT: pids.max takes nothing larger.
const MAX_PROCESSES: u32 = 1 << 22;

/// More cores than any machine has; a larger CFS quota overflows the kernel's range.
const MAX_CPU_RATE: f64 = 10_000.0;

/// Limits of one run. `None` means unlimited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// CPU time (user + system) of all processes and threads of the run. Watched in
    /// the cgroup by the host (every 10 ms or sooner), with RLIMIT_CPU as a backstop;
    /// without a cgroup, RLIMIT_CPU alone (whole seconds, per process).
    pub cpu_time: Option<Duration>,
    /// Wall-clock time, enforced by the host, which kills the whole run.
    pub wall_time: Option<Duration>,
    /// Memory of all processes of the run (cgroup limit, no swap). Without a memory
    /// cgroup it becomes RLIMIT_AS of each process (address space, not resident
    /// memory, and no MEMORY_LIMIT_EXCEEDED verdict: allocations simply fail).
    pub memory: Option<u64>,
    /// Bytes the program may write to any one file (RLIMIT_FSIZE) and, for
    /// `Container::run`, to each captured stream.
    pub output: Option<u64>,
    /// Processes and threads alive at once (pids cgroup): fork and clone fail with
    /// EAGAIN beyond it.
    pub processes: Option<u32>,
    /// CPU rate in cores (0.5 = half of one core), a CFS quota: slower, never killed.
    pub cpu_rate: Option<f64>,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: Option<u64>,
    /// Stack size in bytes (RLIMIT_STACK).
    pub stack: Option<u64>,
}

impl Limits {
    /// Rejects values that make no sense and limits this container cannot enforce.
    /// `no_cgroup` says why the container has no cgroup, when it has none.
    pub(crate) fn validate(&self, no_cgroup: Option<&str>) -> Result<()> {
        let positive = |what: &str, d: Option<Duration>| match d {
            Some(d) if d.is_zero() => Err(Error::invalid(format!("{what} limit must be positive"))),
            _ => Ok(()),
        };
        positive("wall time", self.wall_time)?;
        positive("CPU time", self.cpu_time)?;
        if self.memory == Some(0)
            || self.processes == Some(0)
            || self.open_files == Some(0)
            || self.stack == Some(0)
        {
            return Err(Error::invalid(
                "memory, process, open-file and stack limits must be positive",
            ));
        }
        if self.processes.is_some_and(|n| n > MAX_PROCESSES) {
            return Err(Error::invalid(format!(
                "a process limit above {MAX_PROCESSES} (the kernel's most pids) cannot be set"
            )));
        }
        if let Some(rate) = self.cpu_rate {
            if !(rate.is_finite() && (0.01..=MAX_CPU_RATE).contains(&rate)) {
                return Err(Error::invalid(format!(
                    "CPU rate {rate} must be from 0.01 to {MAX_CPU_RATE} cores"
                )));
            }
        }
        if let Some(why) = no_cgroup {
            let needs = |what: &str| {
                Err(Error::Unsupported(format!(
                    "a {what} limit needs the container's cgroup, which it does not have: {why}"
                )))
            };
            if self.processes.is_some() {
                return needs("process");
            }
            if self.cpu_rate.is_some() {
                return needs("CPU rate");
            }
        }
        Ok(())
    }

    /// The limits the cgroup applies.
    pub(crate) fn cgroup_limits(&self) -> RunLimits {
        RunLimits {
            memory: self.memory,
            // The init lives in the cgroup too.
            processes: self.processes.map(|n| n.saturating_add(1)),
            cpu_rate: self.cpu_rate,
        }
    }

    /// The rlimits the runner applies before exec. Core dumps are always off.
    pub(crate) fn rlimits(&self, has_cgroup: bool) -> Vec<Rlimit> {
        let limit = |resource: libc::__rlimit_resource_t, soft: u64, hard: u64| Rlimit {
            resource,
            soft,
            hard,
        };
        let mut out = vec![limit(libc::RLIMIT_CORE, 0, 0)];
        if let Some(cpu) = self.cpu_time {
            // The host kills at the limit; this backstop (SIGXCPU, then SIGKILL a
            // second later) only acts if the host cannot. Without a cgroup it is the
            // enforcement, rounded up to whole seconds.
            // Saturating: a limit near u64::MAX seconds is RLIM_INFINITY, not a panic.
            let seconds = cpu
                .as_secs()
                .saturating_add(u64::from(cpu.subsec_nanos() > 0));
            let soft = if has_cgroup {
                seconds.saturating_add(1)
            } else {
                seconds.max(1)
            };
            out.push(limit(libc::RLIMIT_CPU, soft, soft.saturating_add(1)));
        }
        if let (Some(bytes), false) = (self.memory, has_cgroup) {
            out.push(limit(libc::RLIMIT_AS, bytes, bytes));
        }
        if let Some(bytes) = self.output {
            out.push(limit(libc::RLIMIT_FSIZE, bytes, bytes));
        }
        if let Some(n) = self.open_files {
            out.push(limit(libc::RLIMIT_NOFILE, n, n));
        }
        if let Some(bytes) = self.stack {
            out.push(limit(libc::RLIMIT_STACK, bytes, bytes));
        }
        out
    }
}
