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

#[test]
fn sigterm_drains_the_run_in_flight_then_removes_everything() {
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
    let pid = child.id();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("serving") {
        line.clear();
        assert!(
            log.read_line(&mut line).unwrap() > 0,
            "scpool serve ended early"
        );
    }

    let body = r#"{"cmd":[{"args":["/bin/sh","-c","sleep 1; echo done"],"files":[{"content":""},{"name":"stdout","max":100},{"name":"stderr","max":100}]}]}"#;
    let mut stream = TcpStream::connect(&addr).unwrap();
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
