//! Container cgroups are made ahead and removed in the background; none outlives a
//! host that exits normally (the stock and pending removals are flushed at exit).
//! A SIGKILLed host's are swept by the next host (see host_death.rs).

mod common;

use common::leakcheck::cgroup_dirs_named;
use scpool_core::{Container, ContainerConfig};
use std::process::Command;

const ROLE: &str = "SCPOOL_TEST_STOCK_ROLE";

#[test]
fn exiting_role() {
    if std::env::var_os(ROLE).is_none() {
        return; // Only meaningful when started by the test below.
    }
    let mut c = Container::new(&ContainerConfig::default()).expect("create");
    c.ping().unwrap();
    assert!(c.cgroup_version().is_some(), "the container has no cgroup");
    // A second container comes from the stock the first one started; the first's
    // cgroup is still being removed when the process exits.
    let second = Container::new(&ContainerConfig::default()).expect("create");
    drop(c);
    drop(second);
    std::process::exit(0);
}

#[test]
fn a_host_that_exits_leaves_no_container_cgroup() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "exiting_role", "--test-threads=1"])
        .env(ROLE, "1")
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "the exiting host failed: {status}");
    // Named after the child's pid; it is gone, so nothing more can appear.
    let left = cgroup_dirs_named(&format!("scpool-{}-", child.id()));
    assert!(left.is_empty(), "cgroups of the exited host: {left:?}");
}

#[test]
fn inits_are_in_their_cgroup_and_no_host_thread_is_left_there() {
    let mut c = Container::new(&ContainerConfig::default()).expect("create");
    c.ping().unwrap();
    let init = std::fs::read_to_string(format!("/proc/{}/cgroup", c.init_pid())).unwrap();
    let ours = format!("scpool-{}-", std::process::id());
    // Every controller the library uses, in whichever version this host has.
    let lines: Vec<&str> = init
        .lines()
        .filter(|l| {
            let controllers = l.split(':').nth(1).unwrap_or("");
            controllers.is_empty()
                || controllers
                    .split(',')
                    .any(|c| ["cpu", "cpuacct", "memory", "pids"].contains(&c))
        })
        .filter(|l| !l.starts_with("0::") || init.lines().count() == 1)
        .collect();
    assert!(!lines.is_empty(), "{init}");
    for line in &lines {
        assert!(
            line.contains(&ours),
            "the init is not in its cgroup: {init}"
        );
    }
    let names: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "one container cgroup everywhere: {init}");
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(cgroups) = std::fs::read_to_string(task.path().join("cgroup")) else {
            continue;
        };
        // (The host itself may live in the leaf `scpool-host` of a delegated v2
        // cgroup: that is not a container's.)
        assert!(
            !cgroups.contains(&ours),
            "host thread {:?} is in a container cgroup: {cgroups}",
            task.file_name()
        );
    }
}
