//! scpool's verdicts in go-judge's words: the status strings and `exitStatus`.

use scpool_core::Status;

pub const ACCEPTED: &str = "Accepted";
pub const MEMORY_LIMIT_EXCEEDED: &str = "Memory Limit Exceeded";
pub const TIME_LIMIT_EXCEEDED: &str = "Time Limit Exceeded";
pub const OUTPUT_LIMIT_EXCEEDED: &str = "Output Limit Exceeded";
pub const FILE_ERROR: &str = "File Error";
pub const NONZERO_EXIT_STATUS: &str = "Nonzero Exit Status";
pub const SIGNALLED: &str = "Signalled";
pub const DANGEROUS_SYSCALL: &str = "Dangerous Syscall";
pub const INTERNAL_ERROR: &str = "Internal Error";

/// The go-judge status of a run. `collector_overflow`: an output collector of the
/// service received more than its `max`, which go-judge reports as Output Limit
/// Exceeded; it outranks what the program did after its output was cut (a
/// SIGPIPE, a nonzero exit) but not a time or memory verdict, as scpool orders
/// its own statuses.
pub fn go_judge_status(status: Status, collector_overflow: bool) -> &'static str {
    match status {
        Status::MemoryLimitExceeded => MEMORY_LIMIT_EXCEEDED,
        // go-judge has one status for CPU and wall-clock time.
        Status::TimeLimitExceeded | Status::WallTimeLimitExceeded => TIME_LIMIT_EXCEEDED,
        Status::OutputLimitExceeded => OUTPUT_LIMIT_EXCEEDED,
        Status::DisallowedSyscall => DANGEROUS_SYSCALL,
        Status::RunnerError => INTERNAL_ERROR,
        _ if collector_overflow => OUTPUT_LIMIT_EXCEEDED,
        Status::Ok => ACCEPTED,
        Status::NonzeroExit => NONZERO_EXIT_STATUS,
        Status::Signalled => SIGNALLED,
        // A status newer than this service: nothing it can name.
        _ => INTERNAL_ERROR,
    }
}

/// go-judge's `exitStatus`: the signal's number when a signal ended the program,
/// else its exit code (0 when neither is known).
pub fn exit_status(exit_code: Option<i32>, signal: Option<i32>) -> i32 {
    signal.or(exit_code).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scpool_status_has_its_go_judge_name() {
        let table = [
            (Status::Ok, false, "Accepted"),
            (Status::NonzeroExit, false, "Nonzero Exit Status"),
            (Status::Signalled, false, "Signalled"),
            (Status::TimeLimitExceeded, false, "Time Limit Exceeded"),
            (Status::WallTimeLimitExceeded, false, "Time Limit Exceeded"),
            (Status::MemoryLimitExceeded, false, "Memory Limit Exceeded"),
            (Status::OutputLimitExceeded, false, "Output Limit Exceeded"),
            (Status::DisallowedSyscall, false, "Dangerous Syscall"),
            (Status::RunnerError, false, "Internal Error"),
            (Status::Ok, true, "Output Limit Exceeded"),
            (Status::NonzeroExit, true, "Output Limit Exceeded"),
            (Status::Signalled, true, "Output Limit Exceeded"),
            (Status::TimeLimitExceeded, true, "Time Limit Exceeded"),
            (Status::WallTimeLimitExceeded, true, "Time Limit Exceeded"),
            (Status::MemoryLimitExceeded, true, "Memory Limit Exceeded"),
            (Status::RunnerError, true, "Internal Error"),
        ];
        for (status, overflow, name) in table {
            assert_eq!(
                go_judge_status(status, overflow),
                name,
                "{status:?} {overflow}"
            );
        }
        assert_eq!(table.len(), Status::ALL.len() + 7);
    }

    #[test]
    fn exit_status_is_the_signal_number_when_a_signal_ended_the_program() {
        assert_eq!(exit_status(Some(3), None), 3);
        assert_eq!(exit_status(None, Some(11)), 11);
        assert_eq!(exit_status(Some(0), None), 0);
        assert_eq!(exit_status(None, None), 0);
    }
}
