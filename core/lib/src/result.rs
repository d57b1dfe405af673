//! The verdict and figures of one run.

use std::fmt;
use std::time::Duration;

/// How a run ended. When several apply, the first in this order wins: RUNNER_ERROR,
/// DISALLOWED_SYSCALL, MEMORY_LIMIT_EXCEEDED, TIME_LIMIT_EXCEEDED,
/// WALL_TIME_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED, SIGNALLED, NONZERO_EXIT, OK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum Status {
    /// Exited with code 0.
    Ok = 0,
    /// Exited with a non-zero code.
    NonzeroExit = 1,
    /// Killed by a signal it did not catch.
    Signalled = 2,
    /// Used more CPU time than allowed.
    TimeLimitExceeded = 3,
    /// Ran longer (wall clock) than allowed; the host killed it.
    WallTimeLimitExceeded = 4,
    /// Needed more memory than allowed.
    MemoryLimitExceeded = 5,
    /// Wrote more than allowed to a file or to captured output.
    OutputLimitExceeded = 6,
    /// Made a system call the seccomp policy kills on.
    DisallowedSyscall = 7,
    /// The sandbox could not start the program (exec failed, bad working directory...);
    /// `RunResult::message` says why.
    RunnerError = 8,
}

impl Status {
    /// Every status, in the order of their codes.
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::NonzeroExit,
        Status::Signalled,
        Status::TimeLimitExceeded,
        Status::WallTimeLimitExceeded,
        Status::MemoryLimitExceeded,
        Status::OutputLimitExceeded,
        Status::DisallowedSyscall,
        Status::RunnerError,
    ];

    /// The name used in every language and in the CLI's JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::NonzeroExit => "NONZERO_EXIT",
            Status::Signalled => "SIGNALLED",
            Status::TimeLimitExceeded => "TIME_LIMIT_EXCEEDED",
            Status::WallTimeLimitExceeded => "WALL_TIME_LIMIT_EXCEEDED",
            Status::MemoryLimitExceeded => "MEMORY_LIMIT_EXCEEDED",
            Status::OutputLimitExceeded => "OUTPUT_LIMIT_EXCEEDED",
            Status::DisallowedSyscall => "DISALLOWED_SYSCALL",
            Status::RunnerError => "RUNNER_ERROR",
        }
    }
}

impl Status {
    /// Every status, the one that wins first: when several apply to a run, the
    /// earliest in this list is its status (the library's verdict decides in this
    /// order, and [`RunResult::note_output_over_limit`] follows it).
    pub const PRECEDENCE: [Status; 9] = [
        Status::RunnerError,
        Status::DisallowedSyscall,
        Status::MemoryLimitExceeded,
        Status::TimeLimitExceeded,
        Status::WallTimeLimitExceeded,
        Status::OutputLimitExceeded,
        Status::Signalled,
        Status::NonzeroExit,
        Status::Ok,
    ];

    /// Whether `self` wins over `other` when both apply to one run.
    pub fn outranks(self, other: Status) -> bool {
        let rank = |s: Status| Self::PRECEDENCE.iter().position(|&p| p == s);
        rank(self) < rank(other)
    }
}

/// The message of an OUTPUT_LIMIT_EXCEEDED verdict.
pub(crate) fn output_limit_message(limit: u64) -> String {
    format!("output limit of {limit} bytes exceeded")
}

impl RunResult {
    /// A result with `status` and nothing measured: no exit code or signal, zero
    /// times and memory, no output, no message. Set the fields that apply.
    pub fn new(status: Status) -> Self {
        Self {
            status,
            exit_code: None,
            signal: None,
            cpu_time: Duration::ZERO,
            user_time: Duration::ZERO,
            system_time: Duration::ZERO,
            wall_time: Duration::ZERO,
            memory: 0,
            peak_processes: None,
            setup_time: Duration::ZERO,
            accounting: Accounting::NoCgroup,
            stdout: Vec::new(),
            stderr: Vec::new(),
            message: String::new(),
        }
    }

    /// Records that the program wrote more than `limit` bytes to a stream the
    /// caller carried itself (a pipe it drained and cut at the limit), unless a
    /// status that outranks OUTPUT_LIMIT_EXCEEDED already applies.
    pub fn note_output_over_limit(&mut self, limit: u64) {
        if Status::OutputLimitExceeded.outranks(self.status) {
            self.status = Status::OutputLimitExceeded;
            self.message = output_limit_message(limit);
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What measured a run's CPU time and memory, and enforced its cgroup limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u32)]
#[non_exhaustive]
pub enum Accounting {
    /// No cgroup: CPU time from the init's RUSAGE_CHILDREN, memory from ru_maxrss,
    /// limits as rlimits (see the README's "Without a cgroup").
    #[default]
    NoCgroup = 0,
    /// The container's cgroup v1 (cpuacct, memory, pids, cpu).
    CgroupV1 = 1,
    /// The container's cgroup v2.
    CgroupV2 = 2,
}

impl Accounting {
    /// The name used in every language and in the CLI's JSON.
    pub fn name(self) -> &'static str {
        match self {
            Accounting::NoCgroup => "none",
            Accounting::CgroupV1 => "cgroup-v1",
            Accounting::CgroupV2 => "cgroup-v2",
        }
    }
}

impl fmt::Display for Accounting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one run did. Built by the library; [`RunResult::new`] makes one for tests
/// and for callers that report runs of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunResult {
    /// How the run ended.
    pub status: Status,
    /// Exit code of the main process, when it exited normally.
    pub exit_code: Option<i32>,
    /// Signal that killed the main process, when one did.
    pub signal: Option<i32>,
    /// User + system CPU time of every process and thread of the run (the cgroup's
    /// count less the init's own; without a cgroup, the init's RUSAGE_CHILDREN).
    pub cpu_time: Duration,
    /// The user-mode and kernel-mode parts of `cpu_time` (they add up to it; the
    /// split is the kernel's per-process accounting of the run's processes).
    pub user_time: Duration,
    /// The kernel-mode part of `cpu_time`.
    pub system_time: Duration,
    /// From the successful exec to the end of the main process.
    pub wall_time: Duration,
    /// Peak memory of the run, bytes: the container cgroup's peak (all processes,
    /// page cache and tmpfs files included); without a cgroup, ru_maxrss of the main
    /// process tree.
    pub memory: u64,
    /// The most processes and threads the run had at once (the kernel's pids.peak
    /// of a cgroup of the run's own: cgroup v2 before 6.12, or with
    /// `CgroupConfig::process_peak`, on kernels 6.1+); `None` where no counter of
    /// this run alone exists.
    pub peak_processes: Option<u64>,
    /// From the call to the program's exec: the sandbox's own cost.
    pub setup_time: Duration,
    /// What measured these figures.
    pub accounting: Accounting,
    /// Captured output (only filled by `Container::run`).
    pub stdout: Vec<u8>,
    /// Captured standard error (only filled by `Container::run`).
    pub stderr: Vec<u8>,
    /// Why, for RUNNER_ERROR and limit statuses; empty otherwise.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::{RunResult, Status};

    #[test]
    fn precedence_orders_every_status_once() {
        for status in Status::ALL {
            let count = Status::PRECEDENCE.iter().filter(|&&s| s == status).count();
            assert_eq!(count, 1, "{status}");
        }
        assert!(Status::RunnerError.outranks(Status::DisallowedSyscall));
        assert!(Status::OutputLimitExceeded.outranks(Status::Signalled));
        assert!(!Status::OutputLimitExceeded.outranks(Status::WallTimeLimitExceeded));
        assert!(!Status::Ok.outranks(Status::Ok));
    }

    #[test]
    fn output_over_limit_replaces_only_weaker_statuses() {
        let mut signalled = RunResult::runner_error("");
        signalled.status = Status::Signalled;
        signalled.note_output_over_limit(1024);
        assert_eq!(signalled.status, Status::OutputLimitExceeded);
        assert_eq!(signalled.message, "output limit of 1024 bytes exceeded");

        let mut timed_out = RunResult::runner_error("wall time");
        timed_out.status = Status::WallTimeLimitExceeded;
        timed_out.note_output_over_limit(1024);
        assert_eq!(timed_out.status, Status::WallTimeLimitExceeded);
        assert_eq!(timed_out.message, "wall time");
    }
}
