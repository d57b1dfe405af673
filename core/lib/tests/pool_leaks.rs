//! A pool doing 1000 runs from several threads, then closed, leaves nothing in the
//! host process: descriptors, children, threads, mounts, temp files, cgroups.
//!
//! One test only, so nothing else runs in this process while it counts.

mod common;

use common::leakcheck::{assert_same, Snapshot};
use common::*;
use scpool_core::{Pool, PoolConfig, Status};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_thousand_pooled_runs_leak_nothing() {
    // Warm up what lives for the whole process (the spawner thread, the init image).
    warm_up();
    let before = Snapshot::take();

    let config = set!(
        PoolConfig::default(),
        min_idle = 2,
        max_idle = 4,
        max_size = 4,
        acquire_timeout = Duration::from_secs(60)
    );
    let pool = Arc::new(Pool::new(config).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || {
                for i in 0..250 {
                    let mut c = pool.acquire().unwrap();
                    // Every fourth run leaves a daemon and files behind for the reset.
                    let script = if i % 4 == 0 {
                        "(sleep 60 &) ; echo x > /w/f; echo y > /tmp/g"
                    } else {
                        "true"
                    };
                    let r = c.run(&run_param(["/bin/sh", "-c", script])).unwrap();
                    assert_eq!(r.status, Status::Ok, "thread {t} run {i}: {r:?}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.acquires, 1000);
    assert!(stats.created <= 4, "{stats:?}");
    drop(pool);

    assert_same(
        &before,
        &Snapshot::take(),
        "after 1000 pooled runs and close",
    );
}
