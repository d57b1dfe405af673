//! Idle containers cost the host two descriptors each (the control socket and the
//! init's pidfd) and no thread, so a pool of 500 fits a host whose soft descriptor
//! limit is the usual 1024; and nothing the host holds grows with the number of runs.
//!
//! One test only, so nothing else runs in this process while it counts. Must run as
//! root (CI does).

mod common;

use common::leakcheck::{assert_same, Snapshot};
use common::*;
use scpool_core::{Pool, PoolConfig};
use std::time::Duration;

const POOL: usize = 500;

/// Counted without the library's stock of spare inits (two descriptors each).
fn open_fds() -> usize {
    scpool_core::flush();
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    scpool_core::flush();
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

fn nofile() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0);
    limit
}

/// Runs `n` no-ops in pooled containers, one loan each.
fn pooled_runs(pool: &Pool, n: usize) {
    for i in 0..n {
        let mut c = pool.acquire().unwrap();
        let r = c
            .run(&run_param(["/bin/true"]))
            .unwrap_or_else(|e| panic!("run {i}: {e}"));
        assert_ok(&r);
    }
}

#[test]
fn a_pool_of_500_fits_a_soft_limit_of_1024_and_nothing_grows_with_runs() {
    // The usual soft limit, set before the first container.
    let mut limit = nofile();
    assert!(
        limit.rlim_max >= 2048,
        "this test needs a hard descriptor limit of at least 2048, not {}",
        limit.rlim_max
    );
    limit.rlim_cur = 1024;
    // SAFETY: setrlimit reads the struct we pass.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);

    // What lives for the whole process comes first (threads, init image).
    warm_up();
    let mut c = container();
    assert_eq!(
        nofile().rlim_cur,
        limit.rlim_max,
        "the first container raises the soft limit to the hard one"
    );

    // One container: descriptors and threads are the same after 1 run and after 300.
    let r = c.run(&run_param(["/bin/true"])).unwrap();
    assert_ok(&r);
    let after_one = (open_fds(), threads());
    for _ in 0..300 {
        let r = c.run(&run_param(["/bin/true"])).unwrap();
        assert_ok(&r);
    }
    assert_eq!(
        (open_fds(), threads()),
        after_one,
        "(descriptors, threads) after 300 runs"
    );
    drop(c);
    let before = Snapshot::take();
    let (fds_before, threads_before) = (open_fds(), threads());

    let config = set!(
        PoolConfig::with_size(POOL),
        acquire_timeout = Duration::from_secs(120)
    );
    let pool = Pool::new(config).unwrap_or_else(|e| panic!("a pool of {POOL}: {e}"));
    assert_eq!(pool.stats().idle, POOL);
    let fds_idle = open_fds() - fds_before;
    let threads_idle = threads() - threads_before;
    // The control socket and the pidfd; on cgroup v2 before 6.12 also the next
    // run's leaf cgroup, made ahead (its cgroup.procs).
    let per_container = if runs_have_leaves() { 3 } else { 2 };
    assert!(
        fds_idle <= per_container * POOL,
        "{POOL} idle containers hold {fds_idle} descriptors (at most {per_container} each)"
    );
    // The pool's own threads (reset workers, maintainer), none per container.
    assert!(
        threads_idle < 16,
        "{POOL} idle containers came with {threads_idle} threads"
    );

    // Runs in the pool change neither figure once they are over.
    pooled_runs(&pool, 50);
    let settled = |what: &str| {
        // Releases reset in the background: wait until every container is idle.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while pool.stats().idle != POOL {
            assert!(std::time::Instant::now() < deadline, "{what}: never idle");
            std::thread::sleep(Duration::from_millis(10));
        }
        (open_fds(), threads())
    };
    let after_50 = settled("after 50 runs");
    let fds_used = after_50.0 - fds_before;
    assert!(
        fds_used <= per_container * POOL,
        "after runs and resets {POOL} idle containers hold {fds_used} descriptors"
    );
    pooled_runs(&pool, 250);
    assert_eq!(
        settled("after 300 runs"),
        after_50,
        "(descriptors, threads) of the pool after 300 runs"
    );

    pool.close();
    drop(pool);
    assert_same(&before, &Snapshot::take(), &format!("by a pool of {POOL}"));
}

/// Whether runs get leaf cgroups of their own: cgroup v2 whose memory.peak cannot be
/// reset (kernels before 6.12).
fn runs_have_leaves() -> bool {
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    v2 && version < (6, 12)
}
