//! `cgroup::teardown_for_exit`: what a host calls on its way out (SIGINT, SIGTERM)
//! when no destructor will run. One-way for the whole process, so this file holds
//! a single test.

mod common;

use common::{container, run_param, set};
use scpool_core::{cgroup, CgroupMode, Container, ContainerConfig, Limits};
use std::time::{Duration, Instant};

#[test]
fn teardown_kills_running_programs_removes_every_cgroup_and_refuses_new_containers() {
    let mut busy = container();
    let idle = container();
    let ours = common::leakcheck::our_cgroups();
    assert!(
        !ours.is_empty(),
        "the containers have no cgroup directories"
    );

    let running = std::thread::spawn(move || {
        let mut param = run_param(["/bin/sleep", "30"]);
        param.limits = set!(Limits::default(), wall_time = Some(Duration::from_secs(60)));
        let started = Instant::now();
        (busy.run(&param), started.elapsed())
    });
    // Until the program runs (the run's cgroup then holds init and sleep).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !common::descendants_of(std::process::id())
        .iter()
        .any(|(_, name)| name.starts_with("sleep "))
    {
        assert!(Instant::now() < deadline, "the program never started");
        std::thread::sleep(Duration::from_millis(5));
    }

    cgroup::teardown_for_exit().expect("tearing down");

    assert_eq!(common::leakcheck::our_cgroups(), Vec::<String>::new());
    let (outcome, took) = running.join().expect("the running thread");
    let error = outcome.expect_err("a run whose container was torn down must fail");
    assert!(error.is_container_broken(), "{error}");
    assert!(
        took < Duration::from_secs(30),
        "the run was not killed: {took:?}"
    );
    // Nothing of the containers is left running.
    assert!(
        common::descendants_of(std::process::id())
            .iter()
            .all(|(_, state)| state.ends_with(" Z (zombie)")),
        "{:?}",
        common::descendants_of(std::process::id())
    );
    // No cgroup is made any more: a container that requires one is refused, and
    // one that can do without gets none.
    let mut config = ContainerConfig::default();
    config.cgroup.mode = CgroupMode::Required;
    let refused = Container::new(&config);
    assert!(refused.is_err(), "a container got a cgroup after teardown");
    let without = Container::new(&ContainerConfig::default()).expect("a container without cgroup");
    assert_eq!(common::leakcheck::our_cgroups(), Vec::<String>::new());
    drop(without);
    drop(idle);
}
