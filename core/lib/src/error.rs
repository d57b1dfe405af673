//! Typed errors of the library. Failures of the *program* are not errors: they are a
//! [`RunResult`](crate::RunResult) with a status. An `Error` means the request could
//! not be carried out.

use std::io;

/// The library's `Result`: its errors are [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request could not be carried out; each kind says whether the container
/// still works. New kinds may come: match with a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller passed something unusable; nothing was changed and the container
    /// still works.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The request asks for something this build or host cannot do.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A file could not be opened inside the container (the container still works).
    #[error("cannot open {path:?} in the container: {message}")]
    Open {
        /// The path that failed.
        path: String,
        /// The error of the failed open (0 when none).
        errno: i32,
        /// The init's account of it.
        message: String,
    },

    /// A file in the container is not a regular file (a FIFO, socket, device,
    /// directory...) where one was needed; nothing was read or written and the
    /// container still works.
    #[error("{path:?} in the container is {}, not a regular file", found.describe())]
    NotRegularFile {
        /// The path inside the container.
        path: String,
        /// What is there instead.
        found: crate::files::FileKind,
    },

    /// A file or tree is larger than the maximum the caller allowed; nothing beyond
    /// the maximum was read or written and the container still works.
    #[error("{path:?} is larger than the allowed {limit} bytes")]
    FileTooLarge {
        /// The path inside the container (or on the host, for a tree copied in).
        path: String,
        /// The maximum the caller allowed, bytes.
        limit: u64,
    },

    /// Creating the container failed; everything partly created was removed.
    #[error("container set-up failed: {0}")]
    Setup(String),

    /// The container's init died, stopped answering or broke the protocol. The
    /// container must be destroyed; a pool replaces it.
    #[error("container is broken: {0}")]
    ContainerBroken(String),

    /// No container became free within the acquire timeout.
    #[error("no container became free within {0:?}")]
    AcquireTimeout(std::time::Duration),

    /// The pool was closed.
    #[error("the pool is closed")]
    PoolClosed,

    /// The acquire was cancelled through its `AcquireCancel` token.
    #[error("the acquire was cancelled")]
    AcquireCancelled,

    /// A host-side system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What the library was doing.
        context: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
}

/// An OS error with what was being done: its message says both, and its errno
/// stays readable (an `io::Error::new` with a text payload would lose it).
#[derive(Debug)]
pub(crate) struct Doing {
    what: String,
    os: io::Error,
}

impl std::fmt::Display for Doing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.os)
    }
}

impl std::error::Error for Doing {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.os)
    }
}

/// `os` with `what` was being done, keeping its kind and errno.
pub(crate) fn doing(what: impl Into<String>, os: io::Error) -> io::Error {
    let kind = os.kind();
    io::Error::new(
        kind,
        Doing {
            what: what.into(),
            os,
        },
    )
}

/// The errno of an OS error, also through [`doing`]'s context.
pub(crate) fn errno_of(e: &io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        e.get_ref()?
            .downcast_ref::<Doing>()
            .and_then(|d| errno_of(&d.os))
    })
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Self::Io {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    /// The errno that best names this error for C, Go and Python callers: the
    /// system's for `Open` and `Io`, EISDIR or EINVAL for `NotRegularFile`, EFBIG
    /// for `FileTooLarge`; 0 for the rest.
    pub fn errno(&self) -> i32 {
        match self {
            Self::Open { errno, .. } => *errno,
            Self::Io { source, .. } => errno_of(source).unwrap_or(0),
            Self::NotRegularFile {
                found: crate::files::FileKind::Directory,
                ..
            } => libc::EISDIR,
            Self::NotRegularFile { .. } => libc::EINVAL,
            Self::FileTooLarge { .. } => libc::EFBIG,
            _ => 0,
        }
    }

    /// True when the container that returned this error can no longer be used.
    pub fn is_container_broken(&self) -> bool {
        matches!(self, Self::ContainerBroken(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_with_context_keeps_its_errno_and_says_both() {
        let busy = doing(
            "writing \"1\" to memory.limit_in_bytes",
            io::Error::from_raw_os_error(libc::EBUSY),
        );
        assert_eq!(busy.kind(), io::ErrorKind::ResourceBusy);
        assert_eq!(errno_of(&busy), Some(libc::EBUSY));
        let nested = doing("preparing the cgroup", busy);
        assert_eq!(errno_of(&nested), Some(libc::EBUSY));
        let error = Error::io("preparing the container's cgroup", nested);
        assert_eq!(error.errno(), libc::EBUSY);
        let text = error.to_string();
        assert!(
            text.contains("memory.limit_in_bytes") && text.contains("busy"),
            "{text}"
        );
        assert_eq!(errno_of(&io::Error::other("no errno")), None);
    }
}
