//! From what the init and the cgroup measured to a `RunResult` with its status.

use crate::cgroup::Usage;
use crate::limits::Limits;
use crate::protocol::{ExecReport, Outcome};
use crate::result::{Accounting, RunResult, Status};
use std::time::Duration;

impl RunResult {
    pub(crate) fn runner_error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::new(Status::RunnerError)
        }
    }
}

impl RunResult {
    /// A run refused before it started because the container already holds so much
    /// of its memory limit that no program could start (files earlier runs of this
    /// loan left in /w and /tmp count against it).
    pub(crate) fn over_memory_before_start(limit: u64, held: u64, accounting: Accounting) -> Self {
        Self {
            status: Status::MemoryLimitExceeded,
            memory: held,
            accounting,
            ..Self::runner_error(format!(
                "the container already holds {held} bytes (files in /w and /tmp count): \
                 no room to start a program under the memory limit of {limit} bytes"
            ))
        }
    }
}

/// Everything known about a finished run.
pub(crate) struct Evidence<'a> {
    pub report: &'a ExecReport,
    /// The cgroup's figures, when the container has a cgroup.
    pub usage: Option<Usage>,
    pub called_ns: u64,
    pub limits: &'a Limits,
    /// The seccomp policy kills (so SIGSYS means a disallowed call).
    pub seccomp_kills: bool,
    pub killed_for_wall_time: bool,
    pub killed_for_cpu_time: bool,
    pub accounting: Accounting,
}

/// Splits `total` in the proportion of the run's user and system time as the
/// kernel's per-process accounting saw them, so the parts add up to the total.
fn split(total: Duration, user_us: u64, system_us: u64) -> (Duration, Duration) {
    let sum = user_us.saturating_add(system_us);
    if sum == 0 {
        return (Duration::ZERO, total);
    }
    let total_ns = total.as_nanos();
    let user = Duration::from_nanos((total_ns * u128::from(user_us) / u128::from(sum)) as u64);
    (user, total.saturating_sub(user))
}

fn describe(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Status precedence, first match wins, in the order of [`Status::PRECEDENCE`]:
/// RUNNER_ERROR, DISALLOWED_SYSCALL (the main process or any other of the run
/// killed by SIGSYS under a policy that kills), MEMORY_LIMIT_EXCEEDED,
/// TIME_LIMIT_EXCEEDED, WALL_TIME_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED, SIGNALLED,
/// NONZERO_EXIT, OK.
pub(crate) fn judge(e: &Evidence<'_>) -> RunResult {
    let report = e.report;
    let cpu_time = match e.usage {
        // The init shares the cgroup: its own CPU during the run is not the program's.
        Some(usage) => Duration::from_nanos(usage.cpu_ns.saturating_sub(report.init_cpu_us * 1000)),
        None => Duration::from_micros(report.user_us + report.system_us),
    };
    // SIGXCPU means the kernel's own count of the process's CPU time reached the
    // RLIMIT_CPU set from the limit; the rusage figure can lag behind it on a busy
    // machine, but a time-limit verdict never reports less than its limit.
    let cpu_time = match (e.limits.cpu_time, report.outcome) {
        (Some(limit), Outcome::Signaled(libc::SIGXCPU)) => cpu_time.max(limit),
        _ => cpu_time,
    };
    let memory = match e.usage {
        // The cgroup's peak above the run's start is charged in batches of 64 pages
        // per CPU, so a tiny run can read 0: it used at least its largest process's
        // resident set.
        // A resident set also counts shared file pages charged to other cgroups
        // (libc cached by the host): under a memory limit it can read above the
        // limit the cgroup held the run to, so it counts up to that limit only.
        Some(usage) => usage
            .peak_memory
            .max((report.maxrss_kib * 1024).min(e.limits.memory.unwrap_or(u64::MAX))),
        None => report.maxrss_kib * 1024,
    };
    let (exit_code, signal) = match report.outcome {
        Outcome::Exited(code) => (Some(code), None),
        Outcome::Signaled(sig) => (None, Some(sig)),
        Outcome::ExecFailed { .. } => (None, None),
    };
    // RLIMIT_CPU's SIGXCPU counts too: without a cgroup it is the enforcement, and
    // the kernel's count that fired it can be ahead of the rusage figure we report.
    let over_cpu = e.limits.cpu_time.is_some_and(|limit| {
        cpu_time > limit || report.outcome == Outcome::Signaled(libc::SIGXCPU)
    });
    let oom_killed = e.limits.memory.is_some() && e.usage.is_some_and(|u| u.oom_killed);
    let memory_limited = e.limits.memory.is_some() || e.limits.address_space.is_some();
    let (status, message) = match report.outcome {
        // Under a memory limit, an exec the kernel could not find memory for is the
        // program's verdict, not the sandbox's failure.
        Outcome::ExecFailed { errno, .. } if errno == libc::ENOMEM && memory_limited => (
            Status::MemoryLimitExceeded,
            "the program could not be loaded within the memory limit".to_string(),
        ),
        Outcome::ExecFailed { stage, errno } => (
            Status::RunnerError,
            format!(
                "{} failed: {} (errno {errno})",
                stage.describe(),
                nix::errno::Errno::from_raw(errno).desc()
            ),
        ),
        Outcome::Signaled(libc::SIGSYS) if e.seccomp_kills => (
            Status::DisallowedSyscall,
            "killed by the seccomp policy for a disallowed system call".to_string(),
        ),
        // A child killed for a forbidden call (the shell of system() under the
        // single-program policy) is as much a verdict as the main process.
        _ if e.seccomp_kills && report.sigsys_killed => (
            Status::DisallowedSyscall,
            "a process of the run was killed by the seccomp policy for a disallowed \
             system call"
                .to_string(),
        ),
        _ if oom_killed => (
            Status::MemoryLimitExceeded,
            format!(
                "memory limit of {} bytes exceeded",
                e.limits.memory.unwrap_or_default()
            ),
        ),
        _ if e.killed_for_cpu_time || over_cpu => (
            Status::TimeLimitExceeded,
            format!(
                "CPU time limit of {} exceeded",
                describe(e.limits.cpu_time.unwrap_or_default())
            ),
        ),
        _ if e.killed_for_wall_time => (
            Status::WallTimeLimitExceeded,
            format!(
                "wall time limit of {} exceeded",
                describe(e.limits.wall_time.unwrap_or_default())
            ),
        ),
        _ if report.file_size_exceeded && e.limits.output.is_some() => (
            Status::OutputLimitExceeded,
            crate::result::output_limit_message(e.limits.output.unwrap_or_default()),
        ),
        Outcome::Signaled(_) => (Status::Signalled, String::new()),
        Outcome::Exited(0) => (Status::Ok, String::new()),
        Outcome::Exited(_) => (Status::NonzeroExit, String::new()),
    };
    let (user_time, system_time) = split(cpu_time, report.user_us, report.system_us);
    RunResult {
        status,
        exit_code,
        signal,
        cpu_time,
        user_time,
        system_time,
        wall_time: Duration::from_nanos(report.ended_ns.saturating_sub(report.started_ns)),
        memory,
        peak_processes: e.usage.and_then(|u| u.peak_processes),
        setup_time: Duration::from_nanos(report.started_ns.saturating_sub(e.called_ns)),
        accounting: e.accounting,
        stdout: Vec::new(),
        stderr: Vec::new(),
        message,
    }
}
