//! Quick per-run latency probe: `cargo run --release --example latency -- /path/to/static-noop`.
use scpool_core::*;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
fn main() {
    let noop = std::env::args().nth(1).expect("path to a static no-op");
    let runs = 2000;
    let floor: Vec<_> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::process::Command::new(&noop).status().unwrap();
            t.elapsed()
        })
        .collect();
    let mut c = Container::new(&ContainerConfig::default()).unwrap();
    let exe = memfd_copy_of(&noop).unwrap();
    let mut p = ExecveParam::new(["noop"]);
    p.exec_file = Some(exe.as_fd());
    let mut setup = Vec::new();
    let runs_in_box: Vec<_> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let r = c.execve(&p).unwrap();
            assert_eq!(r.status, Status::Ok);
            setup.push(r.setup_time);
            t.elapsed()
        })
        .collect();
    println!(
        "floor {:?}  execve {:?}  setup {:?}",
        median(floor),
        median(runs_in_box),
        median(setup)
    );
}
