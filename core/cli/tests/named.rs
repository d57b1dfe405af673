//! Named containers through the `scpool` binary: `run -d --name` leaves the
//! container with its supervisor after the CLI exits; `ps`, `exec`, `stop` and `rm`
//! find it by name; `rm` leaves no process, cgroup or file behind, even after the
//! supervisor was SIGKILLed. Each test keeps its state in a runtime directory of
//! its own (SCPOOL_RUNTIME_DIR), so tests run in parallel.

mod common;

use common::cgroup_dirs_named;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous: a loaded machine can take seconds to start a container.
const PATIENCE: Duration = Duration::from_secs(30);

struct Runtime {
    dir: PathBuf,
}

impl Runtime {
    fn new(test: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("named-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn scpool(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_scpool"))
            .args(args)
            .env("SCPOOL_RUNTIME_DIR", &self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("running scpool")
    }

    /// Runs scpool and expects exit status 0.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.scpool(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "scpool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `ps -a --json`, the entry named `name` (None when not listed).
    fn entry(&self, name: &str) -> Option<Value> {
        let out = self.ok(&["ps", "-a", "--json"]);
        let list: Vec<Value> = serde_json::from_str(&out).unwrap();
        list.into_iter().find(|e| e["name"] == name)
    }

    fn state_dir(&self, name: &str) -> PathBuf {
        self.dir.join("containers").join(name)
    }

    fn supervisor_pid(&self, name: &str) -> u32 {
        let text = std::fs::read_to_string(self.state_dir(name).join("state.json")).unwrap();
        let state: Value = serde_json::from_str(&text).unwrap();
        state["supervisor_pid"].as_u64().unwrap() as u32
    }

    /// Waits until the program's stdout log holds `text`.
    fn wait_log(&self, name: &str, text: &str) {
        let path = self.state_dir(name).join("stdout.log");
        let deadline = Instant::now() + PATIENCE;
        while std::fs::read_to_string(&path).unwrap_or_default() != text {
            assert!(Instant::now() < deadline, "{name} never wrote {text:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `ps` shows `name` in `state`.
    fn wait_state(&self, name: &str, state: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let entry = self.entry(name);
            if let Some(e) = &entry {
                if e["state"] == state {
                    return e.clone();
                }
            }
            assert!(Instant::now() < deadline, "{name} never {state}: {entry:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // A failed test may leave containers: remove them, then the directory.
        if let Ok(entries) = std::fs::read_dir(self.dir.join("containers")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let _ = self.scpool(&["rm", "-f", &name]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// (pid, start time) of `pid` and every process descended from it.
fn tree(pid: u32) -> Vec<(u32, u64)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((ppid, start)) = stat(p) {
            all.push((p, ppid, start));
        }
    }
    let mut found: Vec<(u32, u64)> = all
        .iter()
        .filter(|(p, _, _)| *p == pid)
        .map(|(p, _, s)| (*p, *s))
        .collect();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for (p, ppid, start) in &all {
            if *ppid == parent {
                parents.push(*p);
                found.push((*p, *start));
            }
        }
    }
    found
}

/// (parent pid, start time) of a live process (not a zombie).
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// The supervisor's tree once the program runs: supervisor, init, and the run's
/// processes.
fn running_tree(supervisor: u32) -> Vec<(u32, u64)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = tree(supervisor);
        if found.len() >= 3 {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "the program never started: {found:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_all_gone(processes: &[(u32, u64)]) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left: Vec<_> = processes
            .iter()
            .filter(|(p, start)| stat(*p).is_some_and(|(_, s)| s == *start))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "processes left: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_detached_container_runs_is_listed_stopped_with_its_signal_and_removed_without_a_trace() {
    let rt = Runtime::new("lifecycle");
    let id = rt.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--",
        "/bin/sh",
        "-c",
        "echo started; exec sleep 300",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 12, "{id:?}");
    let entry = rt.wait_state("web", "running");
    assert_eq!(entry["id"], id);
    assert_eq!(entry["command"][0], "/bin/sh");
    assert_eq!(entry["exit_status"], Value::Null);
    // Listed without -a while it runs, in the table too.
    let table = rt.ok(&["ps"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("web ") && l.contains(" running ")),
        "{table}"
    );

    // The program has started once its first line is in the log.
    rt.wait_log("web", "started\n");
    let supervisor = rt.supervisor_pid("web");
    let processes = running_tree(supervisor);
    let prefix = format!("scpool-{supervisor}-");
    assert!(
        !cgroup_dirs_named(&prefix).is_empty(),
        "no cgroup named {prefix}*"
    );

    // rm refuses a running container.
    let out = rt.scpool(&["rm", "web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is running"));

    // stop: SIGTERM ends the program (sleep has no handler): exited with 128+15.
    assert_eq!(rt.ok(&["stop", "-t", "5", "web"]), "web\n");
    let entry = rt.entry("web").unwrap();
    assert_eq!(entry["state"], "exited");
    assert_eq!(entry["status"], "SIGNALLED");
    assert_eq!(entry["signal"], 15);
    assert_eq!(entry["exit_status"], 143);
    assert!(rt.ok(&["ps"]).lines().all(|l| !l.starts_with("web ")));

    assert_eq!(rt.ok(&["rm", "web"]), "web\n");
    assert!(!rt.state_dir("web").exists());
    assert!(rt.entry("web").is_none());
    assert_all_gone(&processes);
    assert_eq!(cgroup_dirs_named(&prefix), Vec::<PathBuf>::new());
}

#[test]
fn exec_runs_in_the_container_with_the_callers_output_and_returns_its_status() {
    let rt = Runtime::new("exec");
    rt.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "--",
        "/bin/sh",
        "-c",
        "echo kept > /w/file",
    ]);
    let entry = rt.wait_state("box", "exited");
    assert_eq!(
        (entry["status"].as_str(), entry["exit_status"].as_u64()),
        (Some("OK"), Some(0))
    );
    // The container is still held: the program's file is there for exec.
    let out = rt.scpool(&[
        "exec",
        "box",
        "--",
        "/bin/sh",
        "-c",
        "cat /w/file; echo err >&2; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kept\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
    let out = rt.scpool(&[
        "exec",
        "--env",
        "X=1",
        "--cwd",
        "/tmp",
        "box",
        "--",
        "/bin/sh",
        "-c",
        "echo $X $(pwd)",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1 /tmp\n");
    // A signal is 128+N, as for `scpool run`.
    let out = rt.scpool(&["exec", "box", "--", "/bin/sh", "-c", "kill -9 $$"]);
    assert_eq!(out.status.code(), Some(137));
    // rm -f while an exec'd program runs ends it, and the exec reports the kill.
    let mut exec = Command::new(env!("CARGO_BIN_EXE_scpool"))
        .args([
            "exec",
            "box",
            "--",
            "/bin/sh",
            "-c",
            "echo up; exec sleep 300",
        ])
        .env("SCPOOL_RUNTIME_DIR", &rt.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = exec.stdout.take().unwrap();
    let mut line = [0u8; 3];
    std::io::Read::read_exact(&mut stdout, &mut line).unwrap();
    assert_eq!(&line, b"up\n");
    let supervisor = rt.supervisor_pid("box");
    let processes = tree(supervisor);
    rt.ok(&["rm", "-f", "box"]);
    assert!(!rt.state_dir("box").exists());
    assert_all_gone(&processes);
    // The killed program's status (137), or the supervisor ended before it could
    // say so (1): never success.
    let status = exec.wait().unwrap();
    assert!(matches!(status.code(), Some(137) | Some(1)), "{status}");
}

#[test]
fn exec_works_while_the_program_runs_and_each_ends_on_its_own() {
    let rt = Runtime::new("busy");
    rt.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "--",
        "/bin/sh",
        "-c",
        "echo $$ > /w/main.pid; echo started; while [ ! -e /w/go ]; do sleep 0.02; done; echo main-out > /w/main; exit 3",
    ]);
    rt.wait_log("busy", "started\n");
    // Beside the running program: its output, its status, and the program goes on.
    let out = rt.scpool(&[
        "exec",
        "busy",
        "--",
        "/bin/sh",
        "-c",
        "echo beside; echo warn >&2; exit 5",
    ]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "beside\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "warn\n");
    assert_eq!(rt.entry("busy").unwrap()["state"], "running");
    // It sees the program's processes (one PID namespace).
    let out = rt.ok(&[
        "exec",
        "busy",
        "--",
        "/bin/sh",
        "-c",
        "cat /proc/$(cat /w/main.pid)/cmdline",
    ]);
    assert!(
        out.contains("/w/go"),
        "the program's shell, seen by its pid: {out:?}"
    );
    // A long exec while the program ends on its own: the program's status is its
    // own, and the exec, started while it ran, ends with it.
    let mut long = Command::new(env!("CARGO_BIN_EXE_scpool"))
        .args([
            "exec",
            "busy",
            "--",
            "/bin/sh",
            "-c",
            "echo up; exec sleep 300",
        ])
        .env("SCPOOL_RUNTIME_DIR", &rt.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = long.stdout.take().unwrap();
    let mut line = [0u8; 3];
    std::io::Read::read_exact(&mut stdout, &mut line).unwrap();
    assert_eq!(&line, b"up\n");
    rt.ok(&["exec", "busy", "--", "/bin/touch", "/w/go"]);
    let entry = rt.wait_state("busy", "exited");
    assert_eq!(
        (entry["status"].as_str(), entry["exit_status"].as_u64()),
        (Some("NONZERO_EXIT"), Some(3))
    );
    let status = long.wait().unwrap();
    assert_eq!(status.code(), Some(137), "{status}");
    // After it, exec still works, and sees what the program left.
    let out = rt.ok(&["exec", "busy", "--", "/bin/cat", "/w/main"]);
    assert_eq!(out, "main-out\n");
    rt.ok(&["rm", "busy"]);
    assert!(!rt.state_dir("busy").exists());
}

#[test]
fn stop_ends_exec_d_programs_with_the_container_s_own() {
    let rt = Runtime::new("stopexec");
    rt.ok(&[
        "run",
        "-d",
        "--name",
        "both",
        "--",
        "/bin/sh",
        "-c",
        "echo started; exec sleep 300",
    ]);
    rt.wait_log("both", "started\n");
    let mut exec = Command::new(env!("CARGO_BIN_EXE_scpool"))
        .args([
            "exec",
            "both",
            "--",
            "/bin/sh",
            "-c",
            "echo up; exec sleep 300",
        ])
        .env("SCPOOL_RUNTIME_DIR", &rt.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = exec.stdout.take().unwrap();
    let mut line = [0u8; 3];
    std::io::Read::read_exact(&mut stdout, &mut line).unwrap();
    assert_eq!(&line, b"up\n");
    rt.ok(&["stop", "-t", "5", "both"]);
    // SIGTERM ended both (sleep does not catch it): 128+15. The end of the run
    // kills what runs beside it, so on a busy machine the exec'd program may be
    // killed (128+9) before it took its SIGTERM; either way it ended with the stop.
    let beside = exec.wait().unwrap().code();
    assert!(matches!(beside, Some(143 | 137)), "{beside:?}");
    let entry = rt.wait_state("both", "exited");
    assert_eq!(entry["exit_status"].as_u64(), Some(143));
    rt.ok(&["rm", "both"]);
}

#[test]
fn a_name_in_use_and_unknown_names_are_clear_errors() {
    let rt = Runtime::new("names");
    rt.ok(&["run", "-d", "--name", "one", "--", "/bin/true"]);
    let out = rt.scpool(&["run", "-d", "--name", "one", "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in use"));
    for args in [
        &["exec", "nope", "--", "/bin/true"][..],
        &["stop", "nope"][..],
        &["rm", "nope"][..],
    ] {
        let out = rt.scpool(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no such container: nope"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = rt.scpool(&["run", "-d", "--name", "../x", "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(2));
    // -d without --name is a usage error.
    assert_eq!(
        rt.scpool(&["run", "-d", "--", "/bin/true"]).status.code(),
        Some(2)
    );
    // A container whose set-up fails frees its name.
    let out = rt.scpool(&[
        "run",
        "-d",
        "--name",
        "bad",
        "--image-layers",
        "/no/such/layer",
        "--",
        "/bin/true",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!rt.state_dir("bad").exists());
    rt.wait_state("one", "exited");
    rt.ok(&["rm", "one"]);
}

#[test]
fn a_killed_supervisor_shows_as_exited_and_rm_cleans_up_after_it() {
    let rt = Runtime::new("killed");
    rt.ok(&["run", "-d", "--name", "victim", "--", "/bin/sleep", "300"]);
    rt.wait_state("victim", "running");
    let supervisor = rt.supervisor_pid("victim");
    let processes = running_tree(supervisor);
    let prefix = format!("scpool-{supervisor}-");
    assert!(!cgroup_dirs_named(&prefix).is_empty());
    // SAFETY: kill has no memory arguments; the pid is the supervisor we started.
    assert_eq!(unsafe { libc::kill(supervisor as i32, libc::SIGKILL) }, 0);
    let entry = rt.wait_state("victim", "exited");
    assert_eq!(entry["exit_status"], Value::Null, "{entry}");
    let out = rt.scpool(&["exec", "victim", "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(1));
    // The init died with its supervisor and took the program along.
    assert_all_gone(&processes);
    rt.ok(&["rm", "victim"]);
    assert!(!rt.state_dir("victim").exists());
    assert_eq!(cgroup_dirs_named(&prefix), Vec::<PathBuf>::new());
}

#[test]
fn a_named_container_on_image_layers_keeps_its_writes_for_exec() {
    let rt = Runtime::new("image");
    let layer = rt.dir.join("layer");
    std::fs::create_dir_all(layer.join("bin")).unwrap();
    std::fs::create_dir_all(layer.join("etc")).unwrap();
    std::fs::copy("/bin/busybox", layer.join("bin/busybox"))
        .expect("/bin/busybox (busybox-static)");
    for applet in ["sh", "cat", "ls"] {
        std::os::unix::fs::symlink("busybox", layer.join("bin").join(applet)).unwrap();
    }
    std::fs::write(layer.join("etc/motd"), "from the image\n").unwrap();
    let layer_arg = layer.to_str().unwrap();
    rt.ok(&[
        "run",
        "-d",
        "--name",
        "img",
        "--image-layers",
        layer_arg,
        "--root-size",
        "1M",
        "--",
        "/bin/sh",
        "-c",
        "cat /etc/motd > /w/seen; ls /usr 2>/dev/null || echo no-usr >> /w/seen",
    ]);
    let entry = rt.wait_state("img", "exited");
    assert_eq!(entry["exit_status"], 0, "{entry}");
    assert_eq!(entry["image_layers"][0], layer_arg);
    let table = rt.ok(&["ps", "-a"]);
    assert!(table.contains(layer_arg), "{table}");
    // Only the image is there (no host /usr), and what the program wrote stays.
    let out = rt.scpool(&["exec", "img", "--", "/bin/cat", "/w/seen"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "from the image\nno-usr\n"
    );
    rt.ok(&["rm", "img"]);
    assert!(!rt.state_dir("img").exists());
    assert_eq!(
        std::fs::read_to_string(layer.join("etc/motd")).unwrap(),
        "from the image\n"
    );
}

#[test]
fn stop_kills_a_program_that_ignores_sigterm_after_the_grace_period() {
    let rt = Runtime::new("stubborn");
    rt.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "--",
        "/bin/sh",
        "-c",
        "trap '' TERM; echo ready; while :; do sleep 1; done",
    ]);
    rt.wait_log("stubborn", "ready\n");
    rt.ok(&["stop", "-t", "1", "stubborn"]);
    let entry = rt.entry("stubborn").unwrap();
    assert_eq!(
        (entry["signal"].as_i64(), entry["exit_status"].as_u64()),
        (Some(9), Some(137)),
        "{entry}"
    );
    rt.ok(&["rm", "stubborn"]);
}

#[test]
fn of_two_runs_racing_for_one_name_exactly_one_gets_it() {
    let rt = Runtime::new("race");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_scpool"))
            .args(["run", "-d", "--name", "contested", "--", "/bin/true"])
            .env("SCPOOL_RUNTIME_DIR", &rt.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|_| spawn()).collect();
    let codes: Vec<Option<i32>> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == Some(1)).count(),
        3,
        "{codes:?}"
    );
    rt.wait_state("contested", "exited");
    rt.ok(&["rm", "contested"]);
}
