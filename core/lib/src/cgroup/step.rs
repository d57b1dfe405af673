//! Starting a container's init inside its v1 cgroup instead of moving it there.
//!
//! Moving a process (a pid written to cgroup.procs) takes the kernel's thread-group
//! lock for writing, which waits for an RCU grace period: ~0.4 ms on average here
//! and up to tens of milliseconds on a busy machine. A thread that moves only itself
//! (`0` written to a v1 `tasks` file) skips that lock (~15 µs). So the spawner
//! thread steps into the container's cgroups, clones the init (a child starts in
//! its parent thread's cgroups) and steps back. v2 has no per-thread move outside
//! threaded subtrees (there clone3's CLONE_INTO_CGROUP would do it); v2 containers
//! move their init as before.

use crate::eintr::retry;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// The `tasks` files to step into and those to step back into, hierarchy by
/// hierarchy.
#[derive(Debug, Clone)]
pub(crate) struct ThreadStep {
    pub(super) into: Vec<PathBuf>,
    pub(super) home: Vec<PathBuf>,
}

/// Moves the calling thread (only) into the cgroup whose `tasks` file is `tasks`.
fn move_self(tasks: &PathBuf) -> io::Result<()> {
    let file = retry(|| std::fs::OpenOptions::new().write(true).open(tasks))?;
    retry(|| file.write_at(b"0", 0))
        .map(drop)
        .map_err(|e| io::Error::new(e.kind(), format!("writing to {}: {e}", tasks.display())))
}

impl ThreadStep {
    /// Calls `spawn` with the calling thread inside the cgroup, so the process it
    /// clones is born there, and steps back. If stepping back fails, `undo` gets
    /// what `spawn` made (a process left behind would keep the thread's cgroup
    /// busy) and the error is returned.
    pub fn spawn_inside<T>(
        &self,
        spawn: impl FnOnce() -> io::Result<T>,
        undo: impl FnOnce(T),
    ) -> io::Result<T> {
        let mut entered = 0;
        let mut spawned = Ok(None);
        for tasks in &self.into {
            if let Err(e) = move_self(tasks) {
                spawned = Err(e);
                break;
            }
            entered += 1;
        }
        if spawned.is_ok() {
            spawned = spawn().map(Some);
        }
        let mut back = Ok(());
        for tasks in &self.home[..entered] {
            if let Err(e) = move_self(tasks) {
                back = back.and(Err(e));
            }
        }
        match (spawned, back) {
            (Ok(Some(made)), Ok(())) => Ok(made),
            (Ok(Some(made)), Err(e)) => {
                undo(made);
                Err(io::Error::new(
                    e.kind(),
                    format!("stepping back out of the container's cgroup: {e}"),
                ))
            }
            (Err(e), _) => Err(e),
            (Ok(None), _) => unreachable!("spawn ran when every step succeeded"),
        }
    }
}
