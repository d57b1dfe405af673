//! Stopping the runs of a request whose client went away: the library's run call
//! blocks until the program ends, so the service kills the containers' inits. The
//! runs end at once, the containers are reported broken, and the pool replaces them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

#[derive(Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    inits: Mutex<Vec<i32>>,
}

impl Cancel {
    /// Notes a container's init before its run starts; false when the request was
    /// cancelled already (then the run must not start).
    pub fn register(&self, init_pid: i32) -> bool {
        let mut inits = self.inits.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_cancelled() {
            return false;
        }
        inits.push(init_pid);
        true
    }

    /// The run is over: its init must not be killed any more (the container goes
    /// back to the pool and its pid stays its own only while it is on loan).
    pub fn unregister(&self, init_pid: i32) {
        let mut inits = self.inits.lock().unwrap_or_else(PoisonError::into_inner);
        inits.retain(|p| *p != init_pid);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    pub fn cancel(&self) {
        let inits = self.inits.lock().unwrap_or_else(PoisonError::into_inner);
        self.cancelled.store(true, Ordering::SeqCst);
        for pid in inits.iter() {
            // SAFETY: kill has no memory effects; the pid is an init of a container
            // this request holds (registered until its run returns), so it names
            // no other process.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
    }
}
