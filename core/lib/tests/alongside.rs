//! Programs started in a live container beside its run (`Container::exec_handle`,
//! `ExecHandle::spawn`): who they run as, what they see, what holds them, and that
//! nothing in the container can reach the helper that enters it.
//!
//! Must run as root (CI does). Each test runs in root mode and rootless (a user
//! namespace).

mod common;

use common::*;
use scpool_core::{
    memfd_copy_of, Alongside, Container, ContainerConfig, Error, ExecHandle, ExecveParam, Limits,
    RunParam, RunResult, SeccompPolicy, Status,
};
use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

const MODES: [bool; 2] = [false, true];

static SUITE: RwLock<()> = RwLock::new(());

/// For tests that do not count this process's descriptors and children.
fn shared() -> RwLockReadGuard<'static, ()> {
    SUITE.read().unwrap_or_else(PoisonError::into_inner)
}

/// For the test that counts them: no other test of this binary runs meanwhile.
fn exclusive() -> RwLockWriteGuard<'static, ()> {
    SUITE.write().unwrap_or_else(PoisonError::into_inner)
}

fn container_in(user_namespace: bool) -> Container {
    let config = set!(ContainerConfig::default(), user_namespace = user_namespace);
    let c = Container::new(&config).expect("creating a container");
    assert_expected_accounting(&c);
    c
}

/// A program beside the container's run, its output captured.
struct Beside {
    program: Alongside,
    stdout: File,
    stderr: File,
}

impl Beside {
    fn wait(mut self) -> (RunResult, String, String) {
        let r = self.program.wait().expect("waiting for the program");
        (
            r,
            String::from_utf8_lossy(&read_all(&mut self.stdout)).into_owned(),
            String::from_utf8_lossy(&read_all(&mut self.stderr)).into_owned(),
        )
    }
}

fn spawn_with(
    handle: &ExecHandle,
    args: &[&str],
    adjust: impl FnOnce(&mut ExecveParam<'_>),
) -> Beside {
    let stdin = memfd_with("in", b"");
    let stdout = memfd_with("out", b"");
    let stderr = memfd_with("err", b"");
    let mut param = ExecveParam::new(args.iter().copied());
    param.env = vec![PATH_ENV.into()];
    param.files = vec![stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    param.limits = set!(Limits::default(), wall_time = Some(SAFETY_WALL_TIME));
    adjust(&mut param);
    let program = handle
        .spawn(&param)
        .unwrap_or_else(|e| panic!("spawning {args:?}: {e}"));
    Beside {
        program,
        stdout,
        stderr,
    }
}

fn spawn(handle: &ExecHandle, args: &[&str]) -> Beside {
    spawn_with(handle, args, |_| {})
}

/// A guarded shell script beside the run; its result, stdout and stderr.
fn sh_beside(handle: &ExecHandle, script: &str) -> (RunResult, String, String) {
    let guarded = format!("{}{script}", sh_guard());
    let done = spawn(handle, &["/bin/sh", "-c", &guarded]).wait();
    assert_ne!(done.0.exit_code, Some(GUARD_REFUSED), "{done:?}");
    done
}

/// The result of a program beside a run whose last act ends that run: the end of a
/// run kills what runs beside it, so on a slow machine it may be killed before it
/// exits; or it ended first.
#[track_caller]
fn assert_ended_or_killed_by_the_run_it_ended(r: &RunResult) {
    let killed = r.status == Status::Signalled && r.signal == Some(libc::SIGKILL);
    assert!(
        killed || (r.status, r.exit_code) == (Status::Ok, Some(0)),
        "{r:?}"
    );
}

/// A file of the container's /w, read from the host through the init's root.
fn w_file(c: &Container, name: &str) -> PathBuf {
    Path::new(&format!("/proc/{}/root/w", c.init_pid())).join(name)
}

/// Waits (bounded by the safety wall time) until `path` exists.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + SAFETY_WALL_TIME;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The container's run: writes its pid to /w/main.pid, waits for /w/done.
fn main_run() -> RunParam {
    let script = format!(
        "{}readlink /proc/self/ns/pid > /w/main.ns; echo $$ > /w/main.pid; while [ ! -e /w/done ]; do sleep 0.02; done; echo main-done",
        sh_guard()
    );
    run_param(["/bin/sh", "-c", &script])
}

fn status_line(pid: i32, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading status");
    status_field(&status, key)
        .unwrap_or_else(|| panic!("no {key} in the status of {pid}"))
        .to_string()
}

fn ns(pid: i32, which: &str) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/{which}")).expect("reading a namespace link")
}

#[test]
fn a_program_beside_the_run_runs_as_the_run_does_in_the_container() {
    let _shared = shared();
    for userns in MODES {
        let mut c = container_in(userns);
        let handle = c.exec_handle().unwrap();
        let init = c.init_pid();
        let (uid, gid) = c.program_ids();
        let has_cgroup = c.cgroup_version().is_some();
        let main_pid = w_file(&c, "main.pid");
        let main_ns = w_file(&c, "main.ns");
        std::thread::scope(|s| {
            let main = s.spawn(|| c.run(&main_run()).expect("the container's run"));
            wait_for(&main_pid);

            // Seen from the host while it runs.
            let sleeper = spawn(&handle, &["/bin/sleep", "30"]);
            let pid = sleeper.program.pid();
            for key in ["Uid", "Gid"] {
                let want = if key == "Uid" { uid } else { gid };
                let ids: Vec<u32> = status_line(pid, key)
                    .split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect();
                assert_eq!(ids, vec![want; 4], "{key} (userns {userns})");
            }
            for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                assert_eq!(status_line(pid, key), "0000000000000000", "{key}");
            }
            assert_eq!(status_line(pid, "NoNewPrivs"), "1");
            // Nothing of the host's signal state: none ignored, none blocked.
            for key in ["SigIgn", "SigBlk"] {
                assert_eq!(status_line(pid, key), "0000000000000000", "{key}");
            }
            assert_eq!(status_line(pid, "Seccomp"), "2");
            if has_cgroup {
                let cgroup = |p: i32| std::fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap();
                assert_eq!(
                    cgroup(pid),
                    cgroup(init),
                    "the program is in the init's cgroups"
                );
            }
            for which in ["net", "ipc", "uts", "cgroup", "user"] {
                assert_eq!(ns(pid, which), ns(init, which), "{which} namespace");
            }
            let me = std::process::id() as i32;
            if userns {
                // A PID namespace (and a /proc) of its own, nested in the container's.
                assert_ne!(ns(pid, "pid"), ns(init, "pid"));
                assert_ne!(ns(pid, "pid"), ns(me, "pid"));
                assert_ne!(ns(pid, "mnt"), ns(me, "mnt"));
                let nspid = status_line(pid, "NSpid");
                assert_eq!(nspid.split_whitespace().count(), 3, "NSpid {nspid}");
                // Its PID 1 is the namespace's reaper, as in a rootless run.
                assert_eq!(nspid.split_whitespace().last(), Some("2"), "NSpid {nspid}");
            } else {
                assert_eq!(ns(pid, "pid"), ns(init, "pid"));
                assert_eq!(ns(pid, "mnt"), ns(init, "mnt"));
            }

            // Seen from inside: the run's files and processes, none of the host's.
            let (r, out, err) = sh_beside(
                &handle,
                "pwd; cat /w/main.pid; readlink /proc/self/ns/pid; for p in /proc/[0-9]*; do echo \"${p#/proc/} $(cat $p/comm)\"; done",
            );
            assert_ok(&r);
            let mut lines = out.lines();
            assert_eq!(lines.next(), Some("/w"), "{out}{err}");
            let main_in_ns = lines.next().expect("the run's pid").to_string();
            let ns_in = lines.next().expect("its PID namespace").to_string();
            let procs: Vec<(String, String)> = lines
                .map(|l| {
                    let (p, comm) = l.split_once(' ').expect("pid comm");
                    (p.to_string(), comm.to_string())
                })
                .collect();
            for (_, comm) in &procs {
                // Empty: a process that ended while the loop read it.
                assert!(
                    ["sh", "sleep", "cat", ""].contains(&comm.as_str()),
                    "a process that is not the container's: {comm} in {procs:?}"
                );
            }
            if userns {
                // Each has a PID namespace of its own: pids alike mean nothing.
                let main_ns = std::fs::read_to_string(&main_ns).unwrap();
                assert_ne!(main_ns.trim(), ns_in, "{out}");
                assert!(procs.len() <= 2, "only itself and its cat: {procs:?}");
            } else {
                let sees_main = procs.iter().any(|(p, _)| *p == main_in_ns);
                assert!(sees_main, "the run's shell {main_in_ns} in {procs:?}");
            }

            // The program beside ends on its own; the run goes on, then ends itself,
            // taking what is still beside it.
            let (r, _, _) = sh_beside(&handle, "touch /w/done");
            assert_ended_or_killed_by_the_run_it_ended(&r);
            let run = main.join().unwrap();
            assert_ok(&run);
            assert_eq!(run.stdout, b"main-done\n");
            let (r, _, _) = sleeper.wait();
            assert_eq!(
                (r.status, r.signal),
                (Status::Signalled, Some(libc::SIGKILL))
            );
        });
    }
}

#[test]
fn an_exec_failure_is_reported_as_a_run_reports_it() {
    let _shared = shared();
    for userns in MODES {
        let mut c = container_in(userns);
        let handle = c.exec_handle().unwrap();
        let cases: [(&[&str], &str, &str); 2] = [
            (&["/no/such/program"], "/w", "executing the program"),
            (
                &["/bin/true"],
                "/no/such/dir",
                "changing to the working directory",
            ),
        ];
        for (args, cwd, stage) in cases {
            let (beside, _, _) = spawn_with(&handle, args, |p| p.cwd = cwd.into()).wait();
            assert_eq!(beside.status, Status::RunnerError, "{beside:?}");
            assert!(beside.message.contains(stage), "{}", beside.message);
            let mut param = ExecveParam::new(args.iter().copied());
            param.cwd = cwd.into();
            let run = c.execve(&param).unwrap();
            assert_eq!(run.status, Status::RunnerError);
            assert_eq!(beside.message, run.message, "userns {userns}");
        }
        // Bad input is refused before anything starts.
        let empty = ExecveParam::new(Vec::<String>::new());
        assert!(matches!(
            handle.spawn(&empty),
            Err(Error::InvalidArgument(_))
        ));
        let mut relative = ExecveParam::new(["/bin/true"]);
        relative.cwd = "w".into();
        assert!(matches!(
            handle.spawn(&relative),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn the_request_limits_hold_the_program() {
    let _shared = shared();
    for userns in MODES {
        let c = container_in(userns);
        let handle = c.exec_handle().unwrap();
        let (r, out, _) = spawn_with(&handle, &["/bin/sh", "-c", "ulimit -n; ulimit -c"], |p| {
            p.limits.open_files = Some(77);
        })
        .wait();
        assert_ok(&r);
        assert_eq!(out, "77\n0\n");
        let (r, _, _) = spawn_with(
            &handle,
            &["/usr/bin/head", "-c", "100000", "/dev/zero"],
            |p| {
                p.limits.output = Some(1000);
            },
        )
        .wait();
        assert_eq!(r.status, Status::OutputLimitExceeded, "{r:?}");
        let (r, _, _) = spawn_with(&handle, &["/bin/sleep", "30"], |p| {
            p.limits.wall_time = Some(Duration::from_millis(200));
        })
        .wait();
        assert_eq!(r.status, Status::WallTimeLimitExceeded, "{r:?}");
        // The request's policy, not a fixed one.
        for (policy, mode) in [
            (SeccompPolicy::Default, "2"),
            (SeccompPolicy::Disabled, "0"),
        ] {
            let (r, out, _) = spawn_with(
                &handle,
                &["/bin/grep", "^Seccomp:", "/proc/self/status"],
                |p| {
                    p.seccomp = policy;
                },
            )
            .wait();
            assert_ok(&r);
            assert_eq!(out.split_whitespace().nth(1), Some(mode), "{out}");
        }
    }
}

#[test]
fn reset_and_destroy_end_programs_beside_and_a_gone_container_is_an_error() {
    let _shared = shared();
    for userns in MODES {
        let mut c = container_in(userns);
        let handle = c.exec_handle().unwrap();
        let sleeper = spawn(&handle, &["/bin/sh", "-c", "sleep 30 & sleep 30"]);
        c.reset().unwrap();
        let (r, _, _) = sleeper.wait();
        assert_eq!(
            (r.status, r.signal),
            (Status::Signalled, Some(libc::SIGKILL))
        );
        // A handle of the loan before the reset starts nothing: in a pool the
        // container is someone else's now.
        let stale = handle.spawn(&ExecveParam::new(["/bin/true"])).unwrap_err();
        assert!(matches!(stale, Error::InvalidArgument(_)), "{stale}");
        let handle = c.exec_handle().unwrap();
        let sleeper = spawn(&handle, &["/bin/sleep", "30"]);
        drop(c);
        let (r, _, _) = sleeper.wait();
        assert_eq!(
            (r.status, r.signal),
            (Status::Signalled, Some(libc::SIGKILL))
        );
        let err = handle.spawn(&ExecveParam::new(["/bin/true"])).unwrap_err();
        assert!(err.is_container_broken(), "{err}");
    }
}

fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|e| {
            format!(
                "{:?} {:?}",
                e.file_name(),
                std::fs::read_link(e.path()).ok()
            )
        })
        .collect();
    fds.sort();
    fds
}

fn children() -> String {
    let mut all = String::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        all += &std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
    }
    all
}

#[test]
fn kill_and_drop_end_the_program_with_its_children_and_nothing_is_left() {
    let _alone = exclusive();
    for userns in MODES {
        // A pool's container: no spare init is started behind the count's back.
        let pool = pool_of_one(userns);
        let c = pool.acquire().unwrap();
        let handle = c.exec_handle().unwrap();
        let fds = open_fds();
        let kids = children();
        for _ in 0..5 {
            let (r, _, _) = spawn(&handle, &["/bin/true"]).wait();
            assert_ok(&r);
            let (r, _, _) = spawn(&handle, &["/no/such"]).wait();
            assert_eq!(r.status, Status::RunnerError);
        }
        let mut tree = spawn(&handle, &["/bin/sh", "-c", "sleep 30 & sleep 30 & wait"]);
        let shell = tree.program.pid();
        tree.program.kill().unwrap();
        let r = tree.program.wait().unwrap();
        assert_eq!(r.signal, Some(libc::SIGKILL));
        drop(spawn(&handle, &["/bin/sleep", "30"]));
        // The shell's children were killed with it: nothing of it is left in the
        // container (the init reaps orphans; give it a moment).
        let deadline = Instant::now() + SAFETY_WALL_TIME;
        while descendants_of(c.init_pid() as u32)
            .iter()
            // Killed, they wait as zombies for the init's next reaping (a run or
            // a reset).
            .any(|(_, name)| name.contains("sleep") && !name.contains("zombie"))
        {
            assert!(
                Instant::now() < deadline,
                "the shell {shell}'s children survived it"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(tree);
        assert_eq!(open_fds(), fds, "descriptors leaked (userns {userns})");
        assert_eq!(children(), kids, "processes left (userns {userns})");
    }
}

#[test]
fn nothing_in_the_container_can_reach_the_helper_that_enters_it() {
    let _shared = shared();
    let hostile = memfd_copy_of(prog("hostile_enter")).unwrap();
    for userns in MODES {
        let mut c = container_in(userns);
        let handle = c.exec_handle().unwrap();
        let seen = w_file(&c, "seen");
        let stop = w_file(&c, "stop");
        let [pid_ns, mnt_ns] = host_ns();
        std::thread::scope(|s| {
            let main = s.spawn(|| {
                let stdout = memfd_with("out", b"");
                let mut param = ExecveParam::new([
                    "hostile_enter",
                    &pid_ns,
                    &mnt_ns,
                    "/bin/sleep",
                    "/w/stop",
                    "/w/seen",
                ]);
                param.files = vec![stdout.as_fd(), stdout.as_fd(), stdout.as_fd()];
                param.exec_file = Some(hostile.as_fd());
                param.seccomp = SeccompPolicy::Disabled;
                param.limits.wall_time = Some(SAFETY_WALL_TIME);
                let r = c.execve(&param).expect("the hostile run");
                let mut stdout = stdout;
                (
                    r,
                    String::from_utf8_lossy(&read_all(&mut stdout)).into_owned(),
                )
            });
            // Entries that never exec (the helper fails at its last step), and
            // entries that do.
            for i in 0..60 {
                let args: &[&str] = if i % 2 == 0 {
                    &["/no/such/program"]
                } else {
                    &["/bin/sleep", "0.01"]
                };
                spawn(&handle, args).wait();
            }
            if !userns {
                // A program it can legitimately reach, to show it was watching.
                let count = || {
                    std::fs::read_to_string(&seen)
                        .ok()
                        .and_then(|n| n.trim().parse::<u32>().ok())
                        .unwrap_or(0)
                };
                let before = count();
                let sleeper = spawn(&handle, &["/bin/sleep", "30"]);
                let deadline = Instant::now() + SAFETY_WALL_TIME;
                while count() == before {
                    assert!(Instant::now() < deadline, "it never reached the sleeper");
                    std::thread::sleep(Duration::from_millis(10));
                }
                drop(sleeper);
            }
            // Written from the host where it can see a shell beside it (one more
            // process for it to reach); rootless the host's root cannot create a
            // file there (it is not mapped), and it sees nothing beside it anyway.
            match userns {
                false => std::fs::write(&stop, b"").unwrap(),
                true => {
                    let (r, ..) = sh_beside(&handle, "touch /w/stop");
                    assert_ended_or_killed_by_the_run_it_ended(&r);
                }
            }
            let (r, out) = main.join().unwrap();
            assert!(r.status == Status::Ok, "userns {userns}: {r:?}: {out}");
            let last = out.lines().last().unwrap_or_default().to_string();
            assert!(out.lines().all(|l| !l.starts_with("breach")), "{out}");
            assert!(last.ends_with("breaches=0"), "{out}");
            if userns {
                // Its PID namespace shows nothing of the entries at all.
                assert_eq!(last, "seen=0 breaches=0");
            } else {
                assert_ne!(last, "seen=0 breaches=0", "{out}");
            }
        });
    }
}

#[test]
fn the_helper_holds_none_of_the_hosts_descriptors_while_the_program_runs() {
    let _shared = shared();
    for userns in MODES {
        let c = container_in(userns);
        let handle = c.exec_handle().unwrap();
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        // No wall-time limit: it outlives the wait below unless killed.
        let beside = spawn_with(&handle, &["/bin/sleep", "1000"], |p| {
            p.limits.wall_time = None
        });
        drop(write);
        // Only the helper (or the program) could still hold the write end: the
        // read must see its end long before the program's.
        let mut file = File::from(read);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut byte = [0u8; 1];
            let _ = tx.send(std::io::Read::read(&mut file, &mut byte).map_err(|e| e.kind()));
        });
        let got = rx.recv_timeout(SAFETY_WALL_TIME / 3);
        assert_eq!(
            got,
            Ok(Ok(0)),
            "the pipe's write end is still held (userns {userns})"
        );
        drop(beside);
    }
}

#[test]
fn spawns_from_a_busy_multithreaded_host_never_hang() {
    let _shared = shared();
    for userns in MODES {
        let c = container_in(userns);
        let handle = std::sync::Arc::new(c.exec_handle().unwrap());
        // Threads starting and ending all the while: glibc takes its thread-list
        // and stack-cache locks then, and a fork that copied them taken must not
        // touch them (as glibc's set*id wrappers would).
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::spawn(|| std::hint::black_box(0))
                        .join()
                        .unwrap();
                }
            })
        };
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let (handle, tx) = (handle.clone(), tx.clone());
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let (r, out, _) = spawn(&handle, &["/bin/echo", "ok"]).wait();
                    let _ = tx.send((r.status, out));
                }
            });
        }
        for _ in 0..40 {
            let got = rx.recv_timeout(SAFETY_WALL_TIME);
            assert_eq!(got, Ok((Status::Ok, "ok\n".to_string())), "userns {userns}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churn.join().unwrap();
    }
}
