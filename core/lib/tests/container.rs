//! Integration tests of one container (no pool, no cgroups): the seed scenario,
//! execve semantics, isolation, reset, bad input and rootless mode.
//!
//! Must run as root (CI does). Programs that could harm the host if the sandbox
//! failed are guarded: see `tests/progs/guard.h`.

mod common;

use common::*;
use scpool_core::{
    memfd_copy_of, Container, ContainerConfig, Error, ExecveParam, IdRange, Limits, Mount, OpenCmd,
    Status,
};
use std::fs::Permissions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A trivial run that must succeed: the container still works.
#[track_caller]
fn assert_still_works(c: &mut Container) {
    c.ping().expect("ping after bad input");
    let r = c
        .run(&run_param(["/bin/echo", "alive"]))
        .expect("a run after bad input");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "alive\n");
}

// ---------------------------------------------------------------------------------
// 0. The guard of the hostile programs works: outside a sandbox they do nothing.

#[test]
fn guards_refuse_to_act_on_the_host() {
    let [pid, mnt] = host_ns();
    let target = scratch_dir().join("guard-probe");
    let status = std::process::Command::new(prog("write"))
        .args([&pid, &mnt])
        .arg(&target)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(GUARD_REFUSED));
    assert!(!target.exists(), "the guarded program acted on the host");
    // Without the namespace arguments, too.
    let status = std::process::Command::new(prog("write"))
        .arg(&target)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(GUARD_REFUSED));
    assert!(!target.exists());

    let output = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{}echo acted", sh_guard()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(GUARD_REFUSED));
    assert!(output.stdout.is_empty());
}

// ---------------------------------------------------------------------------------
// 1. The seed scenario.

#[test]
fn seed_scenario_open_write_execve_memfd_read_back() {
    let mut c = container();
    let mut files = c
        .open(&[
            OpenCmd::new(
                "/w/input.txt",
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                0o644,
            ),
            OpenCmd::new(
                "/w/output.txt",
                libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
                0o644,
            ),
        ])
        .expect("open");
    assert_eq!(files.len(), 2);
    let mut output = files.pop().unwrap();
    let mut input = files.pop().unwrap();
    // Files created through Open belong to the program's user.
    let (uid, _) = c.program_ids();
    assert_eq!(input.metadata().unwrap().uid(), uid);
    assert_eq!(output.metadata().unwrap().uid(), uid);

    // More than one read buffer of the program, with every byte value.
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    input.write_all(&content).expect("writing the input");
    drop(input);

    let exe = memfd_copy_of(prog("copy")).expect("memfd_copy_of");
    let mut param = ExecveParam::new(["copy", "/w/input.txt", "/w/output.txt"]);
    param.env = vec!["PATH=/usr/bin:/bin".into()];
    param.exec_file = Some(exe.as_fd());
    param.limits.wall_time = Some(SAFETY_WALL_TIME);
    let r = c.execve(&param).expect("execve");
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(r.signal, None);
    assert!(r.message.is_empty(), "{r:?}");
    assert!(r.wall_time > Duration::ZERO && r.wall_time < Duration::from_secs(30));

    let expected = content.to_ascii_uppercase();
    output.seek(SeekFrom::Start(0)).unwrap();
    let mut got = Vec::new();
    output.read_to_end(&mut got).unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "the output differs from the upper-cased input"
    );
    // The same through the convenience call.
    assert!(c.read_file("/w/output.txt").unwrap() == expected);
}

#[test]
fn write_file_and_read_file_round_trip() {
    let mut c = container();
    c.write_file("/w/in.txt", b"1 2\n").unwrap();
    let r = sh(&mut c, "read a b < /w/in.txt; echo $((a + b)) > /tmp/sum");
    assert_ok(&r);
    assert_eq!(c.read_file("/tmp/sum").unwrap(), b"3\n");
    assert_eq!(c.read_file("/w/in.txt").unwrap(), b"1 2\n");
}

#[test]
fn program_by_path_from_a_read_only_bind() {
    let bin = prog("fds");
    let dir = bin.parent().unwrap().to_path_buf();
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::new(dir, "/progs"));
    let mut c = Container::new(&config).expect("container with a bind of the programs");
    let r = c.run(&run_param(["/progs/fds"])).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "0 1 2\n");
}

// ---------------------------------------------------------------------------------
// 2. Execve semantics.

#[test]
fn env_is_exactly_as_given() {
    let mut c = container();
    let mut p = run_param(["/usr/bin/env"]);
    p.env = vec!["SCPOOL_TEST=hello world".into(), PATH_ENV.into()];
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(
        text(&r.stdout),
        "SCPOOL_TEST=hello world\nPATH=/usr/bin:/bin\n"
    );

    p.env = vec![];
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "", "an empty env must stay empty");
}

#[test]
fn cwd_is_honoured() {
    let mut c = container();
    let mut p = run_param(["/bin/pwd"]);
    p.cwd = "/tmp".into();
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "/tmp\n");

    // The default is the work directory.
    let r = c.run(&run_param(["/bin/pwd"])).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "/w\n");
}

#[test]
fn nonzero_exit() {
    let mut c = container();
    let r = sh(&mut c, "exit 3");
    assert_eq!(r.status, Status::NonzeroExit, "{r:?}");
    assert_eq!(r.exit_code, Some(3));
    assert_eq!(r.signal, None);
    let r = sh(&mut c, "exit 255");
    assert_eq!(r.status, Status::NonzeroExit, "{r:?}");
    assert_eq!(r.exit_code, Some(255));
}

#[test]
fn killed_by_signal() {
    let mut c = container();
    let r = sh(&mut c, "kill -SEGV $$");
    assert_eq!(r.status, Status::Signalled, "{r:?}");
    assert_eq!(r.signal, Some(libc::SIGSEGV));
    assert_eq!(r.exit_code, None);
    let r = sh(&mut c, "kill -KILL $$");
    assert_eq!(r.status, Status::Signalled, "{r:?}");
    assert_eq!(r.signal, Some(libc::SIGKILL));
}

#[test]
fn nonexistent_program_is_a_runner_error() {
    let mut c = container();
    let r = c.run(&run_param(["/no/such/program"])).unwrap();
    assert_eq!(r.status, Status::RunnerError, "{r:?}");
    assert!(
        r.message.contains("No such file"),
        "message lacks the errno text: {:?}",
        r.message
    );
    assert_eq!(r.exit_code, None);
    assert_eq!(r.signal, None);
    assert_still_works(&mut c);
}

#[test]
fn not_executable_is_a_runner_error() {
    let mut c = container();
    c.write_file("/w/script", b"#!/bin/sh\necho no\n").unwrap();
    // Written with mode 0644: no execute bit.
    let r = c.run(&run_param(["/w/script"])).unwrap();
    assert_eq!(r.status, Status::RunnerError, "{r:?}");
    assert!(r.message.contains("Permission denied"), "{:?}", r.message);
    assert_still_works(&mut c);
}

#[test]
fn nonexistent_cwd_is_a_runner_error() {
    let mut c = container();
    let mut p = run_param(["/bin/pwd"]);
    p.cwd = "/no/such/dir".into();
    let r = c.run(&p).unwrap();
    assert_eq!(r.status, Status::RunnerError, "{r:?}");
    assert!(r.message.contains("No such file"), "{:?}", r.message);
    assert!(r.stdout.is_empty());
    assert_still_works(&mut c);
}

#[test]
fn wall_time_limit_kills_the_run() {
    let mut c = container();
    let mut p = run_param(["/bin/sleep", "10"]);
    p.limits.wall_time = Some(Duration::from_millis(300));
    let started = Instant::now();
    let r = c.run(&p).unwrap();
    let took = started.elapsed();
    assert_eq!(r.status, Status::WallTimeLimitExceeded, "{r:?}");
    assert!(!r.message.is_empty());
    assert!(
        took < Duration::from_secs(3),
        "the call took {took:?} for a 300 ms limit"
    );
    assert!(
        took >= Duration::from_millis(300),
        "returned after {took:?}"
    );
    // The program ran from its exec until the kill; set-up plus run is the limit.
    assert!(r.wall_time >= Duration::from_millis(200), "{r:?}");
    assert!(
        r.setup_time + r.wall_time >= Duration::from_millis(290),
        "{r:?}"
    );
    // A sleeping program used less CPU than time passed: its start-up only (no
    // tighter bound: on a loaded emulated guest start-up alone took 60-190 ms).
    assert!(r.cpu_time < r.wall_time, "{r:?}");
    assert_still_works(&mut c);

    // A program that stops itself is killed all the same.
    let mut p = run_param(["/bin/sh", "-c", "kill -STOP $$"]);
    p.limits.wall_time = Some(Duration::from_millis(300));
    let started = Instant::now();
    let r = c.run(&p).unwrap();
    assert_eq!(r.status, Status::WallTimeLimitExceeded, "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_still_works(&mut c);
}

#[test]
fn output_limit_through_rlimit_fsize() {
    let mut c = container();
    let mut p = run_param(["/usr/bin/yes"]);
    p.limits.output = Some(1024);
    let r = c.run(&p).unwrap();
    assert_eq!(r.status, Status::OutputLimitExceeded, "{r:?}");
    assert!(r.stdout.len() <= 1024, "captured {} bytes", r.stdout.len());
    assert!(!r.stdout.is_empty());
    assert!(r.stdout.chunks(2).all(|c| c == b"y\n" || c == b"y"));

    // A file written by the program is capped the same way.
    let mut p = run_param(["/bin/sh", "-c", "head -c 4096 /dev/zero > /w/big"]);
    p.limits.output = Some(1024);
    let r = c.run(&p).unwrap();
    // head is killed by SIGXFSZ; the shell reports it as exit 128+25, or dies with it.
    assert!(
        matches!(r.status, Status::OutputLimitExceeded | Status::NonzeroExit),
        "{r:?}"
    );
    let big = c.read_file("/w/big").unwrap();
    assert!(big.len() <= 1024, "the file holds {} bytes", big.len());

    // The program cannot raise its limit.
    let mut p = run_param(["/bin/sh", "-c", "ulimit -f unlimited && echo raised"]);
    p.limits.output = Some(1024);
    let r = c.run(&p).unwrap();
    assert_eq!(r.status, Status::NonzeroExit, "{r:?}");
    assert!(r.stdout.is_empty(), "raised its output limit");

    // Under the limit: OK.
    let mut p = run_param(["/bin/echo", "short"]);
    p.limits.output = Some(1024);
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "short\n");
}

#[test]
fn stdin_reaches_the_program() {
    let mut c = container();
    let mut p = run_param(["/bin/cat"]);
    p.stdin = (0..(1u32 << 20)).map(|i| (i * 7 % 256) as u8).collect();
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert!(r.stdout == p.stdin, "cat did not echo its stdin");
    assert!(r.stderr.is_empty());

    let mut p = run_param(["/bin/sh", "-c", "cat >&2"]);
    p.stdin = b"to stderr\n".to_vec();
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stderr), "to stderr\n");
    assert!(r.stdout.is_empty());
}

#[test]
fn the_program_sees_exactly_the_given_descriptors() {
    // A host descriptor without close-on-exec must not reach the container.
    let leaky = std::fs::File::open("/dev/null").unwrap();
    let leaky_fd = std::os::fd::AsRawFd::as_raw_fd(&leaky);
    // SAFETY: clears FD_CLOEXEC on a descriptor this test owns.
    let rc = unsafe { libc::fcntl(leaky_fd, libc::F_SETFD, 0) };
    assert_eq!(rc, 0);

    let mut c = container();
    // Three given (stdin, stdout, stderr) plus the exec_file memfd: 0 1 2 only.
    let r = run_prog(&mut c, "fds", &[]);
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "0 1 2\n");

    // Five given: 0-4.
    let exe = memfd_copy_of(prog("fds")).unwrap();
    let mut out = memfd_with("out", b"");
    let extra: Vec<_> = (0..2).map(|_| memfd_with("extra", b"")).collect();
    let null_in = std::fs::File::open("/dev/null").unwrap();
    let mut p = ExecveParam::new(["fds"]);
    p.files = vec![
        null_in.as_fd(),
        out.as_fd(),
        out.as_fd(),
        extra[0].as_fd(),
        extra[1].as_fd(),
    ];
    p.exec_file = Some(exe.as_fd());
    p.limits.wall_time = Some(SAFETY_WALL_TIME);
    let r = c.execve(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&read_all(&mut out)), "0 1 2 3 4\n");

    // None given: 0-2 are /dev/null, nothing else.
    let mut p = ExecveParam::new(["/bin/sh", "-c", "ls /proc/self/fd > /w/fds"]);
    p.limits.wall_time = Some(SAFETY_WALL_TIME);
    let r = c.execve(&p).unwrap();
    assert_ok(&r);
    // ls lists its own directory descriptor too (3): 0-3 is the exact expectation.
    let listed = text(&c.read_file("/w/fds").unwrap());
    let listed: Vec<&str> = listed.split_whitespace().collect();
    assert_eq!(listed, ["0", "1", "2", "3"]);
    let mut p = ExecveParam::new(["/bin/sh", "-c", "readlink /proc/self/fd/0 > /w/in"]);
    p.limits.wall_time = Some(SAFETY_WALL_TIME);
    let r = c.execve(&p).unwrap();
    assert_ok(&r);
    assert_eq!(c.read_file("/w/in").unwrap(), b"/dev/null\n");
    drop(leaky);
}

#[test]
fn the_program_is_unprivileged() {
    let mut c = container();
    let r = c
        .run(&run_param(["/bin/cat", "/proc/self/status"]))
        .unwrap();
    assert_ok(&r);
    let status = text(&r.stdout);
    let ids = |key: &str| -> Vec<u32> {
        status_field(&status, key)
            .unwrap_or_else(|| panic!("no {key} in {status}"))
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let (uid, gid) = c.program_ids();
    assert!(
        (IdRange::DEFAULT.first..IdRange::DEFAULT.first + IdRange::DEFAULT.count).contains(&uid),
        "the program's uid {uid} is the container's own, from the id range"
    );
    assert_eq!(ids("Uid"), [uid; 4], "real, effective, saved, fs uid");
    assert_eq!(ids("Gid"), [gid; 4], "real, effective, saved, fs gid");
    assert!(
        ids("Groups").iter().all(|&g| g == gid),
        "supplementary groups: {:?}",
        ids("Groups")
    );
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        let value = status_field(&status, cap).unwrap_or_else(|| panic!("no {cap}"));
        assert_eq!(u64::from_str_radix(value, 16).unwrap(), 0, "{cap}: {value}");
    }
    assert_eq!(status_field(&status, "NoNewPrivs"), Some("1"));
}

#[test]
fn non_utf8_arguments_and_environment_pass_through() {
    use std::os::unix::ffi::OsStringExt;
    let mut c = container();
    let arg = std::ffi::OsString::from_vec(b"\xff\xfe-bytes".to_vec());
    let mut p = run_param([
        "/bin/sh".into(),
        "-c".into(),
        "printf '%s|%s' \"$1\" \"$V\"".into(),
        "sh".into(),
        arg,
    ]);
    p.env = vec![std::ffi::OsString::from_vec(b"V=\x80\x81".to_vec())];
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(r.stdout, b"\xff\xfe-bytes|\x80\x81");
}

#[test]
fn the_largest_descriptor_set_is_placed() {
    let mut c = container();
    let exe = memfd_copy_of(prog("fds")).unwrap();
    let mut out = memfd_with("out", b"");
    let null = std::fs::File::open("/dev/null").unwrap();
    // 249 files and the executable: the 250 descriptors one message may carry.
    let mut p = ExecveParam::new(["fds"]);
    p.files = vec![null.as_fd(), out.as_fd()];
    p.files.extend(std::iter::repeat_n(null.as_fd(), 247));
    p.exec_file = Some(exe.as_fd());
    p.limits.wall_time = Some(SAFETY_WALL_TIME);
    let r = c.execve(&p).unwrap();
    assert_ok(&r);
    let expected: Vec<String> = (0..249).map(|i| i.to_string()).collect();
    assert_eq!(text(&read_all(&mut out)), expected.join(" ") + "\n");
}

#[test]
fn a_shell_script_in_a_memfd_is_a_runner_error() {
    let mut c = container();
    let script = scratch_dir().join("script.sh");
    std::fs::write(&script, b"#!/bin/sh\necho hi\n").unwrap();
    let exe = memfd_copy_of(&script).unwrap();
    let mut p = ExecveParam::new(["script"]);
    p.exec_file = Some(exe.as_fd());
    p.limits.wall_time = Some(SAFETY_WALL_TIME);
    let r = c.execve(&p).unwrap();
    assert_eq!(r.status, Status::RunnerError, "{r:?}");
    assert!(!r.message.is_empty());
    assert_still_works(&mut c);
}

#[test]
fn bad_exec_files_are_runner_errors() {
    let mut c = container();
    let null = std::fs::File::open("/dev/null").unwrap();
    let garbage = memfd_with("garbage", b"not a program at all\n");
    for (what, fd) in [("/dev/null", null.as_fd()), ("garbage", garbage.as_fd())] {
        let mut p = ExecveParam::new(["x"]);
        p.exec_file = Some(fd);
        p.limits.wall_time = Some(SAFETY_WALL_TIME);
        let r = c.execve(&p).unwrap();
        assert_eq!(r.status, Status::RunnerError, "{what}: {r:?}");
        assert!(!r.message.is_empty());
        assert_still_works(&mut c);
    }
}

/// Signal dispositions the host ignores (a judge started under nohup ignores
/// SIGHUP; Rust and Python ignore SIGPIPE) must not reach the program, which starts
/// with default dispositions and nothing blocked.
#[test]
fn the_program_starts_with_default_signal_dispositions() {
    // Ignored in the host: the first and the last signal.
    let ignored = [libc::SIGHUP, libc::SIGRTMAX()];
    // SAFETY: sets dispositions of this process to SIG_IGN (no handler code); the
    // previous ones are restored below.
    let previous = ignored.map(|signal| unsafe { libc::signal(signal, libc::SIG_IGN) });
    let mut c = container();
    let r = c.run(&run_param(["/bin/cat", "/proc/self/status"]));
    for (signal, handler) in ignored.into_iter().zip(previous) {
        // SAFETY: restores a disposition saved above.
        unsafe { libc::signal(signal, handler) };
    }
    let r = r.unwrap();
    assert_ok(&r);
    let status = text(&r.stdout);
    for key in ["SigBlk", "SigIgn"] {
        let value = status_field(&status, key).unwrap_or_else(|| panic!("no {key}"));
        assert_eq!(
            u64::from_str_radix(value, 16).unwrap(),
            0,
            "{key}: {value} (bit n-1 is signal n)"
        );
    }
}

#[test]
fn cpu_time_wall_time_and_memory_are_measured() {
    let mut c = container();
    let r = c.run(&run_param(["/bin/true"])).unwrap();
    assert_ok(&r);
    assert!(r.memory > 0 && r.memory < 1 << 30, "{r:?}");
    assert!(r.setup_time > Duration::ZERO && r.setup_time < Duration::from_secs(10));
    assert!(r.wall_time > Duration::ZERO && r.wall_time < Duration::from_secs(10));

    // A busy child the main process waits for: its CPU time counts.
    let r = sh(
        &mut c,
        "(i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done); echo done",
    );
    assert_ok(&r);
    assert!(r.cpu_time >= Duration::from_millis(50), "{r:?}");
    // One process at a time: the CPU time cannot exceed the wall time.
    assert!(
        r.cpu_time <= r.wall_time + Duration::from_millis(50),
        "{r:?}"
    );

    // A busy orphan killed when the main process ends: its CPU time counts too.
    let r = sh(&mut c, "(while :; do :; done) & sleep 1; echo done");
    assert_ok(&r);
    assert!(
        r.cpu_time >= Duration::from_millis(100),
        "the killed orphan's CPU time is missing: {r:?}"
    );
}

// ---------------------------------------------------------------------------------
// 3. Isolation.

#[test]
fn hostname_is_the_containers() {
    let host = nix::unistd::gethostname().unwrap();
    let mut c = container();
    let r = c.run(&run_param(["/bin/hostname"])).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "scpool\n");
    assert_ne!(host.to_str(), Some("scpool"), "the host is named scpool?");

    let config = set!(ContainerConfig::default(), hostname = "box-7".into());
    let mut c = Container::new(&config).unwrap();
    let r = c.run(&run_param(["/bin/hostname"])).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "box-7\n");
    // Setting it inside did not touch the host's.
    assert_eq!(nix::unistd::gethostname().unwrap(), host);
}

#[test]
fn proc_shows_only_the_container() {
    let mut c = container();
    let r = run_prog(&mut c, "pids", &[]);
    assert_ok(&r);
    let (own, all) = parse_pids(&r.stdout);
    assert!(own < 100, "the program's pid {own} is not small");
    // Not even the init: /proc is mounted with hidepid=2 and the init is not
    // dumpable, so a program cannot see or touch PID 1.
    assert_eq!(all, [own], "processes visible in /proc");

    // A shell and its child see the init, themselves and nothing else.
    let r = sh(&mut c, "ls /proc | grep -c '^[0-9][0-9]*$'");
    assert_ok(&r);
    // init, sh, ls, grep (the pipeline's processes all exist while ls reads /proc).
    let count: u32 = text(&r.stdout).trim().parse().unwrap();
    assert!((2..=4).contains(&count), "{count} processes in /proc");
}

#[test]
fn host_files_outside_the_binds_are_invisible() {
    let mut c = container();
    // Not bound at all by default.
    let r = c.run(&run_param(["/bin/cat", "/etc/shadow"])).unwrap();
    assert_eq!(r.status, Status::NonzeroExit, "{r:?}");
    assert!(r.stdout.is_empty());
    let r = sh(
        &mut c,
        "[ -e /etc/passwd ] || [ -e /root ] || [ -e /home ] || echo none",
    );
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "none\n");
}

#[test]
fn shadow_is_unreadable_even_when_etc_is_bound() {
    let shadow = Path::new("/etc/shadow");
    let Ok(meta) = std::fs::metadata(shadow) else {
        eprintln!("skipped: the host has no /etc/shadow");
        return;
    };
    assert_eq!(
        meta.mode() & 0o004,
        0,
        "the host's /etc/shadow is world-readable"
    );
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::read_only("/etc"));
    let mut c = Container::new(&config).unwrap();
    let r = c.run(&run_param(["/bin/cat", "/etc/shadow"])).unwrap();
    assert_eq!(r.status, Status::NonzeroExit, "{r:?}");
    assert!(r.stdout.is_empty(), "read the host's /etc/shadow!");
    assert!(text(&r.stderr).contains("Permission denied"), "{r:?}");
    // The bind itself works.
    let r = c.run(&run_param(["/bin/cat", "/etc/hostname"])).unwrap();
    if Path::new("/etc/hostname").exists() {
        assert_ok(&r);
    }
}

#[test]
fn only_w_and_tmp_are_writable() {
    let host_probe = Path::new("/usr/scpool-test-write-probe");
    assert!(!host_probe.exists());
    let mut c = container();
    let paths = [
        "/usr/scpool-test-write-probe",
        "/bin/x",
        "/x",
        "/etc/x",
        "/dev/x",
        "/proc/x",
        "/w/x",
        "/tmp/x",
    ];
    let r = run_guarded(&mut c, "write", &paths);
    assert_ok(&r);
    let out = text(&r.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), paths.len(), "{out}");
    for (path, line) in paths.iter().zip(&lines) {
        let (name, verdict) = line.split_once(' ').unwrap();
        assert_eq!(name, *path);
        if path.starts_with("/w/") || path.starts_with("/tmp/") {
            assert_eq!(verdict, "ok", "{path}");
        } else {
            assert!(verdict.starts_with("err "), "{path} was writable: {line}");
        }
    }
    assert!(!host_probe.exists(), "the program wrote to the host's /usr");
    assert_eq!(c.read_file("/w/x").unwrap(), b"x");
    assert_eq!(c.read_file("/tmp/x").unwrap(), b"x");
}

#[test]
fn read_only_binds_are_read_only_and_writable_binds_are_not() {
    let base = scratch_dir().join("binds");
    let ro = base.join("ro");
    let rw = base.join("rw");
    for dir in [&ro, &rw] {
        std::fs::create_dir_all(dir).unwrap();
        // World-writable, so only the mount's read-only flag can refuse the write.
        std::fs::set_permissions(dir, Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::write(ro.join("data"), b"host data").unwrap();
    std::fs::set_permissions(ro.join("data"), Permissions::from_mode(0o666)).unwrap();
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::new(ro.clone(), "/data/ro"));
    config
        .mounts
        .push(set!(Mount::new(rw.clone(), "/data/rw"), writable = true));
    let mut c = Container::new(&config).unwrap();
    let r = run_guarded(
        &mut c,
        "write",
        &["/data/ro/new", "/data/ro/data", "/data/rw/new"],
    );
    assert_ok(&r);
    assert_eq!(
        text(&r.stdout),
        format!(
            "/data/ro/new err {e}\n/data/ro/data err {e}\n/data/rw/new ok\n",
            e = libc::EROFS
        )
    );
    assert_eq!(std::fs::read(ro.join("data")).unwrap(), b"host data");
    assert!(!ro.join("new").exists());
    assert_eq!(std::fs::read(rw.join("new")).unwrap(), b"x");
    let r = c.run(&run_param(["/bin/cat", "/data/ro/data"])).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "host data");
}

#[test]
fn network_is_isolated() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut c = container();
    let r = run_guarded(&mut c, "net", &[&port]);
    assert_ok(&r);
    let out = text(&r.stdout);
    let interfaces: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("if ")).collect();
    assert_eq!(interfaces, ["lo"], "{out}");
    let connect = out
        .lines()
        .find(|l| l.starts_with("connect "))
        .unwrap_or_else(|| panic!("no connect line: {out}"));
    let refused = format!("connect err {}", libc::ECONNREFUSED);
    let unreachable = format!("connect err {}", libc::ENETUNREACH);
    assert!(
        connect == refused || connect == unreachable,
        "the program reached the host's port: {connect}"
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the host listener got a connection: {other:?}"),
    }

    let r = sh(
        &mut c,
        "if [ -e /sys ]; then echo present; else echo absent; fi",
    );
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "absent\n");
}

#[test]
fn containers_do_not_see_each_other() {
    let mut a = container();
    let mut b = container();
    a.write_file("/w/secret", b"a's").unwrap();
    a.write_file("/tmp/secret", b"a's").unwrap();
    // A long run in A while B looks around.
    let init_a = a.init_pid();
    let busy = std::thread::spawn(move || {
        let r = a.run(&run_param(["/bin/sleep", "2"])).unwrap();
        (r, a)
    });
    let r = sh(
        &mut b,
        "ls -A /w /tmp; ls /proc | grep -c '^[0-9][0-9]*$'; hostname",
    );
    assert_ok(&r);
    let out = text(&r.stdout);
    assert!(!out.contains("secret"), "{out}");
    let (r, mut a) = busy.join().unwrap();
    assert_ok(&r);
    assert_ne!(init_a, b.init_pid());
    assert_eq!(a.read_file("/w/secret").unwrap(), b"a's");
    assert!(matches!(b.read_file("/w/secret"), Err(Error::Open { .. })));
}

#[test]
fn kill_minus_one_reaches_only_the_programs_own_processes() {
    let mut c = container();
    let script = "sleep 60 & p=$!; kill -9 -1; wait $p; echo \"sleep $?\"; \
                  kill -9 1 2>/dev/null; echo \"init $?\"";
    let started = Instant::now();
    let r = sh(&mut c, script);
    assert!(started.elapsed() < Duration::from_secs(30));
    // kill(-1) spares the caller: the shell lives on, its sleep died (128 + 9).
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "sleep 137\ninit 1\n");
    assert_still_works(&mut c);
}

/// Host controls that a process may open for writing by being uid 0 or the owner,
/// with no capability at all. Only opened, never written.
const HOST_CONTROLS: &[&str] = &[
    "/proc/sysrq-trigger",
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/drop_caches",
];

#[track_caller]
fn assert_host_controls_closed(c: &mut Container) {
    let r = run_guarded(c, "openw", HOST_CONTROLS);
    assert_ok(&r);
    let out = text(&r.stdout);
    let open: Vec<&str> = out.lines().filter(|l| l.ends_with(" ok")).collect();
    assert!(
        open.is_empty(),
        "the program may write host controls: {open:?}\n{out}"
    );
}

#[test]
fn host_controls_in_proc_are_not_writable() {
    let mut c = container();
    assert_host_controls_closed(&mut c);
}

// ---------------------------------------------------------------------------------
// 4. Reset and the end of a run.

#[test]
fn background_processes_end_with_the_run() {
    let mut c = container();
    let started = Instant::now();
    let r = sh(&mut c, "sleep 60 & echo started");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run waited for its background child"
    );
    let r = run_prog(&mut c, "pids", &[]);
    let (own, all) = parse_pids(&r.stdout);
    assert_eq!(all, [own], "a process of the previous run survived");
}

#[test]
fn reset_restores_the_initial_state() {
    let mut c = container();
    let r = sh(
        &mut c,
        "echo a > /w/a && mkdir -p /w/d/e && echo b > /w/d/e/b && echo t > /tmp/t \
         && ln -s /etc /w/link && mkfifo /tmp/fifo && ls -A /w /tmp",
    );
    assert_ok(&r);
    assert!(text(&r.stdout).contains("fifo"));

    let r = run_guarded(&mut c, "daemon", &[]);
    assert_ok(&r);
    let daemon = text(&r.stdout);
    assert!(daemon.starts_with("daemon "), "{daemon}");

    // The run's processes, the double-forked daemon included, died with the run.
    let r = run_prog(&mut c, "pids", &[]);
    assert_ok(&r);
    let (own, all) = parse_pids(&r.stdout);
    assert_eq!(all, [own], "the daemon ({daemon:?}) outlived its run");

    // A file the host still holds does not survive reset either.
    let mut held = c
        .open(&[OpenCmd::new("/w/held", libc::O_RDWR | libc::O_CREAT, 0o644)])
        .unwrap()
        .remove(0);
    c.reset().expect("reset");
    held.write_all(b"still writable").unwrap();
    assert_eq!(read_all(&mut held), b"still writable");
    for dir in ["/w", "/tmp"] {
        let r = c.run(&run_param(["/bin/ls", "-A", dir])).unwrap();
        assert_ok(&r);
        assert_eq!(text(&r.stdout), "", "{dir} is not empty after reset");
    }
    let r = c.run(&run_param(["/bin/ls", "-A", "/w", "/tmp"])).unwrap();
    assert_ok(&r);
    let listed: Vec<String> = text(&r.stdout)
        .lines()
        .filter(|l| !l.is_empty() && !l.ends_with(':'))
        .map(str::to_string)
        .collect();
    assert!(listed.is_empty(), "left after reset: {listed:?}");
    c.ping().expect("ping after reset");

    // /w and /tmp work as before: writable by the program, /w owned by it.
    let r = run_guarded(&mut c, "write", &["/w/again", "/tmp/again"]);
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "/w/again ok\n/tmp/again ok\n");
    let r = sh(&mut c, "stat -c '%u %a' /w; stat -c '%a' /tmp");
    assert_ok(&r);
    assert_eq!(
        text(&r.stdout),
        format!("{} 755\n1777\n", c.program_ids().0)
    );
    c.reset().expect("second reset");
    c.reset().expect("reset of a clean container");
    assert_still_works(&mut c);
}

/// The SysV IPC objects of the container's IPC namespace, as /proc lists them (one
/// line per object, headers left out).
fn sysv_ipc_objects(c: &mut Container) -> Vec<String> {
    let r = sh(
        c,
        "for f in shm msg sem; do tail -n +2 /proc/sysvipc/$f | sed \"s/^/$f /\"; done",
    );
    assert_ok(&r);
    text(&r.stdout).lines().map(str::to_string).collect()
}

#[test]
fn reset_removes_sysv_ipc_objects() {
    let mut c = container();
    assert_eq!(sysv_ipc_objects(&mut c), Vec::<String>::new());
    let r = run_guarded(&mut c, "ipc", &[]);
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "created\n");
    assert_eq!(sysv_ipc_objects(&mut c).len(), 3, "the program's objects");
    // Not the host's: its IPC namespace is the container's own.
    let host_shm = std::fs::read_to_string("/proc/sysvipc/shm").unwrap();
    assert!(!host_shm.lines().skip(1).any(|l| l.contains(" 65534 ")));
    c.reset().unwrap();
    assert_eq!(
        sysv_ipc_objects(&mut c),
        Vec::<String>::new(),
        "SysV IPC objects of earlier runs survived reset"
    );
}

// ---------------------------------------------------------------------------------
// 5. Bad input: a typed error, and the container keeps working.

#[test]
fn bad_execve_input_is_rejected_and_the_container_keeps_working() {
    let mut c = container();

    let r = c.run(&run_param(["/bin/echo", "a\0b"]));
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = c.run(&run_param(Vec::<String>::new()));
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let mut p = run_param(["/bin/pwd"]);
    p.cwd = "w".into();
    let r = c.run(&p);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let mut p = run_param(["/bin/pwd"]);
    p.cwd = "/w\0/x".into();
    let r = c.run(&p);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let mut p = run_param(["/usr/bin/env"]);
    p.env = vec!["A=\0".into()];
    let r = c.run(&p);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let mut p = run_param(["/bin/true"]);
    p.limits.wall_time = Some(Duration::ZERO);
    let r = c.run(&p);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    // More descriptors than one message can carry.
    let null = std::fs::File::open("/dev/null").unwrap();
    let mut p = ExecveParam::new(["/bin/true"]);
    p.files = vec![null.as_fd(); 251];
    let r = c.execve(&p);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);
}

#[test]
fn bad_open_input_is_rejected_and_the_container_keeps_working() {
    let mut c = container();
    let open_one =
        |c: &mut Container, path: &str, flags: i32| c.open(&[OpenCmd::new(path, flags, 0)]);

    let r = open_one(&mut c, "/w/../etc/passwd", libc::O_RDONLY);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = open_one(&mut c, "/w/./x", libc::O_RDONLY);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = open_one(&mut c, "w/x", libc::O_RDWR | libc::O_CREAT);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = open_one(&mut c, "/w/x", libc::O_WRONLY | libc::O_RDWR);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = open_one(&mut c, "/w/x", libc::O_RDONLY | libc::O_PATH);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = c.open(&[]);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_still_works(&mut c);

    let r = c.open(&[OpenCmd::new("/w/nonexistent", libc::O_RDONLY, 0)]);
    match r {
        Err(Error::Open {
            errno, ref path, ..
        }) => {
            assert_eq!(errno, libc::ENOENT, "{r:?}");
            assert_eq!(path, "/w/nonexistent");
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_still_works(&mut c);

    // Through a symlink planted by a program: refused, whatever it points to.
    let r = sh(&mut c, "ln -s /etc /w/link && ln -s /usr/bin/env /w/env");
    assert_ok(&r);
    for path in ["/w/link/passwd", "/w/env"] {
        match open_one(&mut c, path, libc::O_RDONLY) {
            Err(Error::Open { message, .. }) => {
                assert!(message.contains("symlink"), "{path}: {message}")
            }
            other => panic!("{path}: expected Error::Open, got {other:?}"),
        }
        assert_still_works(&mut c);
    }
    // The program itself may follow its link.
    let r = c.run(&run_param(["/bin/ls", "/w/link/"])).unwrap();
    assert_ok(&r);

    // Several files, one bad: an error and no descriptors.
    let r = c.open(&[
        OpenCmd::new("/w/good", libc::O_RDWR | libc::O_CREAT, 0o644),
        OpenCmd::new("/w/missing/dir/file", libc::O_RDONLY, 0),
    ]);
    match r {
        Err(Error::Open { errno, path, .. }) => {
            assert_eq!(errno, libc::ENOENT);
            assert_eq!(path, "/w/missing/dir/file");
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_still_works(&mut c);
}

#[test]
fn open_runs_with_the_programs_permissions() {
    let mut c = container();
    // The init's own environment: readable by root only.
    let r = c.open(&[OpenCmd::new("/proc/1/environ", libc::O_RDONLY, 0)]);
    assert!(
        matches!(r, Err(Error::Open { errno, .. }) if errno == libc::EACCES),
        "{r:?}"
    );
    // Read-only binds and the root cannot be written.
    for path in ["/usr/bin/env", "/new-at-root", "/usr/new"] {
        let r = c.open(&[OpenCmd::new(path, libc::O_WRONLY | libc::O_CREAT, 0o644)]);
        assert!(matches!(r, Err(Error::Open { .. })), "{path}: {r:?}");
    }
    // Readable host files are readable.
    let r = c.open(&[OpenCmd::new("/usr/bin/env", libc::O_RDONLY, 0)]);
    assert!(r.is_ok(), "{r:?}");
    assert_still_works(&mut c);
}

#[test]
fn work_and_tmp_have_size_caps() {
    let config = set!(
        ContainerConfig::default(),
        work_size = 1 << 20,
        tmp_size = 1 << 20
    );
    let mut c = Container::new(&config).unwrap();
    for dir in ["/w", "/tmp"] {
        let r = sh(&mut c, &format!("head -c 4194304 /dev/zero > {dir}/big"));
        assert_eq!(r.status, Status::NonzeroExit, "{dir}: {r:?}");
        assert!(
            text(&r.stderr).contains("No space left"),
            "{dir}: {}",
            text(&r.stderr)
        );
        let r = sh(&mut c, &format!("stat -c %s {dir}/big"));
        assert_ok(&r);
        let size: u64 = text(&r.stdout).trim().parse().unwrap();
        assert!(size <= 1 << 20, "{dir}/big holds {size} bytes");
    }
    c.reset().unwrap();
    let r = sh(&mut c, "head -c 100000 /dev/zero > /w/fits && echo ok");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "ok\n");
}

#[test]
fn an_image_can_be_the_root() {
    let image = scratch_dir().join("image");
    std::fs::create_dir_all(image.join("bin")).unwrap();
    std::fs::copy(prog("pids"), image.join("bin/pids")).unwrap();
    std::fs::copy(prog("fds"), image.join("bin/fds")).unwrap();
    std::os::unix::fs::symlink("bin", image.join("sbin")).unwrap();
    let config = set!(
        ContainerConfig::default(),
        rootfs = Some(image.clone()),
        mounts = Vec::new()
    );
    let mut c = Container::new(&config).expect("a container on an image");
    let r = c.run(&run_param(["/bin/pids"])).unwrap();
    assert_ok(&r);
    let (own, all) = parse_pids(&r.stdout);
    assert_eq!(all, [own]);
    let r = c.run(&run_param(["/sbin/fds"])).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "0 1 2\n");
    // Nothing of the host is there.
    let r = c.run(&run_param(["/bin/sh", "-c", "true"])).unwrap();
    assert_eq!(r.status, Status::RunnerError, "{r:?}");
    c.reset().unwrap();
}

#[test]
fn bad_configurations_are_rejected() {
    let bad = [
        set!(ContainerConfig::default(), hostname = String::new()),
        set!(ContainerConfig::default(), hostname = "h".repeat(65)),
        set!(ContainerConfig::default(), work_size = 0),
        set!(ContainerConfig::default(), setup_timeout = Duration::ZERO),
        set!(
            ContainerConfig::default(),
            mounts = vec![Mount::read_only("relative/path")]
        ),
        set!(
            ContainerConfig::default(),
            mounts = vec![set!(Mount::read_only("/usr"), target = "/w".into())]
        ),
        set!(
            ContainerConfig::default(),
            mounts = vec![set!(Mount::read_only("/usr"), target = "/x/../etc".into())]
        ),
        set!(ContainerConfig::default(), rootfs = Some("relative".into())),
    ];
    for config in &bad {
        let r = Container::new(config);
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{config:?}: {:?}",
            r.err()
        );
    }
    // A missing mount source is a set-up error, unless the mount is optional.
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::read_only("/no/such/source"));
    let r = Container::new(&config);
    assert!(matches!(r, Err(Error::Setup(_))), "{:?}", r.err());
    config.mounts.pop();
    config.mounts.push(Mount::optional("/no/such/source"));
    let mut c = Container::new(&config).expect("an optional missing mount is skipped");
    assert_still_works(&mut c);
}

/// open(2) ignores the mode unless a file is created; callers (the seed's Go API
/// among them) commonly pass 0644 with every flag combination.
#[test]
fn open_ignores_the_mode_without_o_creat() {
    let mut c = container();
    c.write_file("/w/exists", b"data").unwrap();
    let r = c.open(&[OpenCmd::new("/w/exists", libc::O_RDONLY, 0o644)]);
    match r {
        Ok(mut files) => assert_eq!(read_all(&mut files[0]), b"data"),
        Err(e) => panic!("O_RDONLY with mode 0644 of an existing file: {e:?}"),
    }
    let r = c.open(&[OpenCmd::new("/w/nonexistent", libc::O_RDONLY, 0o644)]);
    match r {
        Err(Error::Open { errno, .. }) => assert_eq!(errno, libc::ENOENT, "{r:?}"),
        other => panic!("expected Error::Open with ENOENT, got {other:?}"),
    }
    assert_still_works(&mut c);
}

#[test]
fn an_oversized_message_is_an_error_and_the_container_keeps_working() {
    let mut c = container();
    let huge = "x".repeat(9 << 20);
    let r = c.run(&run_param(["/bin/echo".to_string(), huge]));
    assert!(r.is_err(), "a 9 MiB argument was accepted: {r:?}");
    let err = r.unwrap_err();
    assert!(!err.is_container_broken(), "the container broke: {err}");
    assert_still_works(&mut c);
    assert_still_works(&mut c);
}

#[test]
fn large_legal_arguments_run() {
    let mut c = container();
    let arg = "a".repeat(50 * 1024);
    let mut args = vec![
        "/bin/sh".to_string(),
        "-c".into(),
        "for a; do echo ${#a}; done".into(),
        "sh".into(),
    ];
    args.extend(vec![arg; 4]);
    let r = c.run(&run_param(args)).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "51200\n".repeat(4));

    // A large environment too.
    let mut p = run_param(["/bin/sh", "-c", "echo ${#BIG}"]);
    p.env = vec![format!("BIG={}", "b".repeat(100 * 1024)).into()];
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "102400\n");
}

// ---------------------------------------------------------------------------------
// 6. Many runs.

#[test]
fn many_runs_in_one_container() {
    let mut c = container();
    for i in 0..200 {
        let mut p = ExecveParam::new(["/bin/true"]);
        p.limits.wall_time = Some(SAFETY_WALL_TIME);
        let r = c.execve(&p).unwrap_or_else(|e| panic!("run {i}: {e}"));
        assert_eq!(
            (r.status, r.exit_code),
            (Status::Ok, Some(0)),
            "run {i}: {r:?}"
        );
    }
    let r = run_prog(&mut c, "pids", &[]);
    let (own, all) = parse_pids(&r.stdout);
    assert_eq!(all, [own], "zombies or survivors after 200 runs");
}

// ---------------------------------------------------------------------------------
// 7. Rootless mode.

#[test]
fn rootless_mode_runs_without_capabilities() {
    let config = set!(
        ContainerConfig::default(),
        user_namespace = true,
        uid = Some(0),
        gid = Some(0)
    );
    let mut c = Container::new(&config).expect("a rootless container");
    let r = c
        .run(&run_param(["/bin/cat", "/proc/self/status"]))
        .unwrap();
    assert_ok(&r);
    let status = text(&r.stdout);
    for cap in ["CapPrm", "CapEff", "CapBnd", "CapAmb", "CapInh"] {
        let value = status_field(&status, cap).unwrap_or_else(|| panic!("no {cap}"));
        assert_eq!(u64::from_str_radix(value, 16).unwrap(), 0, "{cap}: {value}");
    }
    assert_eq!(status_field(&status, "NoNewPrivs"), Some("1"));

    // Isolated as well: its own /proc and a writable /w.
    let r = run_prog(&mut c, "pids", &[]);
    assert_ok(&r);
    let (own, all) = parse_pids(&r.stdout);
    assert_eq!(all, [own]);
    let r = run_guarded(&mut c, "write", &["/w/x", "/usr/x"]);
    assert_ok(&r);
    let out = text(&r.stdout);
    assert!(out.starts_with("/w/x ok\n/usr/x err "), "{out}");
    c.reset().unwrap();

    // In a user namespace only id 0 exists.
    let bad = set!(
        ContainerConfig::default(),
        user_namespace = true,
        uid = Some(65534),
        gid = Some(65534)
    );
    assert!(matches!(
        Container::new(&bad),
        Err(Error::InvalidArgument(_))
    ));
}

/// With a user namespace, the program's uid 0 must not be the host's root in
/// disguise: procfs grants sysctl writes to the global root uid without any
/// capability, so a host running as root must not map the program onto itself.
#[test]
fn rootless_mode_never_maps_the_program_to_host_root() {
    let config = set!(
        ContainerConfig::default(),
        user_namespace = true,
        uid = Some(0),
        gid = Some(0)
    );
    let mut c = Container::new(&config).expect("a rootless container");
    let r = c
        .run(&run_param([
            "/bin/cat",
            "/proc/self/uid_map",
            "/proc/self/gid_map",
            "/proc/self/status",
        ]))
        .unwrap();
    assert_ok(&r);
    let out = text(&r.stdout);
    let maps: Vec<Vec<u32>> = out
        .lines()
        .take(2)
        .map(|l| l.split_whitespace().map(|f| f.parse().unwrap()).collect())
        .collect();
    let host_root = nix::unistd::geteuid().is_root();
    for map in &maps {
        assert_eq!(map[0], 0, "inside id: {out}");
        assert_eq!(map[2], 1, "one id mapped: {out}");
        if host_root {
            assert_eq!(
                map[1],
                c.program_ids().0,
                "a root host maps the container's root to the container's own id: {out}"
            );
            assert!(map[1] >= IdRange::DEFAULT.first, "{out}");
        } else {
            assert_eq!(map[1], nix::unistd::geteuid().as_raw(), "{out}");
        }
    }
    // No supplementary group of the host's root survives.
    let groups = status_field(&out, "Groups")
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(groups.is_empty() || groups == "0", "groups: {groups:?}");
}

#[test]
fn rootless_mode_program_cannot_write_host_controls() {
    let config = set!(
        ContainerConfig::default(),
        user_namespace = true,
        uid = Some(0),
        gid = Some(0)
    );
    let mut c = Container::new(&config).expect("a rootless container");
    assert_host_controls_closed(&mut c);
}

#[test]
fn reset_restores_a_work_dir_whose_mode_changed() {
    // An empty /w may be left in place by reset, but not one the program chmod-ed.
    let mut c = container();
    let r = c.run(&run_param(["/bin/chmod", "700", "/w"])).unwrap();
    assert_ok(&r);
    c.reset().unwrap();
    let r = c
        .run(&run_param(["/usr/bin/stat", "-c", "%a", "/w", "/tmp"]))
        .unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "755\n1777\n");
}

#[test]
fn a_closed_descriptor_is_refused_and_the_container_survives() {
    let mut c = container();
    // A descriptor number far above any open-file limit is never open (a closed
    // small number could be reused by a test running in parallel).
    // SAFETY: deliberately not open; the library must refuse it, not use it.
    let stale = unsafe { std::os::fd::BorrowedFd::borrow_raw(0x7fff_fff0) };
    let mut param = ExecveParam::new(["true"]);
    param.exec_file = Some(stale);
    let r = c.execve(&param);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    let mut param = ExecveParam::new(["/bin/true"]);
    param.files = vec![stale];
    let r = c.execve(&param);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert!(!c.is_broken());
    assert_still_works(&mut c);
}

#[test]
fn without_a_cgroup_rlimit_cpu_ends_the_run_as_time_limit_exceeded() {
    let mut config = ContainerConfig::default();
    config.cgroup.mode = scpool_core::CgroupMode::Off;
    let mut c = Container::new(&config).unwrap();
    assert_eq!(c.cgroup_version(), None);
    let mut param = run_param(["/bin/sh", "-c", "while :; do :; done"]);
    param.limits.cpu_time = Some(Duration::from_secs(1));
    let r = c.run(&param).unwrap();
    // RLIMIT_CPU (whole seconds) fires SIGXCPU; rusage may read a hair under 1 s.
    assert_eq!(r.status, Status::TimeLimitExceeded, "{r:?}");
    assert_eq!(r.signal, Some(libc::SIGXCPU), "{r:?}");
    assert!(r.cpu_time >= Duration::from_millis(900), "{r:?}");
    assert_still_works(&mut c);
}

#[test]
fn out_of_range_limits_are_invalid_and_huge_durations_mean_no_deadline() {
    let mut c = container();
    let bad = [
        set!(Limits::default(), stack = Some(0)),
        set!(Limits::default(), processes = Some(u32::MAX)),
        set!(Limits::default(), cpu_rate = Some(1e300)),
    ];
    for limits in bad {
        let mut p = run_param(["/bin/true"]);
        p.limits = limits.clone();
        let r = c.run(&p);
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{limits:?}: {r:?}"
        );
        assert_still_works(&mut c);
    }
    // Beyond what the clock can represent: no deadline, not a panic.
    let mut p = run_param(["/bin/echo", "ok"]);
    p.limits.wall_time = Some(Duration::MAX);
    p.limits.cpu_time = Some(Duration::MAX);
    let r = c.run(&p).unwrap();
    assert_eq!((r.status, r.stdout.as_slice()), (Status::Ok, &b"ok\n"[..]));
    let slow_setup = set!(ContainerConfig::default(), setup_timeout = Duration::MAX);
    let mut other = Container::new(&slow_setup).unwrap();
    assert_still_works(&mut other);
}
