//! Message types exchanged between host and init. Paths, arguments and environment
//! entries travel as raw bytes: Unix paths need not be UTF-8.

/// One bind mount of the container's root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    /// Host path (resolved by the init before it builds the new root).
    pub source: Vec<u8>,
    /// Absolute path inside the container.
    pub target: Vec<u8>,
    /// Mounted read-write when true; read-only otherwise.
    pub writable: bool,
    /// A missing source is skipped instead of failing the set-up.
    pub optional: bool,
}

/// The first message: how the init builds the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The container's host name (UTS namespace).
    pub hostname: Vec<u8>,
    /// The container's NIS domain name (UTS namespace).
    pub domainname: Vec<u8>,
    /// Binds of the new root, in order.
    pub mounts: Vec<MountSpec>,
    /// An unpacked image whose top-level entries are bound read-only as the root.
    pub rootfs: Option<Vec<u8>>,
    /// Unpacked image layers, lowest first: when not empty the image's view is an
    /// overlayfs of them with a writable upper layer on a tmpfs of `root_size`
    /// bytes, emptied at reset. Excludes `rootfs`.
    pub image_layers: Vec<Vec<u8>>,
    /// Size cap of the upper layer over `image_layers`, bytes.
    pub root_size: u64,
    /// Size cap of `/w`, bytes.
    pub work_size: u64,
    /// Size cap of `/tmp`, bytes.
    pub tmp_size: u64,
    /// Credentials the program runs with (inside the container's user namespace when
    /// `user_namespace` is set, where only 0 is mapped).
    pub uid: u32,
    /// The program's gid (see `uid`).
    pub gid: u32,
    /// The container has a user namespace of its own (rootless mode).
    pub user_namespace: bool,
}

/// One file to open inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEntry {
    /// Absolute path inside the container.
    pub path: Vec<u8>,
    /// open(2) flags.
    pub flags: i32,
    /// Permission bits when the entry creates the file.
    pub mode: u32,
}

/// A resource limit applied with setrlimit in the runner before exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    /// The `RLIMIT_*` resource.
    pub resource: u32,
    /// The soft limit (`RLIM_INFINITY` for none).
    pub soft: u64,
    /// The hard limit (`RLIM_INFINITY` for none).
    pub hard: u64,
}

/// Run one program. Its descriptors travel with the message: the first `fd_count`
/// become 0, 1, 2, ... and, when `exec_fd` is set, one more follows: the executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// argv; `args[0]` is the path executed unless `exec_fd` is set.
    pub args: Vec<Vec<u8>>,
    /// The environment, exactly.
    pub env: Vec<Vec<u8>>,
    /// The working directory inside the container.
    pub cwd: Vec<u8>,
    /// How many of the message's descriptors become the program's 0, 1, 2, ...
    pub fd_count: u32,
    /// One more descriptor follows those: the file to execute.
    pub exec_fd: bool,
    /// Every resource limit the runner sets before exec.
    pub rlimits: Vec<Rlimit>,
    /// A classic BPF program (struct sock_filter array, native byte order).
    pub seccomp: Option<Vec<u8>>,
    /// Wall-clock limit counted from the program's exec, ns (0: none). The init
    /// enforces it, so the limit and the reported wall time measure one interval.
    pub wall_limit_ns: u64,
    /// The single-program policy: the init adds a filter that allows only the
    /// runner's own exec (see `seccomp_exec`).
    pub single_program: bool,
    /// The last descriptor is the cgroup.procs of a fresh cgroup the runner joins
    /// before anything else (cgroup v2 kernels that cannot reset memory.peak: a
    /// fresh cgroup per run gives each run a peak of its own).
    pub join_cgroup: bool,
}

/// Host to init. Each request documents its reply; a request that cannot be
/// decoded, or comes at the wrong time, gets `Response::Error` of kind `Protocol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Build the container: the first request and only the first (a later one gets
    /// `Error` of kind `Protocol`).
    ///
    /// Reply: `Ready` once the container is built, or `Error` (and the init exits).
    Setup(Setup),
    /// Show the init still answers.
    ///
    /// Reply: `Pong` with the same `nonce`.
    Ping {
        /// Echoed back, so a late reply to an earlier ping is not taken for this one.
        nonce: u64,
    },
    /// Open files inside the container with the program's credentials, all or none.
    ///
    /// Reply: `Opened`, the descriptors attached in request order; or `Error`, whose
    /// message starts with the index of the entry that failed.
    Open(Vec<OpenEntry>),
    /// Run one program (its descriptors travel with the message, see
    /// [`ExecRequest`]).
    ///
    /// Reply: `Exited` when the main process is reaped (or its exec failed:
    /// `Outcome::ExecFailed`), or `Error` when the run could not be started. During
    /// the run the init takes only `Kill` and `Shutdown`; anything else gets
    /// `Error` of kind `Protocol` (errno EBUSY).
    Execve(ExecRequest),
    /// Kill every process of the current run (sent when the host's watch of a time
    /// limit expires).
    ///
    /// Reply: none; the run's `Exited` follows. Without a run it is ignored.
    Kill,
    /// Kill what is left of the runs, empty /w and /tmp, remove IPC objects and,
    /// with `clear_keys`, the program uid's keyrings.
    ///
    /// Reply: `ResetDone`, or `Error` (the container is then not reused).
    Reset {
        /// A run's seccomp policy allowed keyctl: the uid's keyrings may hold keys.
        clear_keys: bool,
    },
    /// Kill everything and exit.
    ///
    /// Reply: none; the socket closes.
    Shutdown,
}

/// Where in the runner a failed exec stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExecStage {
    /// Moving the descriptors into place.
    Files = 1,
    /// Changing to the working directory.
    Chdir = 2,
    /// Setting the resource limits.
    Rlimit = 3,
    /// Dropping to the program's credentials.
    Credentials = 4,
    /// Setting no_new_privs.
    NoNewPrivs = 5,
    /// Installing the seccomp filter.
    Seccomp = 6,
    /// The exec itself.
    Exec = 7,
    /// Entering the run's own PID namespace (rootless mode).
    Namespace = 8,
    /// Joining the run's own cgroup (cgroup v2 before 6.12).
    Cgroup = 9,
}

impl ExecStage {
    /// The stage with this wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Files,
            2 => Self::Chdir,
            3 => Self::Rlimit,
            4 => Self::Credentials,
            5 => Self::NoNewPrivs,
            6 => Self::Seccomp,
            7 => Self::Exec,
            8 => Self::Namespace,
            9 => Self::Cgroup,
            _ => return None,
        })
    }

    /// What the runner was doing, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Files => "setting up file descriptors",
            Self::Chdir => "changing to the working directory",
            Self::Rlimit => "applying resource limits",
            Self::Credentials => "dropping privileges",
            Self::NoNewPrivs => "setting no_new_privs",
            Self::Seccomp => "installing the seccomp filter",
            Self::Exec => "executing the program",
            Self::Namespace => "entering the run's PID namespace",
            Self::Cgroup => "joining the run's cgroup",
        }
    }
}

/// How the program's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// The runner never got to run the program.
    ExecFailed {
        /// Where the runner stopped.
        stage: ExecStage,
        /// The error of the failed call.
        errno: i32,
    },
}

/// What the init measured for one run. Instants are CLOCK_MONOTONIC nanoseconds,
/// which host and init share (no time namespace is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecReport {
    /// How the main process ended.
    pub outcome: Outcome,
    /// When the request arrived at the init.
    pub received_ns: u64,
    /// When the exec succeeded (or failed).
    pub started_ns: u64,
    /// When the main process was reaped.
    pub ended_ns: u64,
    /// user CPU of every process of the run, microseconds.
    pub user_us: u64,
    /// system CPU of every process of the run, microseconds.
    pub system_us: u64,
    /// ru_maxrss of the main process tree, KiB.
    pub maxrss_kib: u64,
    /// Some process of the run was killed by SIGXFSZ (it hit RLIMIT_FSIZE).
    pub file_size_exceeded: bool,
    /// Some process of the run was killed by SIGSYS (a seccomp kill, when the
    /// policy kills: a child that made a forbidden call counts as the main would).
    pub sigsys_killed: bool,
    /// CPU the init itself used during the run (it shares the run's cgroup), µs.
    pub init_cpu_us: u64,
    /// The init killed the run at its wall-clock limit.
    pub wall_time_exceeded: bool,
    /// A process of the run changed the init's own state (its resource limits or
    /// scheduling): the container must not be reused.
    pub init_tampered: bool,
    /// When the init sent this report (after its accounting).
    pub replied_ns: u64,
    /// The init's standby runner became the program (see the init's `standby`).
    pub standby: bool,
}

/// Why the init refused or failed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorKind {
    /// The request itself is wrong (bad path, bad flags, bad descriptor count).
    InvalidArgument = 1,
    /// A system call failed; `errno` says which error.
    System = 2,
    /// The request does not fit the init's state (e.g. Setup twice).
    Protocol = 3,
}

impl ErrorKind {
    /// The kind with this wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::InvalidArgument,
            2 => Self::System,
            3 => Self::Protocol,
            _ => return None,
        })
    }
}

/// The init's answer to a request it refused or could not carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// Why.
    pub kind: ErrorKind,
    /// The error of the failed call (0 when none).
    pub errno: i32,
    /// What failed, for people.
    pub message: String,
    /// For `Open`: the index of the entry that failed (the host names its path).
    pub entry: Option<u32>,
}

impl ErrorReport {
    /// A failure of `kind` with its errno and what was being done.
    pub fn new(kind: ErrorKind, errno: i32, message: impl Into<String>) -> Self {
        Self {
            kind,
            errno,
            message: message.into(),
            entry: None,
        }
    }

    /// A request the init refuses as malformed (EINVAL).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, libc::EINVAL, message)
    }

    /// A system call that failed with `errno` while doing `context`.
    pub fn system(context: &str, errno: nix::errno::Errno) -> Self {
        Self::new(
            ErrorKind::System,
            errno as i32,
            format!("{context}: {}", errno.desc()),
        )
    }

    /// The same report, about entry `index` of the request.
    pub fn at_entry(self, index: usize) -> Self {
        Self {
            entry: u32::try_from(index).ok(),
            ..self
        }
    }
}

/// Init to host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The container is built (the reply to `Setup`).
    Ready {
        /// The init's `PROTOCOL_VERSION`: the host refuses an init of another.
        version: u32,
    },
    /// The reply to `Ping`.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// The reply to `Open`: the opened descriptors travel with this message, in
    /// request order.
    Opened {
        /// How many descriptors are attached.
        count: u32,
    },
    /// The reply to `Execve`: the run ended.
    Exited(ExecReport),
    /// The reply to `Reset`: the container is clean again.
    ResetDone,
    /// A request was refused or failed.
    Error(ErrorReport),
}
