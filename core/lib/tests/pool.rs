//! The pool under concurrency and failure: more threads than containers, inits killed
//! while idle and while running, acquire timeouts, closing with containers out.

mod common;

use common::*;
use scpool_core::{Error, ExecveParam, Pool, PoolConfig, RunParam, Status};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pool_config(min_idle: usize, max_size: usize) -> PoolConfig {
    set!(
        PoolConfig::default(),
        min_idle = min_idle,
        max_idle = max_size,
        max_size = max_size,
        acquire_timeout = Duration::from_secs(60)
    )
}

fn echo(word: &str) -> RunParam {
    run_param(["/bin/echo", word])
}

fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn more_threads_than_containers_all_runs_ok() {
    let pool = Arc::new(Pool::new(pool_config(2, 3)).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let pool = Arc::clone(&pool);
            let runs = Arc::clone(&runs);
            std::thread::spawn(move || {
                for i in 0..40 {
                    let mut c = pool.acquire().expect("acquire");
                    let word = format!("t{t}-{i}");
                    let r = c.run(&echo(&word)).expect("run");
                    assert_eq!(r.status, Status::Ok, "{r:?}");
                    assert_eq!(r.stdout, format!("{word}\n").into_bytes());
                    // Each loan starts clean: nothing left by the previous borrower.
                    let r = c.run(&run_param(["/bin/ls", "-A", "/w", "/tmp"])).unwrap();
                    assert_eq!(
                        r.stdout, b"/tmp:\n\n/w:\n",
                        "a reused container was not reset"
                    );
                    c.write_file("/w/mark", word.as_bytes()).unwrap();
                    runs.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(runs.load(Ordering::Relaxed), 320);
    let stats = pool.stats();
    assert_eq!(stats.acquires, 320);
    assert!(stats.created <= 3, "{stats:?}");
    assert!(stats.reused >= 300, "{stats:?}");
    assert!(
        stats.acquire_waits > 0,
        "8 threads on 3 containers must wait: {stats:?}"
    );
    assert_eq!(stats.in_use, 0);
}

#[test]
fn a_container_whose_init_died_while_idle_is_replaced() {
    let pool = Pool::new(pool_config(1, 1)).unwrap();
    let pid = pool.acquire().unwrap().init_pid();
    wait_until(
        "the container to be idle again",
        Duration::from_secs(5),
        || pool.stats().idle == 1,
    );
    // SAFETY: killing the init of our own container.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    wait_until("the init to die", Duration::from_secs(5), || !alive(pid));

    // The dead one is noticed through its pidfd at acquire, destroyed, and a new one
    // made in its place: it is never handed out.
    let mut c = pool.acquire().unwrap();
    assert!(!c.is_broken());
    assert_ne!(c.init_pid(), pid);
    assert_eq!(c.run(&echo("again")).unwrap().status, Status::Ok);
    drop(c);
    assert!(pool.stats().destroyed >= 1);
}

#[test]
fn ping_on_acquire_skips_a_dead_container() {
    let config = set!(pool_config(1, 1), ping_on_acquire = true);
    let pool = Pool::new(config).unwrap();
    let pid = pool.acquire().unwrap().init_pid();
    wait_until(
        "the container to be idle again",
        Duration::from_secs(5),
        || pool.stats().idle == 1,
    );
    // SAFETY: killing the init of our own container.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    wait_until("the init to die", Duration::from_secs(5), || !alive(pid));
    let mut c = pool.acquire().unwrap();
    assert_ne!(c.init_pid(), pid, "the dead container was handed out");
    assert_eq!(c.run(&echo("fresh")).unwrap().status, Status::Ok);
}

#[test]
fn the_maintainer_notices_a_dead_idle_container() {
    let config = set!(
        pool_config(1, 2),
        health_check_interval = Duration::from_millis(50)
    );
    let pool = Pool::new(config).unwrap();
    let pid = pool.acquire().unwrap().init_pid();
    wait_until(
        "the container to be idle again",
        Duration::from_secs(5),
        || pool.stats().idle == 1,
    );
    // SAFETY: killing the init of our own container.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    wait_until(
        "the health check to replace it",
        Duration::from_secs(10),
        || {
            let stats = pool.stats();
            stats.destroyed >= 1 && stats.idle == 1
        },
    );
    let c = pool.acquire().unwrap();
    assert_ne!(c.init_pid(), pid);
}

#[test]
fn an_init_killed_during_a_run_fails_the_run_promptly() {
    let pool = Pool::new(pool_config(1, 2)).unwrap();
    let mut c = pool.acquire().unwrap();
    let pid = c.init_pid();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: killing the init of our own container.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let started = Instant::now();
    let outcome = c.execve(&ExecveParam::new(["/bin/sleep", "30"]));
    killer.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    match outcome {
        Err(e) => assert!(e.is_container_broken(), "{e}"),
        Ok(r) => assert_eq!(r.status, Status::RunnerError, "{r:?}"),
    }
    drop(c);
    let mut next = pool.acquire().unwrap();
    assert_eq!(next.run(&echo("ok")).unwrap().status, Status::Ok);
}

#[test]
fn acquire_times_out_when_every_container_is_busy() {
    let pool = Pool::new(pool_config(1, 1)).unwrap();
    let held = pool.acquire().unwrap();
    let started = Instant::now();
    let err = pool
        .acquire_timeout(Duration::from_millis(200))
        .err()
        .expect("must time out");
    let took = started.elapsed();
    assert!(matches!(err, Error::AcquireTimeout(_)), "{err}");
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(pool.stats().acquire_timeouts, 1);
    // A waiter gets the container as soon as it is released.
    let waiter = {
        let pool = &pool;
        std::thread::scope(|s| {
            let w = s.spawn(move || {
                // Beyond the clock's range: waits without a deadline.
                pool.acquire_timeout(Duration::MAX).map(|c| c.init_pid())
            });
            std::thread::sleep(Duration::from_millis(100));
            let pid = held.init_pid();
            drop(held);
            (w.join().unwrap(), pid)
        })
    };
    assert_eq!(
        waiter.0.unwrap(),
        waiter.1,
        "the released container was reused"
    );
}

#[test]
fn closing_with_containers_out() {
    let pool = Pool::new(pool_config(2, 3)).unwrap();
    let mut held = pool.acquire().unwrap();
    let held_pid = held.init_pid();
    let idle_pid = {
        let other = pool.acquire().unwrap();
        other.init_pid()
    };
    wait_until("a container to be idle", Duration::from_secs(5), || {
        pool.stats().idle >= 1
    });
    pool.close();
    assert!(matches!(pool.acquire(), Err(Error::PoolClosed)));
    // Idle containers are gone at once.
    wait_until(
        "idle containers to be destroyed",
        Duration::from_secs(5),
        || !alive(idle_pid),
    );
    // The one still out keeps working until it is released, then it is destroyed.
    assert_eq!(held.run(&echo("still")).unwrap().status, Status::Ok);
    drop(held);
    wait_until(
        "the released container to be destroyed",
        Duration::from_secs(5),
        || !alive(held_pid),
    );
    assert_eq!(pool.stats().idle, 0);
}

#[test]
fn bad_configurations_are_refused() {
    for config in [
        set!(
            PoolConfig::default(),
            max_size = 0,
            min_idle = 0,
            max_idle = 0
        ),
        set!(
            PoolConfig::default(),
            min_idle = 3,
            max_idle = 2,
            max_size = 4
        ),
        set!(
            PoolConfig::default(),
            min_idle = 1,
            max_idle = 8,
            max_size = 4
        ),
    ] {
        assert!(matches!(Pool::new(config), Err(Error::InvalidArgument(_))));
    }
}

#[test]
fn idle_containers_above_min_idle_are_evicted() {
    let config = set!(
        pool_config(1, 3),
        idle_timeout = Duration::from_millis(100),
        health_check_interval = Duration::from_millis(50)
    );
    let pool = Pool::new(config).unwrap();
    let (a, b, c) = (
        pool.acquire().unwrap(),
        pool.acquire().unwrap(),
        pool.acquire().unwrap(),
    );
    drop((a, b, c));
    // Two of the three are evicted (a container counts as destroyed once it is
    // gone, just after it leaves the idle list), and the pool settles at min_idle.
    wait_until("eviction down to min_idle", Duration::from_secs(10), || {
        let stats = pool.stats();
        stats.idle == 1 && stats.destroyed == 2
    });
    std::thread::sleep(Duration::from_millis(300));
    // It stays there: one container, idle or out for a health check right now.
    let stats = pool.stats();
    assert_eq!(
        (stats.idle + stats.pending, stats.destroyed, stats.created),
        (1, 2, 3),
        "{stats:?}"
    );
}

#[test]
fn above_max_idle_the_longest_idle_is_evicted() {
    let pool = Pool::new(set!(pool_config(1, 3), max_idle = 1)).unwrap();
    let (a, b, c) = (
        pool.acquire().unwrap(),
        pool.acquire().unwrap(),
        pool.acquire().unwrap(),
    );
    let (pid_a, pid_c) = (a.init_pid(), c.init_pid());
    drop(a);
    wait_until("a to be idle", Duration::from_secs(5), || {
        pool.stats().idle == 1
    });
    drop(b);
    wait_until("the older one evicted", Duration::from_secs(5), || {
        pool.stats().destroyed == 1 && pool.stats().idle == 1
    });
    assert!(!alive(pid_a), "the longest idle container goes first");
    drop(c);
    wait_until("the next eviction", Duration::from_secs(5), || {
        pool.stats().destroyed == 2 && pool.stats().idle == 1
    });
    assert_eq!(
        pool.acquire().unwrap().init_pid(),
        pid_c,
        "the most recent one stays"
    );
}

#[test]
fn a_waiting_acquire_is_cancelled_from_another_thread() {
    let pool = Pool::new(pool_config(1, 1)).unwrap();
    let held = pool.acquire().unwrap();
    let cancel = pool.acquire_cancel();
    let started = Instant::now();
    let outcome = std::thread::scope(|s| {
        let waiter = s.spawn(|| pool.acquire_cancellable(Duration::from_secs(30), &cancel));
        std::thread::sleep(Duration::from_millis(100));
        cancel.cancel();
        waiter.join().unwrap().err()
    });
    let took = started.elapsed();
    assert!(
        matches!(outcome, Some(Error::AcquireCancelled)),
        "{outcome:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    let stats = pool.stats();
    assert_eq!((stats.acquire_timeouts, stats.acquire_waits), (0, 1));
    // Cancelled stays cancelled; a fresh token and plain acquires still work.
    drop(held);
    let r = pool
        .acquire_cancellable(Duration::from_secs(5), &cancel)
        .err();
    assert!(matches!(r, Some(Error::AcquireCancelled)), "{r:?}");
    let fresh = pool.acquire_cancel();
    let mut c = pool
        .acquire_cancellable(Duration::from_secs(5), &fresh)
        .unwrap();
    assert_eq!(c.run(&echo("ok")).unwrap().status, Status::Ok);
    // A token of another pool is refused.
    let other = Pool::new(pool_config(0, 1)).unwrap();
    let r = other
        .acquire_cancellable(Duration::from_secs(1), &fresh)
        .err();
    assert!(matches!(r, Some(Error::InvalidArgument(_))), "{r:?}");
}
