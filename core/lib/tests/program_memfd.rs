//! A program kept in one `program_memfd` and run by many runs: no run can change
//! what the next one executes, neither its bytes nor its mode, times or extended
//! attributes. Runs as root (a rootless program is the memfd's owner: see the
//! function's documentation).

mod common;

use common::*;
use scpool_core::{program_memfd, ExecveParam};
use std::os::fd::AsFd;

/// One run of `hostile_exe` from `exe`; its stdout.
fn run_from(c: &mut scpool_core::Container, exe: &std::os::fd::OwnedFd) -> String {
    let ns = host_ns();
    let stdin = memfd_with("test-stdin", b"");
    let mut stdout = memfd_with("test-stdout", b"");
    let mut param = ExecveParam::new(["hostile_exe", ns[0].as_str(), ns[1].as_str()]);
    param.files = vec![stdin.as_fd(), stdout.as_fd()];
    param.exec_file = Some(exe.as_fd());
    let r = c.execve(&param).unwrap();
    assert_ok(&r);
    String::from_utf8(read_all(&mut stdout)).unwrap()
}

#[test]
fn no_run_changes_the_program_the_next_run_executes() {
    let bytes = std::fs::read(prog("hostile_exe")).unwrap();
    let exe = program_memfd(&bytes).unwrap();
    let mut first = container();
    let mut second = container();
    let seen = run_from(&mut first, &exe);
    let (attempts, file) = seen.rsplit_once("mode=").expect("the program's report");
    // Every change refused: the program is neither the owner nor allowed to write.
    for word in attempts.split_whitespace() {
        assert!(!word.ends_with("=ok"), "{word} went through: {seen}");
    }
    assert!(file.starts_with("555 "), "{seen}");
    // The next run, in the same container and in another, sees the same file.
    for c in [&mut first, &mut second] {
        let again = run_from(c, &exe);
        assert_eq!(again.rsplit_once("mode=").unwrap().1, file, "{again}");
    }
    let mut copy = Vec::new();
    std::io::Read::read_to_end(
        &mut std::fs::File::from(exe.try_clone().unwrap()),
        &mut copy,
    )
    .unwrap();
    assert_eq!(copy, bytes);
}
