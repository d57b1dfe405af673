//! The same program's memory figure in a fresh container, then in the same container
//! after a compile and after reading a 64 MiB file the host has not cached (same
//! loan), then after release and acquire (next loan):
//! `cargo run --release --example reuse_memory`. Needs g++ on the host.
use scpool_core::{Mount, Pool, PoolConfig, RunParam};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// A 64 MiB file out of the page cache, so the container that reads it pays for it.
fn uncached_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("scpool-reuse-memory-{}", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("creating the data file");
    for _ in 0..64 {
        file.write_all(&[7u8; 1 << 20])
            .expect("writing the data file");
    }
    file.sync_all().expect("syncing the data file");
    // SAFETY: advice on our own open descriptor.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    path
}

fn run(c: &mut scpool_core::PooledContainer, args: &[&str]) -> scpool_core::RunResult {
    let mut param = RunParam::new(args.iter().copied());
    param.env = vec!["PATH=/usr/bin:/bin".into()];
    param.limits.wall_time = Some(Duration::from_secs(60));
    c.run(&param).expect("a run")
}

fn main() {
    let data = uncached_file();
    let mut config = PoolConfig::with_size(1);
    config
        .container
        .mounts
        .push(Mount::new(data.clone(), "/data"));
    let pool = Pool::new(config).expect("a pool");
    let mut c = pool.acquire().expect("a container");
    let fresh = run(&mut c, &["/bin/true"]);
    c.write_file(
        "/w/a.cpp",
        b"#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n",
    )
    .expect("writing the source");
    let compile = run(&mut c, &["/usr/bin/g++", "-O2", "-o", "/w/a", "/w/a.cpp"]);
    let same_loan = run(&mut c, &["/bin/true"]);
    let read = run(&mut c, &["/bin/cat", "/data"]);
    let after_read = run(&mut c, &["/bin/true"]);
    drop(c);
    let mut c = pool.acquire().expect("the container again");
    let next_loan = run(&mut c, &["/bin/true"]);
    std::fs::remove_file(&data).expect("removing the data file");
    println!(
        "{{\"accounting\":\"{}\",\"fresh\":{},\"compile\":{},\"after_compile\":{},\"read\":{},\"after_read\":{},\"next_loan\":{}}}",
        fresh.accounting,
        fresh.memory,
        compile.memory,
        same_loan.memory,
        read.memory,
        after_read.memory,
        next_loan.memory
    );
}
