//! Setup time of runs spaced apart (as in a lightly loaded judge), with and without
//! a cgroup: `cargo run --release --example spaced_runs`.
use scpool_core::*;
use std::time::Duration;
fn main() {
    for mode in [CgroupMode::Off, CgroupMode::Required] {
        let mut config = ContainerConfig::default();
        config.cgroup.mode = mode.clone();
        let mut c = Container::new(&config).unwrap();
        let p = ExecveParam::new(["/bin/true"]);
        let mut setups = Vec::new();
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(100));
            setups.push(c.execve(&p).unwrap().setup_time);
        }
        setups.sort();
        println!(
            "{mode:?}: setup median {:?}, max {:?}",
            setups[5], setups[9]
        );
    }
}
