//! Files the library writes into containers, kept apart from the inits it clones.
//!
//! A child cloned while the host holds a file open for writing gets a copy of that
//! descriptor and holds it until it execs. A program exec'd from that file in the
//! meantime fails with ETXTBSY ("text file busy"): a judge that writes a compiled
//! program and runs it at once would see a runner error whenever a pool happened to
//! be starting an init. So the library's writers hold this lock shared while their
//! descriptor is open, and the clone of an init holds it exclusive until the child
//! has exec'd (or failed).

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

static LOCK: RwLock<()> = RwLock::new(());

/// Held while a writable descriptor of a container file is open.
pub(crate) fn writing() -> RwLockReadGuard<'static, ()> {
    LOCK.read().unwrap_or_else(PoisonError::into_inner)
}

/// Held from the clone of an init until its exec.
pub(crate) fn cloning() -> RwLockWriteGuard<'static, ()> {
    LOCK.write().unwrap_or_else(PoisonError::into_inner)
}
