//! The pool handle: create, acquire, stats, close, free.

use crate::args;
use crate::config::{self, pool_config};
use crate::container_handle::{container, hand_out, Loan};
use crate::failure::{error, guard, guard_void, FfiError, FfiResult};
use crate::results::{self as result, pool_stats};
use scpool_core::{AcquireCancel, Pool};
use std::time::Duration;

/// A pool of containers (opaque). Every pool function is thread-safe: one pool may be
/// shared by any number of threads.
pub struct pool {
    inner: Pool,
}

impl pool {
    /// A caller's acquire timeout: nanoseconds, or the pool's own when negative.
    fn timeout(&self, ns: i64) -> Duration {
        u64::try_from(ns).map_or(self.inner.config().acquire_timeout, Duration::from_nanos)
    }
}

/// # Safety
/// `p` is NULL or a live pool.
unsafe fn live<'a>(p: *const pool) -> FfiResult<&'a pool> {
    // SAFETY: forwarded contract.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::invalid("pool is NULL"))
}

/// Creates a pool and its first `min_idle` containers. `config` may be NULL for the
/// defaults. On success `*out` is the new pool, to be freed with `scpool_pool_free()`.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `config` is NULL or a valid config (see `scpool_pool_config_init()`); `out` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_new(config: *const pool_config, out: *mut *mut pool) -> error {
    guard(|| {
        let out = args::out(out, "out")?;
        // SAFETY: forwarded contract.
        let config = unsafe { config::pool_config_from(config) }?;
        let inner = Pool::new(config)?;
        let handle = Box::into_raw(Box::new(pool { inner }));
        // SAFETY: out is non-NULL and writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Hands out a container, waiting up to `timeout_ns` nanoseconds for one to become
/// free (a negative value waits the pool's `acquire_timeout_ns`). Give it back with
/// `scpool_container_release()`. Fails with `SCPOOL_ERROR_ACQUIRE_TIMEOUT` or
/// `SCPOOL_ERROR_POOL_CLOSED`.
///
/// Thread safety: safe from any thread, concurrently with every pool function except
/// `scpool_pool_free()`.
///
/// # Safety
/// `p` is NULL or a live pool; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_acquire(
    p: *const pool,
    timeout_ns: i64,
    out: *mut *mut container,
) -> error {
    guard(|| {
        let out = args::out(out, "out")?;
        // SAFETY: forwarded contract.
        let p = unsafe { live(p) }?;
        let loan = p.inner.acquire_timeout(p.timeout(timeout_ns))?;
        // SAFETY: out is non-NULL and writable.
        unsafe { hand_out(out, Loan::Pooled(loan)) };
        Ok(())
    })
}

/// A token that cancels acquires waiting in other threads (opaque); see
/// `scpool_pool_acquire_cancellable()`. Thread-safe.
pub struct acquire_cancel {
    inner: AcquireCancel,
}

/// Makes a cancel token for acquires on `p`. Free it with
/// `scpool_acquire_cancel_free()` once no call uses it.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `p` is NULL or a live pool; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_acquire_cancel_new(
    p: *const pool,
    out: *mut *mut acquire_cancel,
) -> error {
    guard(|| {
        let out = args::out(out, "out")?;
        // SAFETY: forwarded contract.
        let p = unsafe { live(p) }?;
        let handle = Box::into_raw(Box::new(acquire_cancel {
            inner: p.inner.acquire_cancel(),
        }));
        // SAFETY: out is non-NULL and writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Cancels: every `scpool_pool_acquire_cancellable()` waiting with this token returns
/// `SCPOOL_ERROR_CANCELLED` now, and later ones at once. NULL is ignored.
///
/// Thread safety: safe from any thread, while other threads wait with the token.
///
/// # Safety
/// `cancel` is NULL or a live token.
#[no_mangle]
pub unsafe extern "C" fn scpool_acquire_cancel_trigger(cancel: *const acquire_cancel) {
    guard_void(|| {
        // SAFETY: NULL or a live token by the contract.
        if let Some(cancel) = unsafe { cancel.as_ref() } {
            cancel.inner.cancel();
        }
    })
}

/// Frees a cancel token. NULL is ignored.
///
/// Thread safety: no call may be using the token any more.
///
/// # Safety
/// `cancel` is NULL or a live token, not used again.
#[no_mangle]
pub unsafe extern "C" fn scpool_acquire_cancel_free(cancel: *mut acquire_cancel) {
    guard_void(|| {
        if !cancel.is_null() {
            // SAFETY: from Box::into_raw in scpool_acquire_cancel_new, freed once.
            drop(unsafe { Box::from_raw(cancel) });
        }
    })
}

/// As `scpool_pool_acquire()`, and returns `SCPOOL_ERROR_CANCELLED` as soon as
/// `cancel` (from `scpool_acquire_cancel_new()` on this pool) is triggered: a wait
/// that another thread can end without polling (a Go context, an abandoned request).
///
/// Thread safety: safe from any thread, concurrently with every pool function except
/// `scpool_pool_free()`.
///
/// # Safety
/// `p` is NULL or a live pool; `cancel` NULL or a live token; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_acquire_cancellable(
    p: *const pool,
    timeout_ns: i64,
    cancel: *const acquire_cancel,
    out: *mut *mut container,
) -> error {
    guard(|| {
        let out = args::out(out, "out")?;
        // SAFETY: forwarded contract.
        let p = unsafe { live(p) }?;
        // SAFETY: NULL or a live token by the contract.
        let cancel =
            unsafe { cancel.as_ref() }.ok_or_else(|| FfiError::invalid("cancel is NULL"))?;
        let loan = p
            .inner
            .acquire_cancellable(p.timeout(timeout_ns), &cancel.inner)?;
        // SAFETY: out is non-NULL and writable.
        unsafe { hand_out(out, Loan::Pooled(loan)) };
        Ok(())
    })
}

/// Fills `stats` (prepared by `scpool_pool_stats_init()`) with the pool's counters.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `p` is NULL or a live pool; `stats` is NULL or a prepared `scpool_pool_stats`.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_get_stats(p: *const pool, stats: *mut pool_stats) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let p = unsafe { live(p) }?;
        // SAFETY: forwarded contract.
        unsafe { result::write_stats(stats, &p.inner.stats()) }
    })
}

/// Closes the pool: waiting acquires fail with `SCPOOL_ERROR_POOL_CLOSED`, idle
/// containers are destroyed now, containers still out are destroyed when released.
/// The handle stays valid until `scpool_pool_free()`.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `p` is NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_close(p: *const pool) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let p = unsafe { live(p) }?;
        p.inner.close();
        Ok(())
    })
}

/// Closes the pool (as `scpool_pool_close()`), waits for its threads and frees it.
/// Containers still acquired stay usable and are destroyed when released. NULL is
/// ignored.
///
/// Thread safety: no other thread may use this pool handle during or after the call.
///
/// # Safety
/// `p` is NULL or a live pool, not used again.
#[no_mangle]
pub unsafe extern "C" fn scpool_pool_free(p: *mut pool) {
    guard_void(|| {
        if !p.is_null() {
            // SAFETY: from Box::into_raw in scpool_pool_new, freed once by the contract.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}
