//! Creating and destroying containers leaks nothing into the host process: no
//! descriptors, no child processes (zombies included), no threads, no mounts, no
//! temporary files; a container whose init is killed from outside is noticed at
//! once and cleaned up.
//!
//! One test only, so nothing else runs in this process while it counts. Must run as
//! root (CI does).

mod common;

use common::leakcheck::{assert_same, children_of, Snapshot};
use common::*;
use scpool_core::{Container, ContainerConfig, Error, Mount, OpenCmd};
use std::path::Path;
use std::time::{Duration, Instant};

fn sigkill(pid: i32) {
    // SAFETY: kill(2) with a pid we own: the container's init, an unreaped child of
    // this process (its pid cannot be reused before we reap it).
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill({pid}): {}", std::io::Error::last_os_error());
}

/// Waits until `init` has a child (the program of a run), and returns its pid.
fn wait_for_child_of(init: i32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = children_of(init as u32)
            .into_iter()
            .find(|(_, name)| !name.starts_with(&format!("{STANDBY_NAME} ")));
        if let Some((pid, _)) = run {
            return pid;
        }
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn containers_leak_nothing() {
    // Everything made once per process comes first: the compiled programs, the init
    // image's memfd and the spawner thread.
    prog("pids");
    prog("daemon");
    warm_up();
    let before = Snapshot::baseline();

    for i in 0..20 {
        let mut c = container();
        let r = run_prog(&mut c, "pids", &[]);
        assert_ok(&r);
        let r = run_guarded(&mut c, "daemon", &[]);
        assert_ok(&r);
        let files = c
            .open(&[OpenCmd::new("/w/f", libc::O_RDWR | libc::O_CREAT, 0o600)])
            .unwrap();
        drop(files);
        c.reset().unwrap_or_else(|e| panic!("reset {i}: {e}"));
        let r = sh(&mut c, "echo $$ > /w/pid");
        assert_ok(&r);
        if i % 2 == 0 {
            c.destroy();
        } else {
            drop(c);
        }
    }
    assert_same(&before, &Snapshot::take(), "by 20 containers");

    // Set-ups that fail inside the init (a missing mount source) clean up too.
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::read_only("/no/such/source"));
    for _ in 0..5 {
        let r = Container::new(&config);
        assert!(matches!(r, Err(Error::Setup(_))), "{:?}", r.err());
    }
    assert_same(&before, &Snapshot::take(), "by failed set-ups");

    // An init killed from outside while idle: the next call says the container is
    // broken, at once, and so does every later one.
    let mut c = container();
    sigkill(c.init_pid());
    let started = Instant::now();
    let err = c.ping().expect_err("ping of a dead container");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "noticed after {:?}",
        started.elapsed()
    );
    assert!(err.is_container_broken(), "{err:?}");
    assert!(c.is_broken());
    let err = c
        .run(&run_param(["/bin/true"]))
        .expect_err("run in a dead container");
    assert!(err.is_container_broken(), "{err:?}");
    let err = c.reset().expect_err("reset of a dead container");
    assert!(err.is_container_broken(), "{err:?}");
    drop(c);
    assert_same(
        &before,
        &Snapshot::take(),
        "by a container killed while idle",
    );

    // An init killed from outside during a run: the run ends at once with a broken
    // container, and the program died with its init.
    let mut c = container();
    let init = c.init_pid();
    let run = std::thread::spawn(move || {
        let r = c.run(&run_param(["/bin/sleep", "60"]));
        (r, Instant::now(), c)
    });
    let program = wait_for_child_of(init);
    let killed_at = Instant::now();
    sigkill(init);
    let (r, returned_at, c) = run.join().unwrap();
    let err = r.expect_err("a run whose init was killed");
    assert!(err.is_container_broken(), "{err:?}");
    let took = returned_at.saturating_duration_since(killed_at);
    assert!(took < Duration::from_secs(2), "noticed after {took:?}");
    assert!(c.is_broken());
    assert!(
        !Path::new(&format!("/proc/{program}")).exists(),
        "the program (host pid {program}) outlived its killed init"
    );
    drop(c);
    assert_same(
        &before,
        &Snapshot::take(),
        "by a container killed during a run",
    );

    // An init that stops answering (stopped from outside): the call gives up after
    // the control timeout, declares the container broken and kills the init.
    let mut c = container();
    let init = c.init_pid();
    // SAFETY: kill(2) on our unreaped child, as in `sigkill`.
    assert_eq!(unsafe { libc::kill(init, libc::SIGSTOP) }, 0);
    let started = Instant::now();
    let err = c.ping().expect_err("ping of a stopped init");
    assert!(err.is_container_broken(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "gave up after {:?}",
        started.elapsed()
    );
    assert!(c.is_broken());
    drop(c);
    assert_same(&before, &Snapshot::take(), "by a container whose init hung");
}
