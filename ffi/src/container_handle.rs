//! The container handle: a pooled loan or a container of its own, and everything one
//! can do with it.

use crate::args;
use crate::config::{self, container_config};
use crate::failure::{error, guard, guard_value, guard_void, FfiError, FfiResult};
use crate::params::{self, execve_param, run_param};
use crate::results::{self as result, malloc_copy};
use scpool_core::{Container, OpenCmd, PooledContainer, RunResult};
use std::ops::{Deref, DerefMut};
use std::os::fd::IntoRawFd;
use std::os::raw::{c_char, c_int};

pub(crate) enum Loan {
    Pooled(PooledContainer),
    Own(Container),
}

impl Deref for Loan {
    type Target = Container;
    fn deref(&self) -> &Container {
        match self {
            Loan::Pooled(c) => c,
            Loan::Own(c) => c,
        }
    }
}

impl DerefMut for Loan {
    fn deref_mut(&mut self) -> &mut Container {
        match self {
            Loan::Pooled(c) => c,
            Loan::Own(c) => c,
        }
    }
}

/// A container (opaque): from `scpool_pool_acquire()` or `scpool_container_new()`.
/// A container handle is used by one thread at a time (calls on one handle must not
/// overlap); different handles may be used in parallel.
pub struct container {
    pub(crate) inner: Loan,
}

/// Stores a new handle for `inner` in the caller's out-pointer (checked non-NULL).
///
/// # Safety
/// `out` is non-NULL and writable.
pub(crate) unsafe fn hand_out(out: *mut *mut container, inner: Loan) {
    // SAFETY: forwarded contract; the box is freed by release or discard.
    unsafe { out.write(Box::into_raw(Box::new(container { inner }))) };
}

/// # Safety
/// `c` is NULL or a live container not used by another thread during the call.
pub(crate) unsafe fn live<'a>(c: *mut container) -> FfiResult<&'a mut Container> {
    // SAFETY: forwarded contract.
    let c = unsafe { c.as_mut() }.ok_or_else(|| FfiError::invalid("container is NULL"))?;
    Ok(&mut c.inner)
}

/// Creates a container of its own, outside any pool (a few milliseconds). `config`
/// may be NULL for the defaults. Free it with `scpool_container_release()`.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `config` is NULL or a valid config; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_new(
    config: *const container_config,
    out: *mut *mut container,
) -> error {
    guard(|| {
        let out = args::out(out, "out")?;
        // SAFETY: forwarded contract.
        let config = unsafe { config::container_config_from(config) }?;
        let inner = Loan::Own(Container::new(&config)?);
        // SAFETY: out is non-NULL and writable.
        unsafe { hand_out(out, inner) };
        Ok(())
    })
}

/// Gives a pooled container back to its pool (it is reset off the caller's path, or
/// destroyed if broken or if the pool is closed), or destroys a container of its own.
/// The handle is freed. NULL is ignored.
///
/// Thread safety: the handle must not be in use by another thread.
///
/// # Safety
/// `c` is NULL or a live container, not used again.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_release(c: *mut container) {
    guard_void(|| {
        if !c.is_null() {
            // SAFETY: from Box::into_raw, released once by the contract.
            drop(unsafe { Box::from_raw(c) });
        }
    })
}

/// Destroys the container instead of giving it back (for one left in a state you do
/// not trust); the pool makes a new one. The handle is freed. NULL is ignored.
///
/// Thread safety: the handle must not be in use by another thread.
///
/// # Safety
/// `c` is NULL or a live container, not used again.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_discard(c: *mut container) {
    guard_void(|| {
        if c.is_null() {
            return;
        }
        // SAFETY: from Box::into_raw, discarded once by the contract.
        match unsafe { Box::from_raw(c) }.inner {
            Loan::Pooled(loan) => loan.discard(),
            Loan::Own(own) => own.destroy(),
        }
    })
}

/// Checks the container's init answers.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_ping(c: *mut container) -> error {
    // SAFETY: forwarded contract.
    guard(|| Ok(unsafe { live(c) }?.ping()?))
}

/// # Safety
/// `c` is NULL or a live container not used by another thread during the call.
unsafe fn peek<'a>(c: *const container) -> Option<&'a Container> {
    // SAFETY: forwarded contract.
    unsafe { c.as_ref() }.map(|c| &*c.inner)
}

/// Non-zero when the container can no longer be used: its init died (seen at once,
/// without asking it) or misbehaved. Release it: its pool replaces it. A NULL
/// handle counts as broken.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_is_broken(c: *const container) -> c_int {
    // SAFETY: forwarded contract.
    let broken = guard_value(true, || unsafe { peek(c) }.is_none_or(Container::is_broken));
    broken.into()
}

/// The host pid of the container's init, or -1 for a NULL handle.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_init_pid(c: *const container) -> c_int {
    // SAFETY: forwarded contract.
    guard_value(-1, || unsafe { peek(c) }.map_or(-1, Container::init_pid))
}

/// The uid and gid the container's programs run as, as the host sees them (files
/// they create in a writable bind belong to them): the container's own ids from
/// the id range unless the config fixed them.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `uid` and `gid` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_program_ids(
    c: *const container,
    uid: *mut u32,
    gid: *mut u32,
) -> error {
    guard(|| {
        let (uid, gid) = (args::out(uid, "uid")?, args::out(gid, "gid")?);
        // SAFETY: forwarded contract.
        let c = unsafe { peek(c) }.ok_or_else(|| FfiError::invalid("container is NULL"))?;
        let (u, g) = c.program_ids();
        // SAFETY: both non-NULL and writable by the contract.
        unsafe {
            uid.write_unaligned(u);
            gid.write_unaligned(g);
        }
        Ok(())
    })
}

/// Kills every process but the init, empties /w and /tmp, removes IPC objects: the
/// container is as new.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_reset(c: *mut container) -> error {
    // SAFETY: forwarded contract.
    guard(|| Ok(unsafe { live(c) }?.reset()?))
}

/// One file to open inside the container, as open(2) takes it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct open_cmd {
    /// Absolute path inside the container.
    pub path: *const c_char,
    /// O_RDONLY, O_WRONLY, O_RDWR with O_CREAT, O_TRUNC, O_APPEND, O_EXCL...
    pub flags: c_int,
    /// Permission bits for a created file.
    pub mode: u32,
}

/// Opens `count` files inside the container (by its init, beneath its root, with no
/// symlinks followed) and stores their descriptors in `fds[0..count]`, which the
/// caller then owns (close them). All or nothing: on failure no descriptor is left
/// open and every `fds[i]` is -1.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `cmds` holds `count` entries; `fds` has room for
/// `count` ints.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_open(
    c: *mut container,
    cmds: *const open_cmd,
    count: usize,
    fds: *mut c_int,
) -> error {
    guard(|| {
        let fds = args::out(fds, "fds")?;
        // SAFETY: forwarded contract; this also bounds `count`.
        let cmds = unsafe { args::slice(cmds, count, "cmds") }?;
        // SAFETY: fds has room for count ints by the contract; count is bounded above.
        let fds = unsafe { std::slice::from_raw_parts_mut(fds, count) };
        fds.fill(-1);
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        let mut wanted = Vec::with_capacity(cmds.len());
        for (i, cmd) in cmds.iter().enumerate() {
            // SAFETY: forwarded contract.
            let path = unsafe { args::path(cmd.path, &format!("cmds[{i}].path")) }?;
            wanted.push(OpenCmd::new(path, cmd.flags, cmd.mode));
        }
        let files = c.open(&wanted)?;
        for (slot, file) in fds.iter_mut().zip(files) {
            *slot = file.into_raw_fd();
        }
        Ok(())
    })
}

/// The body of execve and run: checks the result struct first (a bad one changes
/// nothing), runs on the container, writes the result.
///
/// # Safety
/// `c` is NULL or a live container; `result` is NULL or prepared.
unsafe fn run_into(
    c: *mut container,
    result: *mut result::result,
    run: impl FnOnce(&mut Container) -> FfiResult<RunResult>,
) -> FfiResult {
    // SAFETY: forwarded contract.
    let len = unsafe { result::check_result_out(result) }?;
    // SAFETY: forwarded contract.
    let r = run(unsafe { live(c) }?)?;
    // SAFETY: checked above.
    unsafe { result::write_result(result, len, &r) }
}

/// The raw run: executes `param` in the container and fills `result` (prepared by
/// `scpool_result_init()`; free it with `scpool_result_free()`). A program that fails,
/// crashes or exceeds a limit is a success of this call with a status in the result;
/// an error code means the run could not be carried out.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `param` is NULL or a valid param whose pointers
/// and descriptors stay valid during the call; `result` is NULL or prepared.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_execve(
    c: *mut container,
    param: *const execve_param,
    result: *mut result::result,
) -> error {
    guard(|| {
        let run = |c: &mut Container| {
            // SAFETY: forwarded contract.
            let param = unsafe { params::execve_param_from(param) }?;
            Ok(c.execve(&param)?)
        };
        // SAFETY: forwarded contract.
        unsafe { run_into(c, result, run) }
    })
}

/// The convenience run: stdin from a buffer, stdout and stderr captured into
/// `result` (prepared by `scpool_result_init()`; free it with `scpool_result_free()`).
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// As `scpool_container_execve()`.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_run(
    c: *mut container,
    param: *const run_param,
    result: *mut result::result,
) -> error {
    guard(|| {
        let run = |c: &mut Container| {
            // SAFETY: forwarded contract.
            let param = unsafe { params::run_param_from(param) }?;
            Ok(c.run(&param)?)
        };
        // SAFETY: forwarded contract.
        unsafe { run_into(c, result, run) }
    })
}

/// Writes `len` bytes to `path` inside the container (created or truncated, 0644).
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `path` a string; `data` holds `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_write_file(
    c: *mut container,
    path: *const c_char,
    data: *const u8,
    len: usize,
) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let path = unsafe { args::path(path, "path") }?;
        // SAFETY: forwarded contract.
        let data = unsafe { args::slice(data, len, "data") }?;
        Ok(c.write_file(path, data)?)
    })
}

/// Reads the whole file at `path` inside the container into a new buffer: `*data`
/// (NULL when empty; free with `scpool_buffer_free()`) and `*len`. On failure
/// `*data` is NULL and `*len` 0.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `path` a string; `data` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_read_file(
    c: *mut container,
    path: *const c_char,
    data: *mut *mut u8,
    len: *mut usize,
) -> error {
    guard(|| {
        let data = args::out(data, "data")?;
        let len = args::out(len, "len")?;
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            data.write(std::ptr::null_mut());
            len.write(0);
        }
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let path = unsafe { args::path(path, "path") }?;
        let bytes = c.read_file(path)?;
        let copy = malloc_copy(&bytes)?;
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            data.write(copy);
            len.write(bytes.len());
        }
        Ok(())
    })
}
