//! `scpool serve` as a process: SIGTERM lets the run in flight finish and answer,
//! then the service exits 0 having removed its containers and their cgroups.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

/// Whether a process named `name` descends from `pid`.
fn has_descendant_named(pid: u32, name: &str) -> bool {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_owned();
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0);
        parent_of.push((p, ppid, comm));
    }
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for (p, ppid, comm) in &parent_of {
            if *ppid == parent {
                if comm == name {
                    return true;
                }
                parents.push(*p);
            }
        }
    }
    false
}

fn cgroup_dirs_named(prefix: &str) -> usize {
    fn walk(dir: &Path, depth: usize, prefix: &str) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| {
                if e.file_name().to_string_lossy().starts_with(prefix) {
                    1
                } else if depth > 0 {
                    walk(&e.path(), depth - 1, prefix)
                } else {
                    0
                }
            })
            .sum()
    }
    walk(Path::new("/sys/fs/cgroup"), 6, prefix)
}

/// A `scpool serve` on a free port, once it says it serves; its log's reader.
fn start_service() -> (
    std::process::Child,
    String,
    BufReader<std::process::ChildStderr>,
) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scpool"))
        .args(["serve", "--http-addr", &addr, "--parallelism", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("serving") {
        line.clear();
        assert!(
            log.read_line(&mut line).unwrap() > 0,
            "scpool serve ended early"
        );
    }
    (child, addr, log)
}

/// Sends a run of `script` and waits until its `sleep` runs under `pid`.
fn start_run(addr: &str, pid: u32, script: &str) -> TcpStream {
    let body = format!(
        r#"{{"cmd":[{{"args":["/bin/sh","-c","{script}"],"files":[{{"content":""}},{{"name":"stdout","max":100}},{{"name":"stderr","max":100}}]}}]}}"#
    );
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /run HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while !has_descendant_named(pid, "sleep") {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    stream
}

#[test]
fn sigterm_drains_the_run_in_flight_then_removes_everything() {
    let (mut child, addr, _log) = start_service();
    let pid = child.id();
    let mut stream = start_run(&addr, pid, "sleep 1; echo done");
    assert!(cgroup_dirs_named(&format!("scpool-{pid}-")) > 0);
    // SAFETY: kill has no memory arguments; `pid` is our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) }, 0);

    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""stdout":"done\n""#), "{reply}");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(cgroup_dirs_named(&format!("scpool-{pid}-")), 0);
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn after_sigkill_nothing_runs_on_and_the_next_start_sweeps_the_cgroups() {
    let (mut child, addr, _log) = start_service();
    let pid = child.id();
    let _stream = start_run(&addr, pid, "sleep 67.25");
    let prefix = format!("scpool-{pid}-");
    assert!(cgroup_dirs_named(&prefix) > 0);
    assert!(sleeping_program_left(), "the check below sees the run");
    child.kill().unwrap();
    child.wait().unwrap();
    // The inits die with the service (parent-death signal), their runs with them:
    // no `sleep 67.25` is left anywhere (the service's pid is gone, so look by name
    // among processes whose uid is not root: the programs' own ids).
    let deadline = Instant::now() + PATIENCE;
    while sleeping_program_left() {
        assert!(Instant::now() < deadline, "the run outlived the service");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The next service's start removes what the killed one could not.
    let (mut next, _, _log) = start_service();
    let deadline = Instant::now() + PATIENCE;
    while cgroup_dirs_named(&prefix) > 0 {
        assert!(Instant::now() < deadline, "stale cgroups {prefix}* stayed");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill has no memory arguments; `next` is our own child, not yet reaped.
    let sent = unsafe { libc::kill(next.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0);
    assert_eq!(next.wait().unwrap().code(), Some(0));
}

/// A `sleep 67.25` run by a non-root uid (the containers' programs) still alive.
fn sleeping_program_left() -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        let dir = e.path();
        let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let uid_not_root = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .is_some_and(|u| u != "0");
        cmdline == b"sleep\x0067.25\x00" && uid_not_root && !status.contains("State:\tZ")
    })
}
