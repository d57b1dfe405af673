//! Attacks on reuse isolation and on the per-run reaper of rootless runs: what a
//! program can do to PID 1 of its run, what it can leave behind in kernel objects
//! that outlive its processes, and what the next borrower of the same container
//! finds. Each case goes through a pool of one container (the second acquire
//! reuses the first's container), as root and in rootless mode.

mod common;

use common::*;
use scpool_core::{Limits, Pool, PoolConfig, PooledContainer, SeccompPolicy};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A run of `hostile_review ACTION` without any seccomp policy, so only the
/// kernel's own checks stand in the way.
fn unfiltered(c: &mut PooledContainer, action: &str) -> scpool_core::RunResult {
    run_guarded_with(
        c,
        "hostile_review",
        &[action],
        Limits::default(),
        SeccompPolicy::Disabled,
    )
}

fn pid_one_is_out_of_reach(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let r = unfiltered(&mut c, "reaper");
    assert_ok(&r);
    let out = lines(&r.stdout);
    for name in ["ptrace-attach", "ptrace-seize", "vm-read", "getfd"] {
        assert_eq!(field(&out, name), format!("err {}", libc::EPERM), "{out:?}");
    }
    assert_eq!(
        field(&out, "mem-open"),
        format!("err {}", libc::ENOENT),
        "{out:?}"
    );
    assert_eq!(field(&out, "still-here"), "ok", "{out:?}");
    assert!(!c.is_broken());
    let r = c.run(&run_param(["/bin/echo", "alive"])).unwrap();
    assert_ok(&r);
}

#[test]
fn a_program_cannot_ptrace_signal_or_read_pid_one() {
    pid_one_is_out_of_reach(false);
}

#[test]
fn a_rootless_program_cannot_ptrace_signal_or_read_its_reaper() {
    pid_one_is_out_of_reach(true);
}

fn nothing_stopped_or_traced_outlives_the_run(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let init = c.init_pid() as u32;
    let r = unfiltered(&mut c, "stragglers");
    assert_ok(&r);
    assert!(text(&r.stdout).starts_with("stragglers "), "{r:?}");
    let left = descendants_of(init);
    assert!(left.is_empty(), "left after the run: {left:?}");
    // The next run sees no process but its own (and PID 1 is hidden).
    let r = unfiltered(&mut c, "procs");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "pids 1\n");
}

#[test]
fn stopped_and_traced_processes_die_with_the_run() {
    nothing_stopped_or_traced_outlives_the_run(false);
}

#[test]
fn rootless_stopped_and_traced_processes_die_with_the_run() {
    nothing_stopped_or_traced_outlives_the_run(true);
}

fn persistent_keyring_is_emptied(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let first_init = c.init_pid();
    let r = unfiltered(&mut c, "persist-add");
    assert_ok(&r);
    let out = lines(&r.stdout);
    if field(&out, "persistent") != "ok" {
        // A kernel without persistent keyrings has nothing to keep.
        eprintln!("no persistent keyring: {out:?}");
        return;
    }
    assert_eq!(field(&out, "persist-add"), "ok", "{out:?}");
    let r = unfiltered(&mut c, "persist-find");
    assert_eq!(field(&lines(&r.stdout), "persist-find"), "ok", "{r:?}");
    drop(c);

    let mut c = pool.acquire().unwrap();
    assert_eq!(c.init_pid(), first_init, "the container was not reused");
    let r = unfiltered(&mut c, "persist-find");
    assert_ok(&r);
    assert_eq!(
        field(&lines(&r.stdout), "persist-find"),
        format!("err {}", libc::ENOKEY),
        "the next borrower found the previous one's key in the persistent keyring"
    );
}

#[test]
fn a_key_in_the_persistent_keyring_does_not_pass_to_the_next_borrower() {
    persistent_keyring_is_emptied(false);
}

#[test]
fn rootless_a_key_in_the_persistent_keyring_does_not_pass_to_the_next_borrower() {
    persistent_keyring_is_emptied(true);
}

fn subdirectory_marks_leave_no_trace(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let fresh = run_guarded(&mut c, "hostile_reuse", &["inspect"]);
    assert_ok(&fresh);
    drop(c);
    let mut c = pool.acquire().unwrap();
    let r = unfiltered(&mut c, "subdir-mark");
    assert_ok(&r);
    let out = lines(&r.stdout);
    // Setting the roots' times back needs to own them (/tmp is root's), and tmpfs
    // takes user xattrs only from 6.6 (EOPNOTSUPP before).
    let eopnotsupp = format!("err {}", libc::EOPNOTSUPP);
    let marked = out
        .iter()
        .filter(|l| !l.contains("times-back"))
        .filter(|l| !(l.contains("xattr") && l.ends_with(&eopnotsupp)));
    assert!(marked.clone().all(|l| l.ends_with(" ok")), "{out:?}");
    drop(c);
    let mut c = pool.acquire().unwrap();
    let after = run_guarded(&mut c, "hostile_reuse", &["inspect"]);
    assert_eq!(text(&after.stdout), text(&fresh.stdout), "{out:?}");
    let r = sh(&mut c, "ls -a /w /tmp | tr '\\n' ' '");
    assert_eq!(text(&r.stdout), "/tmp: . ..  /w: . .. ", "{r:?}");
}

#[test]
fn marks_in_a_removed_subdirectory_leave_no_trace() {
    subdirectory_marks_leave_no_trace(false);
}

#[test]
fn rootless_marks_in_a_removed_subdirectory_leave_no_trace() {
    subdirectory_marks_leave_no_trace(true);
}

/// inotify instances left in flight in a unix socket that holds itself are the
/// kernel's garbage to collect; the next borrower still gets its full quota.
fn in_flight_descriptors_do_not_hold_the_quota(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let r = unfiltered(&mut c, "inflight");
    assert_ok(&r);
    let out = lines(&r.stdout);
    let made: u32 = field(&out, "inflight").parse().unwrap();
    assert!(made > 0, "{out:?}");
    drop(c);
    let mut c = pool.acquire().unwrap();
    let r = run_guarded(&mut c, "hostile_reuse", &["inotify-one"]);
    if text(&r.stdout) != "inotify ok\n" {
        // How long the kernel took to free them, for the failure message.
        let started = std::time::Instant::now();
        let mut freed = None;
        while started.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let again = run_guarded(&mut c, "hostile_reuse", &["inotify-one"]);
            if text(&again.stdout) == "inotify ok\n" {
                freed = Some(started.elapsed());
                break;
            }
        }
        panic!(
            "the next borrower got {:?} after {out:?}; the quota came back after {freed:?}",
            text(&r.stdout)
        );
    }
}

#[test]
fn in_flight_inotify_instances_do_not_pass_to_the_next_borrower() {
    in_flight_descriptors_do_not_hold_the_quota(false);
}

#[test]
fn rootless_in_flight_inotify_instances_do_not_pass_to_the_next_borrower() {
    in_flight_descriptors_do_not_hold_the_quota(true);
}

fn the_process_limit_counts_the_program_only(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    // One process: the program itself.
    let mut param = run_param(["/bin/true"]);
    param.limits.processes = Some(1);
    let r = c.run(&param).unwrap();
    assert_ok(&r);
    // Two: a shell and the one child it forks.
    let mut param = run_param(["/bin/sh", "-c", "/bin/true && echo forked"]);
    param.limits.processes = Some(2);
    let r = c.run(&param).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "forked\n", "{r:?}");
}

#[test]
fn a_process_limit_of_n_lets_the_program_run_n_processes() {
    the_process_limit_counts_the_program_only(false);
}

#[test]
fn rootless_a_process_limit_of_n_lets_the_program_run_n_processes() {
    the_process_limit_counts_the_program_only(true);
}

/// A 64 MiB host file that is not in the page cache, so the container that reads it
/// is charged for its pages.
fn uncached_file() -> std::path::PathBuf {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let path = scratch_dir().join("review-uncached-64m");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![7u8; 1 << 20];
    for _ in 0..64 {
        file.write_all(&block).unwrap();
    }
    file.sync_all().unwrap();
    // SAFETY: advice on our own open descriptor.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0);
    path
}

/// Page cache an earlier borrower left charged to the container is subtracted from
/// the next run's peak as its "baseline"; when the next run needs that room, the
/// kernel reclaims the cache and the run's own memory hides behind it.
#[test]
fn the_previous_borrowers_page_cache_does_not_shrink_the_next_runs_memory_figure() {
    let data = uncached_file();
    let mut config = PoolConfig::with_size(1);
    config
        .container
        .mounts
        .push(scpool_core::Mount::new(data.clone(), "/data/big"));
    let pool = Pool::new(config).unwrap();
    let two_processes = |c: &mut PooledContainer| {
        let limits = set!(
            Limits::default(),
            memory = Some(128 << 20),
            wall_time = Some(std::time::Duration::from_secs(10))
        );
        let r = run_guarded_with(
            c,
            "hostile_review",
            &["touch2", "100"],
            limits,
            SeccompPolicy::Default,
        );
        assert_ok(&r);
        r.memory
    };
    let mut c = pool.acquire().unwrap();
    let fresh = two_processes(&mut c);
    drop(c);
    let mut c = pool.acquire().unwrap();
    let r = c.run(&run_param(["/bin/cat", "/data/big"])).unwrap();
    assert_ok(&r);
    drop(c);
    let mut c = pool.acquire().unwrap();
    let reused = two_processes(&mut c);
    std::fs::remove_file(data).unwrap();
    assert!(
        fresh >= 100 << 20 && reused >= fresh - fresh / 10,
        "100 MiB in two processes: {fresh} bytes fresh, {reused} after a borrower read 64 MiB"
    );
}
