//! Cgroup directories made and removed off the caller's path.
//!
//! mkdir and rmdir of a cgroup cost ~100 µs each on a quiet machine and tens of
//! milliseconds when the kernel is busy (a v1 memory cgroup's rmdir waits for the
//! last task to be freed): they made the slow tail of creating and destroying a
//! container. One thread per process keeps a small stock of empty container cgroups
//! (`scpool-<pid>-<n>`, ready for the parents the last creation used) and removes
//! destroyed containers' cgroups.
//!
//! Nothing outlives the process for long: [`flush`] removes the stock and waits for
//! pending removals, and runs at exit (atexit: Rust, C and Python hosts; a Go host's
//! `os.Exit` skips it); after a SIGKILL the next scpool process's sweep removes
//! `scpool-<dead pid>-*`, and [`teardown_for_exit`](super::teardown_for_exit) removes
//! them with everything else.

use super::teardown;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, PoisonError};

/// Empty cgroups kept ready: enough for a create right after a destroy while the
/// thread is still removing the destroyed one.
const STOCK: usize = 2;

/// Where a container's cgroup directories go: one parent per distinct hierarchy
/// (in v1 order), whether it is v2 (controllers to enable in the parent), and
/// whether the parent was configured (else it is our own cgroup, whose processes
/// may move to a leaf so it can delegate: see `delegate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parents {
    pub dirs: Vec<PathBuf>,
    pub v2: bool,
    pub configured: bool,
}

#[derive(Default)]
struct State {
    /// Names whose directories exist under every parent of `stock_for`.
    stock: Vec<String>,
    stock_for: Option<Parents>,
    /// Directory sets to remove, each in removal order.
    doomed: Vec<Vec<PathBuf>>,
    /// The thread is making or removing directories outside the lock.
    busy: bool,
}

struct Keeper {
    state: Mutex<State>,
    changed: Condvar,
}

/// The keeper of this process, with its pid: a forked child has the parent's
/// memory but not its thread, and starts its own.
static KEEPER: Mutex<Option<(u32, Arc<Keeper>)>> = Mutex::new(None);

fn keeper() -> Option<Arc<Keeper>> {
    let mut slot = KEEPER.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((owner, keeper)) = slot.as_ref() {
        if *owner == pid {
            return Some(Arc::clone(keeper));
        }
    }
    let keeper = Arc::new(Keeper {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    });
    let worker = Arc::clone(&keeper);
    std::thread::Builder::new()
        .name("scpool-cgroups".into())
        .spawn(move || worker.work())
        .ok()?;
    static AT_EXIT: Once = Once::new();
    // SAFETY: `flush_at_exit` is an extern "C" fn with no arguments.
    AT_EXIT.call_once(|| unsafe {
        libc::atexit(flush_at_exit);
    });
    *slot = Some((pid, Arc::clone(&keeper)));
    Some(keeper)
}

/// The keeper of this process if it has one, without starting it.
fn existing() -> Option<Arc<Keeper>> {
    let slot = KEEPER.lock().unwrap_or_else(PoisonError::into_inner);
    match slot.as_ref() {
        Some((owner, keeper)) if *owner == std::process::id() => Some(Arc::clone(keeper)),
        _ => None,
    }
}

impl Keeper {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn work(&self) {
        let mut state = self.lock();
        loop {
            if let Some(dirs) = state.doomed.pop() {
                state.busy = true;
                drop(state);
                remove_all(&dirs);
            } else if let Some(parents) = state
                .stock_for
                .clone()
                .filter(|_| state.stock.len() < STOCK)
            {
                state.busy = true;
                drop(state);
                let made = make_spare(&parents);
                state = self.lock();
                match made {
                    Some(name) if state.stock_for.as_ref() == Some(&parents) => {
                        state.stock.push(name)
                    }
                    // Asked for other parents meanwhile, or flushed.
                    Some(name) => state.doomed.push(dirs_of(&parents, &name)),
                    // Cannot make any now (torn down, no permission): stop until
                    // the next creation asks again.
                    None => state.stock_for = None,
                }
                state.busy = false;
                self.changed.notify_all();
                continue;
            } else {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state = self.lock();
            state.busy = false;
            self.changed.notify_all();
        }
    }
}

/// The directories of container cgroup `name` under `parents`.
pub(super) fn dirs_of(parents: &Parents, name: &str) -> Vec<PathBuf> {
    parents.dirs.iter().map(|p| p.join(name)).collect()
}

/// Makes one spare under the teardown permit; `None` if it cannot.
fn make_spare(parents: &Parents) -> Option<String> {
    let _permit = teardown::permit(&parents.dirs).ok()?;
    let name = super::unique_name();
    super::make_dirs(parents, &name).ok()?;
    Some(name)
}

fn remove_all(dirs: &[PathBuf]) {
    for dir in dirs.iter().rev() {
        super::remove_dir(dir);
    }
}

/// A stocked cgroup under `parents` if there is one, else `None` (make it now).
/// Either way the stock is refilled for `parents` in the background.
pub(super) fn take(parents: &Parents) -> Option<String> {
    // A process that makes one container (a CLI run) gets no thread and no stock.
    static CREATIONS: AtomicU64 = AtomicU64::new(0);
    if CREATIONS.fetch_add(1, Ordering::Relaxed) == 0 {
        return None;
    }
    let keeper = keeper()?;
    let mut state = keeper.lock();
    let name = match state.stock_for.as_ref() == Some(parents) {
        true => state.stock.pop(),
        false => {
            // New parents: the old stock is of no use.
            let old = state.stock_for.replace(parents.clone());
            let stale: Vec<String> = state.stock.drain(..).collect();
            if let Some(old) = old {
                for name in stale {
                    state.doomed.push(dirs_of(&old, &name));
                }
            }
            None
        }
    };
    keeper.changed.notify_all();
    name
}

/// Removes a container's cgroup directories (in order) in the background.
pub(super) fn remove(dirs: Vec<PathBuf>) {
    if dirs.is_empty() {
        return;
    }
    // Before the thread exists (one container so far), here.
    match existing() {
        Some(keeper) => {
            keeper.lock().doomed.push(dirs);
            keeper.changed.notify_all();
        }
        None => remove_all(&dirs),
    }
}

/// Removes the stock of spare container cgroups in the background, until the next
/// creation asks for one again (when the process's last pool closes).
pub(crate) fn drop_stock() {
    let Some(keeper) = existing() else {
        return;
    };
    let mut state = keeper.lock();
    if let Some(parents) = state.stock_for.take() {
        let stale: Vec<String> = state.stock.drain(..).collect();
        for name in stale {
            state.doomed.push(dirs_of(&parents, &name));
        }
    }
    drop(state);
    keeper.changed.notify_all();
}

/// Removes the stock of spare container cgroups and waits until every destroyed
/// container's cgroup is removed. The stock is made again by the next container
/// creation. Runs at process exit; call it before a host exits without running
/// atexit handlers, or to see this process's cgroups settle (tests do).
pub fn flush() {
    let Some(keeper) = existing() else {
        return;
    };
    let mut state = keeper.lock();
    loop {
        if let Some(parents) = state.stock_for.take() {
            let stale: Vec<String> = state.stock.drain(..).collect();
            for name in stale {
                state.doomed.push(dirs_of(&parents, &name));
            }
        }
        if !state.doomed.is_empty() {
            // Remove them here: the thread may be gone (a host exiting).
            let doomed = std::mem::take(&mut state.doomed);
            drop(state);
            for dirs in &doomed {
                remove_all(dirs);
            }
            state = keeper.lock();
            continue;
        }
        if !state.busy {
            return;
        }
        state = keeper
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

extern "C" fn flush_at_exit() {
    // A panic must not unwind into libc.
    let _ = std::panic::catch_unwind(flush);
}
