//! Typed errors of the library. Failures of the *program* are not errors: they are a
//! [`RunResult`](crate::RunResult) with a status. An `Error` means the request could
//! not be carried out.

use std::io;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
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
        path: String,
        errno: i32,
        message: String,
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
        context: String,
        #[source]
        source: io::Error,
    },
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

    /// True when the container that returned this error can no longer be used.
    pub fn is_container_broken(&self) -> bool {
        matches!(self, Self::ContainerBroken(_))
    }
}
