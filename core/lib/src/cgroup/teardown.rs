//! Tearing down every container cgroup of this process when it is about to exit.
//!
//! A host that exits on a signal runs no destructor: its container inits die with it
//! (PR_SET_PDEATHSIG) but their cgroup directories stay until a later scpool process
//! sweeps them. [`teardown_for_exit`] kills what still runs in them and removes them.
//! Creation holds a permit that teardown waits for and then refuses, so no directory
//! can appear behind the teardown's back.

use crate::eintr::retry;
use crate::error::{Error, Result};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

/// True once torn down. Creations hold it for reading.
static TORN_DOWN: RwLock<bool> = RwLock::new(false);

/// The directories this process has made container cgroups in.
static PARENTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// How long a cgroup may take to empty after SIGKILL (the kernel frees a killed
/// process's memory before rmdir succeeds).
const EMPTY_TIMEOUT: Duration = Duration::from_secs(5);

/// Held while container cgroups are created in `parents`; refused after teardown.
pub(super) fn permit(parents: &[PathBuf]) -> io::Result<RwLockReadGuard<'static, bool>> {
    let torn_down = TORN_DOWN.read().unwrap_or_else(PoisonError::into_inner);
    if *torn_down {
        return Err(io::Error::other(
            "this process is exiting: its container cgroups were torn down",
        ));
    }
    let mut known = PARENTS.lock().unwrap_or_else(PoisonError::into_inner);
    for parent in parents {
        if !known.contains(parent) {
            known.push(parent.clone());
        }
    }
    Ok(torn_down)
}

/// Kills every process in this process's container cgroups (`scpool-<pid>-*`) and
/// removes those directories. For a host on its way out, e.g. on SIGINT or
/// SIGTERM, when the containers' destructors will not run: the containers become
/// broken, and this process makes no container cgroup any more (a container that
/// requires one fails to start, one in [`CgroupMode::Auto`](super::CgroupMode)
/// starts without). Every directory is tried; the first failure is returned.
pub fn teardown_for_exit() -> Result<()> {
    let mut torn_down = TORN_DOWN.write().unwrap_or_else(PoisonError::into_inner);
    *torn_down = true;
    let parents = PARENTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let prefix = format!("scpool-{}-", std::process::id());
    let mut first_error = None;
    for parent in &parents {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            if !entry.file_name().to_string_lossy().starts_with(&prefix) {
                continue;
            }
            let dir = entry.path();
            if let Err(e) = kill_and_remove(&dir) {
                first_error.get_or_insert_with(|| {
                    Error::io(format!("tearing down cgroup {}", dir.display()), e)
                });
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// SIGKILLs the cgroup's processes until it is empty, then removes it, its child
/// cgroups (the init's and the runs' leaves) first.
fn kill_and_remove(dir: &Path) -> io::Result<()> {
    // The init first: its death ends every process of its PID namespace at once, so
    // no run is seen to end on its own (the init would report it as a result).
    kill_all(&dir.join("init"))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                kill_and_remove(&entry.path())?;
            }
        }
    }
    let deadline = Instant::now() + EMPTY_TIMEOUT;
    loop {
        kill_all(dir)?;
        match retry(|| std::fs::remove_dir(dir)) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            // EBUSY until every killed process is fully gone.
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => return Err(e),
        }
    }
}

/// SIGKILLs every process listed in the cgroup (none if it does not exist).
fn kill_all(dir: &Path) -> io::Result<()> {
    let procs = match std::fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(procs) => procs,
        // ENODEV: another thread (a container's drop, the background remover)
        // removed the cgroup between our listing and this read: nothing to kill.
        Err(e) if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENODEV) => {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    // Our own pid appears while a thread of ours is inside to spawn an init
    // (see `step`): it steps out by itself.
    let own = std::process::id() as libc::pid_t;
    for pid in procs
        .lines()
        .filter_map(|l| l.trim().parse::<libc::pid_t>().ok())
        .filter(|pid| *pid != own)
    {
        // The pid was read from our own container's cgroup a moment ago; a
        // container init's death takes its whole PID namespace with it.
        // SAFETY: kill has no memory arguments.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    Ok(())
}
