//! The standby runner: after a run (or a reset) the init keeps the next run's
//! runner ready, its ids, no_new_privs and seccomp filter already set. A run it
//! serves must be indistinguishable from one the init starts the ordinary way
//! (limits, ids, capabilities, seccomp, session, cgroup, accounting), requests it
//! cannot honour must take the ordinary way, and it must never outlive its
//! container or pile up.
//!
//! Which way a run went is seen from outside: the standby is the init's only child
//! while the container is idle, and the program of a run it served has its pid.

mod common;

use common::*;
use scpool_core::{Container, ContainerConfig, Limits, SeccompPolicy, Status};
use std::time::Duration;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The init's standby runners: (host pid, pid inside).
fn standbys(c: &Container) -> Vec<(u32, u32)> {
    common::leakcheck::children_of(c.init_pid() as u32)
        .into_iter()
        // Anything else is a process of a run, which an idle container has none of.
        .filter(|(pid, name)| name.starts_with(STANDBY_NAME) && alive(*pid as i32))
        .map(|(pid, _)| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let inner = status_field(&status, "NSpid")
                .and_then(|ids| ids.split_whitespace().last())
                .and_then(|id| id.parse().ok())
                .expect("NSpid of a child of the init");
            (pid, inner)
        })
        .collect()
}

/// The one standby of an idle container, by its pid inside the container. The init
/// makes it after its answer, so it may take a moment to appear.
#[track_caller]
fn the_standby(c: &Container) -> u32 {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let found = standbys(c);
        if found.len() == 1 || std::time::Instant::now() > deadline {
            assert_eq!(found.len(), 1, "one standby runner expected: {found:?}");
            return found[0].1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Everything a program inherits from its runner that must not depend on the way it
/// was started, as one line per item. `$$` comes first: the shell's pid.
const STATE: &str = "echo pid $$; \
     grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters|SigBlk|SigIgn):' \
       /proc/self/status; \
     cat /proc/self/limits /proc/self/cgroup /proc/self/oom_score_adj; \
     echo session $(cut -d' ' -f6 /proc/$$/stat) pgrp $(cut -d' ' -f5 /proc/$$/stat); \
     echo cwd $(pwd); for f in 0 1 2; do echo fd $f $(readlink /proc/$$/fd/$f); done";

fn state(c: &mut Container, seccomp: SeccompPolicy, limits: Limits) -> (u32, String) {
    let mut param = run_param(["/bin/sh", "-c", &format!("{}{STATE}", sh_guard())]);
    param.seccomp = seccomp;
    param.limits = set!(limits, wall_time = Some(SAFETY_WALL_TIME));
    let r = c.run(&param).expect("a run");
    assert_ok(&r);
    let out = text(&r.stdout);
    let mut lines = out.lines();
    let pid = lines
        .next()
        .and_then(|l| l.strip_prefix("pid "))
        .and_then(|p| p.parse().ok())
        .expect("the shell's pid");
    // The shell's pid and its stdout pipe vary by run.
    let rest: Vec<String> = lines
        .map(|l| match l.split_once("pipe:[") {
            _ if l.starts_with("session ") => "session = pgrp = pid".into(),
            Some((head, _)) => format!("{head}pipe"),
            None => l.to_string(),
        })
        .collect();
    assert!(out.contains(&format!("session {pid} pgrp {pid}")), "{out}");
    (pid, rest.join("\n"))
}

/// Whether each run of `c` joins a cgroup of its own (cgroup v2 before 6.12, for a
/// memory peak per run: the init then lives in the leaf `init`). A standby cannot
/// serve those runs: entering the run's cgroup namespace needs the privileges it
/// has already dropped, so every run takes the ordinary way.
fn runs_join_a_cgroup_of_their_own(c: &Container) -> bool {
    std::fs::read_to_string(format!("/proc/{}/cgroup", c.init_pid()))
        .unwrap()
        .lines()
        .any(|line| line.starts_with("0::") && line.ends_with("/init"))
}

/// Says why a test that needs the standby stops here.
fn without_standby(c: &Container) -> bool {
    let without = runs_join_a_cgroup_of_their_own(c);
    if without {
        eprintln!("skipped: each run joins a cgroup of its own here, which no standby serves");
        assert!(standbys(c).is_empty(), "a standby nothing can use");
    }
    without
}

/// A container whose next run the standby serves (its first run makes none).
fn container_with_standby() -> Container {
    let mut c = container();
    for _ in 0..2 {
        assert_ok(&c.run(&run_param(["/bin/true"])).expect("a run"));
    }
    c
}

#[test]
fn a_run_after_a_run_is_served_by_the_standby_and_sees_the_same_process_state() {
    let mut c = container();
    assert!(standbys(&c).is_empty(), "no run yet, no filter to prepare");
    assert_eq!(c.last_run_timing(), None);
    let _ = state(&mut c, SeccompPolicy::Default, Limits::default());
    // The init answers in order: by the pong, a standby made after the first run
    // would exist. A one-shot container makes none.
    c.ping().expect("ping");
    assert!(standbys(&c).is_empty(), "a standby after the first run");
    let (first_pid, ordinary) = state(&mut c, SeccompPolicy::Default, Limits::default());
    assert!(!c.last_run_timing().expect("a timing").standby);
    c.ping().expect("ping");
    if without_standby(&c) {
        return;
    }
    let waiting = the_standby(&c);
    assert_ne!(waiting, first_pid);
    let called = std::time::Instant::now();
    let (second_pid, served) = state(&mut c, SeccompPolicy::Default, Limits::default());
    let elapsed = called.elapsed();
    assert_eq!(second_pid, waiting, "the run was not the standby's");
    // The report says so too, and its parts fit in the call.
    let timing = c.last_run_timing().expect("a timing");
    assert!(timing.standby);
    let parts = timing.message + timing.exec + timing.wait + timing.accounting + timing.reply;
    assert!(
        parts <= elapsed && !timing.wait.is_zero(),
        "{timing:?} {elapsed:?}"
    );
    assert_eq!(served, ordinary);
    assert!(served.contains("NoNewPrivs:\t1"), "{served}");
    assert!(served.contains("Seccomp:\t2"), "{served}");
    assert!(served.contains("CapEff:\t0000000000000000"), "{served}");
    // Another is made for the next run.
    assert_ne!(the_standby(&c), waiting);
}

#[test]
fn lowered_limits_are_served_by_the_standby_exactly_as_requested() {
    let mut c = container_with_standby();
    if without_standby(&c) {
        return;
    }
    let limits = || {
        set!(
            Limits::default(),
            open_files = Some(64),
            stack = Some(2 << 20),
            output = Some(1 << 20),
            address_space = Some(1 << 30),
        )
    };
    let (_, ordinary) = state(&mut c, SeccompPolicy::Default, limits());
    let waiting = the_standby(&c);
    let (pid, served) = state(&mut c, SeccompPolicy::Default, limits());
    assert_eq!(pid, waiting, "the run was not the standby's");
    assert_eq!(served, ordinary);
    assert!(
        served.contains("Max open files            64                   64"),
        "{served}"
    );
}

#[test]
fn requests_the_standby_cannot_honour_take_the_ordinary_way() {
    let mut c = container_with_standby();
    if without_standby(&c) {
        return;
    }
    // A different filter: the standby's is the default policy's.
    let (_, default) = state(&mut c, SeccompPolicy::Default, Limits::default());
    let waiting = the_standby(&c);
    let (pid, unfiltered) = state(&mut c, SeccompPolicy::Disabled, Limits::default());
    assert_ne!(pid, waiting);
    assert!(unfiltered.contains("Seccomp:\t0"), "{unfiltered}");
    // The next standby has the last run's filter (none) and serves the same again.
    let waiting = the_standby(&c);
    let (pid, again) = state(&mut c, SeccompPolicy::Disabled, Limits::default());
    assert_eq!(pid, waiting);
    assert_eq!(again, unfiltered);

    // A hard limit above the init's own (the host's): only a runner with
    // CAP_SYS_RESOURCE can raise it (up to fs.nr_open); a host without it fails
    // the run either way.
    let (_, own_hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .expect("getrlimit");
    let _ = state(&mut c, SeccompPolicy::Default, Limits::default());
    let waiting = the_standby(&c);
    let mut param = run_param(["/bin/sh", "-c", "echo $$ $(ulimit -Hn)"]);
    param.limits.open_files = Some(own_hard + 1);
    let r = c.run(&param).expect("a run");
    let ordinary = container().run(&param).expect("a run");
    assert_eq!(
        (r.status, &r.message),
        (ordinary.status, &ordinary.message),
        "{r:?}"
    );
    if r.status == Status::Ok {
        let out = text(&r.stdout);
        let mut words = out.split_whitespace();
        assert_ne!(words.next(), Some(waiting.to_string().as_str()), "{out}");
        assert_eq!(words.next(), Some((own_hard + 1).to_string().as_str()));
    }

    // The ordinary way once more, then the standby again: the same state.
    let (_, ordinary) = state(&mut c, SeccompPolicy::Default, Limits::default());
    assert_eq!(ordinary, default);
}

#[test]
fn a_run_the_standby_cannot_start_fails_as_an_ordinary_run_would_and_the_next_is_served() {
    let mut c = container_with_standby();
    if without_standby(&c) {
        return;
    }
    let _ = state(&mut c, SeccompPolicy::Default, Limits::default());
    the_standby(&c);
    let missing = c.run(&run_param(["/no/such/program"])).expect("a run");
    let mut bad_cwd = run_param(["/bin/true"]);
    bad_cwd.cwd = "/no/such/dir".into();
    let bad_cwd = c.run(&bad_cwd).expect("a run");

    let mut fresh = container();
    let ordinary_missing = fresh.run(&run_param(["/no/such/program"])).unwrap();
    assert_eq!(missing.status, Status::RunnerError);
    assert_eq!(missing.message, ordinary_missing.message);
    assert_eq!(bad_cwd.status, Status::RunnerError);
    assert!(bad_cwd.message.contains("No such file"), "{bad_cwd:?}");

    // A request's own failure does not keep the standby from the next run.
    let waiting = the_standby(&c);
    let (pid, _) = state(&mut c, SeccompPolicy::Default, Limits::default());
    assert_eq!(pid, waiting);
}

#[test]
fn a_standby_served_run_is_accounted_and_limited_like_an_ordinary_one() {
    let mut c = container_with_standby();
    if without_standby(&c) {
        return;
    }
    let mut first = container();
    // Each run, with whether the standby served it.
    let run = |c: &mut Container, args: &[&str]| {
        let r = run_guarded(c, args[0], &args[1..]);
        assert_ok(&r);
        (r, c.last_run_timing().expect("a timing").standby)
    };
    for args in [
        &["hostile_spin", "cpu", "0.3"][..],
        &["hostile_memory", "touch", "64"],
    ] {
        the_standby(&c);
        let (served, by_standby) = run(&mut c, args);
        assert!(by_standby);
        let (ordinary, by_standby) = run(&mut first, args);
        assert!(!by_standby);
        for r in [&ordinary, &served] {
            assert!(r.cpu_time >= Duration::from_millis(300) || args[0] != "hostile_spin");
            assert!(r.memory >= 64 << 20 || args[0] != "hostile_memory", "{r:?}");
            assert_eq!(r.accounting, c.accounting());
        }
    }

    if c.cgroup_version().is_some() {
        let limits = set!(Limits::default(), memory = Some(32 << 20));
        let over = run_guarded_with(
            &mut c,
            "hostile_memory",
            &["touch", "64"],
            limits,
            SeccompPolicy::Default,
        );
        assert_eq!(over.status, Status::MemoryLimitExceeded, "{over:?}");
        // A process limit counts the program as it counts an ordinary runner.
        let limits = set!(Limits::default(), processes = Some(1));
        let mut param = run_param(["/bin/sh", "-c", "/bin/true && echo forked"]);
        param.limits = set!(limits, wall_time = Some(SAFETY_WALL_TIME));
        let waiting = the_standby(&c);
        let r = c.run(&param).expect("a run");
        assert_ne!(text(&r.stdout), "forked\n", "{r:?}");
        let mut fresh = container();
        let ordinary = fresh.run(&param).expect("a run");
        assert_eq!(
            (r.status, r.exit_code),
            (ordinary.status, ordinary.exit_code)
        );
        assert_ne!(the_standby(&c), waiting);
    }
}

#[test]
fn a_standby_is_replaced_on_reset_and_never_outlives_its_container() {
    let pool = pool_of_one(false);
    let mut pids = Vec::new();
    for round in 0..5 {
        let mut c = pool.acquire().unwrap();
        if round > 0 && without_standby(&c) {
            return;
        }
        if round > 0 {
            the_standby(&c);
            pids.push(standbys(&c)[0].0);
        }
        let r = c.run(&run_param(["/bin/true"])).expect("a run");
        assert_ok(&r);
        if round > 0 {
            the_standby(&c);
        }
    }
    let c = pool.acquire().unwrap();
    the_standby(&c);
    let (last, _) = standbys(&c)[0];
    // Each reset killed the standby it found and made another.
    assert!(!pids.contains(&last), "{pids:?} {last}");
    for pid in &pids {
        assert!(!alive(*pid as i32), "standby {pid} outlived a reset");
    }
    drop(c);
    drop(pool);
    assert!(!alive(last as i32), "the standby outlived its container");

    let c = container_with_standby();
    let init = c.init_pid();
    the_standby(&c);
    let (host, _) = standbys(&c)[0];
    drop(c);
    assert!(!alive(init) && !alive(host as i32));
}

#[test]
fn rootless_runs_get_no_standby() {
    let config = set!(ContainerConfig::default(), user_namespace = true);
    let mut c = Container::new(&config).expect("a rootless container");
    let r = c.run(&run_param(["/bin/true"])).expect("a run");
    assert_ok(&r);
    assert!(standbys(&c).is_empty());
}

#[test]
fn strict_and_single_program_policies_work_run_after_run() {
    let mut c = container_with_standby();
    for policy in [
        SeccompPolicy::Strict,
        SeccompPolicy::SingleProgram,
        SeccompPolicy::Strict,
    ] {
        for _ in 0..3 {
            let r = run_prog_with_policy(&mut c, policy.clone());
            assert_ok(&r);
            assert_eq!(text(&r.stdout), "hello\n", "{policy:?}");
            assert!(standbys(&c).len() <= 1);
        }
    }
}

fn run_prog_with_policy(c: &mut Container, policy: SeccompPolicy) -> scpool_core::RunResult {
    let ns = host_ns();
    try_run_prog_with(
        c,
        "hostile_hello",
        &[ns[0].as_str(), ns[1].as_str()],
        b"",
        Limits::default(),
        policy,
    )
    .expect("a run")
}
