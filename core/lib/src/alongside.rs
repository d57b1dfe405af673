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
//!   limit while [`Alongside::wait`] waits. A CPU set is refused: the program
//!   runs on the CPUs of the container's run.
//! - When it ends, what is left of its process group is killed; a process that
//!   left its session lives on until the container's run ends or it is reset.
//! - The init kills it as it kills everything but itself: when the container's
//!   current run ends, on reset, and when the container goes.
//! - Rootless (a user namespace) it runs, as every rootless run does, in a PID
//!   namespace of its own nested in the container's, under a reaper: with the
//!   init's uid it could otherwise act on the init by pid. It sees its own
//!   processes only.

mod enter;
mod helper;
mod running;

use crate::error::{Error, Result};
use crate::execve::ExecveParam;
use crate::limits::Enforcement;
use crate::protocol::rules::monotonic_ns;
use crate::protocol::{seccomp_exec, ExecStage, Rlimit};
use enter::{Plan, Record};
use helper::fork_helper;
pub use running::Alongside;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

/// The raw prlimit64 takes two 64-bit values, which `libc::rlimit` is on every
/// target this builds for.
const _: () = assert!(std::mem::size_of::<libc::rlimit>() == 16);

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

pub(super) fn os(context: &str, errno: i32) -> Error {
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
            // It joins the cgroup as it is, on the CPUs of the container's run.
            no_cpuset: Some("a program beside a run shares the CPUs of the container's run"),
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
        let mut alongside = Alongside::new(pidfd, helper, param, called_ns, started_ns);
        if let Some((stage, errno)) = failure {
            alongside.exec_failed(stage, errno)?;
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
            let unchanged = std::ptr::null::<libc::rlimit>();
            // SAFETY: prlimit64 of this process fills the struct we own; the raw call
            // because C libraries type the resource differently (glibc u32, musl int).
            let known =
                unsafe { libc::syscall(libc::SYS_prlimit64, 0, r.resource, unchanged, &mut own) }
                    == 0;
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
