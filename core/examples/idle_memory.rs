//! Prints the resident memory of idle containers' inits: `cargo run --release --example idle_memory`.
use scpool_core::{Container, ContainerConfig};
fn main() {
    let mut boxes: Vec<Container> = (0..8)
        .map(|_| Container::new(&ContainerConfig::default()).unwrap())
        .collect();
    for c in &mut boxes {
        c.ping().unwrap();
    }
    for c in &boxes {
        let status = std::fs::read_to_string(format!("/proc/{}/status", c.init_pid())).unwrap();
        let smaps = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", c.init_pid()))
            .unwrap_or_default();
        let pick = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
                .unwrap_or_default()
        };
        println!(
            "init {}: VmRSS {} kB, Pss {} kB, Private_Dirty {} kB",
            c.init_pid(),
            pick(&status, "VmRSS"),
            pick(&smaps, "Pss:"),
            pick(&smaps, "Private_Dirty")
        );
    }
}
