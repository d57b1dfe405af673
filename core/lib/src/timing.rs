//! Where the time of one run went, from instants the host and the init both read
//! on CLOCK_MONOTONIC (no time namespace separates them).

use crate::protocol::ExecReport;
use std::time::Duration;

/// The parts of one `execve`, in order; they add up to the call's duration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunTiming {
    /// From the call to the init's receipt of the request: checks, the cgroup's
    /// limits and counters, the message.
    pub message: Duration,
    /// From the receipt to the program's exec: the runner (the standby's wake-up,
    /// or a clone and its set-up).
    pub exec: Duration,
    /// From the exec to the init's reaping of the program: the program itself.
    pub wait: Duration,
    /// The init's clean-up and figures after the program ended, and the host's
    /// reading of the cgroup and verdict after the reply.
    pub accounting: Duration,
    /// From the init's reply to its arrival at the host.
    pub reply: Duration,
    /// The init's standby runner became the program.
    pub standby: bool,
}

impl RunTiming {
    /// `called_ns`: the call; `arrived_ns`: the reply's arrival; `done_ns`: the end.
    pub(crate) fn of(report: &ExecReport, called_ns: u64, arrived_ns: u64, done_ns: u64) -> Self {
        let span = |from: u64, to: u64| Duration::from_nanos(to.saturating_sub(from));
        Self {
            message: span(called_ns, report.received_ns),
            exec: span(report.received_ns, report.started_ns),
            wait: span(report.started_ns, report.ended_ns),
            accounting: span(report.ended_ns, report.replied_ns) + span(arrived_ns, done_ns),
            reply: span(report.replied_ns, arrived_ns),
            standby: report.standby,
        }
    }
}
