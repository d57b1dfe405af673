//! Parameters of one program run: the part every run shares ([`Program`]), and the
//! two ways to run it ([`ExecveParam`] with descriptors, [`RunParam`] with captured
//! output).

use crate::limits::Limits;
use crate::seccomp::SeccompPolicy;
use std::ffi::OsString;
use std::ops::{Deref, DerefMut};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

/// The working directory of a run that names none: the container's writable,
/// emptied-at-reset work directory.
pub const DEFAULT_CWD: &str = "/w";

/// Captured streams are capped at this size when no output limit is given.
pub const DEFAULT_CAPTURE_LIMIT: u64 = 64 << 20;

/// What to run and under which rules: the part [`ExecveParam`] and [`RunParam`]
/// share, so a binding converts it once for both. Both dereference to it, so
/// `param.env = ...` works on either.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Program {
    /// argv. Without an `exec_file`, `args[0]` is the path executed inside the
    /// container (no PATH search).
    pub args: Vec<OsString>,
    /// The environment, exactly as given (nothing is added).
    pub env: Vec<OsString>,
    /// Working directory inside the container ([`DEFAULT_CWD`] by default).
    pub cwd: PathBuf,
    /// Limits of the run.
    pub limits: Limits,
    /// System call policy; the default denies the escape channels with EPERM.
    pub seccomp: SeccompPolicy,
}

impl Program {
    /// `args` with an empty environment, [`DEFAULT_CWD`], default limits and the
    /// default seccomp policy.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: PathBuf::from(DEFAULT_CWD),
            limits: Limits::default(),
            seccomp: SeccompPolicy::default(),
        }
    }
}

/// The raw run: a [`Program`] with the descriptors it gets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecveParam<'fd> {
    /// What to run (also reachable through `Deref`: `param.args`, `param.limits`).
    pub program: Program,
    /// Descriptors that become the program's 0, 1, 2, ...; every other descriptor is
    /// closed. Slots 0-2 not given are /dev/null.
    pub files: Vec<BorrowedFd<'fd>>,
    /// Execute this descriptor (e.g. a memfd copy of a host program) instead of
    /// `args[0]`.
    pub exec_file: Option<BorrowedFd<'fd>>,
}

impl<'fd> ExecveParam<'fd> {
    /// `args` run with the defaults of [`Program::new`], no descriptors.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Program::new(args).into()
    }
}

impl From<Program> for ExecveParam<'_> {
    fn from(program: Program) -> Self {
        Self {
            program,
            files: Vec::new(),
            exec_file: None,
        }
    }
}

/// The convenience run: a [`Program`] with stdin from bytes, stdout and stderr
/// captured.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunParam {
    /// What to run (also reachable through `Deref`: `run.args`, `run.limits`).
    pub program: Program,
    /// The program's whole input.
    pub stdin: Vec<u8>,
}

impl RunParam {
    /// `args` run with the defaults of [`Program::new`] and empty input.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Program::new(args).into()
    }
}

impl From<Program> for RunParam {
    fn from(program: Program) -> Self {
        Self {
            program,
            stdin: Vec::new(),
        }
    }
}

impl Deref for ExecveParam<'_> {
    type Target = Program;
    fn deref(&self) -> &Program {
        &self.program
    }
}

impl DerefMut for ExecveParam<'_> {
    fn deref_mut(&mut self) -> &mut Program {
        &mut self.program
    }
}

impl Deref for RunParam {
    type Target = Program;
    fn deref(&self) -> &Program {
        &self.program
    }
}

impl DerefMut for RunParam {
    fn deref_mut(&mut self) -> &mut Program {
        &mut self.program
    }
}
