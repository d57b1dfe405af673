use scpool_core::*;
fn main() {
    let t = std::time::Instant::now();
    let mut c = Container::new(&ContainerConfig::default()).expect("create");
    eprintln!("created in {:?}", t.elapsed());
    c.ping().expect("ping");
    let mut p = RunParam::new([
        "/bin/sh",
        "-c",
        "echo hi; hostname; id; ls /; ls -la /proc/self/fd; cat /etc/shadow; echo $$",
    ]);
    p.env = vec!["PATH=/usr/bin:/bin".into()];
    let r = c.run(&p).expect("run");
    eprintln!(
        "{:?}\nstdout:\n{}\nstderr:\n{}",
        r.status,
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    eprintln!("{r:?}");
    c.reset().expect("reset");
}
