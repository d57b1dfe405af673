//! The same program's memory figure in a fresh container, then in the same container
//! after a compile (same loan), then after release and acquire (next loan):
//! `cargo run --release --example reuse_memory`. Needs g++ on the host.
use scpool_core::{Pool, PoolConfig, RunParam};
use std::time::Duration;

fn run(c: &mut scpool_core::PooledContainer, args: &[&str]) -> scpool_core::RunResult {
    let mut param = RunParam::new(args.iter().copied());
    param.env = vec!["PATH=/usr/bin:/bin".into()];
    param.limits.wall_time = Some(Duration::from_secs(60));
    c.run(&param).expect("a run")
}

fn main() {
    let pool = Pool::new(PoolConfig::with_size(1)).expect("a pool");
    let mut c = pool.acquire().expect("a container");
    let fresh = run(&mut c, &["/bin/true"]);
    c.write_file(
        "/w/a.cpp",
        b"#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n",
    )
    .expect("writing the source");
    let compile = run(&mut c, &["/usr/bin/g++", "-O2", "-o", "/w/a", "/w/a.cpp"]);
    let same_loan = run(&mut c, &["/bin/true"]);
    drop(c);
    let mut c = pool.acquire().expect("the container again");
    let next_loan = run(&mut c, &["/bin/true"]);
    println!(
        "{{\"accounting\":\"{}\",\"fresh\":{},\"compile\":{},\"after_compile_same_loan\":{},\"next_loan\":{}}}",
        fresh.accounting, fresh.memory, compile.memory, same_loan.memory, next_loan.memory
    );
}
