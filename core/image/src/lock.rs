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

/// Whether a container holds layer directory `dir` (its init keeps a shared flock
/// on it for its life, see the init's `overlay`); if not, the layer is locked
/// exclusive for as long as the returned lock lives, so no container can start on
/// it while it is being removed.
pub fn layer_unused(dir: &Path) -> Result<Option<Flock<File>>> {
    let mut file = File::open(dir).context(|| format!("opening {}", dir.display()))?;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(Some(lock)),
            Err((again, Errno::EINTR)) => file = again,
            Err((_, Errno::EWOULDBLOCK)) => return Ok(None),
            Err((_, errno)) => return Err(errno).context(|| format!("locking {}", dir.display())),
        }
    }
}

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
