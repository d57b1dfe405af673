//! A program's descriptors put in place just before its exec, by the init's runner
//! and by a program started beside a run alike: the given files at 0..n,
//! /dev/null at any of 0-2 left over, every other descriptor close-on-exec.
//!
//! Both callers run between a fork (or clone) and an exec, where only
//! async-signal-safe calls are allowed: nothing here allocates or takes a lock, and
//! close_range is the raw system call (musl has no wrapper).

use crate::MAX_FDS;

/// What to put where.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// The program's descriptors 0..n, in order (at most [`MAX_FDS`]).
    pub files: &'a [i32],
    /// The descriptor the program is executed from, if any: kept open (above the
    /// range, close-on-exec, so the exec itself closes it).
    pub exec_file: Option<i32>,
    /// The highest descriptor this process may hold, for kernels whose close_range
    /// lacks CLOSE_RANGE_CLOEXEC (before 5.11); negative when unknown, which is then
    /// an error on those kernels.
    pub highest_fd: i32,
}

impl Placement<'_> {
    /// The lowest descriptor number above the program's: at least 3, so that 0-2
    /// always belong to the program.
    pub fn floor(&self) -> i32 {
        (self.files.len() as i32).max(3)
    }
}

/// Places the descriptors as [`Placement`] says. Returns the exec file's new number;
/// `Err(errno)` names the first call that failed.
///
/// # Safety
/// Only in a child between fork and exec that has its own descriptor table: every
/// descriptor it does not place becomes close-on-exec, and 0..n are overwritten.
pub unsafe fn place_files(p: &Placement<'_>) -> Result<Option<i32>, i32> {
    let n = p.files.len().min(MAX_FDS) as i32;
    let floor = p.floor();
    // SAFETY: fcntl/dup2/open/close on this process's own descriptor table, as the
    // caller guarantees; the path is a NUL-terminated literal.
    unsafe {
        // Lift everything kept above the target range first, so that no dup2 below
        // overwrites a descriptor still needed. A fixed array: nothing is allocated.
        let lift = |fd: i32| match libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) {
            high if high >= 0 => Ok(high),
            _ => Err(errno()),
        };
        let exec_fd = match p.exec_file {
            Some(fd) => Some(lift(fd)?),
            None => None,
        };
        let mut lifted = [0i32; MAX_FDS];
        for (slot, fd) in lifted.iter_mut().zip(p.files) {
            *slot = lift(*fd)?;
        }
        for (target, fd) in lifted.iter().take(n as usize).enumerate() {
            if libc::dup2(*fd, target as i32) < 0 {
                return Err(errno());
            }
        }
        for target in n..3 {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
            if null < 0 {
                return Err(errno());
            }
            // open may hand out `target` itself: then only the flag must go.
            let placed = if null == target {
                libc::fcntl(target, libc::F_SETFD, 0)
            } else {
                let rc = libc::dup2(null, target);
                libc::close(null);
                rc
            };
            if placed < 0 {
                return Err(errno());
            }
        }
        if close_range(floor as u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) != 0 {
            if errno() != libc::EINVAL || p.highest_fd < 0 {
                return Err(errno());
            }
            // Before 5.11: one by one, up to the highest held at the fork (those
            // lifted above are close-on-exec already).
            for fd in floor..=p.highest_fd {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(exec_fd)
    }
}

/// close_range(2) as a system call: not every C library has a wrapper (musl).
///
/// # Safety
/// Closing descriptors that others still use is the caller's to rule out.
pub unsafe fn close_range(first: u32, last: u32, flags: libc::c_uint) -> libc::c_long {
    // SAFETY: forwarded contract; no memory is passed.
    unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) }
}

/// The calling thread's errno, read without allocating.
fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a forked child: places a pipe's ends at 0 and 1 (and /dev/null at 2),
    /// then reports through the pipe what 0-2 are and whether a descriptor left
    /// above the range is close-on-exec now.
    #[test]
    fn files_land_at_zero_up_null_fills_the_rest_and_the_others_close_on_exec() {
        let mut ends = [0; 2];
        // SAFETY: pipe writes two descriptors into `ends`.
        assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
        let [read_end, write_end] = ends;
        // SAFETY: the child only makes system calls and exits with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // SAFETY: this is the forked child, about to _exit.
            unsafe {
                let files = [read_end, write_end];
                let placed = place_files(&Placement {
                    files: &files,
                    exec_file: None,
                    highest_fd: 64,
                });
                let mut facts = [0u8; 4];
                facts[0] = placed.is_ok() as u8;
                let mut st: libc::stat = std::mem::zeroed();
                facts[1] = (libc::fstat(2, &mut st) == 0
                    && st.st_mode & libc::S_IFMT == libc::S_IFCHR
                    && st.st_rdev == libc::makedev(1, 3)) as u8;
                facts[2] = (libc::fcntl(0, libc::F_GETFD) == 0) as u8;
                facts[3] =
                    (libc::fcntl(read_end.max(write_end), libc::F_GETFD) == libc::FD_CLOEXEC) as u8;
                libc::write(1, facts.as_ptr().cast(), facts.len());
                libc::_exit(0);
            }
        }
        // Ours closed, so a child that wrote nothing gives end of file, not a hang.
        // SAFETY: our own descriptor, not used again.
        unsafe { libc::close(write_end) };
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        let mut facts = [9u8; 4];
        // SAFETY: reads into `facts`; the child wrote four bytes before exiting.
        let got = unsafe { libc::read(read_end, facts.as_mut_ptr().cast(), 4) };
        assert_eq!(got, 4);
        assert_eq!(
            facts,
            [1, 1, 1, 1],
            "placed, /dev/null at 2, 0 kept, rest cloexec"
        );
        // SAFETY: our own descriptor.
        unsafe { libc::close(read_end) };
    }
}
