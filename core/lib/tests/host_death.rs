//! When the host process dies, its containers die with it: the init gets SIGKILL
//! through its parent-death signal and sees EOF on its socket.
//!
//! The test re-runs its own binary as a "host" that creates containers (from a thread
//! that then exits, which must not matter) and is then killed with SIGKILL.

mod common;

use common::alive;
use common::leakcheck::cgroup_dirs_named;
use scpool_core::{Container, ContainerConfig};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "SCPOOL_TEST_HOST_ROLE";

/// The host role: two containers, one made on a short-lived thread; print the init
/// pids, then wait to be killed.
#[test]
fn host_role() {
    if std::env::var_os(ROLE).is_none() {
        return; // Only meaningful when started by `containers_die_with_their_host`.
    }
    let first = Container::new(&ContainerConfig::default()).expect("create");
    let second =
        std::thread::spawn(|| Container::new(&ContainerConfig::default()).expect("create"))
            .join()
            .unwrap();
    // The thread that created `second` is gone: its init must still be alive.
    std::thread::sleep(Duration::from_millis(100));
    let mut second = second;
    second
        .ping()
        .expect("a container outlives the thread that created it");
    println!("INITS {} {}", first.init_pid(), second.init_pid());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn containers_die_with_their_host() {
    let mut host = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "host_role", "--nocapture", "--test-threads=1"])
        .env(ROLE, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(host.stdout.take().unwrap());
    // libtest prints "test host_role ... " on the same line, before our output.
    while !line.contains("INITS") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the host role ended without reporting"
        );
    }
    let reported = line.split("INITS").nth(1).unwrap();
    let inits: Vec<i32> = reported
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(inits.len(), 2);
    assert!(inits.iter().all(|&pid| alive(pid)));

    host.kill().unwrap();
    host.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while inits.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    for pid in inits {
        assert!(!alive(pid), "init {pid} outlived its host");
    }
    // A killed host cannot remove its containers' cgroups (the next host sweeps
    // them); remove them here, which also proves they are empty.
    let prefix = format!("scpool-{}-", host.id());
    for dir in cgroup_dirs_named(&prefix) {
        // On cgroup v2 before 6.12 the init and the runs have leaves inside.
        let leaves = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path());
        for dir in leaves.chain([dir.clone()]) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while let Err(e) = std::fs::remove_dir(&dir) {
                assert!(Instant::now() < deadline, "{}: {e}", dir.display());
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}
