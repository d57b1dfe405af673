//! Per-run latency probe: `cargo run --release --example latency -- /path/to/static-noop`.
//! Compares fork+exec from the host with execve in a container, with and without
//! cgroup accounting and seccomp, in one run.
use scpool_core::*;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut() -> Duration) -> (Duration, Duration) {
    let mut setup = Vec::with_capacity(runs);
    let total: Vec<_> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            setup.push(f());
            t.elapsed()
        })
        .collect();
    (median(total), median(setup))
}

fn main() {
    let noop = std::env::args().nth(1).expect("path to a static no-op");
    let runs = 1000;
    let (floor, _) = measure(runs, || {
        std::process::Command::new(&noop).status().unwrap();
        Duration::ZERO
    });
    let exe = memfd_copy_of(&noop).unwrap();
    for (label, mode, seccomp) in [
        ("bare", CgroupMode::Off, SeccompPolicy::Disabled),
        ("cgroup", CgroupMode::Required, SeccompPolicy::Disabled),
        ("seccomp", CgroupMode::Off, SeccompPolicy::Default),
        (
            "single-program",
            CgroupMode::Off,
            SeccompPolicy::SingleProgram,
        ),
        (
            "cgroup+seccomp",
            CgroupMode::Required,
            SeccompPolicy::Default,
        ),
    ] {
        let mut config = ContainerConfig::default();
        config.cgroup.mode = mode;
        let mut c = Container::new(&config).unwrap();
        let mut p = ExecveParam::new(["noop"]);
        p.exec_file = Some(exe.as_fd());
        p.seccomp = seccomp;
        let (total, setup) = measure(runs, || {
            let r = c.execve(&p).unwrap();
            assert_eq!(r.status, Status::Ok);
            r.setup_time
        });
        println!(
            "{label:>15}: execve {total:>10.1?}  setup {setup:>10.1?}  ({:.2} x floor)",
            total.as_secs_f64() / floor.as_secs_f64()
        );
    }
    println!("{:>15}: {floor:>10.1?}", "floor");
}
