//! The exec lock of the single-program policy: a second seccomp filter that lets the
//! runner's own exec through and kills every later execve or execveat.
//!
//! A filter has no state, so it cannot count execs. It tells them apart by the
//! filename pointer instead: the runner passes a string of the init's heap (the
//! program's path) to execve, or [`empty_path`] to execveat, and the filter allows
//! exactly those addresses. After the exec the addresses exist only in the filter:
//! the program cannot read its filter (that needs CAP_SYS_ADMIN), nor the init's
//! memory (another uid, no ptrace), and ASLR places the heap and mappings anew in
//! each container. A program that wants to exec must guess an address blind, and
//! the first wrong guess kills it. No address may come from the init's image: Rust
//! links a static aarch64 executable without PIE, at a fixed address.
//!
//! Used by the init (which builds the filter before it forks the runner, when the
//! addresses are known) and by the host's tests. Depends only on libc and `arch`.

use crate::arch::NATIVE;
use std::sync::OnceLock;

/// Offsets in struct seccomp_data: nr, arch, then six 64-bit arguments.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARGS: u32 = 16;

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ALLOW: u32 = 0x7fff_0000;

const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The filter: execve only with `path` as its filename (argument 0), execveat only
/// with `empty_path` as its pathname (argument 1); any other exec is killed, every
/// other call allowed (the policy's main filter judges those). 19 instructions.
pub fn exec_lock(
    path: *const libc::c_char,
    empty_path: *const libc::c_char,
) -> Vec<libc::sock_filter> {
    // A 64-bit compare is two 32-bit loads (seccomp_data is read in words; every
    // supported architecture is little-endian, so an argument's low word comes first).
    let compare = |arg: u32, value: u64| {
        let at = ARGS + arg * 8;
        [
            insn(LD_ABS, 0, 0, at),
            insn(JEQ, 0, 3, value as u32),
            insn(LD_ABS, 0, 0, at + 4),
            insn(JEQ, 0, 1, (value >> 32) as u32),
        ]
    };
    let mut code = vec![
        // Another architecture's numbers mean other calls: kill (the main filter
        // does the same).
        insn(LD_ABS, 0, 0, ARCH),
        insn(JEQ, 1, 0, NATIVE.audit),
        insn(RET, 0, 0, RET_KILL_PROCESS),
        insn(LD_ABS, 0, 0, NR),
        // execve: on to its check at 7; execveat: to its own at 13.
        insn(JEQ, 2, 0, libc::SYS_execve as u32),
        insn(JEQ, 7, 0, libc::SYS_execveat as u32),
        insn(RET, 0, 0, RET_ALLOW),
    ];
    // Each check: four compares, then `ret allow` when all matched (the jumps
    // land on the instruction after it, `ret kill`, otherwise).
    code.extend(compare(0, path as u64));
    code.push(insn(RET, 0, 0, RET_ALLOW));
    code.push(insn(RET, 0, 0, RET_KILL_PROCESS));
    code.extend(compare(1, empty_path as u64));
    code.push(insn(RET, 0, 0, RET_ALLOW));
    code.push(insn(RET, 0, 0, RET_KILL_PROCESS));
    code
}

/// The path the runner gives execveat for an exec by descriptor (AT_EMPTY_PATH):
/// the first byte of a read-only page of zeros mapped once per process, so its
/// address is random where a static string's would be fixed in a non-PIE init.
/// Fails only when not one page can be mapped.
pub fn empty_path() -> std::io::Result<*const libc::c_char> {
    static PAGE: OnceLock<usize> = OnceLock::new();
    if let Some(page) = PAGE.get() {
        return Ok(*page as *const libc::c_char);
    }
    // SAFETY: a new private anonymous mapping; no existing memory is touched. It
    // is never unmapped: the filter of any later run may name it.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            1,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let kept = *PAGE.get_or_init(|| page as usize);
    if kept != page as usize {
        // Another thread mapped one first (only the host's tests have threads).
        // SAFETY: `page` is the mapping made above, referenced nowhere.
        unsafe { libc::munmap(page, 1) };
    }
    Ok(kept as *const libc::c_char)
}

/// A copy of the path the runner gives execve under the exec lock, on a read-only
/// page mapped at a random address for this run alone: the lock names its address,
/// and a heap string's address (the path's own) is much easier to guess (about 18
/// bits of entropy for the init's heap).
pub struct MappedPath {
    page: *mut libc::c_void,
    len: usize,
}

impl MappedPath {
    /// Maps `path` (NUL included) at a random page-aligned address.
    pub fn new(path: &std::ffi::CStr) -> std::io::Result<Self> {
        let bytes = path.to_bytes_with_nul();
        let page_size = 4096usize.max(
            // SAFETY: sysconf has no side effects.
            unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize,
        );
        let len = bytes.len().div_ceil(page_size) * page_size;
        let mut page = libc::MAP_FAILED;
        for _ in 0..8 {
            let mut random = [0u8; 8];
            // SAFETY: getrandom fills the buffer we own.
            let got = unsafe { libc::getrandom(random.as_mut_ptr().cast(), 8, 0) };
            if got != 8 {
                break;
            }
            // Somewhere in [2^32, 2^46): user space on every 4- and 5-level layout.
            let hint =
                ((u64::from_ne_bytes(random) % (1 << 46)).max(1 << 32) as usize) & !(page_size - 1);
            // SAFETY: a new private anonymous mapping that replaces nothing
            // (MAP_FIXED_NOREPLACE fails instead).
            page = unsafe {
                libc::mmap(
                    hint as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if page != libc::MAP_FAILED {
                break;
            }
        }
        if page == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the mapping is `len` >= bytes.len() writable bytes, ours alone.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), page.cast::<u8>(), bytes.len()) };
        // SAFETY: `page` is our mapping of `len` bytes; read-only before anyone else
        // can see it.
        unsafe { libc::mprotect(page, len, libc::PROT_READ) };
        Ok(Self { page, len })
    }

    /// The sealed bytes, for the exec that the filter allows.
    pub fn as_ptr(&self) -> *const libc::c_char {
        self.page.cast()
    }
}

impl Drop for MappedPath {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; the run's exec is over by now.
        unsafe { libc::munmap(self.page, self.len) };
    }
}
