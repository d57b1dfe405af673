//! The supervisor of one named container: `scpool run -d` starts it (the same
//! executable, a hidden subcommand, in a session of its own). It creates the
//! container, runs the program, records the state, and holds the container until
//! `scpool rm`, answering `exec`, `stop` and `shutdown` on its control socket.
//!
//! The container's init serves one program at a time: `exec` runs in the
//! container once its program has ended (or been stopped), and is refused while it
//! runs.

use super::cleanup;
use super::control::{self, Reply, Request};
use super::state::{self, Exit, Lock, Phase, State, STDERR_LOG, STDOUT_LOG};
use crate::commands::run::RunArgs;
use crate::error::CliError;
use crate::{program, report, stdin};
use scpool_core::{Container, ExecveParam, RunResult};
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
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
    init_pid: i32,
    /// Whether the program still runs, and the signal of its end.
    running: Mutex<bool>,
    ended: Condvar,
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
    let listener = control::listen(dir)?;
    update(dir, |s| s.state = Phase::Running)?;
    let shared = Shared {
        dir: dir.to_path_buf(),
        options: options.clone(),
        container: Mutex::new(Some(container)),
        init_pid,
        running: Mutex::new(true),
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
    *shared
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = false;
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
            // Destroying the container kills what remains and removes its cgroup. An
            // exec holds the container until its program ends: end it.
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
    // The init runs one program at a time; the main program holds it while it runs.
    let mut guard = match shared.container.try_lock() {
        Ok(guard) => guard,
        Err(_) => {
            return Reply::Failed {
                message: "the container's program is running, and a container runs one program \
                          at a time: exec works once it has exited ('scpool stop' ends it)"
                    .into(),
            }
        }
    };
    let Some(container) = guard.as_mut() else {
        return Reply::Failed {
            message: "the container is gone".into(),
        };
    };
    let mut param = ExecveParam::new(args.into_iter().map(OsString::from_vec));
    param.env = env.into_iter().map(OsString::from_vec).collect();
    param.cwd = PathBuf::from(OsString::from_vec(cwd));
    param.files = fds.iter().map(AsFd::as_fd).collect();
    param.limits = crate::run_cmd::limits(&shared.options);
    param.seccomp = shared.options.seccomp.clone();
    match container.execve(&param) {
        Ok(result) => Reply::Exited {
            exit_status: report::exit_status(&result),
            note: report::status_note(&result),
        },
        Err(e) => Reply::Failed {
            message: format!("cannot run the program: {e}"),
        },
    }
}

/// SIGTERM to every process of the container but its init, SIGKILL after
/// `grace`; returns once the program has ended.
fn stop(shared: &Shared, grace: Duration) {
    let deadline = Instant::now() + grace;
    let mut signal = libc::SIGTERM;
    if grace.is_zero() {
        signal = libc::SIGKILL;
    }
    let mut running = shared
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    while *running {
        cleanup::signal_descendants(shared.init_pid, signal);
        let now = Instant::now();
        let wait = if signal == libc::SIGKILL {
            Duration::from_millis(100)
        } else {
            deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(100))
        };
        running = shared
            .ended
            .wait_timeout(running, wait)
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
