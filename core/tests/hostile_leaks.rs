//! After the worst hostile programs (fork bomb, memory bombs, floods, a daemon,
//! kill(-1)), nothing of ours is left on the host: no process, cgroup, mount, fd,
//! thread or temp file. One test only, so nothing else runs while it counts.

mod common;

use common::leakcheck::{assert_same, Snapshot};
use common::*;
use scpool_core::{memfd_copy_of, ExecveParam, Limits, Status};
use std::os::fd::AsFd;
use std::time::Duration;

#[test]
fn hostile_programs_leave_nothing_behind() {
    drop(container()); // the spawner thread and the init image live for the process
    let before = Snapshot::take();
    let ns = host_ns();
    let exe = memfd_copy_of(prog("attack")).unwrap();
    let stdout = memfd_with("attack-stdout", b"");
    for action in [
        "forkbomb",
        "membomb",
        "membomb_child",
        "flood_file",
        "kill_all",
        "spin",
    ] {
        let mut c = container();
        let mut param = ExecveParam::new(["attack", ns[0].as_str(), ns[1].as_str(), action]);
        param.exec_file = Some(exe.as_fd());
        param.files = vec![stdout.as_fd(), stdout.as_fd(), stdout.as_fd()];
        param.limits = Limits {
            cpu_time: Some(Duration::from_millis(500)),
            wall_time: Some(Duration::from_secs(3)),
            memory: Some(64 << 20),
            processes: Some(32),
            output: Some(1 << 20),
            ..Limits::default()
        };
        let r = c.execve(&param).unwrap();
        assert_ne!(r.status, Status::RunnerError, "{action}: {r:?}");
        assert_ne!(r.exit_code, Some(GUARD_REFUSED), "{action}: {r:?}");
        // A daemon for the reset to find, then the container goes.
        assert_ok(&sh(&mut c, "(sleep 60 &); true"));
        c.reset().unwrap();
    }
    drop((exe, stdout));
    assert_same(&before, &Snapshot::take(), "after the hostile programs");
}
