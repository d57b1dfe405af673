//! Run parameters as C structs: limits, the seccomp choice, the raw execve and the
//! convenience run.

use crate::args::{self, SizedStruct};
use crate::failure::{error, guard, FfiError, FfiResult};
use scpool_core::{ExecveParam, Limits, Program, RunParam, SeccompPolicy};
use std::os::fd::BorrowedFd;
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

/// Limits of one run. Fill with `scpool_limits_init()`; 0 in a field means the
/// library's default for it (`SCPOOL_DEFAULT_PROCESSES`, `SCPOOL_DEFAULT_OPEN_FILES`,
/// `SCPOOL_DEFAULT_STACK_BYTES`) or, for the others, no limit.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct limits {
    /// `sizeof(scpool_limits)`, set by the `_init` function.
    pub struct_size: u32,
    /// Processes and threads alive at once (fork fails with EAGAIN beyond).
    pub processes: u32,
    /// CPU time (user + system) of all processes of the run, nanoseconds.
    pub cpu_time_ns: u64,
    /// Wall-clock time, nanoseconds.
    pub wall_time_ns: u64,
    /// Peak memory of all processes of the run, bytes (at least
    /// `SCPOOL_MIN_MEMORY_BYTES`).
    pub memory_bytes: u64,
    /// Bytes the program may write to any one file, and to each captured stream of
    /// `scpool_container_run()`.
    pub output_bytes: u64,
    /// CPU rate in cores (0.5 = half of one core): slower, never killed.
    pub cpu_rate: f64,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: u64,
    /// Stack size, bytes (RLIMIT_STACK).
    pub stack_bytes: u64,
    /// Address space of each process, bytes (RLIMIT_AS): allocations beyond it
    /// fail. Independent of `memory_bytes`. (Added after the first version.)
    pub address_space_bytes: u64,
    /// The CPUs the run may use, in the kernel's list syntax ("0", "0-1,3"): a
    /// hard limit (the container cgroup's cpuset). NULL: every CPU. Borrowed for
    /// the call. A list that does not parse, or names a CPU containers may not
    /// use, is SCPOOL_ERROR_INVALID_ARGUMENT; without a cpuset controller,
    /// SCPOOL_ERROR_UNSUPPORTED. (Added after the address-space limit.)
    pub cpu_set: *const c_char,
}

impl SizedStruct for limits {
    const NAME: &'static str = "scpool_limits";
    // The first version ended before the address-space limit.
    const FIRST_SIZE: usize = std::mem::offset_of!(Self, address_space_bytes);
}

/// Which system calls a run may make (`seccomp` fields).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum seccomp_policy {
    /// Deny the escape channels (ptrace, mount, unshare, bpf...) with EPERM.
    Default = 0,
    /// Allow what a single-process program needs; kill on anything else
    /// (DISALLOWED_SYSCALL).
    Strict = 1,
    /// No filter (the namespaces, credentials and cgroup still hold).
    Disabled = 2,
    /// The classic BPF program in `seccomp_filter` / `seccomp_filter_len`.
    Custom = 3,
    /// DEFAULT, and the runner's exec of the program is the only exec of the run:
    /// any later execve/execveat (system(), a shell) kills the process that makes
    /// it (DISALLOWED_SYSCALL when the init reaps it).
    SingleProgram = 4,
}

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sock_filter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// The raw run. Fill with `scpool_execve_param_init()`, then set `argv` at least.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct execve_param {
    /// `sizeof(scpool_execve_param)`, set by the `_init` function.
    pub struct_size: u32,
    /// The file to execute instead of `argv[0]` (e.g. from `scpool_memfd_copy()`);
    /// -1 (the default) runs `argv[0]` as a path inside the container.
    pub exec_fd: c_int,
    /// NULL-terminated argument list; `argv[0]` is required.
    pub argv: *const *const c_char,
    /// NULL-terminated environment, passed exactly (NULL: empty).
    pub envp: *const *const c_char,
    /// Working directory inside the container; NULL means `SCPOOL_DEFAULT_CWD` ("/w").
    pub cwd: *const c_char,
    /// Descriptors that become the program's 0, 1, 2, ... (`files_len` of them);
    /// slots 0-2 not given are /dev/null.
    pub files: *const c_int,
    pub files_len: usize,
    /// Limits of the run; NULL means none.
    pub limits: *const limits,
    /// A `scpool_seccomp_policy`.
    pub seccomp: u32,
    /// The program for `SCPOOL_SECCOMP_POLICY_CUSTOM`.
    pub seccomp_filter: *const sock_filter,
    pub seccomp_filter_len: usize,
}

impl SizedStruct for execve_param {
    const NAME: &'static str = "scpool_execve_param";
    // Version 1 of the ABI: the whole struct.
    const FIRST_SIZE: usize = std::mem::size_of::<Self>();
}

/// The convenience run: stdin from a buffer, stdout and stderr captured. Fill with
/// `scpool_run_param_init()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct run_param {
    /// `sizeof(scpool_run_param)`, set by the `_init` function.
    pub struct_size: u32,
    /// NULL-terminated argument list; `argv[0]` is run as a path inside the container.
    pub argv: *const *const c_char,
    /// NULL-terminated environment, passed exactly (NULL: empty).
    pub envp: *const *const c_char,
    /// Working directory inside the container; NULL means `SCPOOL_DEFAULT_CWD` ("/w").
    pub cwd: *const c_char,
    /// Bytes fed to the program's stdin (may be NULL when `stdin_len` is 0).
    pub stdin_data: *const u8,
    pub stdin_len: usize,
    /// Limits of the run; NULL means none. `output_bytes` also caps each captured
    /// stream (64 MiB when 0).
    pub limits: *const limits,
    /// A `scpool_seccomp_policy`.
    pub seccomp: u32,
    pub seccomp_filter: *const sock_filter,
    pub seccomp_filter_len: usize,
}

impl SizedStruct for run_param {
    const NAME: &'static str = "scpool_run_param";
    // Version 1 of the ABI: the whole struct.
    const FIRST_SIZE: usize = std::mem::size_of::<Self>();
}

fn limits_defaults() -> limits {
    limits {
        struct_size: std::mem::size_of::<limits>() as u32,
        processes: 0,
        cpu_time_ns: 0,
        wall_time_ns: 0,
        memory_bytes: 0,
        output_bytes: 0,
        cpu_rate: 0.0,
        open_files: 0,
        stack_bytes: 0,
        address_space_bytes: 0,
        cpu_set: std::ptr::null(),
    }
}

fn execve_param_defaults() -> execve_param {
    execve_param {
        struct_size: std::mem::size_of::<execve_param>() as u32,
        exec_fd: -1,
        argv: std::ptr::null(),
        envp: std::ptr::null(),
        cwd: std::ptr::null(),
        files: std::ptr::null(),
        files_len: 0,
        limits: std::ptr::null(),
        seccomp: seccomp_policy::Default as u32,
        seccomp_filter: std::ptr::null(),
        seccomp_filter_len: 0,
    }
}

fn run_param_defaults() -> run_param {
    run_param {
        struct_size: std::mem::size_of::<run_param>() as u32,
        argv: std::ptr::null(),
        envp: std::ptr::null(),
        cwd: std::ptr::null(),
        stdin_data: std::ptr::null(),
        stdin_len: 0,
        limits: std::ptr::null(),
        seccomp: seccomp_policy::Default as u32,
        seccomp_filter: std::ptr::null(),
        seccomp_filter_len: 0,
    }
}

/// Fills `l` with zeros, each the default of its field (and its `struct_size`).
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `l` is NULL or points to writable memory for a `scpool_limits`.
#[no_mangle]
pub unsafe extern "C" fn scpool_limits_init(l: *mut limits) -> error {
    guard(|| {
        let l = args::out(l, "limits")?;
        // SAFETY: non-NULL and writable by the contract.
        unsafe { l.write_unaligned(limits_defaults()) };
        Ok(())
    })
}

/// Fills `p` with the defaults: no argv, empty environment, cwd `SCPOOL_DEFAULT_CWD`, no files,
/// `exec_fd` -1, no limits, the default seccomp policy.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `p` is NULL or points to writable memory for a `scpool_execve_param`.
#[no_mangle]
pub unsafe extern "C" fn scpool_execve_param_init(p: *mut execve_param) -> error {
    guard(|| {
        let p = args::out(p, "param")?;
        // SAFETY: non-NULL and writable by the contract.
        unsafe { p.write_unaligned(execve_param_defaults()) };
        Ok(())
    })
}

/// Fills `p` with the defaults: no argv, empty environment, cwd `SCPOOL_DEFAULT_CWD`, empty stdin,
/// no limits, the default seccomp policy.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `p` is NULL or points to writable memory for a `scpool_run_param`.
#[no_mangle]
pub unsafe extern "C" fn scpool_run_param_init(p: *mut run_param) -> error {
    guard(|| {
        let p = args::out(p, "param")?;
        // SAFETY: non-NULL and writable by the contract.
        unsafe { p.write_unaligned(run_param_defaults()) };
        Ok(())
    })
}

/// # Safety
/// `p` is NULL or a valid `scpool_limits`.
unsafe fn limits_from(p: *const limits) -> FfiResult<Limits> {
    if p.is_null() {
        return Ok(Limits::default());
    }
    // SAFETY: forwarded contract.
    let l = unsafe { args::sized_struct(p, limits_defaults()) }?;
    let mut limits = Limits::default();
    limits.cpu_time = args::nanos(l.cpu_time_ns);
    limits.wall_time = args::nanos(l.wall_time_ns);
    limits.memory = args::nonzero(l.memory_bytes);
    limits.output = args::nonzero(l.output_bytes);
    limits.processes = args::nonzero(l.processes);
    // 0 is "none"; any other value, NaN and negatives included, is the library's
    // to accept or refuse (one range for every language).
    limits.cpu_rate = (l.cpu_rate != 0.0).then_some(l.cpu_rate);
    limits.open_files = args::nonzero(l.open_files);
    limits.stack = args::nonzero(l.stack_bytes);
    limits.address_space = args::nonzero(l.address_space_bytes);
    // SAFETY: NULL or a NUL-terminated string by the struct's contract.
    if let Some(list) = unsafe { args::optional_string(l.cpu_set, "cpu_set") }? {
        let list = list
            .to_str()
            .ok_or_else(|| FfiError::invalid("cpu_set is not UTF-8"))?;
        limits.cpu_set = Some(scpool_core::CpuSet::parse(list)?);
    }
    Ok(limits)
}

/// # Safety
/// `filter` is NULL or points to `len` instructions.
unsafe fn seccomp_from(
    raw: u32,
    filter: *const sock_filter,
    len: usize,
) -> FfiResult<SeccompPolicy> {
    let policy = match raw {
        x if x == seccomp_policy::Default as u32 => SeccompPolicy::Default,
        x if x == seccomp_policy::Strict as u32 => SeccompPolicy::Strict,
        x if x == seccomp_policy::Disabled as u32 => SeccompPolicy::Disabled,
        x if x == seccomp_policy::SingleProgram as u32 => SeccompPolicy::SingleProgram,
        x if x == seccomp_policy::Custom as u32 => {
            // SAFETY: forwarded contract.
            let program = unsafe { args::slice(filter, len, "seccomp_filter") }?;
            if program.is_empty() {
                return Err(FfiError::invalid(
                    "SCPOOL_SECCOMP_POLICY_CUSTOM needs a non-empty seccomp_filter",
                ));
            }
            let program = program
                .iter()
                .map(|i| seccompiler::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect();
            return Ok(SeccompPolicy::Custom(Arc::new(program)));
        }
        other => {
            return Err(FfiError::invalid(format!(
                "seccomp {other} is not a scpool_seccomp_policy"
            )))
        }
    };
    if len != 0 || !filter.is_null() {
        return Err(FfiError::invalid(
            "seccomp_filter is only used with SCPOOL_SECCOMP_POLICY_CUSTOM",
        ));
    }
    Ok(policy)
}

fn descriptor<'a>(fd: c_int, what: &str) -> FfiResult<BorrowedFd<'a>> {
    if fd < 0 {
        return Err(FfiError::invalid(format!(
            "{what} {fd} is not a descriptor"
        )));
    }
    // SAFETY: the caller keeps the descriptor open for the duration of the call (the
    // header's contract); the core only passes it to the kernel (SCM_RIGHTS), which
    // refuses a closed number with EBADF.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// The fields both run structs carry, in the order both declare them.
struct ProgramFields {
    argv: *const *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    limits: *const limits,
    seccomp: u32,
    seccomp_filter: *const sock_filter,
    seccomp_filter_len: usize,
}

/// Converts the part of a run both structs share: once, for both.
///
/// # Safety
/// The pointers of `c` are NULL or valid (as `scpool_execve_param` documents).
unsafe fn program_from(c: ProgramFields) -> FfiResult<Program> {
    // SAFETY: forwarded contract.
    let argv = unsafe { args::string_list(c.argv, "argv") }?;
    let mut program = Program::new(argv);
    // SAFETY: forwarded contract.
    program.env = unsafe { args::string_list(c.envp, "envp") }?;
    // SAFETY: forwarded contract.
    if let Some(cwd) = unsafe { args::optional_string(c.cwd, "cwd") }? {
        program.cwd = cwd.into();
    }
    // SAFETY: forwarded contract.
    program.limits = unsafe { limits_from(c.limits) }?;
    // SAFETY: forwarded contract.
    program.seccomp = unsafe { seccomp_from(c.seccomp, c.seccomp_filter, c.seccomp_filter_len) }?;
    Ok(program)
}

/// Converts a caller's execve parameters.
///
/// # Safety
/// `p` is NULL or a valid `scpool_execve_param` whose pointers are valid, and its
/// descriptors stay open during the call.
pub(crate) unsafe fn execve_param_from<'a>(p: *const execve_param) -> FfiResult<ExecveParam<'a>> {
    // SAFETY: forwarded contract.
    let c = unsafe { args::sized_struct(p, execve_param_defaults()) }?;
    let shared = ProgramFields {
        argv: c.argv,
        envp: c.envp,
        cwd: c.cwd,
        limits: c.limits,
        seccomp: c.seccomp,
        seccomp_filter: c.seccomp_filter,
        seccomp_filter_len: c.seccomp_filter_len,
    };
    // SAFETY: forwarded contract.
    let mut param = ExecveParam::from(unsafe { program_from(shared) }?);
    // SAFETY: forwarded contract.
    let files = unsafe { args::slice(c.files, c.files_len, "files") }?;
    param.files = files
        .iter()
        .map(|&fd| descriptor(fd, "files[]"))
        .collect::<FfiResult<_>>()?;
    if c.exec_fd != -1 {
        param.exec_file = Some(descriptor(c.exec_fd, "exec_fd")?);
    }
    Ok(param)
}

/// Converts a caller's run parameters.
///
/// # Safety
/// `p` is NULL or a valid `scpool_run_param` whose pointers are valid.
pub(crate) unsafe fn run_param_from(p: *const run_param) -> FfiResult<RunParam> {
    // SAFETY: forwarded contract.
    let c = unsafe { args::sized_struct(p, run_param_defaults()) }?;
    let shared = ProgramFields {
        argv: c.argv,
        envp: c.envp,
        cwd: c.cwd,
        limits: c.limits,
        seccomp: c.seccomp,
        seccomp_filter: c.seccomp_filter,
        seccomp_filter_len: c.seccomp_filter_len,
    };
    // SAFETY: forwarded contract.
    let mut param = RunParam::from(unsafe { program_from(shared) }?);
    // SAFETY: forwarded contract.
    param.stdin = unsafe { args::slice(c.stdin_data, c.stdin_len, "stdin_data") }?.to_vec();
    Ok(param)
}
