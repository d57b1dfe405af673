//! The pool handle: create, acquire, stats, close, free.

use crate::args;
use crate::config::{self, pool_config};
use crate::container_handle::{container, Loan};
use crate::failure::{error, guard, guard_void, FfiError};
use crate::results::{self as result, pool_stats};
use scpool_core::Pool;
use std::time::Duration;

/// A pool of containers (opaque). Every pool function is thread-safe: one pool may be
/// shared by any number of threads.
pub struct pool {
    inner: Pool,
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
        // SAFETY: NULL or a live pool by the contract.
        let p = unsafe { p.as_ref() }.ok_or_else(|| FfiError::invalid("pool is NULL"))?;
        let loan = match u64::try_from(timeout_ns) {
            Ok(ns) => p.inner.acquire_timeout(Duration::from_nanos(ns))?,
            Err(_) => p.inner.acquire()?,
        };
        let handle = Box::into_raw(Box::new(container {
            inner: Loan::Pooled(loan),
        }));
        // SAFETY: out is non-NULL and writable.
        unsafe { out.write(handle) };
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
        // SAFETY: NULL or a live pool by the contract.
        let p = unsafe { p.as_ref() }.ok_or_else(|| FfiError::invalid("pool is NULL"))?;
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
        // SAFETY: NULL or a live pool by the contract.
        let p = unsafe { p.as_ref() }.ok_or_else(|| FfiError::invalid("pool is NULL"))?;
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
