//! How a run's result reaches the user: an exit status and a note on stderr, or a
//! JSON object.

use crate::json_out::{self, seconds};
use scpool_core::{RunResult, Status};
use serde::Serialize;
use std::borrow::Cow;
use std::time::Duration;

/// Exit status when a limit was exceeded (as timeout(1) uses for its limit).
pub const EXIT_LIMIT_EXCEEDED: u8 = 124;
/// Exit status when the sandbox could not run the program, or killed it for a
/// disallowed system call.
pub const EXIT_NOT_RUN: u8 = 125;

/// The exit status of `scpool run` without --json (documented in `scpool run --help`).
pub fn exit_status(result: &RunResult) -> u8 {
    match result.status {
        // Exit codes are 0-255 already; the mask only makes that explicit.
        Status::Ok | Status::NonzeroExit => (result.exit_code.unwrap_or(0) & 0xff) as u8,
        Status::Signalled => match result.signal {
            Some(signal) => 128u8.saturating_add(signal.clamp(0, 127) as u8),
            None => EXIT_NOT_RUN,
        },
        Status::TimeLimitExceeded
        | Status::WallTimeLimitExceeded
        | Status::MemoryLimitExceeded
        | Status::OutputLimitExceeded => EXIT_LIMIT_EXCEEDED,
        // A status newer than this CLI: the sandbox's verdict, not the program's.
        _ => EXIT_NOT_RUN,
    }
}

/// The line printed on stderr for statuses the exit status alone does not explain.
pub fn status_note(result: &RunResult) -> Option<String> {
    match result.status {
        Status::Ok | Status::NonzeroExit | Status::Signalled => None,
        status if result.message.is_empty() => Some(format!("scpool: {status}")),
        status => Some(format!("scpool: {status}: {}", result.message)),
    }
}

/// The JSON object of `scpool run --json`: one line, the keys in this order.
#[derive(Serialize)]
struct RunJson<'a> {
    status: &'static str,
    exit_code: Option<i32>,
    signal: Option<i32>,
    #[serde(serialize_with = "seconds")]
    cpu_time: Duration,
    #[serde(serialize_with = "seconds")]
    user_time: Duration,
    #[serde(serialize_with = "seconds")]
    system_time: Duration,
    #[serde(serialize_with = "seconds")]
    wall_time: Duration,
    memory: u64,
    peak_processes: Option<u64>,
    #[serde(serialize_with = "seconds")]
    setup_time: Duration,
    accounting: &'static str,
    /// Text: invalid UTF-8 becomes U+FFFD.
    stdout: Cow<'a, str>,
    stderr: Cow<'a, str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
}

/// The result as one line of JSON.
pub fn to_json(result: &RunResult) -> String {
    let json = RunJson {
        status: result.status.name(),
        exit_code: result.exit_code,
        signal: result.signal,
        cpu_time: result.cpu_time,
        user_time: result.user_time,
        system_time: result.system_time,
        wall_time: result.wall_time,
        memory: result.memory,
        peak_processes: result.peak_processes,
        setup_time: result.setup_time,
        accounting: result.accounting.name(),
        stdout: String::from_utf8_lossy(&result.stdout),
        stderr: String::from_utf8_lossy(&result.stderr),
        message: &result.message,
    };
    json_out::to_line(&json).expect("a run's JSON has only strings and numbers")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Status, exit_code: Option<i32>, signal: Option<i32>) -> RunResult {
        let mut r = RunResult::new(status);
        r.exit_code = exit_code;
        r.signal = signal;
        r.cpu_time = Duration::from_millis(3);
        r.user_time = Duration::from_millis(2);
        r.system_time = Duration::from_millis(1);
        r.wall_time = Duration::from_micros(4500);
        r.memory = 2 << 20;
        r.setup_time = Duration::from_micros(250);
        r.accounting = scpool_core::Accounting::CgroupV1;
        r.stdout = b"hi\n".to_vec();
        r.stderr = b"\"oops\"\xff".to_vec();
        r
    }

    #[test]
    fn exit_status_follows_the_program() {
        assert_eq!(exit_status(&result(Status::Ok, Some(0), None)), 0);
        assert_eq!(exit_status(&result(Status::NonzeroExit, Some(3), None)), 3);
        assert_eq!(
            exit_status(&result(Status::NonzeroExit, Some(255), None)),
            255
        );
        assert_eq!(exit_status(&result(Status::Signalled, None, Some(9))), 137);
        assert_eq!(exit_status(&result(Status::Signalled, None, Some(11))), 139);
    }

    #[test]
    fn exit_status_of_sandbox_verdicts() {
        let killed = result(Status::WallTimeLimitExceeded, None, Some(9));
        assert_eq!(exit_status(&killed), EXIT_LIMIT_EXCEEDED);
        let not_run = result(Status::RunnerError, None, None);
        assert_eq!(exit_status(&not_run), EXIT_NOT_RUN);
        let syscall = result(Status::DisallowedSyscall, None, Some(31));
        assert_eq!(exit_status(&syscall), EXIT_NOT_RUN);
    }

    #[test]
    fn notes_only_for_sandbox_verdicts() {
        assert_eq!(
            status_note(&result(Status::NonzeroExit, Some(1), None)),
            None
        );
        assert_eq!(status_note(&result(Status::Signalled, None, Some(9))), None);
        let mut failed = result(Status::RunnerError, None, None);
        failed.message = "execve failed".into();
        assert_eq!(
            status_note(&failed).as_deref(),
            Some("scpool: RUNNER_ERROR: execve failed")
        );
    }

    #[test]
    fn output_over_limit_follows_the_librarys_precedence() {
        let mut piped = result(Status::Signalled, None, Some(13));
        piped.note_output_over_limit(1024);
        assert_eq!(piped.status, Status::OutputLimitExceeded);
        assert_eq!(exit_status(&piped), EXIT_LIMIT_EXCEEDED);
        let mut timed_out = result(Status::WallTimeLimitExceeded, None, Some(9));
        timed_out.note_output_over_limit(1024);
        assert_eq!(timed_out.status, Status::WallTimeLimitExceeded);
    }

    #[test]
    fn json_has_every_field() {
        assert_eq!(
            to_json(&result(Status::Ok, Some(0), None)),
            r#"{"status":"OK","exit_code":0,"signal":null,"cpu_time":0.003000000,"user_time":0.002000000,"system_time":0.001000000,"wall_time":0.004500000,"memory":2097152,"peak_processes":null,"setup_time":0.000250000,"accounting":"cgroup-v1","stdout":"hi\n","stderr":"\"oops\"�"}"#
        );
        let mut killed = result(Status::WallTimeLimitExceeded, None, Some(9));
        killed.message = "wall time limit of 500ms exceeded".into();
        let json = to_json(&killed);
        assert!(json.contains(r#""exit_code":null,"signal":9,"#), "{json}");
        assert!(json.ends_with(r#","message":"wall time limit of 500ms exceeded"}"#));
    }
}
