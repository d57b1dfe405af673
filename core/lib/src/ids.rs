//! Every container's program gets a uid and gid of its own, from a range no host
//! process uses, so per-user kernel quotas (inotify instances, pipe buffers,
//! RLIMIT_MSGQUEUE bytes, the user keyring, RLIMIT_NPROC) are never shared between
//! containers or with the host.
//!
//! An id is taken for the container's lifetime. Within this process a set of taken
//! ids decides; between processes (several judges on one host) an open-file-
//! description lock on the id's byte of one lock file does: the kernel drops it when
//! the process dies, so a crash never leaks an id.
//!
//! A lock belongs to an open file description, which fork shares: a forked process
//! (a pre-forking server) would own its parent's locks and take the same ids. So
//! each process opens the file itself, on its first call after a fork. The file is
//! root's alone (0600): a user who could open it could read-lock ids and refuse
//! every container.

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Where containers' ids come from: `count` ids starting at `first`, used as both
/// uid and gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// The first id of the range.
    pub first: u32,
    /// How many ids the range holds.
    pub count: u32,
}

impl IdRange {
    /// `count` ids from `first` (checked when a container is created).
    pub const fn new(first: u32, count: u32) -> Self {
        Self { first, count }
    }

    /// 0x70000000 onwards: above the ranges systemd hands to containers
    /// (524288-1879048191) and below the 2^31 boundary that some tools mishandle;
    /// no distribution assigns these ids to users.
    pub const DEFAULT: IdRange = IdRange {
        first: 0x7000_0000,
        count: 65536,
    };

    pub(crate) fn validate(&self) -> Result<()> {
        let last = u64::from(self.first) + u64::from(self.count);
        if self.count == 0 || self.first == 0 || last > u64::from(u32::MAX) {
            return Err(Error::invalid(format!(
                "id range {}+{} must be non-empty, above 0 and below 2^32-1",
                self.first, self.count
            )));
        }
        Ok(())
    }
}

impl Default for IdRange {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The lock file shared by every scpool process on the host.
const LOCK_FILE: &str = "/run/scpool/ids.lock";

/// An id held for one container; released on drop.
#[derive(Debug)]
pub(crate) struct IdLease {
    pub id: u32,
}

/// The ids this process holds and its own description of the lock file.
struct Registry {
    /// The process that opened `lock_file`: after a fork, the child opens its own.
    pid: u32,
    taken: BTreeSet<u32>,
    lock_file: File,
}

fn open_lock_file() -> std::result::Result<File, String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = Path::new(LOCK_FILE);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("opening {LOCK_FILE}: {e}"))?;
    // A file an earlier version created readable by all.
    let private = std::fs::Permissions::from_mode(0o600);
    file.set_permissions(private)
        .map_err(|e| format!("making {LOCK_FILE} private: {e}"))?;
    Ok(file)
}

/// This process's registry, opened again if the process is a fork of the one that
/// opened it (the ids of the parent are then not ours, and its locks keep us out).
fn registry() -> Result<MutexGuard<'static, Option<Registry>>> {
    static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if registry.as_ref().is_none_or(|r| r.pid != pid) {
        let lock_file =
            open_lock_file().map_err(|e| Error::Setup(format!("container ids: {e}")))?;
        *registry = Some(Registry {
            pid,
            taken: BTreeSet::new(),
            lock_file,
        });
    }
    Ok(registry)
}

/// An F_OFD_SETLK on byte `id` of the lock file: Ok(false) when another process
/// holds it.
fn lock_byte(file: &File, id: u32, lock: bool) -> std::io::Result<bool> {
    // SAFETY: a zeroed flock is valid; the fields that matter are set below.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = if lock { libc::F_WRLCK } else { libc::F_UNLCK } as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = libc::off_t::from(id);
    fl.l_len = 1;
    loop {
        // SAFETY: fcntl on our own descriptor with a valid flock.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &fl) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) | Some(libc::EACCES) => return Ok(false),
            _ => return Err(err),
        }
    }
}

impl IdLease {
    /// Takes a free id of `range`, or says the range is exhausted.
    pub fn take(range: IdRange) -> Result<Self> {
        range.validate()?;
        let mut guard = registry()?;
        let registry = guard.as_mut().expect("registry() fills it in");
        let ids = range.first..range.first + range.count;
        for id in ids {
            if registry.taken.contains(&id) {
                continue;
            }
            match lock_byte(&registry.lock_file, id, true) {
                Ok(true) => {
                    registry.taken.insert(id);
                    return Ok(Self { id });
                }
                Ok(false) => continue,
                Err(e) => return Err(Error::io(format!("locking id {id} in {LOCK_FILE}"), e)),
            }
        }
        Err(Error::Setup(format!(
            "every id of the range {}..{} is taken by a live container (of this or another \
             process): widen ContainerConfig::id_range",
            range.first,
            u64::from(range.first) + u64::from(range.count)
        )))
    }
}

impl Drop for IdLease {
    fn drop(&mut self) {
        // In a fork of the process that took the id, the registry is the fork's
        // own and does not hold it: nothing to release.
        if let Ok(mut guard) = registry() {
            if let Some(registry) = guard.as_mut() {
                if registry.taken.remove(&self.id) {
                    let _ = lock_byte(&registry.lock_file, self.id, false);
                }
            }
        }
    }
}
