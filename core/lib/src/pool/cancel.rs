//! Stopping an acquire that waits in another thread (a Go context, a request that was
//! abandoned), without polling.

use super::Shared;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Cancels [`Pool::acquire_cancellable`](super::Pool::acquire_cancellable) calls made
/// with it, from any thread; they return `Error::AcquireCancelled`. One token serves
/// any number of calls on the pool that made it; once cancelled it stays cancelled.
#[derive(Clone)]
pub struct AcquireCancel {
    pub(super) shared: Arc<Shared>,
    cancelled: Arc<AtomicBool>,
}

impl AcquireCancel {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Wakes the acquires waiting with this token and makes them fail.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // Under the lock: a waiter checks the flag and starts waiting in one step, so
        // the wake-up cannot fall between the two.
        let _state = self.shared.lock();
        self.shared.available.notify_all();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for AcquireCancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcquireCancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
