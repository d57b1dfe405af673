//! The stock of spare inits lives only while it can be used: from a process's second
//! container, while containers are alive (plus a short grace), and never past the
//! close of the last pool.
//!
//! One test only, so nothing else runs in this process while it counts children.

mod common;

use common::leakcheck::children_of;
use common::*;
use scpool_core::{Pool, PoolConfig};
use std::time::{Duration, Instant};

/// Waits until this process has `n` child processes (container inits, spares
/// included), and fails after a while.
fn wait_for_children(n: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children = children_of(std::process::id());
        if children.len() == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} children, not {n}: {children:?}",
            children.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn spares_start_with_the_second_container_and_die_with_the_last() {
    let first = container();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        children_of(std::process::id()).len(),
        1,
        "a single container starts no spare"
    );
    let second = container();
    wait_for_children(2 + 2, "two containers and two spares");
    // A pool makes its own containers: it takes no spare.
    let pool = Pool::new(PoolConfig::with_size(1)).unwrap();
    wait_for_children(2 + 2 + 1, "two containers, two spares and a pool's");
    drop(first);
    drop(second);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        children_of(std::process::id()).len(),
        1 + 2,
        "the spares stay while a container (the pool's) is alive"
    );

    // A forked child counts its own containers and pools, not the parent's (the
    // parent's pool is open here): closing its only pool kills its spares.
    // SAFETY: the child only makes containers (the library restarts its threads
    // in a new process) and leaves with _exit.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork: {}", std::io::Error::last_os_error());
    if child == 0 {
        let ok = std::panic::catch_unwind(|| {
            let first = container();
            let second = container();
            let pool = Pool::new(PoolConfig::with_size(1)).unwrap();
            wait_for_children(2 + 2 + 1, "the child's containers, spares and pool");
            drop((first, second));
            pool.close();
            let none_left = children_of(std::process::id()).is_empty();
            // _exit runs no atexit handler: remove the cgroups now.
            scpool_core::flush();
            none_left
        });
        // SAFETY: ends the forked child without running the parent's destructors.
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "in a forked child, closing its last pool left children (status {status:#x})"
    );

    pool.close();
    assert_eq!(
        children_of(std::process::id()),
        Vec::new(),
        "closing the last pool kills the spares at once"
    );

    // Without pools: the spares die a moment after the last container.
    let first = container();
    let second = container();
    wait_for_children(2 + 2, "two containers and two spares again");
    drop((first, second));
    wait_for_children(0, "the grace after the last container");
}
