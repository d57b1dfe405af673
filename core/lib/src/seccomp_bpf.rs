//! A small compiler from "syscall number → action" tables to classic BPF that finds
//! the number by binary search.
//!
//! Why not seccompiler's output for the built-in policies: it is a linear chain of
//! comparisons, and the kernel evaluates a new filter for every syscall number when it
//! is attached (to build its allow cache), so attach cost grows with the chain:
//! ~300 instructions cost ~300 µs per run. A search tree over the same rules is about
//! a third of the size with paths of ~8 instructions.

use crate::arch::Arch;
use seccompiler::sock_filter;

pub(crate) const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
pub(crate) const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
pub(crate) const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

/// Offsets in struct seccomp_data.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16;

/// What a matched syscall number leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// Return this action.
    Ret(u32),
    /// `deny` when the first argument has any of `mask`'s bits (clone's namespace
    /// flags), else `allow`.
    ArgBits { mask: u32, deny: u32, allow: u32 },
    /// `allow` when the first argument's low 32 bits equal one of `values` (the
    /// address families socket and socketpair may use), else `deny`. The argument
    /// is a C `int`: the kernel ignores its upper half, so the low word decides.
    ArgIn {
        values: &'static [u32],
        deny: u32,
        allow: u32,
    },
}

/// Where a jump goes before addresses are known.
#[derive(Debug, Clone, Copy)]
enum To {
    Next,
    At(usize),
    Leaf(usize),
}

struct Insn {
    code: u16,
    k: u32,
    jt: To,
    jf: To,
}

fn op(code: u32, k: u32) -> Insn {
    Insn {
        code: code as u16,
        k,
        jt: To::Next,
        jf: To::Next,
    }
}

fn cond(code: u32, k: u32, jt: To, jf: To) -> Insn {
    Insn {
        code: code as u16,
        k,
        jt,
        jf,
    }
}

const LD_ABS: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const RET: u32 = libc::BPF_RET | libc::BPF_K;
const JEQ: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const JGE: u32 = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
const JSET: u32 = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;

/// Compiles `rules` (syscall number → leaf) with `default` for every other number.
/// Every program starts with the guard: a call of another ABI than `arch` is killed,
/// x32 calls (where `arch` has them) get `x32_action`, clone3 fails with ENOSYS (its
/// flags are out of a filter's reach, and libc falls back to clone, whose flags the
/// rules can check).
pub(crate) fn compile(
    arch: Arch,
    rules: &[(u32, Leaf)],
    default: u32,
    x32_action: u32,
) -> Vec<sock_filter> {
    let mut rules = rules.to_vec();
    rules.sort_by_key(|(nr, _)| *nr);
    rules.dedup_by_key(|(nr, _)| *nr);
    rules.retain(|(nr, _)| *nr != libc::SYS_clone3 as u32);

    let mut code = guard(arch, x32_action);
    search(&mut code, &rules, default);
    resolve(code, &rules)
}

/// The guard, then a caller's program.
pub(crate) fn guarded(arch: Arch, program: &[sock_filter], x32_action: u32) -> Vec<sock_filter> {
    let mut out = resolve(guard(arch, x32_action), &[]);
    out.extend_from_slice(program);
    out
}

/// Leaves the syscall number in the accumulator for what follows.
fn guard(arch: Arch, x32_action: u32) -> Vec<Insn> {
    let mut code = vec![
        op(LD_ABS, ARCH),
        cond(JEQ, arch.audit, To::At(3), To::Next),
        op(RET, SECCOMP_RET_KILL_PROCESS),
        op(LD_ABS, NR),
    ];
    if let Some(x32_bit) = arch.x32_bit {
        let past = code.len() + 2;
        code.push(cond(JGE, x32_bit, To::Next, To::At(past)));
        code.push(op(RET, x32_action));
    }
    let past = code.len() + 2;
    code.push(cond(JEQ, libc::SYS_clone3 as u32, To::Next, To::At(past)));
    code.push(op(RET, SECCOMP_RET_ERRNO | libc::ENOSYS as u32));
    code
}

/// How many instructions the guard of `arch` takes.
pub(crate) fn guard_len(arch: Arch) -> usize {
    guard(arch, 0).len()
}

/// Emits a search over `rules` (sorted); the accumulator holds the syscall number.
fn search(code: &mut Vec<Insn>, rules: &[(u32, Leaf)], default: u32) {
    const LINEAR: usize = 4;
    if rules.len() <= LINEAR {
        for (index, (nr, _)) in rules.iter().enumerate() {
            code.push(cond(JEQ, *nr, To::Leaf(index_of(rules, index)), To::Next));
        }
        code.push(op(RET, default));
        return;
    }
    let mid = rules.len() / 2;
    let split = code.len();
    code.push(cond(JGE, rules[mid].0, To::Next, To::Next));
    search(code, &rules[..mid], default);
    let right = code.len();
    code[split].jt = To::At(right);
    search(code, &rules[mid..], default);
}

/// Leaves are addressed by syscall number until `resolve` lays them out.
fn index_of(rules: &[(u32, Leaf)], index: usize) -> usize {
    rules[index].0 as usize
}

/// Appends one block per distinct leaf and turns symbolic jumps into offsets.
fn resolve(mut code: Vec<Insn>, rules: &[(u32, Leaf)]) -> Vec<sock_filter> {
    let mut leaf_at = std::collections::BTreeMap::new();
    let mut blocks: Vec<(Leaf, usize)> = Vec::new();
    for (nr, leaf) in rules {
        let start = match blocks.iter().find(|(l, _)| l == leaf) {
            Some((_, start)) => *start,
            None => {
                let start = code.len();
                match *leaf {
                    Leaf::Ret(action) => code.push(op(RET, action)),
                    Leaf::ArgBits { mask, deny, allow } => {
                        code.push(op(LD_ABS, ARG0_LOW));
                        code.push(cond(JSET, mask, To::Next, To::At(start + 3)));
                        code.push(op(RET, deny));
                        code.push(op(RET, allow));
                    }
                    Leaf::ArgIn {
                        values,
                        deny,
                        allow,
                    } => {
                        // ld arg0; one jeq per value to the final `ret allow`.
                        let allow_at = start + values.len() + 2;
                        code.push(op(LD_ABS, ARG0_LOW));
                        for value in values {
                            code.push(cond(JEQ, *value, To::At(allow_at), To::Next));
                        }
                        code.push(op(RET, deny));
                        code.push(op(RET, allow));
                    }
                }
                blocks.push((*leaf, start));
                start
            }
        };
        leaf_at.insert(*nr as usize, start);
    }
    let offset = |from: usize, to: To| -> u8 {
        let target = match to {
            To::Next => return 0,
            To::At(at) => at,
            To::Leaf(nr) => leaf_at[&nr],
        };
        u8::try_from(target - from - 1).expect("seccomp program jumps fit in 255 instructions")
    };
    code.iter()
        .enumerate()
        .map(|(i, insn)| sock_filter {
            code: insn.code,
            jt: offset(i, insn.jt),
            jf: offset(i, insn.jf),
            k: insn.k,
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod interpreter {
    //! Just enough of a classic BPF interpreter to check compiled programs.
    use super::*;

    pub fn run(program: &[sock_filter], arch: u32, nr: u32, arg0: u64) -> u32 {
        run_args(program, arch, nr, [arg0, 0, 0, 0, 0, 0])
    }

    /// Runs `program` over a struct seccomp_data with all six arguments; loads read
    /// its 32-bit words as the kernel does (little-endian: an argument's low word
    /// first).
    pub fn run_args(program: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let insn = &program[pc];
            let code = insn.code as u32;
            pc += 1;
            match code {
                LD_ABS => {
                    acc = match insn.k {
                        NR => nr,
                        ARCH => arch,
                        at @ ARG0_LOW..=60 if at % 4 == 0 => {
                            let arg = args[(at - ARG0_LOW) as usize / 8];
                            if at % 8 == 0 {
                                arg as u32
                            } else {
                                (arg >> 32) as u32
                            }
                        }
                        other => panic!("unexpected load offset {other}"),
                    }
                }
                RET => return insn.k,
                JEQ | JGE | JSET => {
                    let taken = match code {
                        JEQ => acc == insn.k,
                        JGE => acc >= insn.k,
                        _ => acc & insn.k != 0,
                    };
                    pc += if taken { insn.jt } else { insn.jf } as usize;
                }
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interpreter::run;
    use super::*;
    use crate::arch::{AARCH64, X86_64};

    const DENY: u32 = SECCOMP_RET_ERRNO | 1;
    /// Audit values of the compat ABIs each CPU also runs.
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

    fn table(numbers: &[u32]) -> Vec<(u32, Leaf)> {
        numbers.iter().map(|&nr| (nr, Leaf::Ret(DENY))).collect()
    }

    #[test]
    fn every_number_gets_its_action() {
        for arch in [X86_64, AARCH64] {
            for size in [0usize, 1, 3, 4, 5, 17, 60, 100] {
                let numbers: Vec<u32> = (0..size as u32).map(|i| i * 7 + 3).collect();
                let program = compile(
                    arch,
                    &table(&numbers),
                    SECCOMP_RET_ALLOW,
                    SECCOMP_RET_KILL_PROCESS,
                );
                for nr in 0..1000u32 {
                    let expected = if nr == libc::SYS_clone3 as u32 {
                        SECCOMP_RET_ERRNO | libc::ENOSYS as u32
                    } else if numbers.contains(&nr) {
                        DENY
                    } else {
                        SECCOMP_RET_ALLOW
                    };
                    assert_eq!(
                        run(&program, arch.audit, nr, 0),
                        expected,
                        "{arch:?}, size {size}, nr {nr}"
                    );
                }
            }
        }
    }

    #[test]
    fn guard_refuses_other_arches_and_x32() {
        let rules = table(&[1, 2, 3]);
        let x32_action = SECCOMP_RET_ERRNO | 2;
        for (arch, others) in [
            (X86_64, [AUDIT_ARCH_I386, AARCH64.audit]),
            (AARCH64, [AUDIT_ARCH_ARM, X86_64.audit]),
        ] {
            let program = compile(arch, &rules, SECCOMP_RET_ALLOW, x32_action);
            for other in others {
                assert_eq!(run(&program, other, 1, 0), SECCOMP_RET_KILL_PROCESS);
                assert_eq!(run(&program, other, 4, 0), SECCOMP_RET_KILL_PROCESS);
            }
            assert_eq!(run(&program, arch.audit, 1, 0), DENY);
            // Bit 30 is x32 on x86_64 only; elsewhere such a number is just
            // unknown to the kernel (ENOSYS) and meets the default.
            let high = 0x4000_0000 | 1;
            let expected = match arch.x32_bit {
                Some(_) => x32_action,
                None => SECCOMP_RET_ALLOW,
            };
            assert_eq!(run(&program, arch.audit, high, 0), expected, "{arch:?}");
            assert_eq!(guard_len(arch), if arch.x32_bit.is_some() { 8 } else { 6 });
        }
    }

    #[test]
    fn argument_bits_are_checked() {
        let leaf = Leaf::ArgBits {
            mask: 0x10,
            deny: DENY,
            allow: SECCOMP_RET_ALLOW,
        };
        let mut rules = table(&[5, 9, 11, 40, 41, 42]);
        rules.push((56, leaf));
        for arch in [X86_64, AARCH64] {
            let program = compile(arch, &rules, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS);
            assert_eq!(run(&program, arch.audit, 56, 0x10 | 0x1), DENY);
            assert_eq!(run(&program, arch.audit, 56, 0x2), SECCOMP_RET_ALLOW);
            assert_eq!(run(&program, arch.audit, 42, 0), DENY);
        }
    }

    #[test]
    fn argument_values_are_checked_on_the_low_word() {
        const FAMILIES: &[u32] = &[1, 2, 10, 16];
        let leaf = Leaf::ArgIn {
            values: FAMILIES,
            deny: DENY,
            allow: SECCOMP_RET_ALLOW,
        };
        let mut rules = table(&[5, 9, 11, 40, 42, 60]);
        rules.push((41, leaf));
        rules.push((53, leaf));
        for arch in [X86_64, AARCH64] {
            let program = compile(arch, &rules, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS);
            let run = |nr, arg0| run(&program, arch.audit, nr, arg0);
            for nr in [41, 53] {
                for value in 0..64u64 {
                    let expected = if FAMILIES.contains(&(value as u32)) {
                        SECCOMP_RET_ALLOW
                    } else {
                        DENY
                    };
                    assert_eq!(run(nr, value), expected, "nr {nr} value {value}");
                    // The kernel reads an int: garbage in the upper half changes nothing.
                    assert_eq!(
                        run(nr, 0xdead_beef << 32 | value),
                        expected,
                        "nr {nr} value {value} with an upper half"
                    );
                }
                // A family that matches only in the upper half is refused.
                assert_eq!(run(nr, 2 << 32 | 40), DENY);
            }
            // The two rules share one block; other numbers keep their actions.
            assert_eq!(run(42, 2), DENY);
            assert_eq!(run(43, 40), SECCOMP_RET_ALLOW);
            let blocks = program
                .iter()
                .filter(|i| i.code as u32 == LD_ABS && i.k == ARG0_LOW);
            assert_eq!(blocks.count(), 1);
        }
    }

    #[test]
    fn the_search_is_short() {
        let numbers: Vec<u32> = (0..64).map(|i| i * 5).collect();
        let program = compile(
            X86_64,
            &table(&numbers),
            SECCOMP_RET_ALLOW,
            SECCOMP_RET_KILL_PROCESS,
        );
        assert!(
            program.len() < 3 * numbers.len(),
            "{} instructions",
            program.len()
        );
    }
}
