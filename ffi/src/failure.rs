//! Error codes, the thread-local last error, and the guard that keeps panics (and
//! their unwinding) on the Rust side of the boundary.

use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What every fallible function returns. `SCPOOL_ERROR_OK` (0) is success; on any
/// other code `scpool_last_error_message()` says what went wrong.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum error {
    /// Success.
    Ok = 0,
    /// A NULL, malformed or out-of-range argument; nothing was changed.
    InvalidArgument = 1,
    /// This host or build cannot do what was asked (e.g. a memory limit without a
    /// memory cgroup).
    Unsupported = 2,
    /// A file could not be opened inside the container; `scpool_last_error_errno()`
    /// gives the errno. The container still works.
    Open = 3,
    /// Creating a container failed; nothing of it is left behind.
    Setup = 4,
    /// The container's init died or broke the protocol. Release the container (the
    /// pool replaces it) or free it.
    ContainerBroken = 5,
    /// No container became free within the timeout.
    AcquireTimeout = 6,
    /// The pool was closed.
    PoolClosed = 7,
    /// A system call on the host failed; `scpool_last_error_errno()` gives the errno.
    Io = 8,
    /// A bug in scpool (an internal panic was caught). The handle passed stays valid
    /// but may be unusable.
    Internal = 9,
    /// The acquire was cancelled with `scpool_acquire_cancel_trigger()`.
    Cancelled = 10,
}

/// A failure on its way to the caller: a code and the message to keep.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub code: error,
    pub message: String,
    pub errno: i32,
}

impl FfiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: error::InvalidArgument,
            message: message.into(),
            errno: 0,
        }
    }
}

impl From<scpool_core::Error> for FfiError {
    fn from(e: scpool_core::Error) -> Self {
        use scpool_core::Error as E;
        let (code, errno) = match &e {
            E::InvalidArgument(_) => (error::InvalidArgument, 0),
            E::Unsupported(_) => (error::Unsupported, 0),
            E::Open { errno, .. } => (error::Open, *errno),
            E::NotRegularFile { .. } | E::FileTooLarge { .. } => (error::Open, e.errno()),
            E::Setup(_) => (error::Setup, 0),
            E::ContainerBroken(_) => (error::ContainerBroken, 0),
            E::AcquireTimeout(_) => (error::AcquireTimeout, 0),
            E::PoolClosed => (error::PoolClosed, 0),
            E::AcquireCancelled => (error::Cancelled, 0),
            E::Io { .. } => (error::Io, e.errno()),
            // A kind newer than this layer: still an error, with its message.
            _ => (error::Internal, e.errno()),
        };
        Self {
            code,
            message: e.to_string(),
            errno,
        }
    }
}

impl From<std::io::Error> for FfiError {
    fn from(e: std::io::Error) -> Self {
        Self {
            code: error::Io,
            errno: e.raw_os_error().unwrap_or(0),
            message: e.to_string(),
        }
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

struct LastError {
    message: CString,
    errno: i32,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        errno: 0,
    });
}

fn remember(message: &str, errno: i32) {
    // An interior NUL cannot be shown by C; cut the message there.
    let text = message.split('\0').next().unwrap_or_default();
    let message = CString::new(text).unwrap_or_default();
    // try_with: during thread teardown there is nowhere to keep it.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = LastError { message, errno });
}

/// Runs the body of an exported function: records its error (or clears the last one)
/// and turns a panic into `SCPOOL_ERROR_INTERNAL`.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> error {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            remember("", 0);
            error::Ok
        }
        Ok(Err(e)) => {
            remember(&e.message, e.errno);
            e.code
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            remember(&format!("internal error in scpool: {what}"), 0);
            error::Internal
        }
    }
}

/// Runs a body that cannot report an error (free/release functions): a panic is
/// recorded rather than unwinding into C. A success leaves the last error alone, so
/// a caller may clean up before reading why an earlier call failed.
pub(crate) fn guard_void(body: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(body)).is_err() {
        remember("internal error in scpool while releasing a resource", 0);
    }
}

/// For functions that return a plain value instead of a `scpool_error`: a panic
/// gives `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The message of the last failed call made on this thread ("" after a successful
/// call of a function that returns a `scpool_error`; the `void` functions leave it
/// alone). The pointer stays valid until the next such call on this thread.
///
/// Thread safety: per thread; safe to call from any thread.
#[no_mangle]
pub extern "C" fn scpool_last_error_message() -> *const libc::c_char {
    LAST_ERROR
        .try_with(|last| last.borrow().message.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The errno behind the last failed call on this thread, when it had one
/// (`SCPOOL_ERROR_OPEN`, `SCPOOL_ERROR_IO`); 0 otherwise.
///
/// Thread safety: per thread; safe to call from any thread.
#[no_mangle]
pub extern "C" fn scpool_last_error_errno() -> libc::c_int {
    LAST_ERROR.try_with(|last| last.borrow().errno).unwrap_or(0)
}

/// A constant name for an error code ("SCPOOL_ERROR_OPEN"...), or "SCPOOL_ERROR_UNKNOWN".
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn scpool_error_name(code: libc::c_int) -> *const libc::c_char {
    let name = match code {
        0 => c"SCPOOL_ERROR_OK",
        1 => c"SCPOOL_ERROR_INVALID_ARGUMENT",
        2 => c"SCPOOL_ERROR_UNSUPPORTED",
        3 => c"SCPOOL_ERROR_OPEN",
        4 => c"SCPOOL_ERROR_SETUP",
        5 => c"SCPOOL_ERROR_CONTAINER_BROKEN",
        6 => c"SCPOOL_ERROR_ACQUIRE_TIMEOUT",
        7 => c"SCPOOL_ERROR_POOL_CLOSED",
        8 => c"SCPOOL_ERROR_IO",
        9 => c"SCPOOL_ERROR_INTERNAL",
        10 => c"SCPOOL_ERROR_CANCELLED",
        _ => c"SCPOOL_ERROR_UNKNOWN",
    };
    name.as_ptr()
}
