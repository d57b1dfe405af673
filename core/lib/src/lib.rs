//! scpool-core: Linux sandbox containers, created once and reused, that run untrusted
//! programs with hard limits and exact accounting.
//!
//! ```no_run
//! use scpool_core::{Container, ContainerConfig, RunParam, Status};
//! let mut c = Container::new(&ContainerConfig::default())?;
//! let mut run = RunParam::new(["/bin/echo", "hi"]);
//! run.env = vec!["PATH=/usr/bin:/bin".into()];
//! let r = c.run(&run)?;
//! assert_eq!(r.status, Status::Ok);
//! assert_eq!(r.stdout, b"hi\n");
//! c.reset()?;
//! # Ok::<(), scpool_core::Error>(())
//! ```
#![deny(missing_docs)]

pub mod alongside;
pub mod cgroup;

/// The README's Rust examples: collected as doc-tests, so CI compiles and runs what
/// a reader copies.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExamples;
pub mod config;
pub mod container;
pub mod cpu_set;
pub mod error;
pub mod execve;
pub mod files;
mod ids;
pub mod limits;
pub mod result;

use scpool_protocol::arch;
mod busy_text;
mod eintr;
mod init_image;
mod init_start;
mod kernel;
mod memfile;
mod namespace;
mod nofile;
mod open_cmd;
pub mod pool;
#[doc(hidden)]
/// The wire protocol between the library and the container init.
pub use scpool_protocol as protocol;
pub mod seccomp;
mod seccomp_bpf;
// Built by the init; the host compiles it only to test it.
#[cfg(test)]
#[cfg(test)]
use scpool_protocol::seccomp_exec;
mod spare;
mod spawner;
pub mod timing;
mod tree;
mod validate;
mod verdict;
mod watch;

pub use alongside::{Alongside, ExecHandle};
pub use cgroup::{CgroupConfig, CgroupMode, CgroupVersion};
pub use config::{ContainerConfig, IdRange, Mount, DEFAULT_HOSTNAME, DEFAULT_MOUNTS};
pub use container::Container;
pub use cpu_set::CpuSet;
pub use error::{Error, Result};
pub use execve::{ExecveParam, Program, RunParam, DEFAULT_CAPTURE_LIMIT, DEFAULT_CWD};
pub use files::{DirEntry, FileKind, DEFAULT_MAX_ENTRIES};
pub use limits::{defaults, Limits, MIN_MEMORY};
pub use memfile::{
    memfd_copy_of, program_memfd, sealed_memfd, sealed_memfd_from_path, sealed_memfd_from_reader,
};
pub use open_cmd::OpenCmd;
pub use pool::{AcquireCancel, Pool, PoolConfig, PoolStats, PooledContainer};
pub use result::{Accounting, RunResult, Status};
pub use seccomp::SeccompPolicy;
pub use spare::flush;
pub use timing::RunTiming;
pub use tree::{TreeCopied, TreeLimits, MAX_DEPTH};
