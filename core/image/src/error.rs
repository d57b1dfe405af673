//! What can go wrong with images, each kind with the facts that explain it.

use std::io;
use std::path::PathBuf;

/// Result of the image store's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure of the image store. None of them leaves a half image listed: names
/// are written last, by an atomic rename, once every blob and layer is in place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call on the store or on an input file failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// An archive, layout or JSON document is malformed or truncated.
    #[error("{what}: {why}")]
    Corrupt { what: String, why: String },
    /// Content does not hash to the digest that names it.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    /// A layer entry that would write outside the layer, or that the store
    /// refuses to create (a device node when not root).
    #[error("layer {layer}: refused entry {entry:?}: {why}")]
    UnsafeEntry {
        layer: String,
        entry: PathBuf,
        why: String,
    },
    /// No image has this name in the store.
    #[error("no image named {0} in the store")]
    UnknownImage(String),
    /// A reference or digest that does not parse.
    #[error("invalid {what} {text:?}: {why}")]
    Invalid {
        what: &'static str,
        text: String,
        why: String,
    },
    /// A format or feature the store does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl Error {
    /// Whether the caller asked for something wrong (a malformed or unknown
    /// name) rather than the store or its input failing.
    pub fn is_caller_error(&self) -> bool {
        matches!(self, Self::Invalid { .. } | Self::UnknownImage(_))
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, why: impl ToString) -> Self {
        Self::Corrupt {
            what: what.into(),
            why: why.to_string(),
        }
    }
}

/// Adds a context to an `io::Result`.
pub(crate) trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}

impl<T> Context<T> for nix::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), io::Error::from(e)))
    }
}
