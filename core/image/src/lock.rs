//! Advisory locks between processes sharing a store (flock on a lock file).
//!
//! `store.lock`: imports and readers hold it shared, garbage collection holds it
//! exclusive, so a collection never removes a blob an import has written but not
//! yet named. `names.lock`: held exclusive around each read-modify-write of the
//! name index.

use crate::error::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::Path;

/// A held lock; dropping it releases the lock.
pub struct Lock(#[allow(dead_code)] Flock<File>);

impl Lock {
    pub fn shared(path: &Path) -> Result<Self> {
        Self::take(path, FlockArg::LockShared)
    }

    pub fn exclusive(path: &Path) -> Result<Self> {
        Self::take(path, FlockArg::LockExclusive)
    }

    fn take(path: &Path, how: FlockArg) -> Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .context(|| format!("opening the lock file {}", path.display()))?;
        loop {
            match Flock::lock(file, how) {
                Ok(lock) => return Ok(Self(lock)),
                Err((again, Errno::EINTR)) => file = again,
                Err((_, errno)) => {
                    return Err(errno).context(|| format!("locking {}", path.display()))
                }
            }
        }
    }
}
