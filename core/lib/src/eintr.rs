//! Retrying host-side system calls that a signal interrupted.
//!
//! Hosts such as Go deliver signals constantly (SIGURG for preemption), and some
//! calls fail with EINTR even under SA_RESTART: a cgroup v1 memory limit write gives
//! up with EINTR whenever a signal is pending. The standard library retries
//! `open`, `read_to_end`, `write_all`, `io::copy` and `read_exact_at` itself; plain
//! `read_at`/`write_at`, `mkdir` and raw calls need this.

use std::io;

/// Calls `call` until it does not fail with EINTR.
pub(crate) fn retry<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupted_calls_are_repeated_and_other_errors_returned() {
        let mut calls = 0;
        let result = retry(|| {
            calls += 1;
            match calls {
                1 | 2 => Err(io::Error::from_raw_os_error(libc::EINTR)),
                3 => Err(io::Error::from_raw_os_error(libc::EBUSY)),
                _ => Ok(()),
            }
        });
        assert_eq!(calls, 3);
        assert_eq!(result.unwrap_err().raw_os_error(), Some(libc::EBUSY));
        assert_eq!(retry(|| Ok::<_, io::Error>(7)).unwrap(), 7);
    }
}
