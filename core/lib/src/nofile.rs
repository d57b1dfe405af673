//! The host's soft limit on open descriptors, raised to its hard limit once, when
//! the first container is made.
//!
//! An idle container holds two host descriptors (its socket and its init's pidfd),
//! so a pool of 500 needs more than the soft limit of 1024 that most distributions
//! give a process (the hard limit is usually far higher). The Go runtime raises its
//! soft limit the same way at start. The limit is the whole process's: children the
//! host starts itself inherit the raised soft limit (a program that uses select(2)
//! may care); the programs run in containers do not, they get their own
//! [`Limits::open_files`](crate::Limits::open_files).

use std::sync::Once;

/// Raises the soft RLIMIT_NOFILE to the hard one, once per process. Best effort: a
/// host whose limit cannot be read or raised keeps the one it has.
pub(crate) fn raise_soft_limit() {
    static RAISED: Once = Once::new();
    RAISED.call_once(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return;
        }
        if limit.rlim_cur >= limit.rlim_max {
            return;
        }
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit reads the struct we pass; raising the soft limit up to
        // the hard one needs no privilege.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    });
}
