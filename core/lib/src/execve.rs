//! Parameters of one program run.

use crate::limits::Limits;
use crate::seccomp::SeccompPolicy;
use std::ffi::OsString;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

/// The raw run: what to execute, with which descriptors and limits.
#[derive(Debug, Clone)]
pub struct ExecveParam<'fd> {
    /// argv. Without `exec_file`, `args[0]` is the path executed inside the container
    /// (no PATH search).
    pub args: Vec<OsString>,
    /// The environment, exactly as given (nothing is added).
    pub env: Vec<OsString>,
    /// Working directory inside the container.
    pub cwd: PathBuf,
    /// Descriptors that become the program's 0, 1, 2, ...; every other descriptor is
    /// closed. Slots 0-2 not given are /dev/null.
    pub files: Vec<BorrowedFd<'fd>>,
    /// Execute this descriptor (e.g. a memfd copy of a host program) instead of
    /// `args[0]`.
    pub exec_file: Option<BorrowedFd<'fd>>,
    pub limits: Limits,
    /// System call policy; the default denies the escape channels with EPERM.
    pub seccomp: SeccompPolicy,
}

impl<'fd> ExecveParam<'fd> {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: PathBuf::from("/w"),
            files: Vec::new(),
            exec_file: None,
            limits: Limits::default(),
            seccomp: SeccompPolicy::default(),
        }
    }
}

/// The convenience run: stdin from bytes, stdout and stderr captured.
#[derive(Debug, Clone)]
pub struct RunParam {
    pub args: Vec<OsString>,
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub stdin: Vec<u8>,
    pub limits: Limits,
    pub seccomp: SeccompPolicy,
}

/// Captured streams are capped at this size when no output limit is given.
pub const DEFAULT_CAPTURE_LIMIT: u64 = 64 << 20;

impl RunParam {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: PathBuf::from("/w"),
            stdin: Vec::new(),
            limits: Limits::default(),
            seccomp: SeccompPolicy::default(),
        }
    }
}
