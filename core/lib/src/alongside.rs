//! Programs started in a live container beside whatever runs there, as `docker
//! exec` or `nsenter` do, without the init: its run loop serves one program at a
//! time.
//!
//! A helper forked from the host makes itself non-dumpable, enters the init's
//! namespaces through its pidfd (setns, 5.8+) and forks the program into the
//! container's PID namespace; the program joins the cgroup the init is in and
//! takes the steps a run's runner takes in the init (files, working directory, rlimits, no
//! capability in any set, the container's ids, no_new_privs, the request's
//! seccomp policy) and execs. The helper stays outside the container, reaps the
//! program and reports its end. The forked side is in `alongside/enter.rs`.
//!
//! What differs from a run:
//! - The figures are the program's rusage: CPU time of it and of the processes it
//!   waited for. Its memory is not measured (0): ru_maxrss would count the host's
//!   memory the program was forked from. The container's cgroup counts it with
//!   the rest, and its limits (memory, processes, CPU rate) hold it as they are;
//!   of the request's limits, those that are rlimits apply, and the wall-time
//!   limit while [`Alongside::wait`] waits.
//! - When it ends, what is left of its process group is killed; a process that
//!   left its session lives on until the container's run ends or it is reset.
//! - The init kills it as it kills everything but itself: when the container's
//!   current run ends, on reset, and when the container goes.
//! - Rootless (a user namespace) it runs, as every rootless run does, in a PID
//!   namespace of its own nested in the container's, under a reaper: with the
//!   init's uid it could otherwise act on the init by pid. It sees its own
//!   processes only.

mod enter;

use crate::error::{Error, Result};
use crate::execve::ExecveParam;
use crate::limits::{Enforcement, Limits};
use crate::protocol::rules::monotonic_ns;
use crate::protocol::{seccomp_exec, ExecReport, ExecStage, Outcome, Rlimit};
use crate::result::{Accounting, RunResult};
use enter::{Plan, Record};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

/// The loans of one container: each reset starts a new one, and a handle taken
/// during an earlier loan starts nothing (in a pool, the next borrower's container
/// is not the last one's to enter). A spawn holds the read side until its
/// program exec'd, so a reset waits for it and then kills it with the rest.
#[derive(Debug, Default, Clone)]
pub(crate) struct Loans(Arc<RwLock<u64>>);

impl Loans {
    /// Called at the start of a reset.
    pub fn next(&self) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    fn current(&self) -> u64 {
        *self.0.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts programs in one container beside its runs; taken from
/// [`Container::exec_handle`](crate::Container::exec_handle), usable from any
/// thread while the container runs a program, until the container is reset.
#[derive(Debug)]
pub struct ExecHandle {
    init_pidfd: OwnedFd,
    user_namespace: bool,
    /// The program's uid and gid inside the container.
    ids: (u32, u32),
    /// The cgroup directories the init is in, one per hierarchy.
    cgroup_dirs: Vec<PathBuf>,
    no_cgroup: Option<String>,
    own_uid: bool,
    loans: Loans,
    /// The loan this handle belongs to.
    loan: u64,
}

/// What [`ExecHandle`] needs of its container.
pub(crate) struct Source<'a> {
    pub init_pidfd: BorrowedFd<'a>,
    pub user_namespace: bool,
    pub ids: (u32, u32),
    pub cgroup_dirs: Vec<PathBuf>,
    pub no_cgroup: Option<&'a str>,
    pub own_uid: bool,
    pub loans: &'a Loans,
}

/// /proc entries a rootless program's own /proc has read-only, as the init's.
const PROC_ENTRIES: [&str; 5] = ["sys", "sysrq-trigger", "irq", "bus", "fs"];

fn cstring(bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::invalid("a string contains NUL"))
}

fn os(context: &str, errno: i32) -> Error {
    Error::io(context, io::Error::from_raw_os_error(errno))
}

impl ExecHandle {
    pub(crate) fn new(source: Source<'_>) -> Result<Self> {
        let init_pidfd = source
            .init_pidfd
            .try_clone_to_owned()
            .map_err(|e| Error::io("duplicating the init's pidfd", e))?;
        Ok(Self {
            init_pidfd,
            user_namespace: source.user_namespace,
            ids: source.ids,
            cgroup_dirs: source.cgroup_dirs,
            no_cgroup: source.no_cgroup.map(str::to_owned),
            own_uid: source.own_uid,
            loan: source.loans.current(),
            loans: source.loans.clone(),
        })
    }

    fn init_exited(&self) -> bool {
        let mut fds = [nix::poll::PollFd::new(
            self.init_pidfd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        loop {
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
                Ok(n) => return n > 0,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Starts `param`'s program in the container and returns once it exec'd (or
    /// failed to: then [`Alongside::wait`] reports RUNNER_ERROR as a run would).
    /// `Err` means it could not be attempted: bad input, or the container is gone
    /// ([`Error::ContainerBroken`]).
    pub fn spawn(&self, param: &ExecveParam<'_>) -> Result<Alongside> {
        let called_ns = monotonic_ns();
        let how = Enforcement {
            no_cgroup: self.no_cgroup.as_deref(),
            own_uid: self.own_uid,
        };
        let request = crate::validate::execve(param, how)?;
        let loan = self.loans.0.read().unwrap_or_else(PoisonError::into_inner);
        if *loan != self.loan {
            return Err(Error::invalid(
                "the container was reset since this handle was taken: take a new one",
            ));
        }
        if self.init_exited() {
            return Err(Error::ContainerBroken("the container init exited".into()));
        }
        let args = request
            .args
            .iter()
            .map(|a| cstring(a))
            .collect::<Result<Vec<_>>>()?;
        let env = request
            .env
            .iter()
            .map(|e| cstring(e))
            .collect::<Result<Vec<_>>>()?;
        let pointers = |list: &[CString]| -> Vec<*const libc::c_char> {
            list.iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        let mut filters = Vec::new();
        if let Some(bytes) = &request.seccomp {
            filters.push(filter_from_bytes(bytes)?);
        }
        // The single-program policy's exec lock names the exact filename pointers
        // the program's exec passes (see `seccomp_exec`).
        let mut mapped = None;
        let mut empty_path: *const libc::c_char = c"".as_ptr();
        let mut exec_path = args[0].as_ptr();
        if request.single_program {
            let lock = |e: io::Error| Error::io("mapping the exec lock's path", e);
            empty_path = seccomp_exec::empty_path().map_err(lock)?;
            let path = seccomp_exec::MappedPath::new(&args[0]).map_err(lock)?;
            exec_path = path.as_ptr();
            filters.push(seccomp_exec::exec_lock(exec_path, empty_path));
            mapped = Some(path);
        }
        let cgroup_procs = self
            .cgroup_dirs
            .iter()
            .map(|dir| {
                crate::eintr::retry(|| {
                    std::fs::File::options()
                        .write(true)
                        .open(dir.join("cgroup.procs"))
                })
                .map(OwnedFd::from)
            })
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| Error::io("opening the container's cgroup.procs", e))?;
        let user = self.user_namespace.then_some(libc::CLONE_NEWUSER);
        let namespaces = user.into_iter().chain([
            libc::CLONE_NEWNS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWCGROUP,
            libc::CLONE_NEWPID,
        ]);
        let plan = Plan {
            init_pidfd: self.init_pidfd.as_raw_fd(),
            namespaces: namespaces.collect(),
            user_namespace: self.user_namespace,
            cgroup_procs,
            argv: pointers(&args),
            envp: pointers(&env),
            exec_path,
            cwd: cstring(&request.cwd)?,
            files: param.files.iter().map(AsRawFd::as_raw_fd).collect(),
            exec_file: param.exec_file.map(|f| f.as_raw_fd()),
            empty_path,
            rlimits: within_own_limits(&request.rlimits, self.user_namespace),
            filters,
            uid: self.ids.0,
            gid: self.ids.1,
            last_cap: last_capability(),
            highest_fd: highest_open_fd(),
            proc_entries: PROC_ENTRIES
                .iter()
                .map(|e| CString::new(format!("/proc/{e}")).expect("no NUL"))
                .collect(),
        };
        for fd in plan.files.iter().chain(&plan.exec_file) {
            // SAFETY: F_GETFD only reads the descriptor's flags.
            if unsafe { libc::fcntl(*fd, libc::F_GETFD) } < 0 {
                return Err(Error::invalid(
                    "a descriptor in files or exec_file is not open",
                ));
            }
        }
        let helper = fork_helper(&plan)?;
        // Until the program exec'd or failed: a failure, then its pidfd.
        let mut failure = None;
        let launched = loop {
            match helper.next() {
                Ok(Some((Record::Failed(stage, errno), _))) => failure = Some((stage, errno)),
                Ok(Some((Record::Program, Some(pidfd)))) => break Ok(pidfd),
                Ok(Some(_)) => {}
                Ok(None) => break Err(self.entry_error(failure)),
                Err(e) => break Err(e),
            }
        };
        drop(mapped);
        drop(loan);
        let started_ns = monotonic_ns();
        let pidfd = match launched {
            Ok(pidfd) => pidfd,
            Err(e) => {
                // The helper left (or must): nothing of it may stay.
                // SAFETY: SIGKILL to our own unreaped child.
                unsafe { libc::kill(helper.pid, libc::SIGKILL) };
                helper.reap();
                return Err(e);
            }
        };
        let mut alongside = Alongside {
            pid: pid_of(&pidfd).unwrap_or(0),
            pidfd,
            helper: Some(helper),
            result: None,
            called_ns,
            started_ns,
            limits: param.limits.clone(),
            seccomp_kills: param.seccomp.kills(),
            wall_deadline: param
                .limits
                .wall_time
                .and_then(|limit| Instant::now().checked_add(limit)),
            killed_for_wall_time: false,
        };
        if let Some((stage, errno)) = failure {
            let ended = alongside.collect()?;
            let usage = ended.map(|e| (e.user_us, e.system_us, e.maxrss_kib));
            alongside.result = Some(alongside.judge(Outcome::ExecFailed { stage, errno }, usage));
        }
        Ok(alongside)
    }

    /// Why the program never existed.
    fn entry_error(&self, failure: Option<(ExecStage, i32)>) -> Error {
        match failure {
            _ if self.init_exited() => Error::ContainerBroken("the container init exited".into()),
            Some((stage, errno)) => os(
                &format!("entering the container: {} failed", helper_stage(stage)),
                errno,
            ),
            None => Error::io(
                "entering the container",
                io::Error::other("the helper ended without a word"),
            ),
        }
    }
}

/// Names a helper's stage for what it did there (the protocol's names are a run's).
fn helper_stage(stage: ExecStage) -> &'static str {
    match stage {
        ExecStage::Namespace => "joining its namespaces",
        ExecStage::Cgroup => "joining its cgroup",
        other => other.describe(),
    }
}

/// The helper, as long as it watches the program.
struct Helper {
    pid: i32,
    socket: OwnedFd,
}

impl Helper {
    /// The next record and the descriptor it carries; `None` once the helper is
    /// gone.
    fn next(&self) -> Result<Option<(Record, Option<OwnedFd>)>> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        loop {
            let mut buf = [0u8; enter::RECORD_BYTES];
            let mut space = nix::cmsg_space!([RawFd; 1]);
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let msg = match recvmsg::<()>(
                self.socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => msg,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::io("reading the helper's report", e)),
            };
            if msg.bytes == 0 {
                return Ok(None);
            }
            let len = msg.bytes;
            let mut fd = None;
            for cmsg in msg.cmsgs().into_iter().flatten() {
                if let ControlMessageOwned::ScmRights(fds) = cmsg {
                    for raw in fds {
                        // SAFETY: the kernel installed this descriptor for us.
                        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                        fd.get_or_insert(owned);
                    }
                }
            }
            match Record::decode(&buf[..len]) {
                Some(record) => return Ok(Some((record, fd))),
                None => continue,
            }
        }
    }

    /// Reaps the helper (it leaves right after its last record, or was killed).
    fn reap(&self) {
        reap(self.pid);
    }
}

/// Forks the helper.
fn fork_helper(plan: &Plan) -> Result<Helper> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::io("creating the helper's socket", e))?;
    // Block every signal across the fork: the helper runs none of the host's
    // handlers (and keeps them blocked); the program resets them before its exec.
    // SAFETY: sigset operations on local values; pthread_sigmask changes only this
    // thread's mask, restored below.
    let old = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    // SAFETY: the child runs only `enter::helper`, which makes system calls on what
    // `plan` prepared and never returns.
    let forked = unsafe { enter::raw_fork(0) };
    if forked == Ok(0) {
        enter::helper(plan, theirs.as_raw_fd());
    }
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    drop(theirs);
    let pid = forked.map_err(|e| os("forking the helper that enters the container", e))?;
    Ok(Helper { pid, socket: ours })
}

/// The pid (in our PID namespace) of the process behind `pidfd`.
fn pid_of(pidfd: &OwnedFd) -> Option<i32> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))?
        .trim()
        .parse()
        .ok()
        .filter(|pid| *pid > 0)
}

/// Waits for our child `pid` (exit signal 0: __WALL), retrying EINTR. Returns its
/// wait status and rusage.
fn reap(pid: i32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to status and usage.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::__WALL, &mut usage) };
        if rc >= 0 || nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return (status, usage);
        }
    }
}

/// A classic BPF program from its raw bytes (8 bytes per instruction).
fn filter_from_bytes(bytes: &[u8]) -> Result<Vec<libc::sock_filter>> {
    const INSN: usize = std::mem::size_of::<libc::sock_filter>();
    if bytes.is_empty() || bytes.len() % INSN != 0 || bytes.len() / INSN > 4096 {
        return Err(Error::invalid("malformed seccomp program"));
    }
    Ok(bytes
        .chunks_exact(INSN)
        .map(|b| libc::sock_filter {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect())
}

/// The init's rule for a runner's limits, with the host's own limits in place of
/// the init's (the helper is forked from the host): "unlimited" is as high as our
/// hard limit, and in a user namespace no hard limit can be raised at all.
fn within_own_limits(requested: &[Rlimit], user_namespace: bool) -> Vec<Rlimit> {
    requested
        .iter()
        .map(|r| {
            let mut own = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit fills the struct we own.
            let known =
                unsafe { libc::getrlimit(r.resource as libc::__rlimit_resource_t, &mut own) } == 0;
            let capped =
                known && r.hard > own.rlim_max && (user_namespace || r.hard == libc::RLIM_INFINITY);
            match capped {
                true => Rlimit {
                    resource: r.resource,
                    soft: r.soft.min(own.rlim_max),
                    hard: own.rlim_max,
                },
                false => *r,
            }
        })
        .collect()
}

fn last_capability() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        // Every capability number a kernel may know: unknown ones fail with EINVAL,
        // which the drop skips.
        .unwrap_or(63)
}

/// The highest open descriptor, for kernels whose close_range cannot mark a range
/// close-on-exec (0 when /proc cannot tell).
fn highest_open_fd() -> RawFd {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<RawFd>().ok())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// A program started beside the container's runs. Dropping it kills it and waits
/// for it; [`wait`](Self::wait) gives its result.
#[derive(Debug)]
pub struct Alongside {
    /// In our PID namespace, as read when it started (0 if it could not be).
    pid: i32,
    pidfd: OwnedFd,
    /// Until it reported the program's end.
    helper: Option<Helper>,
    result: Option<RunResult>,
    called_ns: u64,
    started_ns: u64,
    limits: Limits,
    seccomp_kills: bool,
    wall_deadline: Option<Instant>,
    killed_for_wall_time: bool,
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helper").field("pid", &self.pid).finish()
    }
}

impl Alongside {
    /// The program's pid in the host's PID namespace, as it was when it started.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A pidfd of the program: readable once it has ended.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Sends `signal` to the program (nothing once it has ended).
    pub fn signal(&self, signal: i32) -> Result<()> {
        if self.result.is_some() {
            return Ok(());
        }
        // SAFETY: pidfd_send_signal on our pidfd with no siginfo.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        match rc {
            0 => Ok(()),
            _ if nix::errno::Errno::last() == nix::errno::Errno::ESRCH => Ok(()),
            _ => Err(Error::io(
                format!("sending signal {signal} to the program"),
                io::Error::last_os_error(),
            )),
        }
    }

    /// SIGKILL to the program; what is left of its process group ends with it.
    pub fn kill(&self) -> Result<()> {
        self.signal(libc::SIGKILL)
    }

    /// Waits for the program to end (killing it at its wall-time limit, if any) and
    /// returns its result as [`Container::execve`](crate::Container::execve) would
    /// for a run: status, exit code or signal, CPU time and peak memory from its
    /// rusage (the processes it waited for included), wall time.
    pub fn wait(&mut self) -> Result<RunResult> {
        loop {
            if let Some(result) = &self.result {
                return Ok(result.clone());
            }
            let Some(helper) = &self.helper else {
                return Err(Error::io(
                    "waiting for the program",
                    io::Error::other("its helper is gone"),
                ));
            };
            let timeout = match self.wall_deadline.filter(|_| !self.killed_for_wall_time) {
                None => nix::poll::PollTimeout::NONE,
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                    nix::poll::PollTimeout::try_from(ms).unwrap_or(nix::poll::PollTimeout::MAX)
                }
            };
            let mut fds = [nix::poll::PollFd::new(
                helper.socket.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::io("waiting for the program", e)),
            }
            if fds[0].any().unwrap_or(false) {
                let ended = self.collect()?;
                let Some(ended) = ended else {
                    return Err(Error::io(
                        "waiting for the program",
                        io::Error::other("its helper died without reporting its end"),
                    ));
                };
                let outcome = match libc::WIFSIGNALED(ended.status) {
                    true => Outcome::Signaled(libc::WTERMSIG(ended.status)),
                    false => Outcome::Exited(libc::WEXITSTATUS(ended.status)),
                };
                let usage = Some((ended.user_us, ended.system_us, ended.maxrss_kib));
                self.result = Some(self.judge(outcome, usage));
            } else if self
                .wall_deadline
                .is_some_and(|at| !self.killed_for_wall_time && Instant::now() >= at)
            {
                self.killed_for_wall_time = true;
                self.kill()?;
            }
        }
    }

    /// Reads the helper's report of the program's end (blocking), then reaps it.
    fn collect(&mut self) -> Result<Option<enter::Ended>> {
        let Some(helper) = self.helper.take() else {
            return Ok(None);
        };
        let mut ended = None;
        let read = loop {
            match helper.next() {
                Ok(Some((Record::Ended(e), _))) => {
                    ended.get_or_insert(e);
                }
                Ok(Some(_)) => {}
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        helper.reap();
        read.map(|()| ended)
    }

    fn judge(&self, outcome: Outcome, usage: Option<(u64, u64, u64)>) -> RunResult {
        let (user_us, system_us, maxrss_kib) = usage.unwrap_or_default();
        let signal = match outcome {
            Outcome::Signaled(signal) => signal,
            _ => 0,
        };
        let report = ExecReport {
            outcome,
            received_ns: self.called_ns,
            started_ns: self.started_ns,
            ended_ns: monotonic_ns(),
            user_us,
            system_us,
            maxrss_kib,
            file_size_exceeded: signal == libc::SIGXFSZ,
            sigsys_killed: signal == libc::SIGSYS,
            init_cpu_us: 0,
            wall_time_exceeded: self.killed_for_wall_time,
            init_tampered: false,
        };
        crate::verdict::judge(&crate::verdict::Evidence {
            report: &report,
            usage: None,
            called_ns: self.called_ns,
            limits: &self.limits,
            seccomp_kills: self.seccomp_kills,
            killed_for_wall_time: self.killed_for_wall_time,
            killed_for_cpu_time: false,
            // The figures are the program's rusage.
            accounting: Accounting::NoCgroup,
        })
    }
}

impl Drop for Alongside {
    fn drop(&mut self) {
        if self.helper.is_some() {
            let _ = self.kill();
            let _ = self.collect();
        }
    }
}
