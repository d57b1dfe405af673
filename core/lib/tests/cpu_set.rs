//! A run's CPU set is a hard limit: the program sees exactly the CPUs it was given,
//! cannot widen them with sched_setaffinity, and the next run without a set (in the
//! same container, after a reset, or for the pool's next borrower) has every CPU
//! again. Bad sets are typed errors and the container keeps serving.
//!
//! The sets are made from the CPUs this test process may use, so the cases hold on
//! any host; the cases that need two CPUs say so and check less on one.

mod common;

use common::*;
use scpool_core::{CgroupMode, Container, ContainerConfig, CpuSet, Error, Limits, SeccompPolicy};
use std::collections::HashMap;
use std::os::fd::AsFd;

/// The CPUs this process may use, as /proc/self/status lists them: what a
/// container on this host has when its run asks for no set.
fn host_cpus() -> CpuSet {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    CpuSet::parse(status_field(&status, "Cpus_allowed_list").unwrap()).unwrap()
}

/// Whether `host` has one CPU, where every set is every CPU and a test of "every
/// CPU again" could not fail; says it skips.
fn one_cpu(host: &CpuSet) -> bool {
    let one = host.cpus().count() < 2;
    if one {
        eprintln!("skipped: one CPU, every set is every CPU");
    }
    one
}

fn with_cpus(cpus: Option<CpuSet>) -> Limits {
    set!(Limits::default(), cpu_set = cpus)
}

/// Runs `cpus` (guarded) under `limits`; its "key=value" lines.
fn report(c: &mut Container, limits: Limits, args: &[&str]) -> HashMap<String, String> {
    let r = run_guarded_with(c, "cpus", args, limits, SeccompPolicy::Default);
    assert_ok(&r);
    lines(&r.stdout)
        .into_iter()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn set_of(out: &HashMap<String, String>, key: &str) -> CpuSet {
    let value = out
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {out:?}"));
    CpuSet::parse(value).unwrap_or_else(|e| panic!("{key}={value}: {e}"))
}

/// Every figure of the report is exactly `expected`, and the program ran on
/// nothing else.
#[track_caller]
fn assert_confined(out: &HashMap<String, String>, expected: &CpuSet) {
    for key in ["affinity", "status", "widened"] {
        assert_eq!(&set_of(out, key), expected, "{key}: {out:?}");
    }
    assert_eq!(
        out["widen"], "0",
        "asking for every CPU is not an error: {out:?}"
    );
    assert!(
        set_of(out, "ran_on").is_subset(expected),
        "ran outside {expected}: {out:?}"
    );
}

#[test]
fn a_run_sees_and_runs_on_only_its_cpu_set_and_cannot_widen_it() {
    let host = host_cpus();
    let mut c = container();
    for cpu in host.cpus() {
        let only = CpuSet::from_cpus([cpu]).unwrap();
        // Asking for another CPU alone: outside the cgroup's set, refused.
        let other = host.cpus().find(|&o| o != cpu);
        let arg = other.map(|o| o.to_string());
        let args: Vec<&str> = arg.iter().map(String::as_str).collect();
        let out = report(&mut c, with_cpus(Some(only.clone())), &args);
        eprintln!("cpu {cpu}: {out:?}");
        assert_confined(&out, &only);
        if other.is_some() {
            assert_eq!(out["only"], libc::EINVAL.to_string(), "{out:?}");
            assert_eq!(set_of(&out, "after_only"), only, "{out:?}");
        }
    }
    // The whole host as a set is the same as none.
    let out = report(&mut c, with_cpus(Some(host.clone())), &[]);
    assert_confined(&out, &host);
}

#[test]
fn the_next_run_without_a_cpu_set_has_every_cpu_again() {
    let host = host_cpus();
    if one_cpu(&host) {
        return;
    }
    let last = CpuSet::from_cpus([host.cpus().last().unwrap()]).unwrap();
    let mut c = container();
    assert_confined(&report(&mut c, with_cpus(Some(last.clone())), &[]), &last);
    // The same container, next run.
    assert_confined(&report(&mut c, Limits::default(), &[]), &host);
    // After a reset.
    assert_confined(&report(&mut c, with_cpus(Some(last.clone())), &[]), &last);
    c.reset().unwrap();
    assert_confined(&report(&mut c, Limits::default(), &[]), &host);
    // The same set twice in a row holds the second time too.
    assert_confined(&report(&mut c, with_cpus(Some(last.clone())), &[]), &last);
    assert_confined(&report(&mut c, with_cpus(Some(last.clone())), &[]), &last);
}

#[test]
fn a_pools_next_borrower_has_every_cpu_as_root_and_rootless() {
    let host = host_cpus();
    let first = CpuSet::from_cpus([host.cpus().next().unwrap()]).unwrap();
    for user_namespace in [false, true] {
        let pool = pool_of_one(user_namespace);
        let mut c = pool.acquire().unwrap();
        let pid = c.init_pid();
        assert_confined(&report(&mut c, with_cpus(Some(first.clone())), &[]), &first);
        c.ping().unwrap();
        c.reset().unwrap();
        drop(c);
        let mut c = pool.acquire().unwrap();
        assert_eq!(c.init_pid(), pid, "the same container: {:?}", pool.stats());
        assert_confined(&report(&mut c, Limits::default(), &[]), &host);
    }
}

/// The CPUs a program started beside the run (before any run) may use.
fn cpus_beside(c: &Container) -> CpuSet {
    let handle = c.exec_handle().unwrap();
    let stdout = memfd_with("out", b"");
    let mut param = scpool_core::ExecveParam::new(["/bin/cat", "/proc/self/status"]);
    param.files = vec![stdout.as_fd(), stdout.as_fd()];
    let r = handle.spawn(&param).unwrap().wait().unwrap();
    assert_ok(&r);
    let mut stdout = stdout;
    let status = String::from_utf8(read_all(&mut stdout)).unwrap();
    CpuSet::parse(status_field(&status, "Cpus_allowed_list").unwrap()).unwrap()
}

#[test]
fn after_a_reset_a_program_beside_the_next_borrowers_first_run_has_every_cpu() {
    let host = host_cpus();
    if one_cpu(&host) {
        return;
    }
    let first = CpuSet::from_cpus([host.cpus().next().unwrap()]).unwrap();
    let pool = pool_of_one(false);
    let mut c = pool.acquire().unwrap();
    assert_confined(&report(&mut c, with_cpus(Some(first.clone())), &[]), &first);
    assert_eq!(cpus_beside(&c), first, "beside the loan's own run");
    drop(c);
    let c = pool.acquire().unwrap();
    assert_eq!(cpus_beside(&c), host, "the next borrower, before any run");
}

#[test]
fn bad_cpu_sets_are_typed_errors_and_the_container_keeps_serving() {
    let host = host_cpus();
    for bad in ["", "x", "1-0", "0,,1", "-1", "9999"] {
        assert!(
            matches!(CpuSet::parse(bad), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
    let mut c = container();
    let beyond = host.cpus().last().unwrap() + 1;
    for cpus in [
        format!("{beyond}"),
        format!("0-{beyond}"),
        "4095".to_string(),
    ] {
        let cpus = CpuSet::parse(&cpus).unwrap();
        let err = try_run_prog_with(
            &mut c,
            "hostile_hello",
            &[],
            b"",
            with_cpus(Some(cpus.clone())),
            SeccompPolicy::Default,
        )
        .expect_err("a CPU the host does not have");
        match &err {
            Error::InvalidArgument(message) => {
                assert!(message.contains(&cpus.to_string()), "{message}")
            }
            other => panic!("{cpus}: {other:?}"),
        }
        // Nothing was changed: the container serves the next run with every CPU.
        assert_confined(&report(&mut c, Limits::default(), &[]), &host);
    }
    c.ping().unwrap();
}

#[test]
fn without_a_cgroup_a_cpu_set_is_refused_not_ignored() {
    let mut config = ContainerConfig::default();
    config.cgroup.mode = CgroupMode::Off;
    let mut c = Container::new(&config).unwrap();
    let err = try_run_prog_with(
        &mut c,
        "hostile_hello",
        &[],
        b"",
        with_cpus(Some(CpuSet::parse("0").unwrap())),
        SeccompPolicy::Default,
    )
    .expect_err("no cpuset to enforce it");
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("cpuset"), "{err}");
    c.ping().unwrap();
}

#[test]
fn a_program_beside_a_run_cannot_ask_for_a_cpu_set() {
    let c = container();
    let mut param = scpool_core::ExecveParam::new(["/bin/true"]);
    param.limits = with_cpus(Some(CpuSet::parse("0").unwrap()));
    let err = c.spawn_alongside(&param).expect_err("refused");
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
}

#[test]
fn the_cpus_containers_may_use_are_those_a_run_without_a_set_has() {
    let cpus = scpool_core::cgroup::cpus_for_containers(&Default::default()).unwrap();
    let mut c = container();
    assert_confined(&report(&mut c, Limits::default(), &[]), &cpus);
    let mut off = scpool_core::CgroupConfig::default();
    off.mode = CgroupMode::Off;
    let err = scpool_core::cgroup::cpus_for_containers(&off).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
}
