//! Memory of idle containers' inits, before and after runs:
//! `cargo run --release --example idle_memory`.
use scpool_core::{Container, ContainerConfig, ExecveParam};

fn field(pid: i32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn show(label: &str, boxes: &[Container]) {
    let pid = boxes[0].init_pid();
    println!(
        "{label}: Rss {} kB, Pss {} kB, Private_Dirty {} kB, Anonymous {} kB",
        field(pid, "Rss:"),
        field(pid, "Pss:"),
        field(pid, "Private_Dirty:"),
        field(pid, "Anonymous:")
    );
}

fn main() {
    let mut boxes: Vec<Container> = (0..8)
        .map(|_| Container::new(&ContainerConfig::default()).unwrap())
        .collect();
    show("idle, never run", &boxes);
    for c in &mut boxes {
        for _ in 0..100 {
            c.execve(&ExecveParam::new(["/bin/true"])).unwrap();
        }
    }
    show("idle, after 100 runs", &boxes);
    drop(boxes);

    // Everything included (namespaces, mounts, tmpfs, cgroup, page tables): the
    // system's available memory before and after 50 more idle containers.
    let available = || -> u64 {
        let text = std::fs::read_to_string("/proc/meminfo").unwrap();
        text.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap()
    };
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = available();
    let many: Vec<Container> = (0..50)
        .map(|_| Container::new(&ContainerConfig::default()).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let after = available();
    println!(
        "50 idle containers: {} kB of MemAvailable each, kernel objects included",
        (before.saturating_sub(after)) / 50
    );
    drop(many);
}
