//! What comes back: the run status and result, pool statistics, and buffers the
//! library allocates for the caller.

use crate::args::{self, SizedStruct};
use crate::failure::{error, guard, guard_void, FfiError, FfiResult};
use scpool_core::{Accounting, PoolStats, RunResult, Status};
use std::os::raw::{c_char, c_int};
use std::time::Duration;

/// How a run ended. When several apply, the first in this order wins: RUNNER_ERROR,
/// DISALLOWED_SYSCALL, MEMORY_LIMIT_EXCEEDED, TIME_LIMIT_EXCEEDED,
/// WALL_TIME_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED, SIGNALLED, NONZERO_EXIT, OK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum status {
    /// Exited with code 0.
    Ok = 0,
    /// Exited with a non-zero code.
    NonzeroExit = 1,
    /// Killed by a signal it did not catch.
    Signalled = 2,
    /// Used more CPU time than allowed.
    TimeLimitExceeded = 3,
    /// Ran longer (wall clock) than allowed.
    WallTimeLimitExceeded = 4,
    /// Needed more memory than allowed.
    MemoryLimitExceeded = 5,
    /// Wrote more than allowed to a file or to captured output.
    OutputLimitExceeded = 6,
    /// Made a system call the seccomp policy kills on.
    DisallowedSyscall = 7,
    /// The sandbox could not start the program; `message` says why.
    RunnerError = 8,
}

impl From<Status> for status {
    fn from(s: Status) -> Self {
        match s {
            Status::Ok => status::Ok,
            Status::NonzeroExit => status::NonzeroExit,
            Status::Signalled => status::Signalled,
            Status::TimeLimitExceeded => status::TimeLimitExceeded,
            Status::WallTimeLimitExceeded => status::WallTimeLimitExceeded,
            Status::MemoryLimitExceeded => status::MemoryLimitExceeded,
            Status::OutputLimitExceeded => status::OutputLimitExceeded,
            Status::DisallowedSyscall => status::DisallowedSyscall,
            Status::RunnerError => status::RunnerError,
            // A status newer than the ABI (the test below keeps the lists equal).
            _ => status::RunnerError,
        }
    }
}

/// What one run did. Fill `struct_size` with `scpool_result_init()` before the call;
/// after a successful call free it with `scpool_result_free()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct result {
    /// `sizeof(scpool_result)`, set by `scpool_result_init()`.
    pub struct_size: u32,
    pub status: status,
    /// Exit code of the main process, or -1 when it did not exit normally.
    pub exit_code: c_int,
    /// Signal that killed the main process, or 0.
    pub signal: c_int,
    /// User + system CPU time of every process and thread of the run.
    pub cpu_time_ns: u64,
    /// From the successful exec to the end of the main process.
    pub wall_time_ns: u64,
    /// Peak memory of the run, bytes.
    pub memory_bytes: u64,
    /// From the call to the program's exec: the sandbox's own cost.
    pub setup_time_ns: u64,
    /// Captured output of `scpool_container_run()` (NULL and 0 for execve or when
    /// empty). Owned by the result.
    pub stdout_data: *mut u8,
    pub stdout_len: usize,
    pub stderr_data: *mut u8,
    pub stderr_len: usize,
    /// Why, for RUNNER_ERROR and limit statuses: a NUL-terminated string, "" when
    /// there is nothing to say. Owned by the result.
    pub message: *mut c_char,
    /// The user-mode and kernel-mode parts of `cpu_time_ns` (they add up to it).
    /// (Added after the first version, like `accounting`.)
    pub user_time_ns: u64,
    pub system_time_ns: u64,
    /// What measured these figures: a `scpool_accounting`.
    pub accounting: u32,
    /// The most processes and threads the run had at once, or -1 where no counter
    /// of this run alone exists (see `scpool_container_config.process_peak`).
    /// (Added after the first version.)
    pub peak_processes: i64,
}

impl SizedStruct for result {
    const NAME: &'static str = "scpool_result";
    // The first version ended before the user/system split.
    const FIRST_SIZE: usize = std::mem::offset_of!(Self, user_time_ns);
}

/// What measured a run's CPU time and memory and enforced its cgroup limits
/// (`scpool_result.accounting`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum accounting {
    /// No cgroup: CPU time and memory from the kernel's per-process accounting,
    /// limits as rlimits.
    None = 0,
    /// The container's cgroup v1.
    CgroupV1 = 1,
    /// The container's cgroup v2.
    CgroupV2 = 2,
}

impl From<Accounting> for accounting {
    fn from(a: Accounting) -> Self {
        match a {
            Accounting::NoCgroup => accounting::None,
            Accounting::CgroupV1 => accounting::CgroupV1,
            Accounting::CgroupV2 => accounting::CgroupV2,
            // Newer than the ABI (the test below keeps the lists equal).
            _ => accounting::None,
        }
    }
}

/// A pool's counters (`scpool_pool_get_stats()`). Fill `struct_size` with
/// `scpool_pool_stats_init()`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pool_stats {
    pub struct_size: u32,
    /// Ready to hand out.
    pub idle: u32,
    /// Handed out and not yet released.
    pub in_use: u32,
    /// Being created, or being reset after a release.
    pub pending: u32,
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
    /// Mean and worst time an acquire took.
    pub acquire_latency_mean_ns: u64,
    pub acquire_latency_max_ns: u64,
}

impl SizedStruct for pool_stats {
    const NAME: &'static str = "scpool_pool_stats";
    // Version 1 of the ABI: the whole struct.
    const FIRST_SIZE: usize = std::mem::size_of::<Self>();
}

/// A duration for C: nanoseconds, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A count for C, saturating.
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A malloc'd copy of `bytes` (NULL when empty), so C may also release it with free().
pub(crate) fn malloc_copy(bytes: &[u8]) -> FfiResult<*mut u8> {
    if bytes.is_empty() {
        return Ok(std::ptr::null_mut());
    }
    // SAFETY: malloc with a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(bytes.len()) }.cast::<u8>();
    if p.is_null() {
        return Err(FfiError::from(std::io::Error::from_raw_os_error(
            libc::ENOMEM,
        )));
    }
    // SAFETY: p holds bytes.len() bytes and does not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    Ok(p)
}

/// A malloc'd NUL-terminated copy of `text` (cut at an interior NUL).
fn malloc_string(text: &str) -> FfiResult<*mut c_char> {
    let text = text.split('\0').next().unwrap_or_default().as_bytes();
    // SAFETY: malloc of len + 1 bytes, checked for NULL.
    let p = unsafe { libc::malloc(text.len() + 1) }.cast::<u8>();
    if p.is_null() {
        return Err(FfiError::from(std::io::Error::from_raw_os_error(
            libc::ENOMEM,
        )));
    }
    // SAFETY: p holds len + 1 bytes; the copy and the terminator fit.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len());
        *p.add(text.len()) = 0;
    }
    Ok(p.cast())
}

/// Checks the caller's result struct before a run, so a bad one is refused before
/// anything happens; returns how many bytes of it to write.
///
/// # Safety
/// `out` is NULL or points to at least the `struct_size` field.
pub(crate) unsafe fn check_result_out(out: *mut result) -> FfiResult<usize> {
    // SAFETY: forwarded contract.
    unsafe { args::sized_out(out, "result") }
}

/// Writes a run's result into the caller's struct (checked by `check_result_out`,
/// which returned `len`).
///
/// # Safety
/// `out` passed `check_result_out`.
pub(crate) unsafe fn write_result(out: *mut result, len: usize, r: &RunResult) -> FfiResult {
    let stdout_data = malloc_copy(&r.stdout)?;
    let stderr_data = malloc_copy(&r.stderr);
    let message = malloc_string(&r.message);
    let (stderr_data, message) = match (stderr_data, message) {
        (Ok(e), Ok(m)) => (e, m),
        (e, m) => {
            // SAFETY: each pointer came from malloc (or is NULL).
            unsafe {
                libc::free(stdout_data.cast());
                e.iter().for_each(|p| libc::free(p.cast()));
                m.iter().for_each(|p| libc::free(p.cast()));
            }
            return Err(FfiError::from(std::io::Error::from_raw_os_error(
                libc::ENOMEM,
            )));
        }
    };
    let written = result {
        struct_size: len as u32,
        status: r.status.into(),
        exit_code: r.exit_code.unwrap_or(-1),
        signal: r.signal.unwrap_or(0),
        cpu_time_ns: nanos(r.cpu_time),
        wall_time_ns: nanos(r.wall_time),
        memory_bytes: r.memory,
        setup_time_ns: nanos(r.setup_time),
        stdout_data,
        stdout_len: r.stdout.len(),
        stderr_data,
        stderr_len: r.stderr.len(),
        message,
        user_time_ns: nanos(r.user_time),
        system_time_ns: nanos(r.system_time),
        accounting: accounting::from(r.accounting) as u32,
        peak_processes: r
            .peak_processes
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
    };
    // SAFETY: checked by check_result_out; the owned pointers lie within FIRST_SIZE.
    unsafe { args::write_sized(out, &written, len) };
    Ok(())
}

/// Writes pool statistics into the caller's struct.
///
/// # Safety
/// `out` is NULL or points to a writable `scpool_pool_stats` whose `struct_size` is set.
pub(crate) unsafe fn write_stats(out: *mut pool_stats, s: &PoolStats) -> FfiResult {
    // SAFETY: forwarded contract.
    let len = unsafe { args::sized_out(out, "stats") }?;
    let written = pool_stats {
        struct_size: len as u32,
        idle: count(s.idle),
        in_use: count(s.in_use),
        pending: count(s.pending),
        created: s.created,
        destroyed: s.destroyed,
        reused: s.reused,
        acquires: s.acquires,
        acquire_waits: s.acquire_waits,
        acquire_timeouts: s.acquire_timeouts,
        acquire_latency_mean_ns: nanos(s.acquire_latency_mean),
        acquire_latency_max_ns: nanos(s.acquire_latency_max),
    };
    // SAFETY: checked by sized_out above.
    unsafe { args::write_sized(out, &written, len) };
    Ok(())
}

/// Prepares `r` for a run: zeroes it and sets `struct_size`. A result so prepared may
/// also be passed to `scpool_result_free()`.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `r` is NULL or points to writable memory for a `scpool_result`.
#[no_mangle]
pub unsafe extern "C" fn scpool_result_init(r: *mut result) -> error {
    guard(|| {
        let r = args::out(r, "result")?;
        let empty = result {
            struct_size: std::mem::size_of::<result>() as u32,
            status: status::Ok,
            exit_code: -1,
            signal: 0,
            cpu_time_ns: 0,
            wall_time_ns: 0,
            memory_bytes: 0,
            setup_time_ns: 0,
            stdout_data: std::ptr::null_mut(),
            stdout_len: 0,
            stderr_data: std::ptr::null_mut(),
            stderr_len: 0,
            message: std::ptr::null_mut(),
            user_time_ns: 0,
            system_time_ns: 0,
            accounting: accounting::None as u32,
            peak_processes: -1,
        };
        // SAFETY: non-NULL and writable by the contract.
        unsafe { r.write_unaligned(empty) };
        Ok(())
    })
}

/// Frees the buffers a result owns (stdout, stderr, message) and sets them to NULL;
/// the struct itself is the caller's. NULL is ignored; freeing twice is harmless.
///
/// Thread safety: safe from any thread, one call per result.
///
/// # Safety
/// `r` is NULL, or a result prepared by `scpool_result_init()` or filled by a
/// successful run.
#[no_mangle]
pub unsafe extern "C" fn scpool_result_free(r: *mut result) {
    guard_void(|| {
        if r.is_null() {
            return;
        }
        // SAFETY: r is valid by the contract; each owned pointer came from malloc or is
        // NULL (free(NULL) does nothing). Fields are accessed in place, without a
        // reference to the whole struct.
        unsafe {
            for data in [
                std::ptr::addr_of_mut!((*r).stdout_data),
                std::ptr::addr_of_mut!((*r).stderr_data),
            ] {
                libc::free(data.read_unaligned().cast());
                data.write_unaligned(std::ptr::null_mut());
            }
            let message = std::ptr::addr_of_mut!((*r).message);
            libc::free(message.read_unaligned().cast());
            message.write_unaligned(std::ptr::null_mut());
            std::ptr::addr_of_mut!((*r).stdout_len).write_unaligned(0);
            std::ptr::addr_of_mut!((*r).stderr_len).write_unaligned(0);
        }
    })
}

/// Prepares `s` for `scpool_pool_get_stats()`: zeroes it and sets `struct_size`.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `s` is NULL or points to writable memory for a `scpool_pool_stats`.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_stats_init(s: *mut pool_stats) -> error {
    guard(|| {
        let s = args::out(s, "stats")?;
        let empty = pool_stats {
            struct_size: std::mem::size_of::<pool_stats>() as u32,
            ..pool_stats::default()
        };
        // SAFETY: non-NULL and writable by the contract.
        unsafe { s.write_unaligned(empty) };
        Ok(())
    })
}

/// Frees a buffer the library returned (`scpool_container_read_file()`). NULL is
/// ignored. (Buffers come from malloc, so free() works too.)
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `data` is NULL or a buffer returned by scpool and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn scpool_buffer_free(data: *mut u8) {
    // SAFETY: from malloc or NULL by the contract.
    guard_void(|| unsafe { libc::free(data.cast()) })
}

/// The name of a status as every language spells it ("OK", "TIME_LIMIT_EXCEEDED"...),
/// or "UNKNOWN".
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn scpool_status_name(s: c_int) -> *const c_char {
    let name = match s {
        0 => c"OK",
        1 => c"NONZERO_EXIT",
        2 => c"SIGNALLED",
        3 => c"TIME_LIMIT_EXCEEDED",
        4 => c"WALL_TIME_LIMIT_EXCEEDED",
        5 => c"MEMORY_LIMIT_EXCEEDED",
        6 => c"OUTPUT_LIMIT_EXCEEDED",
        7 => c"DISALLOWED_SYSCALL",
        8 => c"RUNNER_ERROR",
        _ => c"UNKNOWN",
    };
    name.as_ptr()
}

/// The name of a `scpool_accounting` as every language spells it ("none",
/// "cgroup-v1", "cgroup-v2"), or "unknown".
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn scpool_accounting_name(a: u32) -> *const c_char {
    let name = match a {
        0 => c"none",
        1 => c"cgroup-v1",
        2 => c"cgroup-v2",
        _ => c"unknown",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_and_names_match_the_core() {
        for s in Status::ALL {
            assert_eq!(status::from(s) as u32, s as u32);
            // SAFETY: scpool_status_name returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(scpool_status_name(s as c_int)) };
            assert_eq!(name.to_str().unwrap(), s.name());
        }
        // SAFETY: as above.
        let unknown = unsafe { std::ffi::CStr::from_ptr(scpool_status_name(99)) };
        assert_eq!(unknown.to_bytes(), b"UNKNOWN");
    }

    #[test]
    fn accounting_codes_and_names_match_the_core() {
        for a in [
            Accounting::NoCgroup,
            Accounting::CgroupV1,
            Accounting::CgroupV2,
        ] {
            assert_eq!(accounting::from(a) as u32, a as u32);
            // SAFETY: scpool_accounting_name returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(scpool_accounting_name(a as u32)) };
            assert_eq!(name.to_str().unwrap(), a.name());
        }
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn structs_that_grew_accept_their_first_size() {
        // The sizes of the first ABI version on 64-bit targets: programs built then
        // pass them, so the prefix they cover must never change.
        assert_eq!(<result as SizedStruct>::FIRST_SIZE, 88);
        assert_eq!(<crate::params::limits as SizedStruct>::FIRST_SIZE, 64);
        assert_eq!(
            <crate::config::container_config as SizedStruct>::FIRST_SIZE,
            96
        );
    }
}
