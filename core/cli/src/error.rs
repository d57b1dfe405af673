//! The CLI's own failures and the exit codes they map to.

use std::fmt;

/// Exit code for a usage error or a limit this build cannot enforce.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when scpool itself fails (container set-up, copy-in/out, I/O).
pub const EXIT_RUNTIME: u8 = 1;

/// A failure of the tool (not of the program it runs), reported as `scpool: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub exit_code: u8,
}

impl CliError {
    /// A well-formed request the library refuses (bad argument, unsupported limit).
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_USAGE,
        }
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_RUNTIME,
        }
    }

    /// Maps a library error: what the caller asked for wrongly (or what this build
    /// cannot do) is a usage error, everything else a runtime error.
    pub fn from_core(context: &str, error: scpool_core::Error) -> Self {
        let message = format!("{context}: {error}");
        match error {
            scpool_core::Error::InvalidArgument(_) | scpool_core::Error::Unsupported(_) => {
                Self::rejected(message)
            }
            _ => Self::runtime(message),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scpool: {}", self.message)
    }
}
