//! The supervisor of one named container: `scpool run -d` starts it (the same
//! executable, a hidden subcommand, in a session of its own). It creates the
//! container, runs the program, records the state, and holds the container until
//! `scpool rm`, answering `exec`, `stop` and `shutdown` on its control socket.
//!
//! `exec` starts its program beside the container's own (see the library's
//! `alongside`), while that runs and after it ended; `stop` and `shutdown` end
//! exec'd programs too.

use super::cleanup;
use super::control::{self, Reply, Request};
use super::state::{self, Exit, Lock, Phase, State, STDERR_LOG, STDOUT_LOG};
use crate::commands::run::RunArgs;
use crate::error::CliError;
use crate::{program, report, stdin};
use scpool_core::{Container, ExecHandle, ExecveParam, RunResult};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What the threads of the supervisor share.
struct Shared {
    dir: PathBuf,
    options: RunArgs,
    container: Mutex<Option<Container>>,
    /// Starts exec'd programs, also while the container's program holds it.
    exec: ExecHandle,
    init_pid: i32,
    /// What still runs, and the signal of each end.
    live: Mutex<Live>,
    ended: Condvar,
}

/// The container's program and the exec'd ones still running.
#[derive(Default)]
struct Live {
    running: bool,
    next_exec: u64,
    /// A pidfd of each exec'd program, by exec number.
    execs: HashMap<u64, OwnedFd>,
}

impl Shared {
    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The hidden subcommand's body. Its stdout is the pipe `run -d` waits on: one line,
/// "ok" or the error, then it is pointed at the log.
pub fn supervise(name: &str, options: &RunArgs) -> Result<u8, CliError> {
    let dir = state::dir_of(name)?;
    let (shared, listener) = match start(&dir, options) {
        Ok(started) => started,
        Err(e) => {
            tell_starter(&format!("{}\n", e.message));
            return Err(e);
        }
    };
    tell_starter("ok\n");
    let shared = Arc::new(shared);
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || run_program(&shared));
    }
    loop {
        let Ok(conn) = control::accept(&listener) else {
            continue;
        };
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || serve(&shared, conn));
    }
}

/// Writes to `run -d`, then points stdout at the log (closing the pipe: the
/// starter reads to its end).
fn tell_starter(line: &str) {
    let _ = std::io::stdout().write_all(line.as_bytes());
    let _ = std::io::stdout().flush();
    // stderr already goes to the log.
    // SAFETY: dup2 of our own descriptors.
    unsafe { libc::dup2(2, 1) };
}

fn update(dir: &Path, change: impl FnOnce(&mut State)) -> Result<(), CliError> {
    let _lock = Lock::take(dir)?;
    let mut current = state::read(dir)?
        .ok_or_else(|| CliError::runtime(format!("{} has no state", dir.display())))?;
    change(&mut current);
    state::write(dir, &current)
}

/// Creates the container and the control socket; the state says running only
/// once both exist, so whoever sees it can connect.
fn start(dir: &Path, options: &RunArgs) -> Result<(Shared, OwnedFd), CliError> {
    let pid = std::process::id();
    let start_time = state::start_time(pid).unwrap_or(0);
    let config = crate::run_config::container_config(options)?;
    let parents = cleanup::cgroup_parents(options.cgroup_parent.as_deref());
    update(dir, |s| {
        s.supervisor_pid = pid;
        s.supervisor_start = start_time;
        s.cgroup_parents = parents;
    })?;
    let container =
        Container::new(&config).map_err(|e| CliError::from_core("creating the container", e))?;
    let init_pid = container.init_pid();
    let exec = container
        .exec_handle()
        .map_err(|e| CliError::from_core("preparing exec", e))?;
    let listener = control::listen(dir)?;
    update(dir, |s| s.state = Phase::Running)?;
    let shared = Shared {
        dir: dir.to_path_buf(),
        options: options.clone(),
        container: Mutex::new(Some(container)),
        exec,
        init_pid,
        live: Mutex::new(Live {
            running: true,
            ..Live::default()
        }),
        ended: Condvar::new(),
    };
    Ok((shared, listener))
}

fn log_file(dir: &Path, name: &str) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(dir.join(name))
}

/// The program's argv: a name without '/' is looked up on the host as `run` does,
/// except on image layers, whose programs are not the host's.
fn program_args(options: &RunArgs) -> Vec<OsString> {
    let program = options.program();
    let argv0 = if options.image_layers.is_empty() {
        program::resolve_on_host(program)
            .map_or_else(|| program.to_owned(), PathBuf::into_os_string)
    } else {
        program.to_owned()
    };
    let mut args = vec![argv0];
    args.extend(options.program_args().iter().cloned());
    args
}

fn exit_of(result: &RunResult) -> Exit {
    Exit {
        status: result.status.name().to_string(),
        exit_code: result.exit_code,
        signal: result.signal,
        exit_status: report::exit_status(result),
    }
}

fn run_program(shared: &Shared) {
    let outcome = run_main(shared);
    let (exit, error) = match outcome {
        Ok(result) => (Some(exit_of(&result)), None),
        Err(e) => (None, Some(e.message)),
    };
    let _ = update(&shared.dir, |s| {
        s.state = Phase::Exited;
        s.exit = exit;
        s.error = error;
    });
    shared.live().running = false;
    shared.ended.notify_all();
}

fn run_main(shared: &Shared) -> Result<RunResult, CliError> {
    let options = &shared.options;
    let io = |e: std::io::Error| CliError::runtime(format!("opening the output logs: {e}"));
    let stdout = log_file(&shared.dir, STDOUT_LOG).map_err(io)?;
    let stderr = log_file(&shared.dir, STDERR_LOG).map_err(io)?;
    let input = stdin::open(options.stdin.as_deref())?;
    let exec_file = match options.host_exec {
        true => {
            let path = program::resolve_on_host(options.program()).ok_or_else(|| {
                CliError::runtime(format!("--host-exec: {:?} not found", options.program()))
            })?;
            Some(
                scpool_core::memfd_copy_of(&path)
                    .map_err(|e| CliError::from_core("--host-exec", e))?,
            )
        }
        false => None,
    };
    let mut param = ExecveParam::new(program_args(options));
    param.env = options.env.clone();
    param.cwd = options.cwd.clone();
    param.files = vec![input.as_fd(), stdout.as_fd(), stderr.as_fd()];
    param.exec_file = exec_file.as_ref().map(AsFd::as_fd);
    param.limits = crate::run_cmd::limits(options);
    param.seccomp = options.seccomp.clone();
    let mut container = shared
        .container
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let container = container
        .as_mut()
        .ok_or_else(|| CliError::runtime("the container is gone"))?;
    container
        .execve(&param)
        .map_err(|e| CliError::from_core("cannot run the program", e))
}

fn serve(shared: &Shared, conn: OwnedFd) {
    let reply = match control::recv::<Request>(&conn) {
        Ok(Some((Request::Exec { args, env, cwd }, fds))) => exec(shared, args, env, cwd, fds),
        Ok(Some((Request::Stop { grace_ms }, _))) => {
            stop(shared, Duration::from_millis(grace_ms));
            Reply::Done
        }
        Ok(Some((Request::Shutdown, _))) => {
            stop(shared, Duration::ZERO);
            // Destroying the container kills what remains (an exec started since
            // included) and removes its cgroup. The program's run holds the
            // container until it has ended: end it.
            let mut container = loop {
                match shared.container.try_lock() {
                    Ok(guard) => break guard,
                    Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        cleanup::signal_descendants(shared.init_pid, libc::SIGKILL);
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            };
            drop(container.take());
            let _ = control::send(&conn, &Reply::Done, &[]);
            std::process::exit(0);
        }
        Ok(None) => return,
        Err(e) => Reply::Failed { message: e.message },
    };
    let _ = control::send(&conn, &reply, &[]);
}

fn exec(
    shared: &Shared,
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    cwd: Vec<u8>,
    fds: Vec<OwnedFd>,
) -> Reply {
    if fds.len() != 3 {
        return Reply::Failed {
            message: format!(
                "exec needs stdin, stdout and stderr, got {} descriptors",
                fds.len()
            ),
        };
    }
    let mut param = ExecveParam::new(args.into_iter().map(OsString::from_vec));
    param.env = env.into_iter().map(OsString::from_vec).collect();
    param.cwd = PathBuf::from(OsString::from_vec(cwd));
    param.files = fds.iter().map(AsFd::as_fd).collect();
    param.limits = crate::run_cmd::limits(&shared.options);
    param.seccomp = shared.options.seccomp.clone();
    let mut program = match shared.exec.spawn(&param) {
        Ok(program) => program,
        Err(e) => {
            return Reply::Failed {
                message: format!("cannot run the program: {e}"),
            }
        }
    };
    // Known to `stop` until it ends.
    let number = {
        let mut live = shared.live();
        let number = live.next_exec;
        live.next_exec += 1;
        if let Ok(pidfd) = program.pidfd().try_clone_to_owned() {
            live.execs.insert(number, pidfd);
        }
        number
    };
    let waited = program.wait();
    shared.live().execs.remove(&number);
    shared.ended.notify_all();
    match waited {
        Ok(result) => Reply::Exited {
            exit_status: report::exit_status(&result),
            note: report::status_note(&result),
        },
        Err(e) => Reply::Failed {
            message: format!("cannot run the program: {e}"),
        },
    }
}

/// Sends `signal` to a process by its pidfd (nothing if it has ended).
fn signal_pidfd(pidfd: &OwnedFd, signal: i32) {
    // SAFETY: pidfd_send_signal on a pidfd we hold, with no siginfo.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
}

/// SIGTERM to every process of the container's program and to every exec'd
/// program, SIGKILL after `grace`; returns once all have ended.
fn stop(shared: &Shared, grace: Duration) {
    let deadline = Instant::now() + grace;
    let mut signal = libc::SIGTERM;
    if grace.is_zero() {
        signal = libc::SIGKILL;
    }
    let mut live = shared.live();
    while live.running || !live.execs.is_empty() {
        if live.running {
            cleanup::signal_descendants(shared.init_pid, signal);
        }
        for pidfd in live.execs.values() {
            signal_pidfd(pidfd, signal);
        }
        let now = Instant::now();
        let wait = if signal == libc::SIGKILL {
            Duration::from_millis(100)
        } else {
            deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(100))
        };
        live = shared
            .ended
            .wait_timeout(live, wait)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if Instant::now() >= deadline {
            signal = libc::SIGKILL;
        }
    }
}

/// The first state of a container whose supervisor is about to start.
pub fn initial_state(name: &str, options: &RunArgs) -> State {
    State {
        name: name.to_string(),
        id: state::new_id(),
        image: options.image.clone(),
        image_layers: options.image_layers.clone(),
        command: options
            .command
            .iter()
            .map(|a| String::from_utf8_lossy(a.as_bytes()).into_owned())
            .collect(),
        created: state::now_secs(),
        state: Phase::Created,
        exit: None,
        error: None,
        supervisor_pid: 0,
        supervisor_start: 0,
        cgroup_parents: Vec::new(),
    }
}
