//! Helpers shared by the integration tests: test programs compiled from
//! `tests/progs/*.c`, the host's namespace identities for the hostile programs'
//! guard, and runs with captured output.
//!
//! Each test binary compiles its programs once (per process, whatever the number of
//! test threads) into `$CARGO_TARGET_TMPDIR/scpool-test-<pid>`, which it removes when
//! it exits. Nothing is written to /tmp.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod leakcheck;

/// A value of one of the library's non-exhaustive structs (they take no struct
/// literal outside the library): `base` with the fields named set, as
/// `set!(Limits::default(), memory = Some(64 << 20), wall_time = Some(d))`.
macro_rules! set {
    ($base:expr, $($($field:ident).+ = $value:expr),+ $(,)?) => {{
        let mut value = $base;
        $(value.$($field).+ = $value;)+
        value
    }};
}
// Each test binary uses a different subset of these helpers.
#[allow(unused_imports)]
pub(crate) use set;

use scpool_core::{
    memfd_copy_of, Container, ContainerConfig, ExecveParam, Limits, Mount, RunParam, RunResult,
    SeccompPolicy,
};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

/// The exit code of a guarded program that refused to act outside a sandbox.
pub const GUARD_REFUSED: i32 = 99;

/// The environment given to every program unless a test says otherwise.
pub const PATH_ENV: &str = "PATH=/usr/bin:/bin";

/// A safety net for runs that should end by themselves: a broken sandbox makes a
/// test fail instead of hang.
pub const SAFETY_WALL_TIME: Duration = Duration::from_secs(60);

/// The directory holding the C sources of the test programs.
pub fn progs_source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/progs")
}

/// This process's scratch directory under cargo's target/tmp, created on first use
/// and removed when the process exits.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch_dir_in(Path::new(env!("CARGO_TARGET_TMPDIR"))))
}

/// A fresh directory of this process's under `base` (`scpool-test-<pid>`), removed
/// when the process exits, as are those that test processes which died left there.
/// Call it once per base.
pub fn scratch_dir_in(base: &Path) -> PathBuf {
    remove_stale_scratch_dirs(base);
    let dir = base.join(format!("scpool-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the test scratch directory");
    SCRATCH_DIRS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(dir.clone());
    static CLEANUP: Once = Once::new();
    CLEANUP.call_once(|| {
        // SAFETY: registers a plain extern "C" function with no arguments; it runs
        // once at process exit.
        let rc = unsafe { libc::atexit(remove_scratch_dirs) };
        assert_eq!(rc, 0, "atexit failed");
    });
    dir
}

/// Every scratch directory this process made.
static SCRATCH_DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

extern "C" fn remove_scratch_dirs() {
    let dirs = SCRATCH_DIRS.lock().unwrap_or_else(|p| p.into_inner());
    for dir in dirs.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Scratch directories of test processes that died without cleaning up.
fn remove_stale_scratch_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("scpool-test-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Extra compiler flags a test program asks for in its source, on a line holding
/// `scpool-test-cflags: FLAGS` (e.g. `/* scpool-test-cflags: -pthread */`).
fn extra_cflags(source: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(source)
        .unwrap_or_else(|e| panic!("reading {}: {e}", source.display()));
    text.lines()
        .find_map(|line| line.split_once("scpool-test-cflags:"))
        .map(|(_, flags)| {
            flags
                .trim()
                .trim_end_matches("*/")
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The host path of test program `name` (from `tests/progs/NAME.c`), compiled
/// statically with `-O2 -Wall -Werror` (plus the source's own
/// `scpool-test-cflags:`) on first use.
pub fn prog(name: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    // A test that panicked while holding the lock leaves a usable map behind.
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let source_dir = progs_source_dir();
    let source = source_dir.join(format!("{name}.c"));
    let out_dir = scratch_dir().join("bin");
    std::fs::create_dir_all(&out_dir).expect("creating the program directory");
    let out = out_dir.join(name);
    let partial = out_dir.join(format!(".{name}.partial"));
    let output = Command::new("cc")
        .args(["-O2", "-Wall", "-Werror", "-static"])
        .args(extra_cflags(&source))
        .arg("-I")
        .arg(&source_dir)
        .arg("-o")
        .arg(&partial)
        .arg(&source)
        // The compiler's temporary files go to our scratch directory, not /tmp.
        .env("TMPDIR", scratch_dir())
        .output()
        .expect("running cc");
    assert!(
        output.status.success(),
        "compiling {}: {}\n{}",
        source.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &out).expect("moving the compiled program in place");
    built.insert(name.to_string(), out.clone());
    out
}

/// The host's PID and mount namespace identities, e.g. `["pid:[4026531836]",
/// "mnt:[4026531841]"]`: the first two arguments of every guarded program.
pub fn host_ns() -> [String; 2] {
    let link = |ns: &str| {
        std::fs::read_link(format!("/proc/self/ns/{ns}"))
            .unwrap_or_else(|e| panic!("reading /proc/self/ns/{ns}: {e}"))
            .to_string_lossy()
            .into_owned()
    };
    [link("pid"), link("mnt")]
}

/// Makes what the library keeps for the whole process, before a leak test's
/// baseline: the init image, the spawner thread, the cgroup thread and the thread
/// of the spare inits (which starts at the second container).
pub fn warm_up() {
    for _ in 0..2 {
        container().ping().unwrap();
    }
}

/// A container with the default configuration.
pub fn container() -> Container {
    let c = Container::new(&ContainerConfig::default()).expect("creating a container");
    assert_expected_accounting(&c);
    c
}

/// With SCPOOL_EXPECT_ACCOUNTING set (cgroup-v1, cgroup-v2 or none, as CI sets it
/// for a known host), a container that got other accounting fails the test instead
/// of passing without the cgroup's assertions.
#[track_caller]
pub fn assert_expected_accounting(c: &Container) {
    if let Ok(expected) = std::env::var("SCPOOL_EXPECT_ACCOUNTING") {
        assert_eq!(
            c.accounting().name(),
            expected,
            "this host was expected to give containers {expected} accounting"
        );
    }
}

/// A captured-output run of a host program inside the container (by path).
pub fn run_param<S: Into<OsString>>(args: impl IntoIterator<Item = S>) -> RunParam {
    let mut param = RunParam::new(args);
    param.env = vec![PATH_ENV.into()];
    param.limits = set!(Limits::default(), wall_time = Some(SAFETY_WALL_TIME));
    param
}

/// Shell code that exits with [`GUARD_REFUSED`] unless the shell runs in PID and
/// mount namespaces other than the host's (the shell twin of `tests/progs/guard.h`).
pub fn sh_guard() -> String {
    let [pid, mnt] = host_ns();
    format!(
        "scpool_ns_ok() {{ l=$(readlink \"/proc/self/ns/$1\") && \
         case \"$l\" in *'['*) [ \"$l\" != \"$2\" ] ;; *) false ;; esac; }}\n\
         scpool_ns_ok pid '{pid}' && scpool_ns_ok mnt '{mnt}' || exit {GUARD_REFUSED}\n"
    )
}

/// Runs `/bin/sh -c script` and returns the result, which must be a completed run.
/// The script is guarded: it does nothing unless it really runs in a sandbox.
pub fn sh(c: &mut Container, script: &str) -> RunResult {
    let guarded = format!("{}{script}", sh_guard());
    let r = c
        .run(&run_param(["/bin/sh", "-c", &guarded]))
        .unwrap_or_else(|e| panic!("running sh -c {script:?}: {e}"));
    assert_ne!(
        r.exit_code,
        Some(GUARD_REFUSED),
        "the shell refused to act: it does not believe it runs in a sandbox\n{r:?}"
    );
    r
}

/// Asserts a run ended with status OK and exit code 0, showing its output if not.
#[track_caller]
pub fn assert_ok(r: &RunResult) {
    assert_eq!(
        (r.status, r.exit_code),
        (scpool_core::Status::Ok, Some(0)),
        "run failed: {r:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
}

/// A close-on-exec memfd holding `data`, positioned at its start.
pub fn memfd_with(name: &str, data: &[u8]) -> File {
    let cname = std::ffi::CString::new(name).expect("memfd name without NUL");
    // SAFETY: `cname` is a valid NUL-terminated string; the call has no other inputs.
    let fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: memfd_create returned a new descriptor that nothing else owns.
    let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(data).expect("writing a memfd");
    file.rewind().expect("rewinding a memfd");
    file
}

/// Reads a whole file from its start.
pub fn read_all(file: &mut File) -> Vec<u8> {
    file.rewind().expect("rewinding");
    let mut data = Vec::new();
    file.read_to_end(&mut data).expect("reading");
    data
}

/// Runs test program `name` through `exec_file` (a memfd copy of the compiled
/// binary) with `args` after argv[0], `stdin` as its input and stdout/stderr
/// captured into the result. `Err` is the library's error.
pub fn try_run_prog(
    c: &mut Container,
    name: &str,
    args: &[&str],
    stdin: &[u8],
) -> scpool_core::Result<RunResult> {
    try_run_prog_with(
        c,
        name,
        args,
        stdin,
        Limits::default(),
        SeccompPolicy::Default,
    )
}

/// [`try_run_prog`] with the given limits (a wall-time limit of
/// [`SAFETY_WALL_TIME`] is added when they have none) and seccomp policy.
pub fn try_run_prog_with(
    c: &mut Container,
    name: &str,
    args: &[&str],
    stdin: &[u8],
    limits: Limits,
    seccomp: SeccompPolicy,
) -> scpool_core::Result<RunResult> {
    let exe = memfd_copy_of(prog(name))?;
    let stdin = memfd_with("test-stdin", stdin);
    let mut stdout = memfd_with("test-stdout", b"");
    let mut stderr = memfd_with("test-stderr", b"");
    let mut param = ExecveParam::new(std::iter::once(name).chain(args.iter().copied()));
    param.env = vec![PATH_ENV.into()];
    param.files = vec![stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    param.exec_file = Some(exe.as_fd());
    param.limits = limits;
    param.limits.wall_time = param.limits.wall_time.or(Some(SAFETY_WALL_TIME));
    param.seccomp = seccomp;
    let mut result = c.execve(&param)?;
    result.stdout = read_all(&mut stdout);
    result.stderr = read_all(&mut stderr);
    Ok(result)
}

/// [`try_run_prog`] that must not fail at the library level.
pub fn run_prog(c: &mut Container, name: &str, args: &[&str]) -> RunResult {
    try_run_prog(c, name, args, b"").unwrap_or_else(|e| panic!("running {name}: {e}"))
}

/// Runs a guarded (hostile) program: the host's namespace identities come first, so
/// the program refuses to act unless it is really inside a sandbox.
pub fn run_guarded(c: &mut Container, name: &str, args: &[&str]) -> RunResult {
    run_guarded_with(c, name, args, Limits::default(), SeccompPolicy::Default)
}

/// [`run_guarded`] with the given limits (see [`try_run_prog_with`]) and seccomp
/// policy.
pub fn run_guarded_with(
    c: &mut Container,
    name: &str,
    args: &[&str],
    limits: Limits,
    seccomp: SeccompPolicy,
) -> RunResult {
    let ns = host_ns();
    let mut all = vec![ns[0].as_str(), ns[1].as_str()];
    all.extend_from_slice(args);
    let r = try_run_prog_with(c, name, &all, b"", limits, seccomp)
        .unwrap_or_else(|e| panic!("running {name}: {e}"));
    assert_ne!(
        r.exit_code,
        Some(GUARD_REFUSED),
        "{name} refused to act: it does not believe it runs in a sandbox\n{r:?}"
    );
    r
}

/// The value of a `Key:` line of a /proc status file.
pub fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// Parses the output of the `pids` program: (its own pid, every pid in /proc).
pub fn parse_pids(stdout: &[u8]) -> (u32, Vec<u32>) {
    let text = String::from_utf8_lossy(stdout);
    let own = text
        .lines()
        .find_map(|l| l.strip_prefix("self="))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no self= line in {text:?}"));
    let all = text
        .lines()
        .find_map(|l| l.strip_prefix("procs="))
        .unwrap_or_else(|| panic!("no procs= line in {text:?}"))
        .split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect();
    (own, all)
}

/// Where [`progs_mount`] shows the compiled test programs inside a container.
pub const PROGS_TARGET: &str = "/progs";

/// A read-only bind of the compiled test programs at [`PROGS_TARGET`], for runs by
/// path (`Container::run`). Programs compiled later appear in it too.
pub fn progs_mount() -> Mount {
    let dir = scratch_dir().join("bin");
    std::fs::create_dir_all(&dir).expect("creating the program directory");
    Mount::new(dir, PROGS_TARGET)
}

/// The host's process count: the numeric entries of /proc.
pub fn host_process_count() -> usize {
    std::fs::read_dir("/proc")
        .expect("listing /proc")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .count()
}

/// The name of the runner a container's init keeps ready for the next run while
/// it is idle (its only child then).
pub const STANDBY_NAME: &str = "scpool-standby";

/// Every process descended from `pid` (children, grandchildren, ...), with its name
/// and state, but a standby runner among the direct children (when `pid` is a
/// container's init, the standby is no process of a run).
pub fn descendants_of(pid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for child in leakcheck::children_of(parent) {
            if parent == pid && child.1.starts_with(&format!("{STANDBY_NAME} ")) {
                continue;
            }
            parents.push(child.0);
            found.push(child);
        }
    }
    found.sort();
    found
}

/// Whether a host process is still running (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X"))
        })
        .unwrap_or(false)
}

/// A pool of one container, so the second acquire reuses the first's container.
pub fn pool_of_one(user_namespace: bool) -> scpool_core::Pool {
    let mut config = scpool_core::PoolConfig::with_size(1);
    config.container = set!(ContainerConfig::default(), user_namespace = user_namespace);
    scpool_core::Pool::new(config).expect("a pool of one container")
}

pub fn lines(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The value after `key ` on the line that starts with it.
pub fn field<'a>(out: &'a [String], key: &str) -> &'a str {
    out.iter()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key} in {out:?}"))
}
