//! Reading what C hands us: pointers that may be NULL, NUL-terminated strings and
//! lists, arrays with lengths, and structs that carry their own size.

use crate::failure::{FfiError, FfiResult};
use std::ffi::{CStr, OsString};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// Longest argv or envp list accepted; a missing NULL terminator would otherwise read
/// until it faults.
const MAX_LIST_LEN: usize = 1 << 20;

/// A required string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
pub unsafe fn string(p: *const c_char, what: &str) -> FfiResult<OsString> {
    if p.is_null() {
        return Err(FfiError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Ok(OsString::from_vec(bytes.to_vec()))
}

/// A string where NULL means "not given".
///
/// # Safety
/// As [`string`].
pub unsafe fn optional_string(p: *const c_char, what: &str) -> FfiResult<Option<OsString>> {
    match p.is_null() {
        true => Ok(None),
        // SAFETY: forwarded contract.
        false => unsafe { string(p, what) }.map(Some),
    }
}

/// A required path.
///
/// # Safety
/// As [`string`].
pub unsafe fn path(p: *const c_char, what: &str) -> FfiResult<PathBuf> {
    // SAFETY: forwarded contract.
    unsafe { string(p, what) }.map(PathBuf::from)
}

/// A NULL-terminated list of strings (argv, envp); a NULL list is empty.
///
/// # Safety
/// `list` is NULL or points to an array of string pointers ending with NULL.
pub unsafe fn string_list(list: *const *const c_char, what: &str) -> FfiResult<Vec<OsString>> {
    let mut out = Vec::new();
    if list.is_null() {
        return Ok(out);
    }
    for i in 0..MAX_LIST_LEN {
        // SAFETY: the array holds at least i + 1 elements, the last being NULL.
        let item = unsafe { *list.add(i) };
        if item.is_null() {
            return Ok(out);
        }
        // SAFETY: each element is a NUL-terminated string.
        out.push(unsafe { string(item, what) }?);
    }
    Err(FfiError::invalid(format!(
        "{what} has no NULL terminator within {MAX_LIST_LEN} entries"
    )))
}

/// An array given as pointer and length; NULL is allowed only with length 0.
///
/// # Safety
/// `p` is NULL or points to `len` initialized elements that outlive the call.
pub unsafe fn slice<'a, T>(p: *const T, len: usize, what: &str) -> FfiResult<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(FfiError::invalid(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(FfiError::invalid(format!(
            "{what} length {len} is too large"
        )));
    }
    // SAFETY: non-NULL, `len` elements by the caller's contract, size checked above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A C struct that starts with `uint32_t struct_size`, filled by its `_init` function.
///
/// Structs only ever grow at the end. A caller built against an older header passes
/// a smaller `struct_size`: the library reads that prefix (later fields keep their
/// defaults) and writes only that prefix back.
pub trait SizedStruct: Copy {
    const NAME: &'static str;
    /// The size in the first ABI version that had the struct: the smallest accepted.
    /// Every field a caller must free lies within it.
    const FIRST_SIZE: usize;
}

/// Checks the `struct_size` a caller put in a struct and returns how many bytes of it
/// this library may read or write.
pub fn check_struct_size<T: SizedStruct>(struct_size: u32) -> FfiResult<usize> {
    let ours = std::mem::size_of::<T>();
    match struct_size as usize {
        0 => Err(FfiError::invalid(format!(
            "{}.struct_size is 0: fill the struct with its _init function first",
            T::NAME
        ))),
        n if n > ours => Err(FfiError::invalid(format!(
            "{}.struct_size is {n} but this libscpool knows {ours} bytes: the program was \
             built against a newer scpool.h",
            T::NAME
        ))),
        n if n < T::FIRST_SIZE => Err(FfiError::invalid(format!(
            "{}.struct_size is {n}, smaller than any version of the struct ({} bytes)",
            T::NAME,
            T::FIRST_SIZE
        ))),
        n => Ok(n),
    }
}

/// Reads a caller's struct: the prefix its `struct_size` covers, over `defaults`.
///
/// # Safety
/// `p` is NULL or points to a readable struct of at least its own `struct_size`
/// bytes, whose first field is that `uint32_t struct_size`.
pub unsafe fn sized_struct<T: SizedStruct>(p: *const T, defaults: T) -> FfiResult<T> {
    if p.is_null() {
        return Err(FfiError::invalid(format!("{} is NULL", T::NAME)));
    }
    // SAFETY: p is non-NULL and its first field is a u32 by the contract.
    let size = unsafe { p.cast::<u32>().read_unaligned() };
    let len = check_struct_size::<T>(size)?;
    let mut value = defaults;
    // SAFETY: the caller's struct has `len` readable bytes; `value` is a T of at least
    // `len` bytes (checked); both are plain data (integers, floats, raw pointers).
    unsafe {
        std::ptr::copy_nonoverlapping(
            p.cast::<u8>(),
            std::ptr::addr_of_mut!(value).cast::<u8>(),
            len,
        )
    };
    Ok(value)
}

/// Checks an output struct before anything is done, returning the bytes to write.
///
/// # Safety
/// `out` is NULL or points to at least its `uint32_t struct_size` field.
pub unsafe fn sized_out<T: SizedStruct>(out: *mut T, what: &str) -> FfiResult<usize> {
    let out = self::out(out, what)?;
    // SAFETY: non-NULL; the first field is a u32 by the contract.
    let size = unsafe { out.cast::<u32>().read_unaligned() };
    check_struct_size::<T>(size)
}

/// Writes the first `len` bytes (from `sized_out`) of `value` into the caller's struct.
///
/// # Safety
/// `out` passed `sized_out`, which returned `len`.
pub unsafe fn write_sized<T: SizedStruct>(out: *mut T, value: &T, len: usize) {
    // SAFETY: the caller's struct has `len` writable bytes and `value` at least as many.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (value as *const T).cast::<u8>(),
            out.cast::<u8>(),
            len.min(std::mem::size_of::<T>()),
        )
    };
}

/// Refuses a NULL out-pointer.
pub fn out<T>(p: *mut T, what: &str) -> FfiResult<*mut T> {
    match p.is_null() {
        true => Err(FfiError::invalid(format!("{what} is NULL"))),
        false => Ok(p),
    }
}

/// Converts a caller's nanosecond count; 0 means "no limit".
pub fn nanos(ns: u64) -> Option<std::time::Duration> {
    (ns != 0).then(|| std::time::Duration::from_nanos(ns))
}

/// Converts a caller's count; 0 means "no limit".
pub fn nonzero<T: Default + PartialEq>(n: T) -> Option<T> {
    (n != T::default()).then_some(n)
}
