//! A failure of the benchmark itself (not of a measured run), reported as
//! `scpool bench: ...` with exit status 1.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchError {
    pub message: String,
}

impl BenchError {
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// A library error, with what the bench was doing.
    pub fn from_core(context: &str, error: scpool_core::Error) -> Self {
        Self::runtime(format!("{context}: {error}"))
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scpool bench: {}", self.message)
    }
}
