//! Limits of one run: which the cgroup enforces, which become rlimits.

use crate::cgroup::RunLimits;
use crate::cpu_set::CpuSet;
use crate::error::{Error, Result};
use crate::protocol::Rlimit;
use std::time::Duration;

/// The kernel's PID_MAX_LIMIT: pids.max takes nothing larger.
const MAX_PROCESSES: u32 = 1 << 22;

/// More cores than any machine has; a larger CFS quota overflows the kernel's range.
const MAX_CPU_RATE: f64 = 10_000.0;

/// The smallest memory limit a program can be started under: the runner's kernel
/// stack, page tables and the exec of a small static binary take about 300 KiB of
/// charged memory, and the kernel refuses a limit below what the cgroup holds.
pub const MIN_MEMORY: u64 = 1 << 20;

/// What a run gets for a limit the caller leaves unset: enough for compilers,
/// interpreters and ordinary programs, never enough to hurt the host. README's
/// "Default limits" table lists them.
pub mod defaults {
    /// Processes and threads alive at once (the pids cgroup; RLIMIT_NPROC of the
    /// container's own uid without a cgroup).
    pub const PROCESSES: u32 = 256;
    /// Open descriptors (RLIMIT_NOFILE, soft and hard).
    pub const OPEN_FILES: u64 = 1024;
    /// Stack (RLIMIT_STACK, soft and hard).
    pub const STACK: u64 = 8 << 20;
    /// Locked memory (RLIMIT_MEMLOCK), the kernel's own default.
    pub const LOCKED_MEMORY: u64 = 8 << 20;
    /// Bytes in POSIX message queues (RLIMIT_MSGQUEUE), the kernel's own default.
    pub const MESSAGE_QUEUE_BYTES: u64 = 819_200;
    /// Queued signals (RLIMIT_SIGPENDING).
    pub const PENDING_SIGNALS: u64 = 4096;
}

/// How this container can enforce limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Enforcement<'a> {
    /// Why the container has no cgroup, when it has none.
    pub no_cgroup: Option<&'a str>,
    /// The program's uid is the container's alone (not shared with the host or with
    /// other containers), so per-uid limits such as RLIMIT_NPROC are its own.
    pub own_uid: bool,
    /// Why a CPU set cannot be enforced, when it cannot.
    pub no_cpuset: Option<&'a str>,
}

/// Limits of one run. `None` means the default of [`defaults`] where there is one,
/// unlimited otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Limits {
    /// CPU time (user + system) of all processes and threads of the run. Watched in
    /// the cgroup by the host (every 10 ms or sooner), with RLIMIT_CPU as a backstop;
    /// without a cgroup, RLIMIT_CPU alone (whole seconds, per process).
    pub cpu_time: Option<Duration>,
    /// Wall-clock time from the program's exec, enforced by the init, which kills the
    /// whole run.
    pub wall_time: Option<Duration>,
    /// Memory of all processes of the run (cgroup limit, no swap), at least
    /// [`MIN_MEMORY`]. Without a memory cgroup it becomes RLIMIT_AS of each process
    /// (address space, not resident memory, and no MEMORY_LIMIT_EXCEEDED verdict:
    /// allocations simply fail).
    pub memory: Option<u64>,
    /// Address space of each process (RLIMIT_AS): allocations beyond it fail, as
    /// under isolate's and Judger's memory limits. Independent of `memory`.
    pub address_space: Option<u64>,
    /// Bytes the program may write to any one file (RLIMIT_FSIZE) and, for
    /// `Container::run`, to each captured stream.
    pub output: Option<u64>,
    /// Processes and threads alive at once (pids cgroup): fork and clone fail with
    /// EAGAIN beyond it. Default [`defaults::PROCESSES`].
    pub processes: Option<u32>,
    /// CPU rate in cores (0.5 = half of one core), a CFS quota: slower, never killed.
    pub cpu_rate: Option<f64>,
    /// Open file descriptors (RLIMIT_NOFILE). Default [`defaults::OPEN_FILES`].
    pub open_files: Option<u64>,
    /// Stack size in bytes (RLIMIT_STACK). Default [`defaults::STACK`].
    pub stack: Option<u64>,
    /// The CPUs the run's processes may run on, a hard limit: the container's
    /// cgroup cpuset (cpuset.cpus), which no process inside can widen
    /// (sched_setaffinity only chooses within it). Every CPU must be one the
    /// library's own cgroup may use; without a cpuset controller the run is
    /// refused ([`Error::Unsupported`]). `None`: every CPU the library's cgroup
    /// may use.
    pub cpu_set: Option<CpuSet>,
}

const INFINITY: u64 = libc::RLIM_INFINITY;

impl Limits {
    /// Rejects values that make no sense and limits this container cannot enforce.
    pub(crate) fn validate(&self, how: Enforcement<'_>) -> Result<()> {
        let positive = |what: &str, d: Option<Duration>| match d {
            Some(d) if d.is_zero() => Err(Error::invalid(format!("{what} limit must be positive"))),
            _ => Ok(()),
        };
        positive("wall time", self.wall_time)?;
        positive("CPU time", self.cpu_time)?;
        if self.processes == Some(0)
            || self.open_files == Some(0)
            || self.stack == Some(0)
            || self.address_space == Some(0)
        {
            return Err(Error::invalid(
                "process, open-file, stack and address-space limits must be positive",
            ));
        }
        if self.memory.is_some_and(|m| m < MIN_MEMORY) {
            return Err(Error::invalid(format!(
                "a memory limit below {MIN_MEMORY} bytes (1 MiB) cannot start any program"
            )));
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
        if let Some(why) = how.no_cgroup {
            let needs = |what: &str| {
                Err(Error::Unsupported(format!(
                    "a {what} limit needs the container's cgroup, which it does not have: {why}"
                )))
            };
            // Without a cgroup, RLIMIT_NPROC counts the processes of the program's
            // uid: exact only when that uid is the container's alone.
            if self.processes.is_some() && !how.own_uid {
                return needs("process");
            }
            if self.cpu_rate.is_some() {
                return needs("CPU rate");
            }
        }
        if let (Some(cpus), Some(why)) = (&self.cpu_set, how.no_cpuset) {
            return Err(Error::Unsupported(format!(
                "a CPU set limit ({cpus}) needs the cgroup cpuset controller: {why}"
            )));
        }
        Ok(())
    }

    /// The limits the cgroup applies. `helpers` are the container's own processes
    /// in the cgroup during a run (the init; in rootless mode also the run's
    /// reaper), which the program's process limit must not pay for.
    pub(crate) fn cgroup_limits(&self, helpers: u32) -> RunLimits {
        RunLimits {
            memory: self.memory,
            processes: Some(
                self.processes
                    .unwrap_or(defaults::PROCESSES)
                    .saturating_add(helpers),
            ),
            cpu_rate: self.cpu_rate,
            cpu_set: self.cpu_set.clone(),
        }
    }

    /// Every resource limit the runner sets before exec: nothing is inherited from
    /// the host or the init, so each run starts from the same known state. Core dumps
    /// are always off.
    pub(crate) fn rlimits(&self, how: Enforcement<'_>) -> Vec<Rlimit> {
        let has_cgroup = how.no_cgroup.is_none();
        let limit = |resource: RlimitResource, soft: u64, hard: u64| Rlimit {
            resource: resource_number(resource),
            soft,
            hard,
        };
        let both = |resource, value| limit(resource, value, value);
        let cpu = match self.cpu_time {
            // The host kills at the limit; this backstop (SIGXCPU, then SIGKILL a
            // second later) only acts if the host cannot. Without a cgroup it is the
            // enforcement, rounded up to whole seconds.
            // Saturating: a limit near u64::MAX seconds is RLIM_INFINITY, not a panic.
            Some(cpu) => {
                let seconds = cpu
                    .as_secs()
                    .saturating_add(u64::from(cpu.subsec_nanos() > 0));
                let soft = if has_cgroup {
                    seconds.saturating_add(1)
                } else {
                    seconds.max(1)
                };
                limit(libc::RLIMIT_CPU, soft, soft.saturating_add(1))
            }
            None => both(libc::RLIMIT_CPU, INFINITY),
        };
        let address_space = match (self.address_space, self.memory, has_cgroup) {
            (Some(bytes), _, _) => bytes,
            (None, Some(bytes), false) => bytes,
            _ => INFINITY,
        };
        let processes = match (has_cgroup, how.own_uid) {
            // The pids cgroup counts them; RLIMIT_NPROC would also count other
            // containers' processes where the uid is shared.
            (true, _) | (false, false) => INFINITY,
            (false, true) => u64::from(self.processes.unwrap_or(defaults::PROCESSES)),
        };
        vec![
            cpu,
            both(libc::RLIMIT_FSIZE, self.output.unwrap_or(INFINITY)),
            both(libc::RLIMIT_DATA, INFINITY),
            both(libc::RLIMIT_STACK, self.stack.unwrap_or(defaults::STACK)),
            both(libc::RLIMIT_CORE, 0),
            both(libc::RLIMIT_RSS, INFINITY),
            both(libc::RLIMIT_NPROC, processes),
            both(
                libc::RLIMIT_NOFILE,
                self.open_files.unwrap_or(defaults::OPEN_FILES),
            ),
            both(libc::RLIMIT_MEMLOCK, defaults::LOCKED_MEMORY),
            both(libc::RLIMIT_AS, address_space),
            both(libc::RLIMIT_LOCKS, INFINITY),
            both(libc::RLIMIT_SIGPENDING, defaults::PENDING_SIGNALS),
            both(libc::RLIMIT_MSGQUEUE, defaults::MESSAGE_QUEUE_BYTES),
            both(libc::RLIMIT_NICE, 0),
            both(libc::RLIMIT_RTPRIO, 0),
            both(libc::RLIMIT_RTTIME, INFINITY),
        ]
    }
}

/// How the C library types an `RLIMIT_*` constant: glibc as an unsigned int, musl
/// as an int.
#[cfg(target_env = "gnu")]
type RlimitResource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type RlimitResource = libc::c_int;

/// An `RLIMIT_*` constant as the protocol carries it.
#[allow(clippy::unnecessary_cast)] // a cast only where the C library types it as int
const fn resource_number(resource: RlimitResource) -> u32 {
    resource as u32
}
