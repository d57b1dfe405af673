//! The core's defaults for limits a caller leaves at 0, its smallest memory limit,
//! its default working directory and id range, as C constants. cbindgen writes only literals, so each is spelled here and
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

/// The working directory of a run whose `cwd` is NULL.
pub const DEFAULT_CWD: &str = "/w";
/// The first of the ids containers take their own from (`id_range_first`'s default).
pub const DEFAULT_ID_RANGE_FIRST: u32 = 0x7000_0000;
/// How many ids containers take their own from (`id_range_count`'s default).
pub const DEFAULT_ID_RANGE_COUNT: u32 = 65536;

const _: () = {
    use scpool_core::defaults;
    assert!(DEFAULT_PROCESSES == defaults::PROCESSES);
    assert!(DEFAULT_OPEN_FILES == defaults::OPEN_FILES);
    assert!(DEFAULT_STACK_BYTES == defaults::STACK);
    assert!(MIN_MEMORY_BYTES == scpool_core::MIN_MEMORY);
    assert!(DEFAULT_ID_RANGE_FIRST == scpool_core::IdRange::DEFAULT.first);
    assert!(DEFAULT_ID_RANGE_COUNT == scpool_core::IdRange::DEFAULT.count);
    assert!(same(
        DEFAULT_CWD.as_bytes(),
        scpool_core::DEFAULT_CWD.as_bytes()
    ));
};

/// Byte-wise equality in a constant context (`==` on slices is not `const`).
const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
