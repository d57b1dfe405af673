//! A program started beside a run, until it is reaped.

use super::enter::{self, Record};
use super::helper::{pid_of, Helper};
use crate::error::{Error, Result};
use crate::execve::ExecveParam;
use crate::limits::Limits;
use crate::protocol::rules::monotonic_ns;
use crate::protocol::ExecStage;
use crate::protocol::{ExecReport, Outcome};
use crate::result::{Accounting, RunResult};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Instant;

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

impl Alongside {
    /// Once the program exec'd or failed to.
    pub(super) fn new(
        pidfd: OwnedFd,
        helper: Helper,
        param: &ExecveParam<'_>,
        called_ns: u64,
        started_ns: u64,
    ) -> Self {
        Self {
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
        }
    }

    /// The program failed before its exec: its result is that failure, judged as
    /// a run's.
    pub(super) fn exec_failed(&mut self, stage: ExecStage, errno: i32) -> Result<()> {
        let ended = self.collect()?;
        let usage = ended.map(|e| (e.user_us, e.system_us, e.maxrss_kib));
        self.result = Some(self.judge(Outcome::ExecFailed { stage, errno }, usage));
        Ok(())
    }

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
            replied_ns: 0,
            standby: false,
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
