//! What the host library (`scpool-core`) and the container init (`scpool-init`) share:
//! the wire protocol between them, the architecture facts both compile against
//! ([`arch`]) and the single-program exec lock both build ([`seccomp_exec`]). It
//! depends only on std, libc and nix so that the small static init can carry it.
//!
//! A message is encoded by [`codec`] into bytes, split by [`frame`] into
//! SOCK_SEQPACKET datagrams, and carried with its file descriptors by [`channel`].
#![deny(missing_docs)]

pub mod arch;
pub mod channel;
pub mod codec;
pub mod fd_placement;
pub mod frame;
pub mod message;
pub mod rules;
pub mod seccomp_exec;

#[cfg(test)]
mod tests;

pub use channel::{Channel, ChannelError};
pub use codec::DecodeError;
pub use message::*;

/// Bumped whenever a message layout changes; the init reports it in `Ready` and the
/// host refuses an init that speaks another version.
pub const PROTOCOL_VERSION: u32 = 5;

/// Largest encoded message accepted by either side (args + env + paths).
pub const MAX_MESSAGE_BYTES: usize = 8 << 20;

/// Largest number of a run's file descriptors (the kernel's SCM_MAX_FD is 253).
pub const MAX_FDS: usize = 250;
/// Descriptors one message may carry: a run's files and a cgroup of its own.
pub const MAX_MESSAGE_FDS: usize = MAX_FDS + 1;
