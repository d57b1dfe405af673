//! Where named containers live and what is recorded of each: one directory per
//! name under the runtime directory, holding a JSON state file (replaced atomically:
//! written to a temporary file, then renamed), a lock file that serialises the
//! read-modify-write of several CLI processes, the supervisor's control socket and
//! its log, and the program's output.

use crate::error::CliError;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Overrides the runtime directory (tests, or several independent set-ups).
pub const RUNTIME_DIR_ENV: &str = "SCPOOL_RUNTIME_DIR";

pub const STATE_FILE: &str = "state.json";
pub const LOCK_FILE: &str = "lock";
pub const SOCKET: &str = "control.sock";
pub const SUPERVISOR_LOG: &str = "supervisor.log";
pub const STDOUT_LOG: &str = "stdout.log";
pub const STDERR_LOG: &str = "stderr.log";

/// What a named container is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The supervisor is starting: no program yet.
    Created,
    Running,
    /// The program ended (or the supervisor died): the container may still be held.
    Exited,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Created => "created",
            Phase::Running => "running",
            Phase::Exited => "exited",
        }
    }
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// The run's status name (OK, SIGNALLED, ...).
    pub status: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// What `scpool run` would have exited with.
    pub exit_status: u8,
}

/// The state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub name: String,
    pub id: String,
    /// The image's name when the container was made from a named image.
    pub image: Option<String>,
    pub image_layers: Vec<PathBuf>,
    pub command: Vec<String>,
    /// Seconds since the epoch.
    pub created: u64,
    pub state: Phase,
    pub exit: Option<Exit>,
    /// Why the supervisor gave up, when it did.
    pub error: Option<String>,
    /// The supervisor, and its start time (field 22 of /proc/PID/stat) so a reused
    /// pid is never taken for it.
    pub supervisor_pid: u32,
    pub supervisor_start: u64,
    /// The cgroup directories the supervisor's containers are made in (one per
    /// hierarchy), swept for leftovers when it died without cleaning up.
    pub cgroup_parents: Vec<PathBuf>,
}

/// The directory holding every named container's directory.
pub fn containers_dir() -> Result<PathBuf, CliError> {
    if let Some(dir) = std::env::var_os(RUNTIME_DIR_ENV) {
        return Ok(PathBuf::from(dir).join("containers"));
    }
    if nix::unistd::geteuid().is_root() {
        return Ok(PathBuf::from("/run/scpool/containers"));
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => Ok(PathBuf::from(dir).join("scpool/containers")),
        None => Err(CliError::runtime(
            "XDG_RUNTIME_DIR is not set: rootless named containers keep their state there",
        )),
    }
}

/// Docker's rule: a letter or digit, then letters, digits, '_', '.' or '-'.
pub fn check_name(name: &str) -> Result<(), CliError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(CliError::rejected(format!(
            "invalid container name {name:?}: 1 to 64 letters, digits, '_', '.' or '-', \
             starting with a letter or digit"
        )))
    }
}

pub fn dir_of(name: &str) -> Result<PathBuf, CliError> {
    check_name(name)?;
    Ok(containers_dir()?.join(name))
}

/// Reserves `name`: its directory is made with mkdir, which only one process can
/// win.
pub fn reserve(name: &str) -> Result<PathBuf, CliError> {
    let dir = dir_of(name)?;
    let parent = dir.parent().expect("a name's directory has a parent");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(|e| CliError::runtime(format!("creating {}: {e}", parent.display())))?;
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(CliError::runtime(format!(
            "the name {name:?} is already in use (see 'scpool ps -a'; 'scpool rm {name}' frees it)"
        ))),
        Err(e) => Err(CliError::runtime(format!(
            "creating {}: {e}",
            dir.display()
        ))),
    }
}

/// An exclusive flock on a container's lock file, released on drop (when the file
/// is closed).
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn take(dir: &Path) -> Result<Self, CliError> {
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| CliError::runtime(format!("opening {}: {e}", path.display())))?;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Self { _file: file });
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(CliError::runtime(format!(
                    "locking {}: {e}",
                    path.display()
                )));
            }
        }
    }
}

/// The state of the container in `dir`; `None` while its supervisor has not
/// written one yet (or the directory went away).
pub fn read(dir: &Path) -> Result<Option<State>, CliError> {
    let path = dir.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CliError::runtime(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::runtime(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

/// Replaces the state file: a reader sees the old or the new one, never half.
pub fn write(dir: &Path, state: &State) -> Result<(), CliError> {
    let path = dir.join(STATE_FILE);
    let temp = dir.join(format!(".{STATE_FILE}.{}", std::process::id()));
    let failed = |e: std::io::Error| CliError::runtime(format!("writing {}: {e}", path.display()));
    let json = serde_json::to_vec(state).expect("a state serialises");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&temp)
        .map_err(failed)?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    std::fs::rename(&temp, &path).map_err(failed)
}

/// Field 22 of /proc/PID/stat (start time in clock ticks since boot), `None` once
/// the process is gone or has exited (a zombie).
pub fn start_time(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    fields.get(19)?.parse().ok()
}

impl State {
    /// Whether the supervisor recorded here still runs.
    pub fn supervisor_alive(&self) -> bool {
        self.supervisor_pid != 0 && start_time(self.supervisor_pid) == Some(self.supervisor_start)
    }

    /// The phase as it really is: a container whose supervisor died is not running.
    pub fn effective_phase(&self) -> Phase {
        match self.state {
            Phase::Created | Phase::Running if !self.supervisor_alive() => Phase::Exited,
            phase => phase,
        }
    }
}

/// A fresh id: 12 hex digits from the kernel's random pool.
pub fn new_id() -> String {
    let mut bytes = [0u8; 6];
    // SAFETY: getrandom fills the buffer we pass, at most its length.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // Not random, still unique enough among one host's containers.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        bytes.copy_from_slice(
            &(now.as_nanos() as u64 ^ u64::from(std::process::id())).to_le_bytes()[..6],
        );
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
