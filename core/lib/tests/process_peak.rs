//! The peak number of processes of a run (`RunResult::peak_processes`): the run's
//! own, never an earlier run's in the same container, and `None` where no counter
//! of that run alone exists. Runs as root.

mod common;

use common::*;
use scpool_core::{Accounting, Container, ContainerConfig};

/// Children the shell starts and keeps alive together.
const CHILDREN: u64 = 5;

/// The kernel's version as (major, minor).
fn kernel() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(['.', '-']);
    let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (next(), next())
}

/// Whether runs of `c` report a peak: a cgroup of the run's own (asked for, or v2
/// before 6.12, where every run has one) on a kernel that keeps pids.peak (6.1+).
fn reports_a_peak(c: &Container, asked: bool) -> bool {
    let own_cgroup = match c.accounting() {
        Accounting::CgroupV1 => asked,
        Accounting::CgroupV2 => asked || kernel() < (6, 12),
        _ => false,
    };
    own_cgroup && kernel() >= (6, 1)
}

/// A shell with CHILDREN sleeping children alive at once, which it then ends.
fn forks_children(c: &mut Container) -> Option<u64> {
    let script = format!(
        "i=0; while [ $i -lt {CHILDREN} ]; do sleep 1000 & p=\"$p $!\"; i=$((i+1)); done; \
         kill $p; wait; true"
    );
    let r = sh(c, &script);
    assert_ok(&r);
    r.peak_processes
}

fn single_process(c: &mut Container) -> Option<u64> {
    let r = c.run(&run_param(["/bin/true"])).unwrap();
    assert_ok(&r);
    r.peak_processes
}

fn each_run_reports_its_own_peak(asked: bool) {
    let mut config = ContainerConfig::default();
    config.cgroup.process_peak = asked;
    let mut c = Container::new(&config).unwrap();
    assert_expected_accounting(&c);
    if !reports_a_peak(&c, asked) {
        // An honest absence: no figure rather than the container's lifetime peak.
        assert_eq!(forks_children(&mut c), None);
        assert_eq!(single_process(&mut c), None);
        eprintln!("skipped: no per-run process count on this host");
        return;
    }
    let peak = forks_children(&mut c).expect("a peak");
    // The shell and its children (a shell may count a helper of its own).
    assert!(
        (CHILDREN + 1..=CHILDREN + 2).contains(&peak),
        "peak {peak} for a shell with {CHILDREN} children"
    );
    // The next run in the same container counts itself alone.
    assert_eq!(single_process(&mut c), Some(1));
    assert_eq!(forks_children(&mut c), Some(peak));
    // And so does the next borrower's, after a reset.
    c.reset().unwrap();
    assert_eq!(single_process(&mut c), Some(1));
}

#[test]
fn with_process_peak_each_run_reports_its_own_peak_not_an_earlier_ones() {
    each_run_reports_its_own_peak(true);
}

#[test]
fn by_default_a_peak_is_reported_only_where_runs_have_a_cgroup_anyway() {
    each_run_reports_its_own_peak(false);
}
