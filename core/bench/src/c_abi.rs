//! The pooled run through the C ABI: the acquire + execve + release a C host makes,
//! calling the exported `extern "C"` functions of libscpool directly.

use crate::error::BenchError;
use scpool as ffi;
use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::os::raw::c_char;
use std::path::Path;

/// A pool created through `scpool_pool_new`, freed on drop.
pub struct CAbiPool {
    pool: *mut ffi::pool,
    /// argv of the no-op, NULL-terminated; the strings live in `_args`.
    argv: Vec<*const c_char>,
    _args: CString,
    exec_fd: RawFd,
}

fn failure(what: &str, code: ffi::error) -> BenchError {
    // SAFETY: the library returns a NUL-terminated string valid until the next call
    // on this thread.
    let message = unsafe { CStr::from_ptr(ffi::scpool_last_error_message()) };
    BenchError::runtime(format!(
        "{what} through the C ABI: {code:?}: {}",
        message.to_string_lossy()
    ))
}

impl CAbiPool {
    /// A pool of `size` containers that will run `program` from `exec_fd`.
    pub fn new(size: u32, program: &Path, exec_fd: RawFd) -> Result<Self, BenchError> {
        let args = CString::new(program.as_os_str().as_encoded_bytes())
            .map_err(|_| BenchError::runtime("the no-op's path contains a NUL byte"))?;
        let mut config = std::mem::MaybeUninit::<ffi::pool_config>::uninit();
        // SAFETY: the init function fills the whole struct.
        let code = unsafe { ffi::scpool_pool_config_init(config.as_mut_ptr()) };
        if code != ffi::error::Ok {
            return Err(failure("initializing the pool config", code));
        }
        // SAFETY: initialized by scpool_pool_config_init above.
        let mut config = unsafe { config.assume_init() };
        config.min_idle = size;
        config.max_idle = size;
        config.max_size = size;
        let mut pool = std::ptr::null_mut();
        // SAFETY: a valid config and out-pointer.
        let code = unsafe { ffi::scpool_pool_new(&config, &mut pool) };
        if code != ffi::error::Ok {
            return Err(failure("creating the pool", code));
        }
        Ok(Self {
            pool,
            argv: vec![args.as_ptr(), std::ptr::null()],
            _args: args,
            exec_fd,
        })
    }

    /// One acquire + execve of the no-op + release.
    pub fn run_once(&self) -> Result<(), BenchError> {
        let mut container = std::ptr::null_mut();
        // SAFETY: a live pool and a valid out-pointer.
        let code = unsafe { ffi::scpool_pool_acquire(self.pool, -1, &mut container) };
        if code != ffi::error::Ok {
            return Err(failure("acquiring a container", code));
        }
        let outcome = self.execve(container);
        // SAFETY: acquired above, released once.
        unsafe { ffi::scpool_container_release(container) };
        outcome
    }

    fn execve(&self, container: *mut ffi::container) -> Result<(), BenchError> {
        let mut param = std::mem::MaybeUninit::<ffi::execve_param>::uninit();
        let mut result = std::mem::MaybeUninit::<ffi::result>::uninit();
        // SAFETY: the init functions fill the whole structs.
        unsafe {
            ffi::scpool_execve_param_init(param.as_mut_ptr());
            ffi::scpool_result_init(result.as_mut_ptr());
        }
        // SAFETY: both initialized just above.
        let (mut param, mut result) = unsafe { (param.assume_init(), result.assume_init()) };
        param.argv = self.argv.as_ptr();
        param.exec_fd = self.exec_fd;
        // SAFETY: a live container, a valid param (argv outlives the call), a prepared
        // result.
        let code = unsafe { ffi::scpool_container_execve(container, &param, &mut result) };
        if code != ffi::error::Ok {
            return Err(failure("running the no-op", code));
        }
        let status = result.status;
        // SAFETY: the result was filled by the library.
        unsafe { ffi::scpool_result_free(&mut result) };
        if status != ffi::status::Ok {
            return Err(BenchError::runtime(format!(
                "the no-op failed through the C ABI: {status:?}"
            )));
        }
        Ok(())
    }
}

impl Drop for CAbiPool {
    fn drop(&mut self) {
        // SAFETY: created by scpool_pool_new, freed once.
        unsafe { ffi::scpool_pool_free(self.pool) };
    }
}
