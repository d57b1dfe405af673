//! Named containers: `scpool run -d --name`, `ps`, `exec`, `stop` and `rm`. Each
//! detached container is held by a supervisor process of its own (see
//! `supervisor`); its state lives in a directory per name (see `state`).

mod cleanup;
mod control;
pub mod state;
pub mod supervisor;
mod table;

use crate::commands::exec::ExecArgs;
use crate::commands::ps::PsArgs;
use crate::commands::rm::RmArgs;
use crate::commands::run::RunArgs;
use crate::commands::stop::StopArgs;
use crate::error::CliError;
use control::{Reply, Request};
use state::{Lock, Phase, State, SUPERVISOR_LOG};
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `scpool run -d`: reserves the name, starts the supervisor with the same run
/// options, and prints the container's id once the program has started.
pub fn run_detached(options: &RunArgs) -> Result<u8, CliError> {
    let name = options
        .name
        .as_deref()
        .ok_or_else(|| CliError::rejected("-d needs --name"))?;
    // The supervisor parses the very options `run` got.
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(std::ffi::OsStr::new("run")) {
        return Err(CliError::runtime("run -d: cannot find the run options"));
    }
    let run_args: Vec<_> = args.collect();
    let dir = state::reserve(name)?;
    match start_supervisor(&dir, name, options, &run_args) {
        Ok(id) => {
            println!("{id}");
            Ok(0)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

fn start_supervisor(
    dir: &Path,
    name: &str,
    options: &RunArgs,
    run_args: &[std::ffi::OsString],
) -> Result<String, CliError> {
    let initial = supervisor::initial_state(name, options);
    let lock = Lock::take(dir)?;
    state::write(dir, &initial)?;
    let log = std::fs::File::create(dir.join(SUPERVISOR_LOG))
        .map_err(|e| CliError::runtime(format!("creating the supervisor's log: {e}")))?;
    let mut command = Command::new("/proc/self/exe");
    command
        .arg("supervise")
        .args(run_args)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; it detaches the supervisor from our
    // session and terminal, so neither a closed terminal nor our exit touches it.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| CliError::runtime(format!("starting the supervisor: {e}")))?;
    drop(lock);
    let mut said = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut said);
    }
    if said.trim_end() == "ok" {
        return Ok(initial.id);
    }
    let _ = child.wait();
    let message = match said.trim_end() {
        "" => {
            let log = std::fs::read_to_string(dir.join(SUPERVISOR_LOG)).unwrap_or_default();
            format!(
                "the supervisor died before the program started: {}",
                log.trim_end()
            )
        }
        message => message.to_string(),
    };
    Err(CliError::runtime(message))
}

/// The state of `name`, which must exist.
fn existing(name: &str) -> Result<(std::path::PathBuf, State), CliError> {
    let dir = state::dir_of(name)?;
    match state::read(&dir)? {
        Some(state) => Ok((dir, state)),
        None if dir.exists() => Err(CliError::runtime(format!(
            "container {name:?} is being created"
        ))),
        None => Err(CliError::runtime(format!("no such container: {name}"))),
    }
}

pub fn ps(options: &PsArgs) -> Result<u8, CliError> {
    let root = state::containers_dir()?;
    let mut states = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            if let Ok(Some(mut state)) = state::read(&entry.path()) {
                state.state = state.effective_phase();
                if options.all || state.state != Phase::Exited {
                    states.push(state);
                }
            }
        }
    }
    states.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
    let out = if options.json {
        table::json(&states)
    } else {
        table::text(&states)
    };
    print!("{out}");
    Ok(0)
}

pub fn exec(options: &ExecArgs) -> Result<u8, CliError> {
    let (dir, state) = existing(&options.name)?;
    if !state.supervisor_alive() {
        return Err(CliError::runtime(format!(
            "container {} is gone (its supervisor exited): 'scpool rm {}'",
            options.name, options.name
        )));
    }
    let request = Request::Exec {
        args: options
            .command
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect(),
        env: options.env.iter().map(|e| e.as_bytes().to_vec()).collect(),
        cwd: options.cwd.as_os_str().as_bytes().to_vec(),
    };
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    let stdio = [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    match control::call(&dir, &request, &stdio)? {
        Reply::Exited { exit_status, note } => {
            if let Some(note) = note {
                eprintln!("{note}");
            }
            Ok(exit_status)
        }
        Reply::Failed { message } => Err(CliError::runtime(message)),
        Reply::Done => Err(CliError::runtime("the supervisor answered out of turn")),
    }
}

pub fn stop(options: &StopArgs) -> Result<u8, CliError> {
    let mut status = 0;
    for name in &options.names {
        match stop_one(name, Duration::from_secs(options.time)) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{e}");
                status = crate::error::EXIT_RUNTIME;
            }
        }
    }
    Ok(status)
}

fn stop_one(name: &str, grace: Duration) -> Result<(), CliError> {
    let (dir, state) = existing(name)?;
    if state.effective_phase() != Phase::Running {
        return Ok(());
    }
    let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
    match control::call(&dir, &Request::Stop { grace_ms }, &[])? {
        Reply::Failed { message } => Err(CliError::runtime(message)),
        _ => Ok(()),
    }
}

pub fn rm(options: &RmArgs) -> Result<u8, CliError> {
    let mut status = 0;
    for name in &options.names {
        match rm_one(name, options.force) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{e}");
                status = crate::error::EXIT_RUNTIME;
            }
        }
    }
    Ok(status)
}

fn rm_one(name: &str, force: bool) -> Result<(), CliError> {
    let dir = state::dir_of(name)?;
    if force && dir.exists() && state::read(&dir).ok().flatten().is_none() {
        // Reserved by a `run -d` that died before its first state: nothing runs.
        return std::fs::remove_dir_all(&dir)
            .map_err(|e| CliError::runtime(format!("removing {}: {e}", dir.display())));
    }
    let (dir, state) = existing(name)?;
    if state.effective_phase() == Phase::Running && !force {
        return Err(CliError::runtime(format!(
            "container {name} is running: 'scpool stop {name}' first, or 'scpool rm -f {name}'"
        )));
    }
    if state.supervisor_alive() {
        // A clean end: the supervisor destroys the container (its cgroup too).
        let _ = control::call(&dir, &Request::Shutdown, &[]);
        if !wait_gone(&state, Duration::from_secs(10)) {
            // SAFETY: kill of the recorded supervisor, its start time checked just now.
            unsafe { libc::kill(state.supervisor_pid as i32, libc::SIGKILL) };
            wait_gone(&state, Duration::from_secs(10));
        }
    }
    // A supervisor that was killed left its container's cgroups behind.
    cleanup::sweep(state.supervisor_pid, &state.cgroup_parents);
    std::fs::remove_dir_all(&dir)
        .map_err(|e| CliError::runtime(format!("removing {}: {e}", dir.display())))
}

fn wait_gone(state: &State, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while state.supervisor_alive() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
