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
    pub hostname: Vec<u8>,
    pub domainname: Vec<u8>,
    pub mounts: Vec<MountSpec>,
    /// An unpacked image whose top-level entries are bound read-only as the root.
    pub rootfs: Option<Vec<u8>>,
    /// Size caps of the writable tmpfs mounts, in bytes.
    pub work_size: u64,
    pub tmp_size: u64,
    /// Credentials the program runs with (inside the container's user namespace when
    /// `user_namespace` is set, where only 0 is mapped).
    pub uid: u32,
    pub gid: u32,
    pub user_namespace: bool,
}

/// One file to open inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEntry {
    pub path: Vec<u8>,
    pub flags: i32,
    pub mode: u32,
}

/// A resource limit applied with setrlimit in the runner before exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// Run one program. Its descriptors travel with the message: the first `fd_count`
/// become 0, 1, 2, ... and, when `exec_fd` is set, one more follows: the executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub args: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub fd_count: u32,
    pub exec_fd: bool,
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

/// Host to init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Setup(Setup),
    Ping {
        nonce: u64,
    },
    Open(Vec<OpenEntry>),
    Execve(ExecRequest),
    /// Kill every process of the current run (sent when the wall-time limit expires).
    Kill,
    /// Kill what is left of the runs, empty /w and /tmp, remove IPC objects and,
    /// with `clear_keys` (a run's seccomp policy allowed keyctl), the program uid's
    /// keyrings. Reply: ResetDone, or Error.
    Reset {
        clear_keys: bool,
    },
    Shutdown,
}

/// Where in the runner a failed exec stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExecStage {
    Files = 1,
    Chdir = 2,
    Rlimit = 3,
    Credentials = 4,
    NoNewPrivs = 5,
    Seccomp = 6,
    Exec = 7,
    /// Entering the run's own PID namespace (rootless mode).
    Namespace = 8,
    /// Joining the run's own cgroup (cgroup v2 before 6.12).
    Cgroup = 9,
}

impl ExecStage {
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
    Exited(i32),
    Signaled(i32),
    ExecFailed { stage: ExecStage, errno: i32 },
}

/// What the init measured for one run. Instants are CLOCK_MONOTONIC nanoseconds,
/// which host and init share (no time namespace is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecReport {
    pub outcome: Outcome,
    /// When the request arrived at the init.
    pub received_ns: u64,
    /// When the exec succeeded (or failed).
    pub started_ns: u64,
    /// When the main process was reaped.
    pub ended_ns: u64,
    /// user and system CPU of every process of the run, microseconds.
    pub user_us: u64,
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
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::InvalidArgument,
            2 => Self::System,
            3 => Self::Protocol,
            _ => return None,
        })
    }
}

/// A request the init could not carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub errno: i32,
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
    Ready {
        version: u32,
    },
    Pong {
        nonce: u64,
    },
    /// The opened descriptors travel with this message, in request order.
    Opened {
        count: u32,
    },
    Exited(ExecReport),
    ResetDone,
    Error(ErrorReport),
}
