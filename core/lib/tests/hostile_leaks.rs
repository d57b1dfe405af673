//! After the programs of the hostile suite (`tests/hostile.rs`: fork bombs, memory
//! bombs, daemons, floods, kill(-1), escape attempts with and without seccomp, a
//! ptrace stop), nothing of them is left in the host: no cgroup directory of this
//! process (scpool-<pid>-*, searched under /sys/fs/cgroup), no child process, no
//! mount, no descriptor, no thread, no temporary file, and the host's process count
//! is back where it was.
//!
//! One test only, so nothing else runs in this process while it counts. Must run as
//! root (CI does).

mod common;

use common::leakcheck::{assert_same, our_cgroups, Snapshot};
use common::*;
use scpool_core::{Container, Limits, SeccompPolicy, Status};
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn limits() -> Limits {
    set!(Limits::default(), wall_time = Some(SAFETY_WALL_TIME))
}

/// Runs a guarded program under the default policy and checks its status.
#[track_caller]
fn expect(c: &mut Container, name: &str, args: &[&str], limits: Limits, status: Status) {
    let r = run_guarded_with(c, name, args, limits, SeccompPolicy::Default);
    assert_eq!(
        r.status, status,
        "{name} {args:?}: exit {:?} signal {:?} {}",
        r.exit_code, r.signal, r.message
    );
}

/// One container's worth of hostile programs.
fn attack(c: &mut Container) {
    expect(
        c,
        "hostile_forkbomb",
        &[],
        set!(
            Limits::default(),
            processes = Some(32),
            cpu_time = Some(Duration::from_secs(1)),
            wall_time = Some(Duration::from_secs(10))
        ),
        Status::TimeLimitExceeded,
    );
    let memory = set!(limits(), memory = Some(64 * MIB));
    expect(
        c,
        "hostile_memory",
        &["bomb"],
        memory.clone(),
        Status::MemoryLimitExceeded,
    );
    expect(
        c,
        "hostile_memory",
        &["child-bomb"],
        memory,
        Status::MemoryLimitExceeded,
    );
    expect(c, "daemon", &[], limits(), Status::Ok);
    expect(c, "hostile_kill", &[], limits(), Status::Ok);
    let output = set!(limits(), output = Some(MIB));
    expect(
        c,
        "hostile_flood",
        &["file", "/w/big"],
        output.clone(),
        Status::OutputLimitExceeded,
    );
    expect(
        c,
        "hostile_flood",
        &["stdout"],
        output,
        Status::OutputLimitExceeded,
    );
    expect(
        c,
        "hostile_spin",
        &["forever"],
        set!(limits(), cpu_time = Some(Duration::from_millis(200))),
        Status::TimeLimitExceeded,
    );
    expect(
        c,
        "hostile_spin",
        &["forever"],
        set!(
            Limits::default(),
            wall_time = Some(Duration::from_millis(200))
        ),
        Status::WallTimeLimitExceeded,
    );
    // Without seccomp: namespaces of its own with a mount in them, and a ptrace stop.
    // Their statuses are the hostile suite's business; here only what they leave.
    let _ = run_guarded_with(
        c,
        "hostile_sys",
        &["unshare", "mount", "chroot"],
        limits(),
        SeccompPolicy::Disabled,
    );
    let _ = run_guarded_with(
        c,
        "hostile_sys",
        &["traceme_stop"],
        set!(Limits::default(), wall_time = Some(Duration::from_secs(1))),
        SeccompPolicy::Disabled,
    );
    let left = descendants_of(c.init_pid() as u32);
    assert!(left.is_empty(), "processes of finished runs: {left:?}");
    c.reset().expect("reset after the hostile programs");
    c.ping().expect("ping after the reset");
}

#[test]
fn the_hostile_suite_leaves_nothing_behind() {
    // Everything made once per process comes first: the compiled programs, the init
    // image's memfd and the spawner thread.
    for name in [
        "hostile_forkbomb",
        "hostile_memory",
        "hostile_flood",
        "hostile_kill",
        "hostile_spin",
        "hostile_sys",
        "daemon",
    ] {
        prog(name);
    }
    warm_up();
    let before = Snapshot::baseline();
    let processes = host_process_count();

    for round in 0..3 {
        let mut c = container();
        attack(&mut c);
        if round % 2 == 0 {
            c.destroy();
        } else {
            drop(c);
        }
    }
    // Two containers attacked side by side.
    let threads: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(|| {
                let mut c = container();
                attack(&mut c);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }

    assert_eq!(our_cgroups(), Vec::<String>::new(), "cgroups left behind");
    assert_same(&before, &Snapshot::take(), "by the hostile programs");
    // Other programs on the machine come and go: a little slack, a little time.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = host_process_count();
        if now <= processes + 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{now} host processes after the hostile programs, {processes} before"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
