//! Results a judge can trust in a reused container: memory figures and limits that
//! concern the run alone, a wall time that never reads below its limit, tiny memory
//! limits that end in a verdict, dead containers never handed out, and mount targets
//! the container would hide refused.

mod common;

use common::*;
use scpool_core::{
    Container, ContainerConfig, Error, Limits, Mount, Pool, PoolConfig, Status, MIN_MEMORY,
};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// A 64 MiB host file that is not in the page cache, so the container that reads it
/// is charged for its pages.
fn uncached_file() -> std::path::PathBuf {
    let path = scratch_dir().join("uncached-64m");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![7u8; 1 << 20];
    for _ in 0..64 {
        file.write_all(&block).unwrap();
    }
    file.sync_all().unwrap();
    // SAFETY: advice on our own open descriptor.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0);
    path
}

fn memory_of_true(c: &mut Container, limit: Option<u64>) -> scpool_core::RunResult {
    let mut param = run_param(["/bin/true"]);
    param.limits.memory = limit;
    let r = c.run(&param).unwrap();
    assert_ok(&r);
    r
}

#[test]
fn the_memory_of_a_run_is_its_own_after_a_big_read_in_the_same_loan_and_the_next() {
    let data = uncached_file();
    let mut config = PoolConfig::with_size(1);
    config
        .container
        .mounts
        .push(Mount::new(data.clone(), "/data/big"));
    let pool = Pool::new(config).unwrap();
    let mut c = pool.acquire().unwrap();
    assert_expected_accounting(&c);
    let fresh = memory_of_true(&mut c, None).memory;
    let r = c.run(&run_param(["/bin/cat", "/data/big"])).unwrap();
    assert_ok(&r);
    assert!(
        r.memory > 32 << 20,
        "the read was not charged: {}",
        r.memory
    );
    // The same loan: the page cache the read left must not count.
    let same_loan = memory_of_true(&mut c, None).memory;
    let limited = memory_of_true(&mut c, Some(32 << 20));
    drop(c);
    let mut c = pool.acquire().unwrap();
    let next_loan = memory_of_true(&mut c, None).memory;
    for (what, m) in [
        ("same loan", same_loan),
        ("under a 32 MiB limit", limited.memory),
        ("next loan", next_loan),
    ] {
        assert!(
            // The kernel charges memory to a cgroup in batches of 64 pages per CPU.
            m <= fresh + fresh / 10 + (512 << 10),
            "{what}: {m} bytes against {fresh} in a fresh container"
        );
    }
    std::fs::remove_file(data).unwrap();
}

#[test]
fn a_wall_time_limit_exceeded_never_reports_less_than_its_limit() {
    let mut c = container();
    for _ in 0..20 {
        let mut param = run_param(["/bin/sleep", "5"]);
        param.limits.wall_time = Some(Duration::from_millis(200));
        let r = c.run(&param).unwrap();
        assert_eq!(r.status, Status::WallTimeLimitExceeded, "{r:?}");
        assert!(
            r.wall_time >= Duration::from_millis(200) && r.wall_time < Duration::from_secs(2),
            "{:?}",
            r.wall_time
        );
    }
}

#[test]
fn tiny_memory_limits_are_refused_or_end_in_a_verdict() {
    let mut c = container();
    for tiny in [1, 64 << 10, 256 << 10, MIN_MEMORY - 1] {
        let mut param = run_param(["/bin/true"]);
        param.limits.memory = Some(tiny);
        match c.run(&param) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("1 MiB"), "{m}"),
            other => panic!("a {tiny}-byte limit: {other:?}"),
        }
    }
    // Every accepted limit ends in a verdict, and the container survives it.
    for limit in [MIN_MEMORY, MIN_MEMORY + (256 << 10), 2 << 20, 4 << 20] {
        for program in [&["/bin/true"][..], &["/bin/sh", "-c", "echo hi"][..]] {
            let mut param = run_param(program.iter().copied());
            param.limits.memory = Some(limit);
            let r = c.run(&param).unwrap();
            assert!(
                matches!(r.status, Status::Ok | Status::MemoryLimitExceeded),
                "{program:?} under {limit}: {r:?}"
            );
            assert!(
                !c.is_broken(),
                "{program:?} under {limit} broke the container"
            );
        }
    }
    let r = c.run(&run_param(["/bin/echo", "alive"])).unwrap();
    assert_ok(&r);
}

#[test]
fn files_a_loan_keeps_above_the_memory_limit_are_memory_limit_exceeded() {
    let mut c = container();
    let r = c
        .run(&run_param([
            "/bin/sh",
            "-c",
            "head -c 20000000 /dev/zero > /w/big",
        ]))
        .unwrap();
    assert_ok(&r);
    let mut param = run_param(["/bin/true"]);
    param.limits.memory = Some(8 << 20);
    let r = c.run(&param).unwrap();
    assert_eq!(r.status, Status::MemoryLimitExceeded, "{r:?}");
    assert!(r.memory >= 20_000_000, "{r:?}");
    c.reset().unwrap();
    let r = c.run(&param).unwrap();
    assert_ok(&r);
}

#[test]
fn a_container_whose_init_died_is_never_handed_out() {
    let pool = Pool::new(PoolConfig::with_size(1)).unwrap();
    let c = pool.acquire().unwrap();
    let dead = c.init_pid();
    drop(c);
    // Let the release's reset finish, then kill the idle container's init.
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: signalling a process we created.
    assert_eq!(unsafe { libc::kill(dead, libc::SIGKILL) }, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive(dead) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut c = pool.acquire().unwrap();
    assert!(!c.is_broken());
    assert_ne!(c.init_pid(), dead, "the dead container was handed out");
    let r = c.run(&run_param(["/bin/true"])).unwrap();
    assert_ok(&r);

    // A container held while its init dies says so before any call.
    // SAFETY: signalling a process we created.
    assert_eq!(unsafe { libc::kill(c.init_pid(), libc::SIGKILL) }, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !c.is_broken() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(c.is_broken());
}

#[test]
fn mount_targets_the_container_would_hide_are_refused() {
    for target in ["/w/data", "/tmp/x", "/proc/sys/x", "/dev/shm", "/w", "/"] {
        let config = set!(
            ContainerConfig::default(),
            mounts = vec![Mount::new("/usr", target)]
        );
        match Container::new(&config) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("reserved"), "{m}"),
            other => panic!("{target}: {:?}", other.err()),
        }
    }
    // A neighbour of a reserved name is fine.
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::new("/usr", "/wx"));
    let mut c = Container::new(&config).unwrap();
    let r = c.run(&run_param(["/bin/ls", "/wx/bin/true"])).unwrap();
    assert_ok(&r);
}

#[test]
fn user_and_system_time_add_up_to_the_cpu_time() {
    let mut c = container();
    let mut param = run_param([
        "/bin/sh",
        "-c",
        "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done",
    ]);
    param.limits = set!(Limits::default(), wall_time = Some(Duration::from_secs(30)));
    let r = c.run(&param).unwrap();
    assert_ok(&r);
    assert_eq!(r.user_time + r.system_time, r.cpu_time);
    assert!(r.user_time > r.system_time, "{r:?}");
    assert_eq!(r.accounting, c.accounting());
    assert_ne!(r.accounting, scpool_core::Accounting::NoCgroup);
}

#[test]
fn filling_w_up_to_the_memory_limit_never_breaks_the_container() {
    let mut c = container();
    for limit in [MIN_MEMORY, 4 << 20, 32 << 20] {
        let mut param = run_param(["/bin/sh", "-c", "head -c 100000000 /dev/zero > /w/f"]);
        param.limits.memory = Some(limit);
        let r = c.run(&param).unwrap();
        assert!(
            matches!(
                r.status,
                Status::MemoryLimitExceeded | Status::NonzeroExit | Status::Signalled
            ),
            "{limit}: {r:?}"
        );
        assert!(!c.is_broken(), "{limit}: {r:?}");
        // What the loan's file holds counts against the next run's limit: a verdict
        // either way, and the container keeps answering.
        let mut again = run_param(["/bin/true"]);
        again.limits.memory = Some(limit);
        let r = c.run(&again).unwrap();
        assert!(
            matches!(r.status, Status::Ok | Status::MemoryLimitExceeded),
            "{limit}: {r:?}"
        );
        assert!(!c.is_broken(), "{limit}: {r:?}");
        c.reset().unwrap();
        let r = c.run(&again).unwrap();
        assert!(
            matches!(r.status, Status::Ok | Status::MemoryLimitExceeded),
            "{limit}: {r:?}"
        );
        assert!(!c.is_broken());
    }
}

#[test]
fn a_10_mib_run_after_a_100_mib_run_in_the_same_container_reports_its_own_peak() {
    const MIB: u64 = 1 << 20;
    let mut c = container();
    let run = |c: &mut Container, mib: &str| {
        let limits = set!(
            Limits::default(),
            memory = Some(256 * MIB),
            wall_time = Some(Duration::from_secs(60))
        );
        let r = run_guarded_with(
            c,
            "hostile_memory",
            &["touch", mib],
            limits,
            scpool_core::SeccompPolicy::Default,
        );
        assert_ok(&r);
        r
    };
    let big = run(&mut c, "100");
    let small = run(&mut c, "10");
    eprintln!(
        "memory figures ({}): 100 MiB run {} bytes, then 10 MiB run {} bytes",
        c.accounting(),
        big.memory,
        small.memory
    );
    assert!(
        (100 * MIB..116 * MIB).contains(&big.memory),
        "100 MiB touched: {}",
        big.memory
    );
    assert!(
        (10 * MIB..16 * MIB).contains(&small.memory),
        "10 MiB touched after 100 MiB: {}",
        small.memory
    );
}
