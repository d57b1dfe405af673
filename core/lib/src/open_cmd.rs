//! Parameters of an open request: which file inside the container, how.

use std::path::PathBuf;

/// One file to open inside the container (the seed's `OpenCmd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCmd {
    /// Absolute path inside the container, without `..` or symlinks.
    pub path: PathBuf,
    /// open(2) flags: access mode plus O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY,
    /// O_NONBLOCK, O_NOFOLLOW.
    pub flags: i32,
    /// Permission bits for O_CREAT.
    pub mode: u32,
}

impl OpenCmd {
    /// `path` opened with `flags` (and `mode` when it creates the file).
    pub fn new(path: impl Into<PathBuf>, flags: i32, mode: u32) -> Self {
        Self {
            path: path.into(),
            flags,
            mode,
        }
    }
}
