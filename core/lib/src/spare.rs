//! A small stock of container inits started ahead (`init_start`), so that creating
//! a container does not wait for one.
//!
//! Starting an init costs new namespaces (the network one ~0.5 ms), cgroup
//! directories and, on v2, moving it into its cgroup (which can wait for an RCU
//! grace period: milliseconds on a busy machine; v1 inits are born inside, see
//! `cgroup::ThreadStep`). So one thread per process keeps [`STOCK`] inits started,
//! in their cgroups and waiting for their set-up, for the cgroup settings the last
//! creation asked for; a creation takes one and the thread starts the next. The
//! stock is made only for configurations without a user namespace (whose id maps
//! depend on the container's id).
//!
//! Only `Container::new` takes spares: a pool makes its containers off its callers'
//! path already. The stock costs two descriptors and one idle init per spare, so it
//! exists only while it is likely to be used: it starts at a process's second
//! `Container::new` (a one-shot CLI run never pays for it), is killed when no
//! container has been alive for [`GRACE`], and at once when the last pool of the
//! process closes, so a host that closed its pools holds no child process; the
//! stock of empty cgroups (`cgroup::keeper`) goes with it. [`flush`] kills it and
//! waits for the background cgroup removals (it runs at exit too).

use crate::cgroup::{self, CgroupConfig};
use crate::config::ContainerConfig;
use crate::init_start::{self, Started};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

/// Inits kept started: one for the next creation and one being replaced.
const STOCK: usize = 2;

/// How long a creation waits for a spare that is being started.
const WAIT_FOR_SPARE: Duration = Duration::from_millis(5);

/// How long the stock outlives the last container of the process.
const GRACE: Duration = Duration::from_millis(250);

/// What the stock's lifetime follows, counted for one process: a forked child
/// inherits the parent's counts (and its containers and pools, which are not its
/// own) and starts again from zero.
struct Counts {
    pid: u32,
    /// Containers alive.
    live: usize,
    /// Pools open.
    pools: usize,
    /// Container creations so far.
    creations: u64,
}

static COUNTS: Mutex<Counts> = Mutex::new(Counts {
    pid: 0,
    live: 0,
    pools: 0,
    creations: 0,
});

/// The counts of this process, reset if they were inherited.
fn counts() -> MutexGuard<'static, Counts> {
    let mut counts = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if counts.pid != pid {
        *counts = Counts {
            pid,
            live: 0,
            pools: 0,
            creations: 0,
        };
    }
    counts
}

fn no_container_alive() -> bool {
    counts().live == 0
}

/// Held by every container: the stock lives while containers do.
pub(crate) struct Live {
    pid: u32,
}

impl Live {
    pub fn new() -> Self {
        let mut counts = counts();
        counts.live += 1;
        Self { pid: counts.pid }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut counts = counts();
        if counts.pid != self.pid {
            return; // The parent's container, dropped in a forked child.
        }
        counts.live -= 1;
        let last = counts.live == 0;
        drop(counts);
        if last {
            if let Some(stock) = existing() {
                // The thread starts counting the grace period.
                stock.changed.notify_all();
            }
        }
    }
}

/// Held by every open pool: closing the last one kills the stock.
pub(crate) struct PoolOpen {
    pid: u32,
}

impl PoolOpen {
    pub fn new() -> Self {
        let mut counts = counts();
        counts.pools += 1;
        Self { pid: counts.pid }
    }
}

impl Drop for PoolOpen {
    fn drop(&mut self) {
        let mut counts = counts();
        if counts.pid != self.pid {
            return;
        }
        counts.pools -= 1;
        let last = counts.pools == 0;
        drop(counts);
        if last {
            kill_stock();
        }
    }
}

/// A stocked init, killed if it is never used.
struct Spare(Option<Started>);

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some(started) = &self.0 {
            // Before its cgroup is dropped (removed), which needs it empty.
            started.init.kill_and_reap();
        }
    }
}

#[derive(Default)]
struct State {
    /// Spares for `stock_for`.
    stock: Vec<Spare>,
    stock_for: Option<CgroupConfig>,
    /// The thread is starting a spare outside the lock.
    busy: bool,
}

struct Stock {
    state: Mutex<State>,
    changed: Condvar,
}

/// The stock of this process, with its pid: a forked child starts its own.
static STOCKS: Mutex<Option<(u32, Arc<Stock>)>> = Mutex::new(None);

fn stock() -> Option<Arc<Stock>> {
    let mut slot = STOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((owner, stock)) = slot.as_ref() {
        if *owner == pid {
            return Some(Arc::clone(stock));
        }
    }
    let stock = Arc::new(Stock {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    });
    let worker = Arc::clone(&stock);
    std::thread::Builder::new()
        .name("scpool-spares".into())
        .spawn(move || worker.work())
        .ok()?;
    static AT_EXIT: Once = Once::new();
    // SAFETY: `flush_at_exit` is an extern "C" fn with no arguments.
    AT_EXIT.call_once(|| unsafe {
        libc::atexit(flush_at_exit);
    });
    *slot = Some((pid, Arc::clone(&stock)));
    Some(stock)
}

impl Stock {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn work(&self) {
        let mut state = self.lock();
        loop {
            if no_container_alive() && state.stock_for.is_some() {
                state = self
                    .changed
                    .wait_timeout(state, GRACE)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                if no_container_alive() {
                    state.stock_for = None;
                    let spares = std::mem::take(&mut state.stock);
                    drop(state);
                    drop(spares);
                    cgroup::drop_stock();
                    state = self.lock();
                }
                continue;
            }
            let wanted = state
                .stock_for
                .clone()
                .filter(|_| state.stock.len() < STOCK);
            let Some(cgroup) = wanted else {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            state.busy = true;
            drop(state);
            let started = init_start::start(&cgroup, None).map(|s| Spare(Some(s)));
            state = self.lock();
            match started {
                Ok(spare) if state.stock_for.as_ref() == Some(&cgroup) => state.stock.push(spare),
                // Asked for another configuration meanwhile, or flushed: `spare`
                // drops (is killed) here.
                Ok(_) => {}
                // Cannot start one now: stop until the next creation asks again.
                Err(_) => state.stock_for = None,
            }
            state.busy = false;
            self.changed.notify_all();
        }
    }
}

/// Whether a spare can stand in for `config`'s init.
fn stockable(config: &ContainerConfig) -> bool {
    !config.user_namespace
}

/// A spare started for `config` if there is one; either way the stock is refilled
/// for it in the background.
pub(crate) fn take(config: &ContainerConfig) -> Option<Started> {
    let first = {
        let mut counts = counts();
        counts.creations += 1;
        counts.creations == 1
    };
    if first || !stockable(config) {
        return None;
    }
    let stock = stock()?;
    let mut state = stock.lock();
    let spare = match state.stock_for.as_ref() == Some(&config.cgroup) {
        true => {
            // A spare being started is nearer than one started from scratch, which
            // would also compete with it for the CPU: wait for it a little.
            let deadline = Instant::now() + WAIT_FOR_SPARE;
            while state.stock.is_empty() && state.busy {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = stock
                    .changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            state.stock.pop()
        }
        false => {
            state.stock_for = Some(config.cgroup.clone());
            // Of no use for the new configuration: killed below, outside the lock.
            let old = std::mem::take(&mut state.stock);
            drop(state);
            drop(old);
            stock.changed.notify_all();
            return None;
        }
    };
    drop(state);
    stock.changed.notify_all();
    let mut spare = spare?;
    let started = spare.0.take()?;
    // Killed while it waited (by an outside signal): start one now instead.
    match started.init.has_exited() {
        true => {
            started.init.kill_and_reap();
            None
        }
        false => Some(started),
    }
}

/// Kills the stocked inits and removes their cgroups, then waits for every
/// background cgroup removal ([`cgroup::flush`]). The next container creation
/// starts the stock again. Runs at process exit; call it before a host exits
/// without running atexit handlers, or to see this process's state settle (tests
/// do).
pub fn flush() {
    kill_stock();
    cgroup::flush();
}

/// The stock of this process if it has one, without starting it.
fn existing() -> Option<Arc<Stock>> {
    let slot = STOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    match slot.as_ref() {
        Some((owner, stock)) if *owner == std::process::id() => Some(Arc::clone(stock)),
        _ => None,
    }
}

/// Kills the stocked inits and drops the stock of empty cgroups (all removed in
/// the background).
fn kill_stock() {
    kill_spares();
    cgroup::drop_stock();
}

fn kill_spares() {
    if let Some(stock) = existing() {
        let mut state = stock.lock();
        state.stock_for = None;
        while state.busy {
            state = stock
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let spares = std::mem::take(&mut state.stock);
        drop(state);
        drop(spares);
    }
}

extern "C" fn flush_at_exit() {
    // A panic must not unwind into libc.
    let _ = std::panic::catch_unwind(flush);
}
