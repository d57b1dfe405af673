//! The C ABI of scpool (`libscpool.so`, `libscpool.a`, `include/scpool.h`).
//!
//! Conventions, for every function:
//! - fallible functions return a `scpool_error`; on failure
//!   `scpool_last_error_message()` (thread-local) says why and nothing was changed;
//! - NULL or malformed arguments give `SCPOOL_ERROR_INVALID_ARGUMENT`, never a crash
//!   (pointers to freed or too-small memory cannot be detected);
//! - no panic crosses the boundary: one would be reported as `SCPOOL_ERROR_INTERNAL`;
//! - structs passed in or out start with `struct_size`, set by their `_init`
//!   function: structs grow only at the end, and the library reads and writes only
//!   the prefix a caller's `struct_size` covers, so programs built earlier keep
//!   working;
//! - durations are nanoseconds, sizes bytes, and 0 in a `scpool_limits` field means
//!   the field's default (`SCPOOL_DEFAULT_*`, no limit for most);
//! - thread safety is stated per function: pools are shared freely, a container
//!   handle is used by one thread at a time.
//!
//! The C names come from cbindgen (`ffi/cbindgen.toml`) with the `scpool_` prefix,
//! hence the lower-case Rust type names.
#![allow(non_camel_case_types)]

mod abi_version;
mod args;
mod config;
mod container_handle;
mod failure;
mod files;
mod limit_defaults;
mod memfd;
mod params;
mod pool_handle;
mod results;
mod version;

pub use abi_version::SCPOOL_ABI_MAJOR;
pub use config::{
    cgroup_mode, container_config, mount, pool_config, scpool_container_config_init,
    scpool_pool_config_init, scpool_pool_config_set_sizes, ID_AUTO, SIZE_UNSET,
};
pub use container_handle::{
    container, open_cmd, scpool_container_discard, scpool_container_execve,
    scpool_container_init_pid, scpool_container_is_broken, scpool_container_new,
    scpool_container_open, scpool_container_ping, scpool_container_program_ids,
    scpool_container_read_file, scpool_container_release, scpool_container_reset,
    scpool_container_run, scpool_container_write_file,
};
pub use failure::{error, scpool_error_name, scpool_last_error_errno, scpool_last_error_message};
pub use limit_defaults::{
    DEFAULT_CWD, DEFAULT_ID_RANGE_COUNT, DEFAULT_ID_RANGE_FIRST, DEFAULT_OPEN_FILES,
    DEFAULT_PROCESSES, DEFAULT_STACK_BYTES, MIN_MEMORY_BYTES,
};
pub use memfd::scpool_memfd_copy;
pub use params::{
    execve_param, limits, run_param, scpool_execve_param_init, scpool_limits_init,
    scpool_run_param_init, seccomp_policy, sock_filter,
};
pub use pool_handle::{
    acquire_cancel, pool, scpool_acquire_cancel_free, scpool_acquire_cancel_new,
    scpool_acquire_cancel_trigger, scpool_pool_acquire, scpool_pool_acquire_cancellable,
    scpool_pool_close, scpool_pool_free, scpool_pool_get_stats, scpool_pool_new,
};
pub use results::{
    accounting, pool_stats, result, scpool_accounting_name, scpool_buffer_free,
    scpool_pool_stats_init, scpool_result_free, scpool_result_init, scpool_status_name, status,
};
pub use version::{scpool_abi_major, scpool_version};
