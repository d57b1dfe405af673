//! Which library this is.

use crate::abi_version::SCPOOL_ABI_MAJOR;
use std::os::raw::c_char;

/// The library's version ("0.1.0"), a static string.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn scpool_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

/// The ABI major version of the loaded library; a program compares it with the
/// `SCPOOL_ABI_MAJOR` it was built against.
///
/// Thread safety: safe from any thread.
#[no_mangle]
pub extern "C" fn scpool_abi_major() -> u32 {
    SCPOOL_ABI_MAJOR
}
