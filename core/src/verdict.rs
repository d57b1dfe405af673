//! From what the init measured to a `RunResult` with its status.

use crate::limits::Limits;
use crate::protocol::{ExecReport, Outcome};
use crate::result::{RunResult, Status};
use std::time::Duration;

impl RunResult {
    pub(crate) fn runner_error(message: impl Into<String>) -> Self {
        Self {
            status: Status::RunnerError,
            exit_code: None,
            signal: None,
            cpu_time: Duration::ZERO,
            wall_time: Duration::ZERO,
            memory: 0,
            setup_time: Duration::ZERO,
            stdout: Vec::new(),
            stderr: Vec::new(),
            message: message.into(),
        }
    }
}

fn errno_text(errno: i32) -> &'static str {
    nix::errno::Errno::from_raw(errno).desc()
}

/// Status precedence: RUNNER_ERROR, WALL_TIME_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED,
/// SIGNALLED, NONZERO_EXIT, OK.
pub(crate) fn judge(
    report: &ExecReport,
    called_ns: u64,
    limits: &Limits,
    killed_for_wall_time: bool,
) -> RunResult {
    let (exit_code, signal) = match report.outcome {
        Outcome::Exited(code) => (Some(code), None),
        Outcome::Signaled(sig) => (None, Some(sig)),
        Outcome::ExecFailed { .. } => (None, None),
    };
    let (status, message) = match report.outcome {
        Outcome::ExecFailed { stage, errno } => (
            Status::RunnerError,
            format!(
                "{} failed: {} (errno {errno})",
                stage.describe(),
                errno_text(errno)
            ),
        ),
        _ if killed_for_wall_time => (
            Status::WallTimeLimitExceeded,
            format!(
                "wall time limit of {:?} exceeded",
                limits.wall_time.unwrap_or_default()
            ),
        ),
        _ if report.file_size_exceeded && limits.output.is_some() => (
            Status::OutputLimitExceeded,
            format!(
                "output limit of {} bytes exceeded",
                limits.output.unwrap_or_default()
            ),
        ),
        Outcome::Signaled(_) => (Status::Signalled, String::new()),
        Outcome::Exited(0) => (Status::Ok, String::new()),
        Outcome::Exited(_) => (Status::NonzeroExit, String::new()),
    };
    RunResult {
        status,
        exit_code,
        signal,
        cpu_time: Duration::from_micros(report.user_us + report.system_us),
        wall_time: Duration::from_nanos(report.ended_ns.saturating_sub(report.started_ns)),
        memory: report.maxrss_kib * 1024,
        setup_time: Duration::from_nanos(report.started_ns.saturating_sub(called_ns)),
        stdout: Vec::new(),
        stderr: Vec::new(),
        message,
    }
}
