//! The exec lock of the single-program policy: a second seccomp filter that lets the
//! runner's own exec through and kills every later execve or execveat.
//!
//! A filter has no state, so it cannot count execs. It tells them apart by the
//! filename pointer instead: the runner passes a string of the init's heap (the
//! program's path) to execve, or the init's empty-path string to execveat, and the
//! filter allows exactly those addresses. After the exec the addresses exist only in
//! the filter: the program cannot read its filter (that needs CAP_SYS_ADMIN), nor
//! the init's memory (another uid, no ptrace), and the init is a static PIE loaded
//! with ASLR, so the values differ per container. A program that wants to exec must
//! guess a 64-bit address blind, and the first wrong guess kills it.
//!
//! Compiled into the host (for its tests) and into the init (which builds the filter
//! before it forks the runner, when the addresses are known). Depends only on libc
//! and `arch`.

use crate::arch::NATIVE;

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
