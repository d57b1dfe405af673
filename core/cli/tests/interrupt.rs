//! `scpool run` interrupted by SIGINT, SIGTERM or SIGHUP: the run's processes are
//! killed, the container's cgroup directories removed, and the exit status is 128+N.

mod common;

use common::cgroup_dirs_named;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: a loaded machine can take seconds to start a container.
const PATIENCE: Duration = Duration::from_secs(30);

/// (pid, start time) of every process descended from `pid`, with its name.
fn descendants(pid: u32) -> Vec<(u32, u64, String)> {
    let mut stats = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("listing /proc").flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(stat) = stat_of(p) {
            stats.push((p, stat));
        }
    }
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for (p, stat) in &stats {
            if stat.ppid == parent {
                parents.push(*p);
                found.push((*p, stat.start, stat.name.clone()));
            }
        }
    }
    found
}

struct Stat {
    name: String,
    state: char,
    ppid: u32,
    start: u64,
}

/// The fields of /proc/PID/stat we need; `None` once the process is gone.
fn stat_of(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = text.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        name,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        // Field 22 of stat; `fields` starts at field 3.
        start: fields.get(19)?.parse().ok()?,
    })
}

/// Whether the process that had this pid and start time still runs (a zombie has
/// finished).
fn still_running(pid: u32, start: u64) -> bool {
    stat_of(pid).is_some_and(|s| s.start == start && !matches!(s.state, 'Z' | 'X'))
}

/// Waits for the child to exit; kills it and fails if it takes longer than PATIENCE.
fn wait_with_patience(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for scpool") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scpool did not exit within {PATIENCE:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn interrupting_a_run_cleans_up(signal: libc::c_int) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scpool"))
        .args(["run", "--", "/bin/sleep", "30"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting scpool");
    let pid = child.id();
    let prefix = format!("scpool-{pid}-");

    // The container exists once the program runs in it.
    let deadline = Instant::now() + PATIENCE;
    let processes = loop {
        let found = descendants(pid);
        if found.iter().any(|(_, _, name)| name == "sleep") {
            break found;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the program never started: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        !cgroup_dirs_named(&prefix).is_empty(),
        "the running container has no cgroup directory named {prefix}*"
    );

    // SAFETY: kill has no memory arguments; `pid` is our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
    let status = wait_with_patience(&mut child);

    assert_eq!(
        status.code(),
        Some(128 + signal),
        "exit status after signal {signal}: {status}"
    );
    assert_eq!(cgroup_dirs_named(&prefix), Vec::<PathBuf>::new());
    // The init and the program were SIGKILLed; give the kernel a moment to finish
    // them (whoever reaps them now that their parent is gone).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left: Vec<_> = processes
            .iter()
            .filter(|(p, start, _)| still_running(*p, *start))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "processes left: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigint_kills_the_run_removes_its_cgroups_and_exits_130() {
    interrupting_a_run_cleans_up(libc::SIGINT);
}

#[test]
fn sigterm_kills_the_run_removes_its_cgroups_and_exits_143() {
    interrupting_a_run_cleans_up(libc::SIGTERM);
}

#[test]
fn sighup_kills_the_run_removes_its_cgroups_and_exits_129() {
    interrupting_a_run_cleans_up(libc::SIGHUP);
}
