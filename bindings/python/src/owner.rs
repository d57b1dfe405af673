//! Which process made an object. After `fork()` the child must not touch its
//! parent's containers: their sockets are shared with the parent and the pool's
//! threads do not exist in the child.

use crate::errors;
use pyo3::prelude::*;

#[derive(Clone, Copy)]
pub struct Owner(u32);

impl Owner {
    pub fn current() -> Self {
        Owner(std::process::id())
    }

    /// The process that made the object.
    pub fn pid(self) -> u32 {
        self.0
    }

    /// True in the process that made the object.
    pub fn is_current(self) -> bool {
        self.0 == std::process::id()
    }

    /// An error in a forked child.
    pub fn check(self, py: Python<'_>, what: &str) -> PyResult<()> {
        if self.is_current() {
            Ok(())
        } else {
            Err(errors::raise(
                py,
                "Error",
                (format!(
                    "this {what} belongs to process {} and cannot be used after fork(); \
                     create a new pool in this process",
                    self.0
                ),),
            ))
        }
    }
}
