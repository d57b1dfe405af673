//! Manual smoke run: `cargo run --example smoke [-- --userns]`.
use scpool_core::*;
fn main() {
    let userns = std::env::args().any(|a| a == "--userns");
    let mut config = ContainerConfig::default();
    config.user_namespace = userns;
    let t = std::time::Instant::now();
    let mut c = Container::new(&config).expect("create");
    eprintln!("created in {:?}", t.elapsed());
    let mut p = RunParam::new([
        "/bin/sh",
        "-c",
        "id; grep -E 'Cap|NoNew' /proc/self/status; ls /proc; touch /x; touch /w/x && echo w-ok",
    ]);
    p.env = vec!["PATH=/usr/bin:/bin".into()];
    let r = c.run(&p).expect("run");
    println!(
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    println!(
        "status={} cpu={:?} wall={:?} mem={} setup={:?}",
        r.status, r.cpu_time, r.wall_time, r.memory, r.setup_time
    );
    c.reset().expect("reset");
}
