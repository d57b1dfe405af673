//! Hostile programs against the limits and the security boundary (issue #3): each
//! with its exact expected status and figures. Every attack runs `attack.c`, which
//! refuses to act unless it is inside a sandbox.
//!
//! Needs root and a cgroup hierarchy the host process can create cgroups in (CI
//! has cgroup v1 here).

mod common;

use common::*;
use scpool_core::{
    memfd_copy_of, Container, ContainerConfig, ExecveParam, Limits, RunResult, SeccompPolicy,
    Status,
};
use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// Runs `attack ACTION [ARG]` with these limits and policy; stdout captured.
fn attack(c: &mut Container, action: &[&str], limits: Limits, seccomp: SeccompPolicy) -> RunResult {
    let ns = host_ns();
    let exe = memfd_copy_of(prog("attack")).unwrap();
    let stdout = memfd_with("attack-stdout", b"");
    let stderr = memfd_with("attack-stderr", b"");
    let stdin = memfd_with("attack-stdin", b"");
    let mut args = vec!["attack", ns[0].as_str(), ns[1].as_str()];
    args.extend_from_slice(action);
    let mut param = ExecveParam::new(args);
    param.env = vec![PATH_ENV.into()];
    param.files = vec![stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    param.exec_file = Some(exe.as_fd());
    param.limits = Limits {
        wall_time: limits.wall_time.or(Some(SAFETY_WALL_TIME)),
        ..limits
    };
    param.seccomp = seccomp;
    let mut r = c.execve(&param).unwrap();
    r.stdout = read_all(&mut stdout.try_clone().unwrap());
    assert_ne!(
        r.exit_code,
        Some(GUARD_REFUSED),
        "attack refused to act: {r:?}"
    );
    r
}

fn default_attack(c: &mut Container, action: &[&str], limits: Limits) -> RunResult {
    attack(c, action, limits, SeccompPolicy::Default)
}

/// "name errno" lines of a probe run.
fn probes(r: &RunResult) -> BTreeMap<String, i32> {
    String::from_utf8_lossy(&r.stdout)
        .lines()
        .filter_map(|l| {
            let (name, errno) = l.split_once(' ')?;
            Some((name.to_string(), errno.parse().ok()?))
        })
        .collect()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn infinite_loop_is_time_limit_exceeded_within_ten_percent() {
    let mut c = container();
    let started = Instant::now();
    let limits = Limits {
        cpu_time: Some(secs(0.5)),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["spin"], limits);
    assert_eq!(r.status, Status::TimeLimitExceeded, "{r:?}");
    assert!(
        r.cpu_time >= secs(0.5) && r.cpu_time <= secs(0.55),
        "cpu_time {:?}",
        r.cpu_time
    );
    assert!(
        started.elapsed() < secs(5.0),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn sleeping_is_wall_time_limit_exceeded_with_no_cpu() {
    let mut c = container();
    let limits = Limits {
        wall_time: Some(secs(0.5)),
        cpu_time: Some(secs(5.0)),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["sleep"], limits);
    assert_eq!(r.status, Status::WallTimeLimitExceeded, "{r:?}");
    assert!(r.cpu_time < secs(0.05), "cpu_time {:?}", r.cpu_time);
    assert!(r.wall_time >= secs(0.45), "wall_time {:?}", r.wall_time);
}

#[test]
fn memory_bombs_are_memory_limit_exceeded_near_the_limit() {
    let mut c = container();
    let limits = Limits {
        memory: Some(64 * MIB),
        ..Limits::default()
    };
    for action in ["membomb", "membomb_child"] {
        let r = default_attack(&mut c, &[action], limits.clone());
        assert_eq!(r.status, Status::MemoryLimitExceeded, "{action}: {r:?}");
        assert!(
            r.memory >= 48 * MIB && r.memory <= 65 * MIB,
            "{action}: peak {} MiB",
            r.memory / MIB
        );
    }
}

#[test]
fn peak_memory_is_exact_and_per_run() {
    let mut c = container();
    let limits = Limits {
        memory: Some(128 * MIB),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["alloc", "32"], limits.clone());
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(
        r.memory >= 32 * MIB && r.memory < 48 * MIB,
        "peak {} MiB",
        r.memory / MIB
    );
    // The next run's figure is its own, not the previous peak.
    let r = default_attack(&mut c, &["alloc", "1"], limits);
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(
        r.memory < 8 * MIB,
        "peak {} MiB carried over",
        r.memory / MIB
    );
}

/// Host processes in the PID namespace of this container's init (the init included).
fn processes_in_box(c: &Container) -> usize {
    let ns = std::fs::read_link(format!("/proc/{}/ns/pid", c.init_pid())).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| std::fs::read_link(e.path().join("ns/pid")).is_ok_and(|l| l == ns))
        .count()
}

#[test]
fn a_fork_bomb_is_contained() {
    let mut c = container();
    let limits = Limits {
        processes: Some(32),
        cpu_time: Some(secs(2.0)),
        wall_time: Some(secs(3.0)),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["forkbomb"], limits);
    assert_ne!(r.status, Status::RunnerError, "{r:?}");
    assert_ne!(r.status, Status::Ok, "{r:?}");
    // Every process of the bomb is gone: only the init is left in the box.
    assert_eq!(processes_in_box(&c), 1);
    let r = c.run(&run_param(["/bin/true"])).unwrap();
    assert_ok(&r);
}

#[test]
fn floods_are_output_limit_exceeded() {
    let mut c = container();
    // stdout captured by `run`: the program is bound in at /opt/progs (its host
    // directory may be under /tmp, which the container's own /tmp would hide).
    let ns = host_ns();
    let exe = prog("attack");
    let mut param = run_param([
        "/opt/progs/attack",
        ns[0].as_str(),
        ns[1].as_str(),
        "flood_stdout",
    ]);
    param.limits.output = Some(64 * 1024);
    let mut mounts = ContainerConfig::default().mounts;
    mounts.push(scpool_core::Mount {
        source: exe.parent().unwrap().to_path_buf(),
        target: "/opt/progs".into(),
        writable: false,
        optional: false,
    });
    let mut config_c = Container::new(&ContainerConfig {
        mounts,
        ..ContainerConfig::default()
    })
    .unwrap();
    let r = config_c.run(&param).unwrap();
    assert_eq!(r.status, Status::OutputLimitExceeded, "{r:?}");
    assert!(
        r.stdout.len() <= 64 * 1024,
        "{} bytes captured",
        r.stdout.len()
    );

    let limits = Limits {
        output: Some(MIB),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["flood_file"], limits);
    assert_eq!(r.status, Status::OutputLimitExceeded, "{r:?}");
}

#[test]
fn every_thread_is_counted() {
    // Two threads spin for half a second of wall time each; the program prints its
    // own process CPU time (both threads). The cgroup's figure must match it,
    // however busy the machine is.
    let mut c = container();
    let limits = Limits {
        cpu_time: Some(secs(5.0)),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["threads"], limits);
    assert_eq!(r.status, Status::Ok, "{r:?}");
    let own: f64 = String::from_utf8_lossy(&r.stdout).trim().parse().unwrap();
    let counted = r.cpu_time.as_secs_f64();
    assert!(
        (counted - own).abs() <= own * 0.1 + 0.01,
        "counted {counted:.3} s, the program used {own:.3} s"
    );
    // On an idle multi-core machine that is about twice the wall time.
    assert!(
        own > r.wall_time.as_secs_f64() * 0.5,
        "{own} vs {:?}",
        r.wall_time
    );
}

#[test]
fn a_cpu_rate_slows_without_killing() {
    let mut c = container();
    let limits = Limits {
        cpu_rate: Some(0.5),
        wall_time: Some(secs(10.0)),
        ..Limits::default()
    };
    let r = default_attack(&mut c, &["spin_cpu", "0.5"], limits);
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(
        r.wall_time.as_secs_f64() >= 1.6 * r.cpu_time.as_secs_f64(),
        "{r:?}"
    );
}

#[test]
fn killing_everything_reaches_only_the_box() {
    let mut c = container();
    let mut neighbour = container();
    let r = default_attack(&mut c, &["kill_all"], Limits::default());
    assert_eq!(r.status, Status::Ok, "{r:?}");
    // The program's uid may not signal the init (root), which is also its parent,
    // and kill(-1) finds nothing else it may signal.
    let p = probes(&r);
    assert_eq!(p.get("kill_init"), Some(&libc::EPERM), "{p:?}");
    assert_eq!(p.get("kill_parent"), Some(&libc::EPERM), "{p:?}");
    assert_eq!(p.get("kill_all"), Some(&libc::ESRCH), "{p:?}");
    // We are alive (this line runs); both containers still work.
    c.ping().unwrap();
    assert_ok(&c.run(&run_param(["/bin/true"])).unwrap());
    assert_ok(&neighbour.run(&run_param(["/bin/true"])).unwrap());
}

const ESCAPES: &[&str] = &[
    "mount",
    "unshare",
    "chroot",
    "sethostname",
    "setuid0",
    "setns",
    "ptrace_init",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "bpf",
    "io_uring_setup",
    "clone_newns",
    "clone3",
    "x32_getpid",
    "raise_nofile",
    "proc1_root",
    "proc1_fd",
    "shadow",
];

#[test]
fn escape_calls_fail_under_the_default_policy() {
    let mut c = container();
    let r = default_attack(&mut c, &["escapes"], Limits::default());
    assert_eq!(r.status, Status::Ok, "{r:?}");
    let p = probes(&r);
    for name in ESCAPES {
        let errno = p
            .get(*name)
            .copied()
            .unwrap_or_else(|| panic!("no probe {name}: {p:?}"));
        assert_ne!(errno, 0, "{name} succeeded: {p:?}");
    }
    // The filter's own answers.
    for name in [
        "mount",
        "unshare",
        "chroot",
        "ptrace_init",
        "perf_event_open",
        "userfaultfd",
        "keyctl",
        "bpf",
        "io_uring_setup",
        "clone_newns",
        "x32_getpid",
        "setns",
    ] {
        assert_eq!(p[name], libc::EPERM, "{name}: {p:?}");
    }
    assert_eq!(p["clone3"], libc::ENOSYS, "{p:?}");
    assert_eq!(p["raise_nofile"], libc::EPERM, "{p:?}");
    assert_eq!(p["proc1_fd"], libc::EACCES, "{p:?}");
}

/// What the privilege boundary refuses on its own (no capabilities, another uid,
/// no_new_privs). A new user namespace (unshare, clone with namespace flags, then
/// chroot inside it), keyrings, bpf, perf and io_uring are not among them: they act
/// on the caller's own new namespaces or are kernel attack surface, which is what
/// the default seccomp policy closes.
const REFUSED_WITHOUT_SECCOMP: &[&str] = &[
    "mount",
    "sethostname",
    "setuid0",
    "ptrace_init",
    "raise_nofile",
    "proc1_root",
    "proc1_fd",
    "shadow",
];

#[test]
fn the_privilege_boundary_holds_without_seccomp() {
    let mut c = container();
    let r = attack(
        &mut c,
        &["escapes"],
        Limits::default(),
        SeccompPolicy::Disabled,
    );
    assert_eq!(r.status, Status::Ok, "{r:?}");
    let p = probes(&r);
    for name in REFUSED_WITHOUT_SECCOMP {
        let errno = p
            .get(*name)
            .copied()
            .unwrap_or_else(|| panic!("no probe {name}: {p:?}"));
        assert_ne!(errno, 0, "{name} succeeded without seccomp: {p:?}");
    }
    // Whatever it did in namespaces of its own died with the run: the container's
    // hostname and root are untouched.
    let r = c.run(&run_param(["/bin/hostname"])).unwrap();
    assert_eq!(r.stdout, b"scpool\n");
    let r = c.run(&run_param(["/bin/ls", "/"])).unwrap();
    assert_ok(&r);
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("usr\n"),
        "{r:?}"
    );
}

#[test]
fn strict_policy_kills_what_it_does_not_allow() {
    let mut c = container();
    for action in ["socket", "fork", "x32"] {
        let r = attack(&mut c, &[action], Limits::default(), SeccompPolicy::Strict);
        assert_eq!(r.status, Status::DisallowedSyscall, "{action}: {r:?}");
        assert_eq!(r.signal, Some(libc::SIGSYS));
    }
    let r = attack(&mut c, &["hello"], Limits::default(), SeccompPolicy::Strict);
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert_eq!(r.stdout, b"hello\n");
}

#[test]
fn the_container_has_a_cgroup_here() {
    // The suite asserts cgroup figures; make sure it is not silently without one.
    let c = container();
    assert!(
        c.cgroup_version().is_some(),
        "no cgroup: the limits above would be refused"
    );
}
