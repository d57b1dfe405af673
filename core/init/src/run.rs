//! One run (Execve): start a runner (`runner`, or the waiting `standby`), wait for
//! the program, account for it, clean up.

use crate::own_state::OwnState;
use crate::pid_ns;
use crate::privileges::Credentials;
use crate::protocol::codec::{decode_request, encode_response};
use crate::protocol::*;
use crate::runner::{self, Prepared};
use crate::standby::Standbys;
use crate::sys::{self, cstring};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::resource::{getrusage, UsageWho};
use nix::sys::signalfd::SignalFd;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;

fn invalid(message: impl Into<String>) -> Response {
    Response::Error(ErrorReport::invalid(message))
}

fn system(context: &str, errno: Errno) -> Response {
    Response::Error(ErrorReport::system(context, errno))
}

/// The limits a runner starts from. The host sends every resource, so nothing is
/// inherited from the init. "Unlimited" means as high as the init's own hard limit
/// (raising a hard limit needs CAP_SYS_RESOURCE, which container hosts such as
/// Docker often lack); in a user namespace the init cannot raise any hard limit
/// above what it was started with, so every request is capped there.
fn runner_limits(requested: &[Rlimit], creds: &Credentials, own: &OwnState) -> Vec<Rlimit> {
    requested
        .iter()
        .filter_map(|r| {
            let Some(&(own_soft, own_hard)) = own.limits.get(r.resource as usize) else {
                return Some(*r);
            };
            let capped =
                r.hard > own_hard && (creds.user_namespace || r.hard == libc::RLIM_INFINITY);
            let (soft, hard) = match capped {
                true => (r.soft.min(own_hard), own_hard),
                false => (r.soft, r.hard),
            };
            // The runner starts with the init's limits, which no program can change
            // (`own_state` checks): a value equal to them needs no system call.
            ((soft, hard) != (own_soft, own_hard)).then_some(Rlimit {
                resource: r.resource,
                soft,
                hard,
            })
        })
        .collect()
}

/// Checks the request and turns it into what the forked child needs, so the child
/// does no work that can fail for reasons other than the system's.
fn prepare(
    req: ExecRequest,
    mut fds: Vec<OwnedFd>,
    creds: &Credentials,
    own: &OwnState,
) -> Result<Prepared, Response> {
    let expected = req.fd_count as usize + usize::from(req.exec_fd) + usize::from(req.join_cgroup);
    if fds.len() != expected {
        return Err(invalid(format!(
            "expected {expected} descriptors, received {}",
            fds.len()
        )));
    }
    let cgroup = if req.join_cgroup { fds.pop() } else { None };
    let exec_file = if req.exec_fd { fds.pop() } else { None };
    let args = req
        .args
        .iter()
        .map(|a| cstring(a))
        .collect::<Option<Vec<_>>>();
    let env = req
        .env
        .iter()
        .map(|e| cstring(e))
        .collect::<Option<Vec<_>>>();
    let (Some(args), Some(env), Some(cwd)) = (args, env, cstring(&req.cwd)) else {
        return Err(invalid(
            "arguments, environment and working directory must not contain NUL",
        ));
    };
    if args.is_empty() {
        return Err(invalid("args must not be empty"));
    }
    let seccomp = match req.seccomp {
        None => None,
        Some(bytes) => Some(
            runner::filter_from_bytes(&bytes)
                .ok_or_else(|| invalid("malformed seccomp program"))?,
        ),
    };
    let mut prepared = Prepared::new(
        args,
        env,
        cwd,
        fds,
        exec_file,
        runner_limits(&req.rlimits, creds, own),
        seccomp,
    );
    if req.single_program {
        prepared.lock_exec().map_err(|e| {
            let errno = Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOMEM));
            system("mapping the exec lock's path", errno)
        })?;
    }
    prepared.cgroup = cgroup;
    if !sys::close_range_cloexec() {
        prepared.highest_fd = sys::highest_open_fd();
    }
    Ok(prepared)
}

/// What runs are started with: the ordinary runner's stacks, and the standby.
pub struct Runners {
    pub stack: runner::RunnerStack,
    pub standbys: Standbys,
}

impl Runners {
    pub fn new() -> Self {
        Self {
            stack: runner::RunnerStack::new(),
            standbys: Standbys::default(),
        }
    }
}

/// Whether a runner without privilege can set every limit of `prepared`: none asks
/// for a hard limit above the init's own.
fn lowerable(prepared: &Prepared, own: &OwnState) -> bool {
    prepared.rlimits().iter().all(|r| {
        own.limits
            .get(r.resource as usize)
            .is_some_and(|&(_, hard)| r.hard <= hard)
    })
}

/// Runs one program; answers with its report (or an error) once every process of
/// the run is gone.
pub fn run(
    req: ExecRequest,
    fds: Vec<OwnedFd>,
    channel: &mut Channel,
    sigchld: &SignalFd,
    creds: &Credentials,
    own: &OwnState,
    runners: &mut Runners,
) -> Response {
    let Runners { stack, standbys } = runners;
    let received_ns = sys::monotonic_ns();
    let wall_limit_ns = req.wall_limit_ns;
    let filter = req.seccomp.clone();
    let standby = standbys.take(&filter, req.join_cgroup);
    let prepared = match prepare(req, fds, creds, own) {
        Ok(p) => p,
        Err(response) => return response,
    };
    // A standby dropped here is killed and reaped before the figures start.
    let standby = standby.filter(|s| s.honours(&prepared, &filter, lowerable(&prepared, own)));
    let usage = || getrusage(UsageWho::RUSAGE_CHILDREN);
    let mut before = match usage() {
        Ok(r) => r,
        Err(e) => return system("getrusage", e),
    };
    let init_before = getrusage(UsageWho::RUSAGE_SELF).ok();
    let launch = runner::Launch {
        prepared: &prepared,
        creds,
        report: runner::Report::default(),
    };
    let reaper = pid_ns::Reaper::default();
    let served = standby.and_then(|s| match s.launch(&prepared) {
        Ok(served) => Some(served),
        Err(stage) => {
            standbys.failed(&filter, stage);
            // What the standby used before it was killed is not the run's.
            before = usage().unwrap_or(before);
            None
        }
    });
    let standby = served.is_some();
    let (pid, failure, exec_ns) = match served {
        Some((pid, report)) => (pid, report.failure(), report.exec_ns()),
        None => {
            // Rootless, the program shares the init's uid: it runs in a PID
            // namespace of its own, where the init has no pid it could act on.
            let spawned = match creds.user_namespace {
                true => pid_ns::spawn(&launch, stack, &reaper),
                false => runner::spawn(&launch, stack),
            };
            match spawned {
                Ok(pid) => (pid, launch.report.failure(), launch.report.exec_ns()),
                Err(e) => return system("clone", e),
            }
        }
    };
    // The runner exec'd (or failed) by now (CLONE_VFORK, or the standby's socket
    // closed). It noted the instant of its exec itself: on a busy machine the init
    // may wake much later.
    drop(prepared);
    let started_ns = exec_ns.unwrap_or_else(sys::monotonic_ns);

    let mut deaths = Deaths::default();
    // The wall-clock limit runs from the exec, the instant the reported wall time
    // starts from, so a run killed for it never reports less than the limit.
    let wall_deadline =
        (wall_limit_ns > 0 && failure.is_none()).then(|| started_ns.saturating_add(wall_limit_ns));
    let ended = wait_for_main(pid, channel, sigchld, wall_deadline, &mut deaths);
    let (status, maxrss_kib, ended_ns) = match reaper.program_end() {
        // The reaper saw the program end; its own exit is not the program's.
        Some(end) => (end.status, end.maxrss_kib, end.ended_ns),
        None => (ended.status, ended.maxrss_kib, ended.at_ns),
    };
    deaths.file_size_exceeded |= reaper.file_size_exceeded.load(Ordering::SeqCst);
    deaths.sigsys_killed |= reaper.sigsys_killed.load(Ordering::SeqCst);
    sys::kill_all_and_reap();
    // Nothing of the run is left that could still change the init.
    if creds.user_namespace {
        own.restore_affinity();
    }
    let init_tampered = creds.user_namespace && OwnState::capture() != *own;
    let after = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap_or(before);
    let init_after = getrusage(UsageWho::RUSAGE_SELF).ok();

    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    let outcome = match failure {
        Some((stage, errno)) => Outcome::ExecFailed { stage, errno },
        None if libc::WIFSIGNALED(status) => Outcome::Signaled(libc::WTERMSIG(status)),
        None => Outcome::Exited(libc::WEXITSTATUS(status)),
    };
    Response::Exited(ExecReport {
        outcome,
        received_ns,
        started_ns,
        ended_ns,
        user_us: micros(after.user_time()).saturating_sub(micros(before.user_time())),
        system_us: micros(after.system_time()).saturating_sub(micros(before.system_time())),
        maxrss_kib: maxrss_kib.max(0) as u64,
        file_size_exceeded: deaths.file_size_exceeded,
        sigsys_killed: deaths.sigsys_killed,
        init_cpu_us: match (init_before, init_after) {
            (Some(b), Some(a)) => (micros(a.user_time()) + micros(a.system_time()))
                .saturating_sub(micros(b.user_time()) + micros(b.system_time())),
            _ => 0,
        },
        wall_time_exceeded: ended.wall_time_exceeded,
        init_tampered,
        replied_ns: sys::monotonic_ns(),
        standby,
    })
}

/// How the main process ended, as `wait_for_main` saw it.
struct Ended {
    status: i32,
    maxrss_kib: i64,
    /// When it was reaped.
    at_ns: u64,
    /// The init killed the run at its wall-clock deadline.
    wall_time_exceeded: bool,
}

/// Signals that killed some process of the run, which the verdict weighs.
#[derive(Default)]
struct Deaths {
    /// SIGXFSZ: RLIMIT_FSIZE was hit.
    file_size_exceeded: bool,
    /// SIGSYS: a seccomp kill (or a raise, which the policy cannot tell apart).
    sigsys_killed: bool,
}

/// Waits until the main process ends, reaping every other process of the run as it
/// dies (zombies would otherwise count against process limits), obeying Kill and
/// killing the run at `wall_deadline` (CLOCK_MONOTONIC ns). Notes in `deaths` what
/// killed any process of the run.
fn wait_for_main(
    main: i32,
    channel: &mut Channel,
    sigchld: &SignalFd,
    wall_deadline: Option<u64>,
    deaths: &mut Deaths,
) -> Ended {
    let mut wall_time_exceeded = false;
    loop {
        loop {
            let mut status = 0;
            // SAFETY: a zeroed rusage is a valid out-parameter.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: valid pointers to status and usage.
            let pid =
                unsafe { libc::wait4(-1, &mut status, libc::WNOHANG | libc::__WALL, &mut usage) };
            if pid > 0 && libc::WIFSTOPPED(status) {
                // A child that made the init its tracer (PTRACE_TRACEME, possible
                // without seccomp) stops here: let it go on untraced, with its signal.
                // SAFETY: detaching a tracee of ours; errors leave nothing to undo.
                unsafe {
                    libc::ptrace(
                        libc::PTRACE_DETACH,
                        pid,
                        0,
                        libc::WSTOPSIG(status) as libc::c_long,
                    )
                };
                continue;
            }
            if pid > 0 && libc::WIFSIGNALED(status) {
                match libc::WTERMSIG(status) {
                    libc::SIGXFSZ => deaths.file_size_exceeded = true,
                    libc::SIGSYS => deaths.sigsys_killed = true,
                    _ => {}
                }
            }
            if pid == main {
                return Ended {
                    status,
                    maxrss_kib: usage.ru_maxrss,
                    at_ns: sys::monotonic_ns(),
                    wall_time_exceeded,
                };
            }
            if pid == 0 || (pid < 0 && Errno::last() != Errno::EINTR) {
                break;
            }
        }
        let mut fds = [
            PollFd::new(channel.fd(), PollFlags::POLLIN),
            PollFd::new(sigchld.as_fd(), PollFlags::POLLIN),
        ];
        let timeout = match wall_deadline.filter(|_| !wall_time_exceeded) {
            None => PollTimeout::NONE,
            Some(at) => {
                let left_ms = at.saturating_sub(sys::monotonic_ns()).div_ceil(1_000_000);
                PollTimeout::try_from(left_ms.min(i32::MAX as u64) as i32)
                    .unwrap_or(PollTimeout::MAX)
            }
        };
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => continue,
        }
        if wall_deadline.is_some_and(|at| !wall_time_exceeded && sys::monotonic_ns() >= at) {
            wall_time_exceeded = true;
            // SAFETY: kill(-1) from PID 1 reaches every process of the container.
            unsafe { libc::kill(-1, libc::SIGKILL) };
        }
        if fds[1].any().unwrap_or(false) {
            // Drain the pending SIGCHLDs; the reaping loop above does the work.
            while let Ok(Some(_)) = sigchld.read_signal() {}
        }
        if fds[0].any().unwrap_or(false) {
            handle_request_during_run(channel);
        }
    }
}

fn handle_request_during_run(channel: &mut Channel) {
    match channel.recv() {
        Err(ChannelError::Closed) => sys::host_gone(),
        Err(_) => {}
        Ok((bytes, _fds)) => match decode_request(&bytes) {
            Ok(Request::Kill) => {
                // SAFETY: kill(-1) from PID 1 reaches every process of the container.
                unsafe { libc::kill(-1, libc::SIGKILL) };
            }
            Ok(Request::Shutdown) => sys::host_gone(),
            _ => {
                let busy =
                    ErrorReport::new(ErrorKind::Protocol, libc::EBUSY, "a run is in progress");
                let busy = Response::Error(busy);
                let _ = channel.send(&encode_response(&busy), &[]);
            }
        },
    }
}
