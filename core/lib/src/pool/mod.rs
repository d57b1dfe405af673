//! The pool: containers created ahead of time and reused, so a run costs little more
//! than a fork+exec.
//!
//! - `Pool::new` creates `min_idle` containers in parallel.
//! - `acquire` hands out an idle container (most recently used first: its pages are
//!   warm), creates one when under `max_size`, or waits up to the timeout.
//! - Dropping the returned [`PooledContainer`] releases it: a reset worker resets it
//!   off the caller's path and puts it back (or destroys it above `max_idle`). A broken
//!   container is destroyed and the maintainer replaces it.
//! - The maintainer thread keeps `min_idle` ready, evicts containers idle longer than
//!   `idle_timeout` (longest idle first) and pings idle ones every
//!   `health_check_interval`.
//! - `close` (or dropping the pool) stops the threads and destroys every idle
//!   container; containers still in use are destroyed when they are released.
//!
//! Thread safety: `Pool` is `Send + Sync`; acquire and release from any thread. After
//! the host process forks, the child must not use a pool of its parent (the
//! containers' sockets are shared with the parent and the pool's threads do not exist
//! in the child): create a new pool there.

mod cancel;
mod config;
mod maintainer;
mod stats;

pub use cancel::AcquireCancel;
pub use config::PoolConfig;
pub use stats::PoolStats;

use crate::container::Container;
use crate::error::{Error, Result};
use stats::Counters;
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct Idle {
    container: Container,
    /// Released after a use (for the `reused` count).
    used: bool,
    since: Instant,
    checked: Instant,
}

#[derive(Default)]
struct State {
    /// Oldest at the front, most recently released at the back.
    idle: VecDeque<Idle>,
    in_use: usize,
    creating: usize,
    resetting: usize,
    /// Taken out of `idle` by the maintainer for a health check.
    checking: usize,
    closed: bool,
}

impl State {
    fn total(&self) -> usize {
        self.idle.len() + self.in_use + self.creating + self.resetting + self.checking
    }

    fn pending(&self) -> usize {
        self.creating + self.resetting + self.checking
    }
}

struct Shared {
    config: PoolConfig,
    state: Mutex<State>,
    /// A container became idle, capacity freed, or the pool closed.
    available: Condvar,
    /// Something for the maintainer to look at.
    maintain: Condvar,
    counters: Counters,
    resets: Mutex<Option<mpsc::Sender<Container>>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn destroy(&self, container: Container) {
        drop(container);
        Counters::bump(&self.counters.destroyed);
    }

    /// Puts a freshly reset or created container back (destroys it when the pool is
    /// closed). Above `max_idle` the maintainer evicts the longest idle ones.
    fn return_idle(&self, mut state: MutexGuard<'_, State>, container: Container, used: bool) {
        if state.closed {
            drop(state);
            self.destroy(container);
        } else {
            let now = Instant::now();
            state.idle.push_back(Idle {
                container,
                used,
                since: now,
                checked: now,
            });
            let over = state.idle.len() > self.config.max_idle;
            drop(state);
            if over {
                self.maintain.notify_one();
            }
        }
        self.available.notify_one();
    }

    /// Destroys a container that leaves the pool for good: a waiter may now create
    /// one, and the maintainer refills `min_idle`.
    fn retire(&self, container: Container) {
        self.destroy(container);
        self.available.notify_all();
        self.maintain.notify_one();
    }

    fn create(&self) -> Result<Container> {
        let made = Container::new_for_pool(&self.config.container);
        if made.is_ok() {
            Counters::bump(&self.counters.created);
        }
        made
    }

    /// Creates a container without holding the lock, counted as being created
    /// meanwhile (so nobody else creates past `max_size`); returns the lock again.
    fn create_unlocked<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
    ) -> (MutexGuard<'a, State>, Result<Container>) {
        state.creating += 1;
        drop(state);
        let made = self.create();
        let mut state = self.lock();
        state.creating -= 1;
        (state, made)
    }

    /// A released container: broken ones are destroyed, the others go to a reset
    /// worker (or are reset here when the workers are gone).
    fn release(&self, container: Container) {
        let mut state = self.lock();
        state.in_use -= 1;
        if container.is_broken() || state.closed {
            drop(state);
            self.retire(container);
            return;
        }
        state.resetting += 1;
        drop(state);
        let sender = self
            .resets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let unsent = match sender {
            Some(tx) => tx.send(container).err().map(|e| e.0),
            None => Some(container),
        };
        if let Some(container) = unsent {
            self.finish_reset(container);
        }
    }

    fn finish_reset(&self, mut container: Container) {
        let reset = container.reset();
        let mut state = self.lock();
        state.resetting -= 1;
        match reset {
            Ok(()) => self.return_idle(state, container, true),
            Err(_) => {
                drop(state);
                self.retire(container);
            }
        }
    }
}

/// A pool of ready containers. Dropping it closes it.
pub struct Pool {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Dropped at close: the last pool closed kills the stock of spare inits.
    open: Mutex<Option<crate::spare::PoolOpen>>,
}

impl Pool {
    /// Creates the pool and its first `min_idle` containers (in parallel).
    pub fn new(config: PoolConfig) -> Result<Self> {
        config.validate()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            available: Condvar::new(),
            maintain: Condvar::new(),
            counters: Counters::default(),
            resets: Mutex::new(None),
            config,
        });
        // A few creators at a time: the inits are cloned one by one by the spawner
        // thread anyway, and a thread per container would spike to hundreds.
        let creators = std::thread::available_parallelism()
            .map_or(1, |n| 2 * n.get())
            .min(shared.config.min_idle);
        let left = AtomicUsize::new(shared.config.min_idle);
        let made: Vec<Result<Container>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..creators)
                .map(|_| {
                    scope.spawn(|| {
                        let mut made = Vec::new();
                        while left
                            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                                n.checked_sub(1)
                            })
                            .is_ok()
                        {
                            let container = shared.create();
                            if container.is_err() {
                                // The pool will not start: stop the others early.
                                left.store(0, Ordering::Relaxed);
                            }
                            made.push(container);
                        }
                        made
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("container creation panicked"))
                .collect()
        });
        let mut first_error = None;
        for container in made {
            match container {
                Ok(container) => {
                    let state = shared.lock();
                    shared.return_idle(state, container, false);
                }
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        let pool = Pool {
            shared,
            threads: Mutex::new(Vec::new()),
            open: Mutex::new(Some(crate::spare::PoolOpen::new())),
        };
        if let Some(e) = first_error {
            pool.close();
            return Err(e);
        }
        pool.start_threads()?;
        Ok(pool)
    }

    fn start_threads(&self) -> Result<()> {
        let spawn_error = |e| Error::io("starting a pool thread", e);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (tx, rx) = mpsc::channel::<Container>();
        let rx = Arc::new(Mutex::new(rx));
        *self.shared.resets.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        for i in 0..cores.min(self.shared.config.max_size).max(1) {
            let shared = Arc::clone(&self.shared);
            let rx = Arc::clone(&rx);
            let worker = std::thread::Builder::new()
                .name(format!("scpool-reset-{i}"))
                .spawn(move || loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match next {
                        Ok(container) => shared.finish_reset(container),
                        Err(_) => return,
                    }
                })
                .map_err(spawn_error)?;
            threads.push(worker);
        }
        let shared = Arc::clone(&self.shared);
        let maintainer = std::thread::Builder::new()
            .name("scpool-maintainer".into())
            .spawn(move || maintainer::maintain(&shared))
            .map_err(spawn_error)?;
        threads.push(maintainer);
        Ok(())
    }

    /// Hands out a container, waiting up to the pool's `acquire_timeout`.
    pub fn acquire(&self) -> Result<PooledContainer> {
        self.acquire_timeout(self.shared.config.acquire_timeout)
    }

    /// Hands out a container, waiting up to `timeout` for one to become free.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<PooledContainer> {
        self.acquire_until(timeout, None)
    }

    /// A token that stops [`Pool::acquire_cancellable`] calls waiting in other threads.
    pub fn acquire_cancel(&self) -> AcquireCancel {
        AcquireCancel::new(Arc::clone(&self.shared))
    }

    /// Like [`Pool::acquire_timeout`], and returns `Error::AcquireCancelled` as soon as
    /// `cancel` is cancelled (at once if it already is).
    pub fn acquire_cancellable(
        &self,
        timeout: Duration,
        cancel: &AcquireCancel,
    ) -> Result<PooledContainer> {
        if !Arc::ptr_eq(&cancel.shared, &self.shared) {
            return Err(Error::invalid("the cancel token belongs to another pool"));
        }
        self.acquire_until(timeout, Some(cancel))
    }

    fn acquire_until(
        &self,
        timeout: Duration,
        cancel: Option<&AcquireCancel>,
    ) -> Result<PooledContainer> {
        let shared = &self.shared;
        let started = Instant::now();
        // A timeout beyond the clock's range waits without a deadline.
        let deadline = started.checked_add(timeout);
        let mut waited = false;
        let mut state = shared.lock();
        loop {
            if state.closed {
                return Err(Error::PoolClosed);
            }
            if cancel.is_some_and(AcquireCancel::is_cancelled) {
                return Err(Error::AcquireCancelled);
            }
            if let Some(idle) = state.idle.pop_back() {
                state.in_use += 1;
                drop(state);
                let mut container = idle.container;
                // A dead init is seen through its pidfd without a round trip: never
                // hand one out.
                let dead = container.is_broken()
                    || (shared.config.ping_on_acquire && container.ping().is_err());
                if dead {
                    shared.destroy(container);
                    state = shared.lock();
                    state.in_use -= 1;
                    shared.maintain.notify_one();
                    continue;
                }
                if idle.used {
                    Counters::bump(&shared.counters.reused);
                }
                shared.counters.record_acquire(started.elapsed());
                return Ok(self.guard(container));
            }
            // A container being reset comes back sooner than a new one is made.
            if state.total() < shared.config.max_size && state.resetting == 0 {
                let made;
                (state, made) = shared.create_unlocked(state);
                match made {
                    Ok(container) => {
                        state.in_use += 1;
                        drop(state);
                        shared.counters.record_acquire(started.elapsed());
                        return Ok(self.guard(container));
                    }
                    Err(e) => {
                        drop(state);
                        shared.available.notify_all();
                        return Err(e);
                    }
                }
            }
            if !waited {
                waited = true;
                Counters::bump(&shared.counters.acquire_waits);
            }
            let now = Instant::now();
            state = match deadline {
                Some(deadline) if now >= deadline => {
                    Counters::bump(&shared.counters.acquire_timeouts);
                    return Err(Error::AcquireTimeout(timeout));
                }
                Some(deadline) => shared
                    .available
                    .wait_timeout(state, deadline - now)
                    .map_or_else(|p| p.into_inner().0, |r| r.0),
                None => shared
                    .available
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    fn guard(&self, container: Container) -> PooledContainer {
        PooledContainer {
            container: Some(container),
            shared: Arc::clone(&self.shared),
        }
    }

    /// The pool's counters now.
    pub fn stats(&self) -> PoolStats {
        let state = self.shared.lock();
        self.shared
            .counters
            .snapshot(state.idle.len(), state.in_use, state.pending())
    }

    /// The configuration the pool was made with.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Stops the pool: waiters get `PoolClosed`, the threads stop, idle containers are
    /// destroyed now and containers in use when they are released. Idempotent.
    pub fn close(&self) {
        let idle: Vec<Idle> = {
            let mut state = self.shared.lock();
            state.closed = true;
            state.idle.drain(..).collect()
        };
        self.shared.available.notify_all();
        self.shared.maintain.notify_all();
        // Closing the queue ends the reset workers once the queued resets are done.
        self.shared
            .resets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for thread in self
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = thread.join();
        }
        for entry in idle {
            self.shared.destroy(entry.container);
        }
        // Anything returned while the threads stopped.
        let late: Vec<Idle> = self.shared.lock().idle.drain(..).collect();
        for entry in late {
            self.shared.destroy(entry.container);
        }
        drop(self.open.lock().unwrap_or_else(|p| p.into_inner()).take());
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

/// A container on loan from a pool; dropping it gives it back (reset off the
/// caller's path). Dereferences to [`Container`].
pub struct PooledContainer {
    container: Option<Container>,
    shared: Arc<Shared>,
}

impl PooledContainer {
    /// Gives the container back now (the same as dropping it).
    pub fn release(self) {}

    /// Destroys the container instead of reusing it (e.g. after a run that may have
    /// left it in a state you do not trust).
    pub fn discard(mut self) {
        if let Some(container) = self.container.take() {
            self.shared.lock().in_use -= 1;
            self.shared.retire(container);
        }
    }
}

impl Deref for PooledContainer {
    type Target = Container;
    fn deref(&self) -> &Container {
        self.container.as_ref().expect("present until dropped")
    }
}

impl DerefMut for PooledContainer {
    fn deref_mut(&mut self) -> &mut Container {
        self.container.as_mut().expect("present until dropped")
    }
}

impl Drop for PooledContainer {
    fn drop(&mut self) {
        if let Some(container) = self.container.take() {
            self.shared.release(container);
        }
    }
}
