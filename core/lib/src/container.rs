//! One container, seen from the host: create, ping, open, execve, run, reset, destroy.

use crate::alongside::{Alongside, ExecHandle};
use crate::cgroup::{CgroupVersion, ContainerCgroup};
use crate::config::ContainerConfig;
use crate::error::{Error, Result};
use crate::execve::{ExecveParam, RunParam, DEFAULT_CAPTURE_LIMIT};
use crate::ids::IdLease;
use crate::limits::Enforcement;
use crate::namespace::InitProcess;
pub use crate::open_cmd::OpenCmd;
use crate::protocol::codec::{decode_response, encode_request};
use crate::protocol::rules::monotonic_ns;
use crate::protocol::{self, Channel, ChannelError, ErrorKind, ErrorReport, Request, Response};
use crate::result::{Accounting, RunResult};
use crate::watch::{KillReason, RunWatch, Tick};
use crate::{memfile, validate};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// How long a control request (ping, open, reset) may take before the container is
/// declared broken.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// A running container: its init process and the socket to it.
///
/// Methods take `&mut self`: one conversation at a time. Dropping the container
/// destroys it.
pub struct Container {
    channel: Channel,
    init: InitProcess,
    /// Dropped after the init is killed (field order), so its directories are empty.
    cgroup: Option<ContainerCgroup>,
    /// Why there is no cgroup, when there is none.
    no_cgroup: Option<String>,
    /// The container's own id, held until the init is gone.
    _id: Option<IdLease>,
    /// The program's uid is the container's alone.
    own_uid: bool,
    /// Processes of the container in its cgroup during a run besides the program's:
    /// the init, and in rootless mode the run's reaper (see the init's `pid_ns`).
    helpers: u32,
    /// A run since the last reset had a seccomp policy that allows keyctl.
    keys_possible: bool,
    /// The program's uid and gid as the host sees them.
    program_ids: (u32, u32),
    /// The program's uid and gid inside the container.
    inner_ids: (u32, u32),
    user_namespace: bool,
    /// Ends the exec handles of a loan at reset.
    loans: crate::alongside::Loans,
    broken: Option<String>,
    next_nonce: u64,
    files: crate::files::FileSettings,
    /// Where the time of the last completed run went.
    last_timing: Option<crate::timing::RunTiming>,
    /// Keeps the stock of spare inits alive (see `spare`).
    _live: crate::spare::Live,
}

impl Container {
    /// Creates a container: new namespaces, its root filesystem, its init.
    pub fn new(config: &ContainerConfig) -> Result<Self> {
        Self::create(config, true)
    }

    /// For a pool, whose creations are off its callers' path: takes no spare init
    /// (see `spare`), so closing a pool leaves no process of its making.
    pub(crate) fn new_for_pool(config: &ContainerConfig) -> Result<Self> {
        Self::create(config, false)
    }

    fn create(config: &ContainerConfig, spare: bool) -> Result<Self> {
        crate::kernel::check_supported()?;
        crate::nofile::raise_soft_limit();
        let live = crate::spare::Live::new();
        let root_host = nix::unistd::geteuid().is_root();
        // A root host gives every container ids of its own (mapped to the container's
        // root in a user namespace); a non-root host can only map itself.
        let wants_id = match config.user_namespace {
            true => root_host,
            false => config.uid.is_none() || config.gid.is_none(),
        };
        let id = match wants_id {
            true => Some(IdLease::take(config.id_range)?),
            false => None,
        };
        let own_id = id.as_ref().map(|lease| lease.id);
        let setup = validate::setup(config, own_id)?;
        let own_uid = own_id.is_some() && (config.user_namespace || config.uid.is_none());
        let program_ids = match (config.user_namespace, root_host) {
            // Inside, the program is root, which the user namespace maps to...
            (true, true) => (own_id.unwrap_or(0), own_id.unwrap_or(0)),
            // ...or to the host user itself.
            (true, false) => (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            ),
            (false, _) => (setup.uid, setup.gid),
        };
        let user_ns = config.user_namespace.then(|| own_id.unwrap_or(0));
        let spare = spare.then(|| crate::spare::take(config)).flatten();
        let started = match spare {
            Some(started) => started,
            None => crate::init_start::start(&config.cgroup, user_ns)?,
        };
        let mut container = Container {
            channel: Channel::new(started.socket),
            init: started.init,
            cgroup: started.cgroup,
            no_cgroup: started.no_cgroup,
            _id: id,
            own_uid,
            helpers: if config.user_namespace { 2 } else { 1 },
            keys_possible: false,
            program_ids,
            inner_ids: (setup.uid, setup.gid),
            user_namespace: config.user_namespace,
            loans: Default::default(),
            broken: None,
            next_nonce: 1,
            files: crate::files::FileSettings::of(config, program_ids),
            last_timing: None,
            _live: live,
        };
        match container.call(&Request::Setup(setup), &[], config.setup_timeout) {
            Ok((Response::Ready { version }, _)) if version == protocol::PROTOCOL_VERSION => {
                if let Some(cgroup) = &mut container.cgroup {
                    cgroup.settle(container.init.pid).map_err(|e| {
                        Error::Setup(format!("giving the container's runs cgroups: {e}"))
                    })?;
                }
                Ok(container)
            }
            Ok((Response::Ready { version }, _)) => Err(Error::Setup(format!(
                "init speaks protocol {version}, library speaks {}",
                protocol::PROTOCOL_VERSION
            ))),
            Ok((Response::Error(e), _)) => Err(Error::Setup(e.message)),
            Ok((other, _)) => Err(Error::Setup(format!("unexpected reply {other:?}"))),
            Err(e) => Err(Error::Setup(e.to_string())),
        }
        // On any error `container` drops here, which kills and reaps the init.
    }

    /// The program's uid and gid as the host sees them (files it creates in a
    /// writable bind belong to them): the container's own id unless the config
    /// fixes them.
    pub fn program_ids(&self) -> (u32, u32) {
        self.program_ids
    }

    /// Host pid of the container's init.
    pub fn init_pid(&self) -> i32 {
        self.init.pid
    }

    /// The cgroup version accounting this container's runs, if it has a cgroup.
    pub fn cgroup_version(&self) -> Option<CgroupVersion> {
        self.cgroup.as_ref().map(ContainerCgroup::version)
    }

    pub(crate) fn file_settings(&self) -> crate::files::FileSettings {
        self.files
    }

    /// True once the container can no longer be used: its init died (checked now,
    /// without a round trip) or misbehaved.
    pub fn is_broken(&self) -> bool {
        self.broken.is_some() || self.init.has_exited()
    }

    /// Where the time of the last run that completed (`execve` or `run` returned
    /// its result from the init's report) went; `None` before the first.
    pub fn last_run_timing(&self) -> Option<crate::timing::RunTiming> {
        self.last_timing
    }

    /// What accounts this container's runs.
    pub fn accounting(&self) -> Accounting {
        match self.cgroup_version() {
            None => Accounting::NoCgroup,
            Some(CgroupVersion::V1) => Accounting::CgroupV1,
            Some(CgroupVersion::V2) => Accounting::CgroupV2,
        }
    }

    fn enforcement(&self) -> Enforcement<'_> {
        Enforcement {
            no_cgroup: self.no_cgroup.as_deref(),
            own_uid: self.own_uid,
            no_cpuset: match &self.cgroup {
                Some(cgroup) => cgroup.no_cpuset(),
                None => self.no_cgroup.as_deref(),
            },
        }
    }

    /// Checks that the init answers.
    pub fn ping(&mut self) -> Result<()> {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        match self.call(&Request::Ping { nonce }, &[], CONTROL_TIMEOUT)? {
            (Response::Pong { nonce: got }, _) if got == nonce => Ok(()),
            (other, _) => Err(self.break_with(format!("bad reply to ping: {other:?}"))),
        }
    }

    /// Opens files inside the container (by the init, within the container's mount
    /// namespace) and returns them in order. All or nothing.
    pub fn open(&mut self, cmds: &[OpenCmd]) -> Result<Vec<File>> {
        let entries = validate::open_entries(cmds)?;
        let (reply, fds) = self.call(&Request::Open(entries), &[], CONTROL_TIMEOUT)?;
        match reply {
            Response::Opened { count }
                if count as usize == cmds.len() && fds.len() == cmds.len() =>
            {
                Ok(fds.into_iter().map(File::from).collect())
            }
            Response::Error(e) => Err(open_error(cmds, e)),
            other => Err(self.break_with(format!("bad reply to open: {other:?}"))),
        }
    }

    /// Runs one program and waits for it. The program's failure is a `RunResult`
    /// status; an `Err` means the run could not be attempted or the container broke.
    pub fn execve(&mut self, param: &ExecveParam<'_>) -> Result<RunResult> {
        let mut request = validate::execve(param, self.enforcement())?;
        self.keys_possible |= !param.seccomp.denies_keyrings();
        let mut fds: Vec<RawFd> = param.files.iter().map(|f| f.as_raw_fd()).collect();
        fds.extend(param.exec_file.map(|f| f.as_raw_fd()));
        self.ensure_usable()?;

        let called_ns = monotonic_ns();
        if let (Some(cgroup), Some(cpus)) = (&self.cgroup, &param.limits.cpu_set) {
            cgroup.check_cpu_set(cpus)?;
        }
        let baseline = match &mut self.cgroup {
            Some(cgroup) => match cgroup.begin_run(param.limits.cgroup_limits(self.helpers)) {
                Ok(baseline) => Some(baseline),
                // The kernel refuses a memory limit below what the cgroup holds and
                // cannot reclaim: the files this loan left in /w and /tmp.
                Err(e) if e.kind() == std::io::ErrorKind::ResourceBusy => {
                    return Ok(RunResult::over_memory_before_start(
                        param.limits.memory.unwrap_or_default(),
                        cgroup.current_memory().unwrap_or_default(),
                        self.accounting(),
                    ))
                }
                Err(e) => return Err(Error::io("preparing the container's cgroup", e)),
            },
            None => None,
        };
        if let Some(cgroup) = &mut self.cgroup {
            match cgroup.run_procs() {
                Ok(Some(procs)) => {
                    fds.push(procs.as_raw_fd());
                    request.join_cgroup = true;
                }
                Ok(None) => {}
                Err(e) => return Err(Error::io("making the run's cgroup", e)),
            }
        }
        self.send(&Request::Execve(request), &fds)?;
        let mut watch = RunWatch::new(&param.limits, baseline.is_some());
        let reply = loop {
            if let Some(reply) = self.wait_for_message(watch.next_wake())? {
                break reply;
            }
            let cpu_used = match (&self.cgroup, &baseline) {
                (Some(cgroup), Some(base)) => cgroup.cpu_used(base).ok(),
                _ => None,
            };
            match watch.tick(cpu_used) {
                Tick::Continue => {}
                Tick::Kill => self.send(&Request::Kill, &[])?,
                Tick::Unresponsive => {
                    return Err(self.break_with("the init did not stop a run it was told to kill"))
                }
            }
        };
        let arrived_ns = monotonic_ns();
        let usage = match (&mut self.cgroup, &baseline) {
            (Some(cgroup), Some(base)) => Some(
                cgroup
                    .end_run(base)
                    .map_err(|e| Error::io("reading the container's cgroup", e))?,
            ),
            _ => None,
        };
        match reply {
            (Response::Exited(report), _) => {
                let result = crate::verdict::judge(&crate::verdict::Evidence {
                    report: &report,
                    usage,
                    called_ns,
                    limits: &param.limits,
                    seccomp_kills: param.seccomp.kills(),
                    killed_for_wall_time: report.wall_time_exceeded
                        || watch.killed == Some(KillReason::WallTime),
                    killed_for_cpu_time: watch.killed == Some(KillReason::CpuTime),
                    accounting: self.accounting(),
                });
                self.last_timing = Some(crate::timing::RunTiming::of(
                    &report,
                    called_ns,
                    arrived_ns,
                    monotonic_ns(),
                ));
                if report.init_tampered {
                    // The run is over and its result stands; the container is not
                    // reused (a pool replaces it).
                    self.break_with("a program changed the init's resource limits or scheduling");
                }
                Ok(result)
            }
            (Response::Error(e), _) if e.kind == ErrorKind::InvalidArgument => {
                Err(Error::InvalidArgument(e.message))
            }
            (Response::Error(e), _) => Ok(RunResult::runner_error(e.message)),
            (other, _) => Err(self.break_with(format!("bad reply to execve: {other:?}"))),
        }
    }

    /// Runs one program with `stdin` as its input and its stdout and stderr captured,
    /// each capped at the output limit (or [`DEFAULT_CAPTURE_LIMIT`]).
    pub fn run(&mut self, param: &RunParam) -> Result<RunResult> {
        let capture_limit = param.limits.output.unwrap_or(DEFAULT_CAPTURE_LIMIT);
        let memfd = |name: &str, data: &[u8]| {
            memfile::with_contents(name, data).map_err(|e| Error::io("creating a memfd", e))
        };
        let stdin = memfd("scpool-stdin", &param.stdin)?;
        let stdout = memfd("scpool-stdout", b"")?;
        let stderr = memfd("scpool-stderr", b"")?;
        let mut execve = ExecveParam::from(param.program.clone());
        execve.files = vec![stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
        execve.limits.output = Some(capture_limit);
        let mut result = self.execve(&execve)?;
        result.stdout = read_capped(&stdout, capture_limit)?;
        result.stderr = read_capped(&stderr, capture_limit)?;
        Ok(result)
    }

    /// Kills every process but the init, empties /w and /tmp, removes IPC objects
    /// and any key a run could have left; the init's reply shows it still answers.
    pub fn reset(&mut self) -> Result<()> {
        // Exec handles of this loan start nothing more; what they started dies
        // with the reset.
        self.loans.next();
        let reset = Request::Reset {
            clear_keys: self.keys_possible,
        };
        // The reply itself shows the init answers: no ping after it.
        match self.call(&reset, &[], CONTROL_TIMEOUT)? {
            (Response::ResetDone, _) => {
                self.keys_possible = false;
                if let Some(cgroup) = &mut self.cgroup {
                    // The next borrower's figures must not start from this loan's
                    // page cache (see `ContainerCgroup::reclaim_cache`).
                    cgroup.reclaim_cache();
                    if let Err(e) = cgroup.prepare_next_run() {
                        return Err(
                            self.break_with(format!("giving the container every CPU again: {e}"))
                        );
                    }
                }
                Ok(())
            }
            (Response::Error(e), _) => Err(self.break_with(format!("reset failed: {}", e.message))),
            (other, _) => Err(self.break_with(format!("bad reply to reset: {other:?}"))),
        }
    }

    /// A handle that starts programs in this container beside whatever runs in it
    /// (see [`alongside`](crate::alongside)), from any thread, also while a run
    /// holds the container. Programs it started are killed when the container's
    /// current run ends, on reset, and when the container goes; after a reset the
    /// handle starts nothing more (take a new one).
    pub fn exec_handle(&self) -> Result<ExecHandle> {
        self.ensure_usable()?;
        ExecHandle::new(crate::alongside::Source {
            init_pidfd: self.init.pidfd.as_fd(),
            user_namespace: self.user_namespace,
            ids: self.inner_ids,
            cgroup_dirs: self
                .cgroup
                .as_ref()
                .map(ContainerCgroup::init_dirs)
                .unwrap_or_default(),
            no_cgroup: self.no_cgroup.as_deref(),
            own_uid: self.own_uid,
            loans: &self.loans,
        })
    }

    /// Starts `param`'s program beside whatever runs in the container: see
    /// [`exec_handle`](Self::exec_handle) and [`ExecHandle::spawn`].
    pub fn spawn_alongside(&self, param: &ExecveParam<'_>) -> Result<Alongside> {
        self.exec_handle()?.spawn(param)
    }

    /// Kills the container and everything in it. Dropping does the same.
    pub fn destroy(self) {}

    // -----------------------------------------------------------------------------

    fn ensure_usable(&self) -> Result<()> {
        match &self.broken {
            Some(why) => Err(Error::ContainerBroken(why.clone())),
            None => Ok(()),
        }
    }

    /// Marks the container broken, kills its init, and returns the error to report.
    fn break_with(&mut self, why: impl Into<String>) -> Error {
        let why = why.into();
        if self.broken.is_none() {
            self.init.kill_and_reap();
            self.broken = Some(why.clone());
        }
        Error::ContainerBroken(why)
    }

    fn send(&mut self, request: &Request, fds: &[RawFd]) -> Result<()> {
        let bytes = encode_request(request);
        if bytes.len() > protocol::MAX_MESSAGE_BYTES {
            return Err(Error::invalid(format!(
                "the request takes {} bytes; the protocol allows {} (arguments and environment too large)",
                bytes.len(),
                protocol::MAX_MESSAGE_BYTES
            )));
        }
        match self.channel.send(&bytes, fds) {
            Ok(()) => Ok(()),
            Err(ChannelError::TooManyFds(n)) => Err(Error::invalid(format!(
                "{n} descriptors exceed the limit of {}",
                protocol::MAX_FDS
            ))),
            Err(ChannelError::BadDescriptor) => Err(Error::invalid(
                "a descriptor in files or exec_file is not open",
            )),
            Err(e) => Err(self.break_with(format!("sending to the init: {e}"))),
        }
    }

    fn call(
        &mut self,
        request: &Request,
        fds: &[RawFd],
        timeout: Duration,
    ) -> Result<(Response, Vec<OwnedFd>)> {
        self.ensure_usable()?;
        self.send(request, fds)?;
        // A timeout beyond the clock's range is no deadline at all.
        match self.wait_for_message(Instant::now().checked_add(timeout))? {
            Some(reply) => Ok(reply),
            None => Err(self.break_with(format!("the init did not answer within {timeout:?}"))),
        }
    }

    /// Waits for the next message from the init, or `None` at the deadline. The
    /// init's death is noticed through its pidfd, so this never hangs on a dead box.
    fn wait_for_message(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Option<(Response, Vec<OwnedFd>)>> {
        loop {
            let timeout = match deadline {
                None => PollTimeout::NONE,
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    // Round up so we never wake just before the deadline and spin.
                    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
                }
            };
            let mut fds = [
                PollFd::new(self.channel.fd(), PollFlags::POLLIN),
                PollFd::new(self.init.pidfd.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, timeout) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::io("poll", e)),
                Ok(0) => {
                    if deadline.is_some_and(|at| Instant::now() >= at) {
                        return Ok(None);
                    }
                    continue;
                }
                Ok(_) => {}
            }
            let socket_ready = fds[0].any().unwrap_or(false);
            let init_exited = fds[1].any().unwrap_or(false);
            if !socket_ready && init_exited {
                return Err(self.break_with("the container init exited"));
            }
            let (bytes, received) = match self.channel.recv() {
                Ok(message) => message,
                Err(e) => return Err(self.break_with(format!("receiving from the init: {e}"))),
            };
            return match decode_response(&bytes) {
                Ok(response) => Ok(Some((response, received))),
                Err(e) => Err(self.break_with(format!("undecodable reply from the init: {e}"))),
            };
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.broken.is_none() {
            self.init.kill_and_reap();
        }
    }
}

fn open_error(cmds: &[OpenCmd], e: ErrorReport) -> Error {
    match e.kind {
        ErrorKind::InvalidArgument => Error::InvalidArgument(e.message),
        _ => {
            let path = e
                .entry
                .and_then(|i| cmds.get(usize::try_from(i).ok()?))
                .map(|c| c.path.display().to_string())
                .unwrap_or_default();
            Error::Open {
                path,
                errno: e.errno,
                message: e.message,
            }
        }
    }
}

fn read_capped(file: &File, limit: u64) -> Result<Vec<u8>> {
    let size = file
        .metadata()
        .map_err(|e| Error::io("reading captured output", e))?
        .len();
    let mut data = vec![0; size.min(limit) as usize];
    file.read_exact_at(&mut data, 0)
        .map_err(|e| Error::io("reading captured output", e))?;
    Ok(data)
}

#[cfg(test)]
#[path = "container_tests.rs"]
mod tests;
