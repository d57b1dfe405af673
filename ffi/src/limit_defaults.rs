//! The core's defaults for limits a caller leaves at 0, and its smallest memory
//! limit, as C constants. cbindgen writes only literals, so each is spelled here and
//! checked against the core at compile time: they cannot drift.

/// Processes and threads a run may have alive when `scpool_limits.processes` is 0.
pub const DEFAULT_PROCESSES: u32 = 256;
/// Open descriptors (RLIMIT_NOFILE) when `scpool_limits.open_files` is 0.
pub const DEFAULT_OPEN_FILES: u64 = 1024;
/// Stack bytes (RLIMIT_STACK) when `scpool_limits.stack_bytes` is 0.
pub const DEFAULT_STACK_BYTES: u64 = 8 << 20;
/// The smallest `scpool_limits.memory_bytes` accepted: below it no program can
/// start (SCPOOL_ERROR_INVALID_ARGUMENT).
pub const MIN_MEMORY_BYTES: u64 = 1 << 20;

const _: () = {
    use scpool_core::defaults;
    assert!(DEFAULT_PROCESSES == defaults::PROCESSES);
    assert!(DEFAULT_OPEN_FILES == defaults::OPEN_FILES);
    assert!(DEFAULT_STACK_BYTES == defaults::STACK);
    assert!(MIN_MEMORY_BYTES == scpool_core::MIN_MEMORY);
};
