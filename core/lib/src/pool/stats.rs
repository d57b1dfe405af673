//! Counters a pool keeps about itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a pool's state and history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Ready to hand out.
    pub idle: usize,
    /// Handed out and not yet released.
    pub in_use: usize,
    /// Being created, or being reset after a release.
    pub pending: usize,
    /// Containers created since the pool started.
    pub created: u64,
    /// Containers destroyed (broken, evicted, or at close).
    pub destroyed: u64,
    /// Acquires served by a container that had been used before.
    pub reused: u64,
    /// Successful acquires.
    pub acquires: u64,
    /// Acquires that had to wait for a container.
    pub acquire_waits: u64,
    /// Acquires that gave up at their timeout.
    pub acquire_timeouts: u64,
    /// Mean time an acquire took.
    pub acquire_latency_mean: Duration,
    /// Worst time an acquire took.
    pub acquire_latency_max: Duration,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub created: AtomicU64,
    pub destroyed: AtomicU64,
    pub reused: AtomicU64,
    pub acquires: AtomicU64,
    pub acquire_waits: AtomicU64,
    pub acquire_timeouts: AtomicU64,
    acquire_ns_total: AtomicU64,
    acquire_ns_max: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_acquire(&self, took: Duration) {
        let ns = took.as_nanos().min(u64::MAX as u128) as u64;
        Self::bump(&self.acquires);
        self.acquire_ns_total.fetch_add(ns, Ordering::Relaxed);
        self.acquire_ns_max.fetch_max(ns, Ordering::Relaxed);
    }

    pub fn snapshot(&self, idle: usize, in_use: usize, pending: usize) -> PoolStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let acquires = read(&self.acquires);
        PoolStats {
            idle,
            in_use,
            pending,
            created: read(&self.created),
            destroyed: read(&self.destroyed),
            reused: read(&self.reused),
            acquires,
            acquire_waits: read(&self.acquire_waits),
            acquire_timeouts: read(&self.acquire_timeouts),
            acquire_latency_mean: Duration::from_nanos(
                read(&self.acquire_ns_total) / acquires.max(1),
            ),
            acquire_latency_max: Duration::from_nanos(read(&self.acquire_ns_max)),
        }
    }
}
