//! A reused container is as clean as a fresh one: what one borrower does to the
//! container (its init, /w and /tmp, per-user kernel quotas, keyrings, limits)
//! never reaches the next. Each case goes through a pool of one container, so the
//! second acquire reuses the first's container, as root and in rootless mode (a user
//! namespace, where the program shares the init's uid).

mod common;

use common::*;
use scpool_core::{defaults, ContainerConfig, IdRange, Limits, SeccompPolicy, Status};
use std::time::Duration;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_still_works(c: &mut scpool_core::Container) {
    let r = c.run(&run_param(["/bin/echo", "alive"])).expect("a run");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "alive\n");
}

fn init_cannot_be_reached(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let first_init = c.init_pid();
    let r = run_guarded_with(
        &mut c,
        "hostile_reuse",
        &["init"],
        Limits::default(),
        SeccompPolicy::Disabled,
    );
    assert_ok(&r);
    let out = lines(&r.stdout);
    // /proc/1 is invisible (hidepid=2, and the init is not dumpable) in every mode.
    for name in [
        "oom-score-adj",
        "coredump-filter",
        "clear-refs",
        "list-fds",
        "environ",
    ] {
        assert_eq!(
            field(&out, name),
            format!("err {}", libc::ENOENT),
            "{name}: {out:?}"
        );
    }
    let changed: Vec<&String> = out.iter().filter(|l| l.ends_with(" ok")).collect();
    if user_namespace {
        // The runner shares the init's uid, so calls by pid are allowed: but in the
        // run's own PID namespace, pid 1 is a reaper that lives for this run only.
        // The init itself is untouched and the container stays in service.
        assert!(
            changed.iter().all(|l| l.starts_with("prlimit")
                || l.starts_with("nice")
                || l.starts_with("affinity")
                || l.starts_with("scheduler")),
            "{out:?}"
        );
    } else {
        assert!(changed.is_empty(), "the program changed the init: {out:?}");
    }
    assert!(!c.is_broken(), "the init was changed: {out:?}");
    drop(c);

    // The next borrower gets the same container, with the known limits, and writes
    // freely.
    let mut c = pool.acquire().unwrap();
    assert_eq!(c.init_pid(), first_init, "the container was not reused");
    let r = run_guarded(&mut c, "hostile_reuse", &["limits"]);
    assert_ok(&r);
    let out = lines(&r.stdout);
    assert_eq!(field(&out, "nofile"), "1024 1024", "{out:?}");
    assert_eq!(field(&out, "fsize"), "-1 -1", "{out:?}");
    assert_eq!(field(&out, "core"), "0 0", "{out:?}");
    let r = sh(&mut c, "head -c 100 /dev/zero > /w/f && wc -c < /w/f");
    assert_ok(&r);
    assert_eq!(text(&r.stdout).trim(), "100");
}

#[test]
fn a_program_cannot_see_or_change_the_init() {
    init_cannot_be_reached(false);
}

#[test]
fn a_rootless_program_cannot_see_or_change_the_init() {
    init_cannot_be_reached(true);
}

fn reset_leaves_no_trace(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let fresh = run_guarded(&mut c, "hostile_reuse", &["inspect"]);
    assert_ok(&fresh);
    let r = run_guarded(&mut c, "hostile_reuse", &["mark"]);
    assert_ok(&r);
    let marks = lines(&r.stdout);
    assert!(
        marks.iter().any(|l| l.ends_with(" ok")),
        "no trace could be left, the test proves nothing: {marks:?}"
    );
    let marked = run_guarded(&mut c, "hostile_reuse", &["inspect"]);
    assert_ne!(
        marked.stdout, fresh.stdout,
        "the marks did not show: {marks:?}"
    );
    let first_init = c.init_pid();
    drop(c);

    let mut c = pool.acquire().unwrap();
    assert_eq!(c.init_pid(), first_init, "the container was not reused");
    let after = run_guarded(&mut c, "hostile_reuse", &["inspect"]);
    assert_ok(&after);
    assert_eq!(
        text(&after.stdout),
        text(&fresh.stdout),
        "/w and /tmp after reset differ from a fresh container's (marks: {marks:?})"
    );
    // A user the ACL would deny can still write: the program itself.
    let r = sh(
        &mut c,
        "echo x > /w/y && echo x > /tmp/y && cat /w/y /tmp/y",
    );
    assert_ok(&r);
}

#[test]
fn reset_leaves_no_acl_xattr_or_timestamp_in_w_and_tmp() {
    reset_leaves_no_trace(false);
}

#[test]
fn rootless_reset_leaves_no_acl_xattr_or_timestamp_in_w_and_tmp() {
    reset_leaves_no_trace(true);
}

#[test]
fn every_container_has_ids_of_its_own() {
    let a = container();
    let b = container();
    let range = IdRange::DEFAULT.first..IdRange::DEFAULT.first + IdRange::DEFAULT.count;
    for c in [&a, &b] {
        let (uid, gid) = c.program_ids();
        assert!(range.contains(&uid) && uid == gid, "{uid} {gid}");
    }
    assert_ne!(a.program_ids(), b.program_ids());

    // A range of one id serves one container at a time, with a clear error.
    let one = set!(
        ContainerConfig::default(),
        id_range = IdRange {
            first: IdRange::DEFAULT.first + IdRange::DEFAULT.count,
            count: 1,
        }
    );
    let first = scpool_core::Container::new(&one).unwrap();
    match scpool_core::Container::new(&one) {
        Err(scpool_core::Error::Setup(message)) => {
            assert!(message.contains("id_range"), "{message}")
        }
        other => panic!("a second container in a range of one: {:?}", other.err()),
    }
    drop(first);
    scpool_core::Container::new(&one).expect("the id is free again");
}

#[test]
fn one_container_cannot_exhaust_a_per_user_quota_for_another() {
    let mut hog = container();
    let holder = std::thread::spawn(move || {
        let r = run_guarded(&mut hog, "hostile_reuse", &["inotify-hold"]);
        (r, hog)
    });
    // The hog takes every inotify instance its uid may have within a few
    // milliseconds and holds them for 3 seconds.
    std::thread::sleep(Duration::from_millis(1000));
    let mut other = container();
    let r = run_guarded(&mut other, "hostile_reuse", &["inotify-one"]);
    assert_ok(&r);
    let (hog_result, _hog) = holder.join().unwrap();
    assert_ok(&hog_result);
    let held = text(&hog_result.stdout);
    assert!(
        held.starts_with("inotify made ") && held.contains(&format!("errno {}", libc::EMFILE)),
        "the hog did not exhaust its quota: {held}"
    );
    assert_eq!(
        text(&r.stdout),
        "inotify ok\n",
        "while the hog held: {held}"
    );
}

fn keys_do_not_pass(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let run = |c: &mut scpool_core::PooledContainer, action| {
        run_guarded_with(
            c,
            "hostile_reuse",
            &[action],
            Limits::default(),
            SeccompPolicy::Disabled,
        )
    };
    let r = run(&mut c, "key-add");
    assert_eq!(text(&r.stdout), "key-add ok\n");
    let r = run(&mut c, "key-find");
    assert!(
        text(&r.stdout).contains("key-user ok"),
        "the key is not even there for its owner: {}",
        text(&r.stdout)
    );
    drop(c);
    let mut c = pool.acquire().unwrap();
    let r = run(&mut c, "key-find");
    let nokey = libc::ENOKEY;
    assert_eq!(
        text(&r.stdout),
        format!("key-user err {nokey}\nkey-session err {nokey}\n"),
        "the next borrower found the key"
    );
}

#[test]
fn keys_do_not_pass_to_the_next_borrower() {
    keys_do_not_pass(false);
}

#[test]
fn rootless_keys_do_not_pass_to_the_next_borrower() {
    keys_do_not_pass(true);
}

fn sees_its_own_cgroup_as_the_root(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let r = run_guarded(&mut c, "hostile_reuse", &["limits"]);
    assert_ok(&r);
    let cgroups: Vec<String> = lines(&r.stdout)
        .into_iter()
        .filter_map(|l| l.strip_prefix("cgroup ").map(str::to_string))
        .collect();
    assert!(!cgroups.is_empty());
    for line in &cgroups {
        assert!(
            line.ends_with(":/") && !line.contains("scpool-"),
            "the host's cgroup path shows: {cgroups:?}"
        );
    }
}

#[test]
fn the_container_sees_its_own_cgroup_as_the_root() {
    sees_its_own_cgroup_as_the_root(false);
}

#[test]
fn a_rootless_container_sees_its_own_cgroup_as_the_root() {
    sees_its_own_cgroup_as_the_root(true);
}

#[test]
fn runs_start_from_the_default_limits_whatever_the_last_run_had() {
    default_limits_after_small_ones(false);
}

#[test]
fn rootless_runs_start_from_the_default_limits_whatever_the_last_run_had() {
    default_limits_after_small_ones(true);
}

fn default_limits_after_small_ones(user_namespace: bool) {
    let pool = pool_of_one(user_namespace);
    let mut c = pool.acquire().unwrap();
    let small = set!(
        Limits::default(),
        open_files = Some(64),
        stack = Some(1 << 20),
        output = Some(4096)
    );
    let r = run_guarded_with(
        &mut c,
        "hostile_reuse",
        &["limits"],
        small,
        SeccompPolicy::Default,
    );
    let out = lines(&r.stdout);
    assert_eq!(field(&out, "nofile"), "64 64");
    assert_eq!(field(&out, "fsize"), "4096 4096");
    let r = run_guarded(&mut c, "hostile_reuse", &["limits"]);
    let out = lines(&r.stdout);
    let files = defaults::OPEN_FILES;
    let stack = defaults::STACK;
    assert_eq!(field(&out, "nofile"), format!("{files} {files}"));
    assert_eq!(field(&out, "stack"), format!("{stack} {stack}"));
    assert_eq!(field(&out, "fsize"), "-1 -1");
    assert_eq!(field(&out, "core"), "0 0");
    assert_eq!(field(&out, "nice"), "0 0");
    assert_eq!(
        field(&out, "msgqueue"),
        format!("{0} {0}", defaults::MESSAGE_QUEUE_BYTES)
    );
}

#[test]
fn without_limits_a_fork_bomb_stops_at_the_default_process_limit() {
    let mut c = container();
    let r = run_guarded_with(
        &mut c,
        "hostile_forkbomb",
        &[],
        set!(Limits::default(), wall_time = Some(Duration::from_secs(5))),
        SeccompPolicy::Default,
    );
    assert_eq!(r.status, Status::WallTimeLimitExceeded, "{r:?}");
    let out = text(&r.stdout);
    let forks: u32 = out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        forks < defaults::PROCESSES,
        "{forks} forks without a process limit"
    );
    assert!(out.contains(&format!("errno {}", libc::EAGAIN)), "{out}");
    assert_still_works(&mut c);
}
