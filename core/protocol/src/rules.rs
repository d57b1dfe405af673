//! What host and init must agree on beyond the messages: which open flags and paths
//! are acceptable (the host refuses them early with a clear error, the init refuses
//! them again, as it trusts nothing it receives), and the clock of the instants in
//! `ExecReport`.

/// open(2) flags `Open` accepts besides the access mode (which must not be O_ACCMODE).
pub const OPEN_FLAGS_ALLOWED: i32 = libc::O_CREAT
    | libc::O_EXCL
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_DIRECTORY
    | libc::O_NONBLOCK
    | libc::O_NOFOLLOW
    | libc::O_CLOEXEC
    | libc::O_NOCTTY;

/// Whether `flags` is an access mode plus allowed flags only.
pub fn open_flags_valid(flags: i32) -> bool {
    flags & libc::O_ACCMODE != libc::O_ACCMODE
        && flags & !(OPEN_FLAGS_ALLOWED | libc::O_ACCMODE) == 0
}

/// The part of a container path below its root ("." for "/"), or why the path is
/// refused: it must be absolute, without NUL and without "." or ".." components.
pub fn path_below_root(path: &[u8]) -> Result<&[u8], &'static str> {
    let rest = path.strip_prefix(b"/").ok_or("must be an absolute path")?;
    if path.contains(&0) {
        return Err("contains a NUL byte");
    }
    if rest
        .split(|&b| b == b'/')
        .any(|part| part == b".." || part == b".")
    {
        return Err("must not contain '.' or '..' components");
    }
    Ok(if rest.is_empty() { b"." } else { rest })
}

/// CLOCK_MONOTONIC in nanoseconds: host and init share it (no time namespace is
/// used), so the instants the init reports compare with the host's.
pub fn monotonic_ns() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available");
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}
