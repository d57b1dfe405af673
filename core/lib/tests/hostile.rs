//! The hostile-program suite: programs that attack a container's limits, its
//! accounting and its isolation. Each test asserts the exact verdict and figures,
//! and that the host, other containers and the container itself come out unharmed.
//!
//! Must run as root (CI does). Every program here that could harm the host if the
//! sandbox failed includes `tests/progs/guard.h` and refuses to act outside one.
//! Tests that burn CPU, time things or count the host's processes run alone (see
//! [`exclusive`]); timing margins are wide, the machine may have 2 busy cores.

mod common;

use common::*;
use scpool_core::{Container, ContainerConfig, Limits, Mount, RunResult, SeccompPolicy, Status};
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// How many processes the host may have beyond its count before a test once that
/// test's processes are gone: other programs on the machine come and go.
const PROCESS_SLACK: usize = 5;

static SUITE: RwLock<()> = RwLock::new(());

/// For tests that neither time things nor count processes: they run side by side.
fn shared() -> RwLockReadGuard<'static, ()> {
    SUITE.read().unwrap_or_else(PoisonError::into_inner)
}

/// For tests that burn CPU, measure time or count the host's processes: they run
/// with no other test of this binary.
fn exclusive() -> RwLockWriteGuard<'static, ()> {
    SUITE.write().unwrap_or_else(PoisonError::into_inner)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Limits with a wall-time safety net.
fn limits() -> Limits {
    set!(Limits::default(), wall_time = Some(SAFETY_WALL_TIME))
}

/// The hostile programs, built before a test counts processes (so no compiler runs
/// in the middle of a count).
const HOSTILE: &[&str] = &[
    "hostile_spin",
    "hostile_memory",
    "hostile_forkbomb",
    "hostile_flood",
    "hostile_kill",
    "hostile_sys",
    "hostile_hello",
    "hostile_exec",
    "daemon",
    "pids",
];

fn build_all() {
    for name in HOSTILE {
        prog(name);
    }
}

/// The results `hostile_sys` printed: action name to "ok" or "err ERRNO".
fn outcomes(stdout: &[u8]) -> BTreeMap<String, String> {
    text(stdout)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(' ')?;
            (rest == "ok" || rest.starts_with("err ")).then(|| (name.to_string(), rest.into()))
        })
        .collect()
}

fn err(errno: i32) -> String {
    format!("err {errno}")
}

/// Runs `hostile_sys` with `actions` and returns what each did.
fn attempt(
    c: &mut Container,
    actions: &[&str],
    limits: Limits,
    seccomp: SeccompPolicy,
) -> (RunResult, BTreeMap<String, String>) {
    let r = run_guarded_with(c, "hostile_sys", actions, limits, seccomp);
    assert_ok(&r);
    let got = outcomes(&r.stdout);
    for action in actions {
        assert!(
            got.contains_key(*action) || matches!(*action, "fds" | "limits"),
            "no result for {action}: {}",
            text(&r.stdout)
        );
    }
    (r, got)
}

/// Asserts each action ended as expected, listing every mismatch at once.
#[track_caller]
fn assert_outcomes(got: &BTreeMap<String, String>, expected: &[(&str, String)], policy: &str) {
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(name, want)| got.get(*name) != Some(want))
        .map(|(name, want)| format!("  {name}: expected {want}, got {:?}", got.get(*name)))
        .collect();
    assert!(
        wrong.is_empty(),
        "under the {policy} policy:\n{}\nall: {got:?}",
        wrong.join("\n")
    );
}

/// A trivial run that must succeed: the container still works.
#[track_caller]
fn assert_still_works(c: &mut Container) {
    c.ping().expect("ping");
    let r = c.run(&run_param(["/bin/echo", "alive"])).expect("a run");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "alive\n");
}

/// Nothing but the init is left of the runs in container `c`: no process descends
/// from the init on the host, and the program sees only the init and itself.
#[track_caller]
fn assert_only_the_init_is_left(c: &mut Container) {
    let left = descendants_of(c.init_pid() as u32);
    assert!(left.is_empty(), "processes of a finished run: {left:?}");
    let r = run_prog(c, "pids", &[]);
    assert_ok(&r);
    let (own, all) = parse_pids(&r.stdout);
    assert_eq!(all, [own], "processes visible in the next run");
}

/// Waits (up to 10 s) until the host runs no more than `baseline` +
/// [`PROCESS_SLACK`] processes.
#[track_caller]
fn assert_host_processes_back_to(baseline: usize, when: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = host_process_count();
        if now <= baseline + PROCESS_SLACK {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "{now} host processes {when}, {baseline} before; our descendants: {:?}",
                descendants_of(std::process::id())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A run's figures with at most 200 bytes of each stream (a flood's output would
/// drown the message).
fn show(r: &RunResult) -> String {
    let cut = |bytes: &[u8]| {
        let shown = text(&bytes[..bytes.len().min(200)]);
        format!("{} bytes {shown:?}", bytes.len())
    };
    format!(
        "{} exit {:?} signal {:?} cpu {:?} wall {:?} memory {} setup {:?} message {:?} \
         stdout {} stderr {}",
        r.status,
        r.exit_code,
        r.signal,
        r.cpu_time,
        r.wall_time,
        r.memory,
        r.setup_time,
        r.message,
        cut(&r.stdout),
        cut(&r.stderr)
    )
}

fn sys_name(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

// ---------------------------------------------------------------------------------
// 0. The guard.

#[test]
fn hostile_programs_are_guarded() {
    let _g = shared();
    // Every hostile source includes the guard and calls it.
    let dir = progs_source_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("hostile_") || !name.ends_with(".c") || name == "hostile_hello.c" {
            continue;
        }
        let source = std::fs::read_to_string(entry.path()).unwrap();
        assert!(
            source.contains("#include \"guard.h\"") && source.contains("sandbox_guard(argc, argv)"),
            "{name} is not guarded"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} hostile programs found");

    // On the host, given the host's own namespaces, the harmless modes refuse to act.
    let [pid, mnt] = host_ns();
    for (name, args) in [
        ("hostile_sys", &["fds"][..]),
        ("hostile_spin", &["cpu", "0.01"][..]),
        ("hostile_memory", &["touch", "1"][..]),
    ] {
        let output = Command::new(prog(name))
            .args([&pid, &mnt])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(GUARD_REFUSED), "{name}");
        assert!(output.stdout.is_empty(), "{name} acted on the host");
    }
}

// ---------------------------------------------------------------------------------
// 1. Time.

#[test]
fn an_infinite_loop_is_stopped_at_the_cpu_time_limit() {
    let _g = exclusive();
    let mut c = container();
    let limit = Duration::from_millis(500);
    let started = Instant::now();
    let r = run_guarded_with(
        &mut c,
        "hostile_spin",
        &["forever"],
        set!(
            Limits::default(),
            cpu_time = Some(limit),
            wall_time = Some(Duration::from_secs(10))
        ),
        SeccompPolicy::Default,
    );
    let took = started.elapsed();
    eprintln!("spin: {} in {took:?}", show(&r));
    assert_eq!(r.status, Status::TimeLimitExceeded, "{}", show(&r));
    assert_eq!(
        (r.exit_code, r.signal),
        (None, Some(libc::SIGKILL)),
        "{}",
        show(&r)
    );
    assert!(
        r.cpu_time >= limit && r.cpu_time <= limit * 11 / 10,
        "cpu time {:?} for a limit of {limit:?}: {}",
        r.cpu_time,
        show(&r)
    );
    assert!(
        took < limit + Duration::from_secs(2),
        "the call took {took:?}"
    );
    assert!(!r.message.is_empty());
    assert_still_works(&mut c);
}

#[test]
fn sleep_is_stopped_at_the_wall_time_limit() {
    let _g = exclusive();
    let mut c = container();
    let limit = Duration::from_millis(500);
    let mut p = run_param(["/bin/sleep", "10"]);
    p.limits.wall_time = Some(limit);
    let started = Instant::now();
    let r = c.run(&p).unwrap();
    let took = started.elapsed();
    eprintln!("sleep: {} in {took:?}", show(&r));
    assert_eq!(r.status, Status::WallTimeLimitExceeded, "{}", show(&r));
    assert_eq!(
        (r.exit_code, r.signal),
        (None, Some(libc::SIGKILL)),
        "{}",
        show(&r)
    );
    // It used less CPU than time passed: its start-up only (no tighter bound: on a
    // loaded emulated guest start-up alone took 60-190 ms).
    assert!(r.cpu_time < r.wall_time, "{}", show(&r));
    assert!(took >= limit, "returned after {took:?}");
    assert!(took < limit + Duration::from_secs(2), "took {took:?}");
    assert!(
        r.wall_time >= Duration::from_millis(400) && r.wall_time < limit + secs(1.5),
        "{}",
        show(&r)
    );
    assert_still_works(&mut c);
}

/// CPU time the host's cores spent busy so far (user, nice, system, irq, softirq
/// and steal: everything but idle and iowait), from /proc/stat.
fn host_busy_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").expect("reading /proc/stat");
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .expect("the cpu line of /proc/stat")
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().expect("a tick count"))
        .collect();
    let busy = ticks.iter().sum::<u64>() - ticks[3] - ticks[4];
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    assert!(hz > 0, "sysconf(_SC_CLK_TCK) = {hz}");
    Duration::from_nanos(busy * 1_000_000_000 / hz as u64)
}

#[test]
fn two_spinning_threads_use_twice_the_wall_time() {
    let _g = exclusive();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut c = container();
    // Other programs on the machine may take a core for a while: a try during
    // which they used more than a quarter of a core does not count; up to 5 tries.
    let mut tries = Vec::new();
    for _ in 0..5 {
        let busy_before = host_busy_time();
        let r = run_guarded_with(
            &mut c,
            "hostile_spin",
            &["threads", "2", "0.5"],
            set!(
                Limits::default(),
                cpu_time = Some(Duration::from_secs(5)),
                wall_time = Some(Duration::from_secs(20))
            ),
            SeccompPolicy::Default,
        );
        let others = host_busy_time()
            .saturating_sub(busy_before)
            .saturating_sub(r.cpu_time);
        eprintln!("threads: {} (others used {others:?})", show(&r));
        assert_ok(&r);
        let ratio = r.cpu_time.as_secs_f64() / r.wall_time.as_secs_f64();
        // Never more CPU than two threads can use in the wall time.
        assert!(
            ratio <= 2.2,
            "cpu {:?} in wall {:?}",
            r.cpu_time,
            r.wall_time
        );
        if cores < 2 {
            eprintln!("one core only: the ratio (here {ratio:.2}) is not checked");
            return;
        }
        if ratio >= 1.6 {
            return;
        }
        let disturbed = others > r.wall_time / 4;
        let attempt = format!(
            "cpu {:?} / wall {:?} = {ratio:.2} while others used {others:?}",
            r.cpu_time, r.wall_time
        );
        assert!(disturbed, "two threads on an idle machine: {attempt}");
        tries.push(attempt);
    }
    eprintln!("the machine was never quiet enough to check the ratio: {tries:?}");
}

#[test]
fn wall_time_covers_the_whole_run_when_every_core_is_busy() {
    let _g = exclusive();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.to_string();
    let mut c = container();
    // As many spinning threads as cores, each for 100 ms of wall time from its own
    // start: the program provably runs at least 100 ms, and nothing is left for
    // the init the moment the program starts.
    let spin = Duration::from_millis(100);
    let mut short = Vec::new();
    for _ in 0..5 {
        let r = run_guarded_with(
            &mut c,
            "hostile_spin",
            &["threads", &threads, "0.1"],
            limits(),
            SeccompPolicy::Default,
        );
        assert_ok(&r);
        if r.wall_time < spin {
            short.push(format!("wall {:?} (setup {:?})", r.wall_time, r.setup_time));
        }
    }
    assert!(
        short.is_empty(),
        "a program that ran at least {spin:?} was reported shorter: {short:?}"
    );
}

#[test]
fn a_cpu_rate_throttles_without_killing() {
    let _g = exclusive();
    let mut c = container();
    let r = run_guarded_with(
        &mut c,
        "hostile_spin",
        &["cpu", "1.0"],
        set!(
            Limits::default(),
            cpu_rate = Some(0.5),
            wall_time = Some(Duration::from_secs(5))
        ),
        SeccompPolicy::Default,
    );
    eprintln!("rate 0.5: {}", show(&r));
    assert_ok(&r);
    assert!(r.cpu_time >= secs(0.95), "{}", show(&r));
    assert!(
        r.wall_time.as_secs_f64() >= 1.6 * r.cpu_time.as_secs_f64(),
        "not throttled: cpu {:?}, wall {:?}",
        r.cpu_time,
        r.wall_time
    );
    // The next run without a rate runs at full speed again.
    let r = run_guarded_with(
        &mut c,
        "hostile_spin",
        &["cpu", "0.3"],
        limits(),
        SeccompPolicy::Default,
    );
    assert_ok(&r);
    assert!(
        r.wall_time.as_secs_f64() < 1.5 * r.cpu_time.as_secs_f64() + 0.2,
        "still throttled: cpu {:?}, wall {:?}",
        r.cpu_time,
        r.wall_time
    );
}

// ---------------------------------------------------------------------------------
// 2. Memory.

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_limit() {
    let _g = shared();
    let mut c = container();
    let limit = 64 * MIB;
    let r = run_guarded_with(
        &mut c,
        "hostile_memory",
        &["bomb"],
        set!(limits(), memory = Some(limit)),
        SeccompPolicy::Default,
    );
    eprintln!("memory: {}", show(&r));
    assert_eq!(r.status, Status::MemoryLimitExceeded, "{}", show(&r));
    assert_eq!(
        (r.exit_code, r.signal),
        (None, Some(libc::SIGKILL)),
        "{}",
        show(&r)
    );
    assert!(
        r.memory >= 48 * MIB && r.memory <= limit + MIB,
        "peak {} MiB for a limit of 64 MiB",
        r.memory as f64 / MIB as f64
    );
    assert_still_works(&mut c);
}

#[test]
fn a_memory_bomb_in_a_child_counts_too() {
    let _g = shared();
    let mut c = container();
    let limit = 64 * MIB;
    let r = run_guarded_with(
        &mut c,
        "hostile_memory",
        &["child-bomb"],
        set!(limits(), memory = Some(limit)),
        SeccompPolicy::Default,
    );
    // The parent survives and exits 0; its child was killed for memory.
    eprintln!("memory: {}", show(&r));
    assert_eq!(r.status, Status::MemoryLimitExceeded, "{}", show(&r));
    assert_eq!(r.exit_code, Some(0), "{}", show(&r));
    assert_eq!(text(&r.stdout), format!("child signal {}\n", libc::SIGKILL));
    assert!(
        r.memory >= 48 * MIB && r.memory <= limit + MIB,
        "peak {} MiB for a limit of 64 MiB",
        r.memory as f64 / MIB as f64
    );
    assert_still_works(&mut c);
}

#[test]
fn peak_memory_is_exact_and_per_run() {
    let _g = shared();
    let mut c = container();
    let run = |c: &mut Container, mib: &str| {
        run_guarded_with(
            c,
            "hostile_memory",
            &["touch", mib],
            set!(limits(), memory = Some(128 * MIB)),
            SeccompPolicy::Default,
        )
    };
    let big = run(&mut c, "32");
    eprintln!("32 MiB: {}", show(&big));
    assert_ok(&big);
    assert_eq!(text(&big.stdout), "touched 32\n");
    assert!(
        big.memory >= 32 * MIB && big.memory < 48 * MIB,
        "peak {} MiB for 32 MiB touched",
        big.memory as f64 / MIB as f64
    );
    // The next run's peak is its own, not the previous one's.
    let small = run(&mut c, "1");
    eprintln!("1 MiB: {}", show(&small));
    assert_ok(&small);
    assert!(
        small.memory > 0 && small.memory < 8 * MIB,
        "peak {} MiB for 1 MiB touched (the run before peaked at {} MiB)",
        small.memory as f64 / MIB as f64,
        big.memory as f64 / MIB as f64
    );
    // Without a memory limit, the same accounting.
    let r = run_guarded_with(
        &mut c,
        "hostile_memory",
        &["touch", "32"],
        limits(),
        SeccompPolicy::Default,
    );
    assert_ok(&r);
    assert!(
        r.memory >= 32 * MIB && r.memory < 48 * MIB,
        "peak {} MiB for 32 MiB touched, no limit",
        r.memory as f64 / MIB as f64
    );
}

// ---------------------------------------------------------------------------------
// 3. Processes.

#[test]
fn a_fork_bomb_is_contained() {
    let _g = exclusive();
    build_all();
    let mut c = container();
    let baseline = host_process_count();
    let started = Instant::now();
    let r = run_guarded_with(
        &mut c,
        "hostile_forkbomb",
        &[],
        set!(
            Limits::default(),
            processes = Some(32),
            cpu_time = Some(Duration::from_secs(1)),
            wall_time = Some(Duration::from_secs(10))
        ),
        SeccompPolicy::Default,
    );
    let took = started.elapsed();
    eprintln!("fork bomb: {} in {took:?}", show(&r));
    assert_ne!(r.status, Status::RunnerError, "{}", show(&r));
    // 32 spinning processes burn the CPU limit long before the wall limit.
    assert_eq!(r.status, Status::TimeLimitExceeded, "{}", show(&r));
    assert!(took < Duration::from_secs(8), "took {took:?}");
    // The first process saw fork fail with EAGAIN after at most 31 children.
    let out = text(&r.stdout);
    let (forks, errno) = out
        .trim()
        .strip_prefix("forks ")
        .and_then(|rest| rest.split_once(" errno "))
        .unwrap_or_else(|| panic!("unexpected output {out:?}"));
    let forks: u32 = forks.parse().unwrap();
    assert!((1..=31).contains(&forks), "{forks} forks succeeded");
    assert_eq!(errno, libc::EAGAIN.to_string(), "{out}");

    assert_only_the_init_is_left(&mut c);
    assert_host_processes_back_to(baseline, "after the fork bomb");
    let r = c.run(&run_param(["/bin/true"])).unwrap();
    assert_ok(&r);
}

#[test]
fn a_double_forked_daemon_dies_with_its_run() {
    let _g = exclusive();
    build_all();
    let mut c = container();
    let baseline = host_process_count();
    let started = Instant::now();
    let r = run_guarded(&mut c, "daemon", &[]);
    assert_ok(&r);
    assert!(text(&r.stdout).starts_with("daemon "), "{}", show(&r));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run waited for its daemon"
    );
    assert_only_the_init_is_left(&mut c);
    assert_host_processes_back_to(baseline, "after the daemon's run");
}

#[test]
fn killing_everything_harms_nobody_else() {
    let _g = exclusive();
    let mut c = container();
    let (uid, gid) = c.program_ids();
    // A host process of the program's own uid: kill(-1) in the host's PID namespace
    // would reach it.
    let mut bystander = Bystander(
        Command::new("/bin/sleep")
            .arg("60")
            .uid(uid)
            .gid(gid)
            .spawn()
            .unwrap(),
    );
    // Another container, busy while the first kills.
    let mut other = container();
    let other_init = other.init_pid() as u32;
    let busy = std::thread::spawn(move || {
        let r = other.run(&run_param(["/bin/sleep", "3"])).unwrap();
        (r, other)
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while descendants_of(other_init).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the other container's run never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    let r = run_guarded(&mut c, "hostile_kill", &[]);
    assert_ok(&r);
    let eperm = libc::EPERM;
    assert_eq!(
        text(&r.stdout),
        format!(
            "kill -1 ok\nchild signal 9\nkill 1 err {eperm}\nkill ppid 1 err {eperm}\n\
             sweep killed 1\nchild signal 9\nsurvived\n"
        )
    );

    let (r, mut other) = busy.join().unwrap();
    assert_ok(&r);
    assert_still_works(&mut other);
    assert_still_works(&mut c);
    assert!(
        bystander.0.try_wait().unwrap().is_none(),
        "the host's bystander process died"
    );
}

/// A host process killed and reaped when the test ends, however it ends.
struct Bystander(std::process::Child);

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------
// 4. Output.

#[test]
fn a_stdout_flood_is_cut_at_the_output_limit() {
    let _g = shared();
    prog("hostile_flood");
    let mut config = ContainerConfig::default();
    config.mounts.push(progs_mount());
    let mut c = Container::new(&config).unwrap();
    let [pid, mnt] = host_ns();
    let limit = 64 * 1024;
    let path = format!("{PROGS_TARGET}/hostile_flood");
    let mut p = run_param([path.as_str(), &pid, &mnt, "stdout"]);
    p.limits.output = Some(limit);
    let r = c.run(&p).unwrap();
    assert_ne!(r.exit_code, Some(GUARD_REFUSED));
    assert_eq!(r.status, Status::OutputLimitExceeded, "{}", show(&r));
    assert_eq!(r.signal, Some(libc::SIGXFSZ), "{}", show(&r));
    assert!(r.stdout.len() as u64 <= limit, "{} bytes", r.stdout.len());
    assert!(!r.stdout.is_empty());
    assert!(r.stdout.chunks(2).all(|c| c == b"y\n"));
    assert_still_works(&mut c);
}

#[test]
fn a_file_flood_is_cut_at_the_output_limit() {
    let _g = shared();
    let mut c = container();
    let limit = MIB;
    let r = run_guarded_with(
        &mut c,
        "hostile_flood",
        &["file", "/w/big"],
        set!(limits(), output = Some(limit)),
        SeccompPolicy::Default,
    );
    assert_eq!(r.status, Status::OutputLimitExceeded, "{}", show(&r));
    assert_eq!(r.signal, Some(libc::SIGXFSZ), "{}", show(&r));
    // 64 KiB blocks fill the limit exactly; the next write is refused.
    let big = c.read_file("/w/big").unwrap();
    assert_eq!(big.len() as u64, limit);
    assert_still_works(&mut c);
}

// ---------------------------------------------------------------------------------
// 5. System calls.

/// What every escape call of `hostile_sys` gets under the default policy.
fn default_policy_expectations() -> Vec<(&'static str, String)> {
    let eperm = err(libc::EPERM);
    let mut expected: Vec<(&str, String)> = [
        "ptrace_attach",
        "ptrace_traceme",
        "mount",
        "umount",
        "unshare",
        "unshare_ns",
        "chroot",
        "pivot_root",
        "sethostname",
        "setuid0",
        "setns",
        "clone_ns",
    ]
    .into_iter()
    .map(|name| (name, eperm.clone()))
    .collect();
    expected.push(("clone3", err(libc::ENOSYS)));
    expected.push(("clone3_ns", err(libc::ENOSYS)));
    // /proc/1 is invisible (hidepid=2, the init is not dumpable): not even found.
    expected.push(("setns_init", err(libc::ENOENT)));
    expected
}

#[test]
fn escape_calls_fail_under_the_default_policy() {
    let _g = shared();
    let mut c = container();
    let expected = default_policy_expectations();
    let actions: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    let (_, got) = attempt(&mut c, &actions, limits(), SeccompPolicy::Default);
    assert_outcomes(&got, &expected, "default");
    // Ordinary processes and threads still work: the clone3 refusal falls back to
    // clone, whose flags are checked.
    let (_, got) = attempt(&mut c, &["fork"], limits(), SeccompPolicy::Default);
    assert_eq!(got["fork"], "ok");
    let r = run_guarded_with(
        &mut c,
        "hostile_spin",
        &["threads", "2", "0.01"],
        limits(),
        SeccompPolicy::Default,
    );
    assert_ok(&r);
    // The hostname did not change.
    let r = c.run(&run_param(["/bin/hostname"])).unwrap();
    assert_eq!(text(&r.stdout), "scpool\n");
    assert_still_works(&mut c);
}

#[test]
fn escape_calls_fail_without_seccomp_too() {
    let _g = shared();
    let mut c = container();
    // No capabilities, another uid than the init's: every one fails, whatever the
    // errno. (init_module is ENOSYS on kernels without modules.)
    let actions = [
        "ptrace_attach",
        "mount",
        "umount",
        "unshare_ns",
        "chroot",
        "pivot_root",
        "sethostname",
        "setuid0",
        "setns",
        "setns_init",
        "clone_ns",
        "clone3_ns",
        "process_vm_readv",
        "open_by_handle_at",
        "init_module",
    ];
    let (r, got) = attempt(&mut c, &actions, limits(), SeccompPolicy::Disabled);
    let succeeded: Vec<&str> = actions
        .iter()
        .copied()
        .filter(|a| got.get(*a).map(String::as_str) == Some("ok"))
        .collect();
    assert!(
        succeeded.is_empty(),
        "without seccomp these succeeded: {succeeded:?}\n{}",
        text(&r.stdout)
    );
    let r = c.run(&run_param(["/bin/hostname"])).unwrap();
    assert_eq!(text(&r.stdout), "scpool\n");
    assert_still_works(&mut c);
}

#[test]
fn kernel_attack_surface_is_denied_under_the_default_policy() {
    let _g = shared();
    let mut c = container();
    let expected: Vec<(&str, String)> = [
        "perf",
        "userfaultfd",
        "keyctl",
        "add_key",
        "request_key",
        "bpf",
        "io_uring",
        "process_vm_readv",
        "open_by_handle_at",
        "init_module",
    ]
    .into_iter()
    .map(|name| (name, err(libc::EPERM)))
    .collect();
    let actions: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    let (_, got) = attempt(&mut c, &actions, limits(), SeccompPolicy::Default);
    assert_outcomes(&got, &expected, "default");
}

#[test]
fn namespace_clones_are_refused() {
    let _g = shared();
    let mut c = container();
    let (_, got) = attempt(
        &mut c,
        &["clone_ns", "clone3", "clone3_ns", "fork"],
        limits(),
        SeccompPolicy::Default,
    );
    assert_outcomes(
        &got,
        &[
            ("clone_ns", err(libc::EPERM)),
            ("clone3", err(libc::ENOSYS)),
            ("clone3_ns", err(libc::ENOSYS)),
            ("fork", "ok".into()),
        ],
        "default",
    );
}

#[test]
fn the_x32_abi_is_closed() {
    let _g = shared();
    let mut c = container();
    let (_, got) = attempt(&mut c, &["x32"], limits(), SeccompPolicy::Default);
    assert_outcomes(&got, &[("x32", err(libc::EPERM))], "default");
    let r = run_guarded_with(
        &mut c,
        "hostile_sys",
        &["x32"],
        limits(),
        SeccompPolicy::Strict,
    );
    assert_eq!(r.status, Status::DisallowedSyscall, "{}", show(&r));
    assert_eq!(r.signal, Some(libc::SIGSYS), "{}", show(&r));
    assert!(r.stdout.is_empty(), "{}", text(&r.stdout));
    assert_still_works(&mut c);
}

#[test]
fn the_strict_policy_kills_socket_and_fork() {
    let _g = shared();
    let mut c = container();
    for action in ["socket", "fork", "ptrace_attach", "mount"] {
        let r = run_guarded_with(
            &mut c,
            "hostile_sys",
            &[action],
            limits(),
            SeccompPolicy::Strict,
        );
        assert_eq!(
            r.status,
            Status::DisallowedSyscall,
            "{action}: {}",
            show(&r)
        );
        assert_eq!(r.signal, Some(libc::SIGSYS), "{action}: {}", show(&r));
        assert!(r.stdout.is_empty(), "{action}: {}", text(&r.stdout));
        assert!(!r.message.is_empty());
    }
    assert_still_works(&mut c);
}

#[test]
fn the_strict_policy_runs_a_plain_program() {
    let _g = shared();
    let mut c = container();
    let r = try_run_prog_with(
        &mut c,
        "hostile_hello",
        &[],
        b"",
        limits(),
        SeccompPolicy::Strict,
    )
    .unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "hello\n");
    // And a guarded one that only reads, writes and checks descriptors.
    let r = run_guarded_with(
        &mut c,
        "hostile_sys",
        &["fds", "limits"],
        limits(),
        SeccompPolicy::Strict,
    );
    assert_ok(&r);
    assert!(text(&r.stdout).starts_with("fds 0 1 2\n"), "{}", show(&r));
}

#[test]
fn only_local_and_internet_socket_families_are_open_under_the_default_policy() {
    let _g = shared();
    let mut c = container();
    let open = [
        libc::AF_UNIX,
        libc::AF_INET,
        libc::AF_INET6,
        libc::AF_NETLINK,
    ];
    let refused = [
        libc::AF_VSOCK,
        libc::AF_PACKET,
        libc::AF_ALG,
        libc::AF_KEY,
        libc::AF_XDP,
        libc::AF_BLUETOOTH,
        libc::AF_TIPC,
        libc::AF_RDS,
        libc::AF_CAN,
    ];
    let mut expected: Vec<(String, String)> = Vec::new();
    for family in open {
        expected.push((format!("socket:{family}"), "ok".into()));
    }
    for family in refused {
        expected.push((format!("socket:{family}"), err(libc::EAFNOSUPPORT)));
    }
    expected.push((format!("socketpair:{}", libc::AF_UNIX), "ok".into()));
    for family in [libc::AF_VSOCK, libc::AF_ALG, libc::AF_PACKET] {
        expected.push((format!("socketpair:{family}"), err(libc::EAFNOSUPPORT)));
    }
    let expected: Vec<(&str, String)> = expected
        .iter()
        .map(|(name, want)| (name.as_str(), want.clone()))
        .collect();
    let actions: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    let (_, got) = attempt(&mut c, &actions, limits(), SeccompPolicy::Default);
    assert_outcomes(&got, &expected, "default");
    // The policy is what refused: without it a packet socket fails for want of
    // CAP_NET_RAW instead.
    let packet = format!("socket:{}", libc::AF_PACKET);
    let (_, got) = attempt(&mut c, &[&packet], limits(), SeccompPolicy::Disabled);
    assert_ne!(got[&packet], err(libc::EAFNOSUPPORT), "{got:?}");
    assert_still_works(&mut c);
}

/// The verdict of `hostile_exec MODE` under `policy`, run through `exec_file`.
fn exec_attempt(c: &mut Container, mode: &str, policy: SeccompPolicy) -> RunResult {
    run_guarded_with(c, "hostile_exec", &[mode], limits(), policy)
}

#[test]
fn the_single_program_policy_runs_the_program_by_file_and_by_path() {
    let _g = shared();
    prog("hostile_exec");
    let mut config = ContainerConfig::default();
    config.mounts.push(progs_mount());
    let mut c = Container::new(&config).unwrap();
    let r = exec_attempt(&mut c, "none", SeccompPolicy::SingleProgram);
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "ran\n");
    let [pid, mnt] = host_ns();
    let path = format!("{PROGS_TARGET}/hostile_exec");
    for (mode, status) in [("none", Status::Ok), ("execve", Status::DisallowedSyscall)] {
        let mut p = run_param([path.as_str(), &pid, &mnt, mode]);
        p.seccomp = SeccompPolicy::SingleProgram;
        let r = c.run(&p).unwrap();
        assert_eq!(r.status, status, "by path, {mode}: {}", show(&r));
        assert_eq!(text(&r.stdout), "ran\n", "by path, {mode}: {}", show(&r));
    }
    // Other programs (the shell, the C library's helpers) run too: the lock holds
    // the path of each run, not of the first.
    let mut p = run_param(["/bin/sh", "-c", "echo shell"]);
    p.seccomp = SeccompPolicy::SingleProgram;
    let r = c.run(&p).unwrap();
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "shell\n");
    assert_still_works(&mut c);
}

/// Whether the running kernel is older than major.minor.
fn kernel_before(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok()).unwrap();
    (next(), next()) < (major, minor)
}

#[test]
fn the_single_program_policy_kills_any_later_exec() {
    let _g = shared();
    let mut c = container();
    for mode in ["execve", "execveat"] {
        let r = exec_attempt(&mut c, mode, SeccompPolicy::SingleProgram);
        assert_eq!(r.status, Status::DisallowedSyscall, "{mode}: {}", show(&r));
        assert_eq!(r.signal, Some(libc::SIGSYS), "{mode}: {}", show(&r));
        assert_eq!(text(&r.stdout), "ran\n", "{mode}: {}", show(&r));
        assert!(!r.message.is_empty());
    }
    // system(): the forked shell dies at its exec and never runs. The program
    // reaps it itself and goes on: a filter kills only the caller, so this run is
    // judged by its exit.
    let r = exec_attempt(&mut c, "system", SeccompPolicy::SingleProgram);
    if kernel_before(5, 16) && r.status == Status::DisallowedSyscall {
        // Before 5.16 the kill's core-dump step ends every process sharing the
        // killed one's memory, and glibc's system() forks with CLONE_VM: the
        // program dies with its shell, and the verdict is the same.
        assert_eq!(r.signal, Some(libc::SIGSYS), "{}", show(&r));
        assert_eq!(text(&r.stdout), "ran\n", "{}", show(&r));
    } else {
        assert_eq!(
            text(&r.stdout),
            format!("ran\nsystem signal {}\n", libc::SIGSYS),
            "{}",
            show(&r)
        );
    }
    // A killed process the init reaps (an orphan) decides the run as the main
    // process would.
    let r = exec_attempt(&mut c, "orphan", SeccompPolicy::SingleProgram);
    assert_eq!(r.status, Status::DisallowedSyscall, "{}", show(&r));
    assert_eq!(r.exit_code, Some(0), "{}", show(&r));
    assert_eq!(text(&r.stdout), "ran\norphan gone\n", "{}", show(&r));
    assert_still_works(&mut c);
}

#[test]
fn the_default_policy_lets_a_program_exec() {
    let _g = shared();
    let mut c = container();
    for mode in ["execve", "execveat"] {
        let r = exec_attempt(&mut c, mode, SeccompPolicy::Default);
        assert_ok(&r);
        assert_eq!(text(&r.stdout), "ran\n", "{mode}");
    }
    let r = exec_attempt(&mut c, "system", SeccompPolicy::Default);
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "ran\nsystem exited 0\n");
    let r = exec_attempt(&mut c, "orphan", SeccompPolicy::Default);
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "ran\norphan gone\n");
}

#[test]
fn a_ptrace_stop_is_not_mistaken_for_the_end_of_the_run() {
    let _g = shared();
    let mut c = container();
    // Without seccomp PTRACE_TRACEME is allowed (the tracer, the init, is the more
    // privileged side): the program then stops itself. Nothing continues it, so the
    // run must end at the wall limit, reported as such, not as an exit.
    let r = run_guarded_with(
        &mut c,
        "hostile_sys",
        &["traceme_stop"],
        set!(Limits::default(), wall_time = Some(Duration::from_secs(2))),
        SeccompPolicy::Disabled,
    );
    let out = text(&r.stdout);
    if out.starts_with("traceme_stop err") {
        // The kernel refused the request: nothing more to check.
        assert_ok(&r);
        return;
    }
    assert!(out.starts_with("traceme ok\n"), "{}", show(&r));
    assert!(
        matches!(r.status, Status::WallTimeLimitExceeded | Status::Ok),
        "a stopped tracee was reported as {:?} (exit code {:?}, signal {:?})",
        r.status,
        r.exit_code,
        r.signal
    );
    assert_only_the_init_is_left(&mut c);
    assert_still_works(&mut c);
}

// ---------------------------------------------------------------------------------
// 6. Limits the program cannot raise.

#[test]
fn hard_limits_cannot_be_raised() {
    let _g = shared();
    let mut c = container();
    let fixed = set!(
        limits(),
        output = Some(MIB),
        open_files = Some(64),
        stack = Some(8 * MIB)
    );
    for policy in [SeccompPolicy::Default, SeccompPolicy::Disabled] {
        let (r, got) = attempt(
            &mut c,
            &["limits", "nofile_raise", "fsize_raise"],
            fixed.clone(),
            policy.clone(),
        );
        let out = text(&r.stdout);
        for line in [
            "limit nofile 64 64",
            "limit fsize 1048576 1048576",
            "limit stack 8388608 8388608",
            "limit core 0 0",
        ] {
            assert!(
                out.lines().any(|l| l == line),
                "{policy:?}: no {line:?} in\n{out}"
            );
        }
        assert_outcomes(
            &got,
            &[
                ("nofile_raise", err(libc::EPERM)),
                ("fsize_raise", err(libc::EPERM)),
            ],
            &format!("{policy:?}"),
        );
    }
    // With no output limit the file size is unlimited; lowered, it stays lowered.
    let (_, got) = attempt(&mut c, &["fsize_raise"], limits(), SeccompPolicy::Default);
    assert_outcomes(&got, &[("fsize_raise", err(libc::EPERM))], "default");
}

// ---------------------------------------------------------------------------------
// 7. Files, processes, network and descriptors of others.

#[test]
fn host_secrets_and_the_inits_internals_are_unreachable() {
    let _g = shared();
    // Not bound at all by default.
    let mut c = container();
    let (_, got) = attempt(&mut c, &["shadow"], limits(), SeccompPolicy::Default);
    assert_outcomes(&got, &[("shadow", err(libc::ENOENT))], "default");

    // With the host's /etc bound: /etc/hostname is readable directly, /etc/shadow is
    // not, and nothing of the init's is reachable through /proc/1.
    let mut config = ContainerConfig::default();
    config.mounts.push(Mount::read_only("/etc"));
    let mut c = Container::new(&config).unwrap();
    let eacces = err(libc::EACCES);
    // /proc/1 is invisible (hidepid=2, the init is not dumpable).
    let enoent = err(libc::ENOENT);
    let mut expected = vec![
        ("shadow", eacces.clone()),
        ("proc1root", enoent.clone()),
        ("proc1root_dir", enoent.clone()),
        ("proc1fd", enoent.clone()),
        ("proc1mem", enoent.clone()),
    ];
    if std::path::Path::new("/etc/hostname").exists() {
        expected.push(("hostname", "ok".into()));
    }
    let actions: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    for policy in [SeccompPolicy::Default, SeccompPolicy::Disabled] {
        let (_, got) = attempt(&mut c, &actions, limits(), policy.clone());
        assert_outcomes(&got, &expected, &format!("{policy:?}"));
    }

    // The init's root is the container's root, not the host's.
    let root: Vec<String> = std::fs::read_dir(format!("/proc/{}/root", c.init_pid()))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for present in ["w", "tmp", "proc", "dev"] {
        assert!(root.iter().any(|e| e == present), "no /{present}: {root:?}");
    }
    for absent in ["sys", "root", "var", "home"] {
        assert!(!root.iter().any(|e| e == absent), "/{absent}: {root:?}");
    }
}

#[test]
fn tcp_to_the_host_fails() {
    let _g = shared();
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // The loopback address and every other IPv4 address of the host.
    let mut addresses = vec!["127.0.0.1".to_string()];
    for ifaddr in nix::ifaddrs::getifaddrs().unwrap() {
        let ip = ifaddr
            .address
            .as_ref()
            .and_then(|a| a.as_sockaddr_in())
            .map(|a| a.ip());
        if let Some(ip) = ip {
            if !ip.is_loopback() {
                addresses.push(ip.to_string());
            }
        }
    }
    let actions: Vec<String> = addresses
        .iter()
        .map(|ip| format!("connect:{ip}:{port}"))
        .collect();
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    let mut c = container();
    let (r, got) = attempt(&mut c, &actions, limits(), SeccompPolicy::Default);
    for action in &actions {
        let outcome = &got[*action];
        assert!(
            *outcome == err(libc::ECONNREFUSED) || *outcome == err(libc::ENETUNREACH),
            "{action}: {outcome} ({})\n{}",
            outcome
                .strip_prefix("err ")
                .and_then(|e| e.parse().ok())
                .map_or_else(String::new, sys_name),
            text(&r.stdout)
        );
    }
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the host listener got a connection: {other:?}"),
    }
}

#[test]
fn the_program_sees_only_its_three_descriptors() {
    let _g = shared();
    let mut c = container();
    for policy in [SeccompPolicy::Default, SeccompPolicy::Disabled] {
        let (r, _) = attempt(&mut c, &["fds"], limits(), policy.clone());
        assert_eq!(text(&r.stdout), "fds 0 1 2\n", "{policy:?}");
    }
}
