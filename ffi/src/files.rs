//! Files and directory trees between the host and a container, between runs.
//!
//! Every call refuses what is not a regular file at once (SCPOOL_ERROR_OPEN with
//! errno EISDIR for a directory, EINVAL for a FIFO, socket or device) and never
//! reads more than its maximum (SCPOOL_ERROR_OPEN with errno EFBIG); the container
//! still works after either. Entries made belong to the program's user.

use crate::args;
use crate::container_handle::{container, live};
use crate::failure::{error, guard, guard_void, FfiError};
use crate::results::malloc_copy;
use scpool_core::{FileKind, TreeCopied, TreeLimits};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;

/// The type of an entry in `scpool_dir_entry.kind`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum file_kind {
    File = 0,
    Directory = 1,
    Symlink = 2,
    Fifo = 3,
    Socket = 4,
    CharDevice = 5,
    BlockDevice = 6,
}

impl From<FileKind> for file_kind {
    fn from(kind: FileKind) -> Self {
        match kind {
            FileKind::File => Self::File,
            FileKind::Directory => Self::Directory,
            FileKind::Symlink => Self::Symlink,
            FileKind::Fifo => Self::Fifo,
            FileKind::Socket => Self::Socket,
            FileKind::CharDevice => Self::CharDevice,
            FileKind::BlockDevice => Self::BlockDevice,
        }
    }
}

/// One entry of `scpool_container_list_dir()`.
#[repr(C)]
#[derive(Debug)]
pub struct dir_entry {
    /// The name, NUL-terminated (owned by the array; see `scpool_dir_entries_free()`).
    pub name: *mut c_char,
    /// A `scpool_file_kind`. Symlinks are reported, never followed.
    pub kind: u32,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes as stat reports it.
    pub size: u64,
}

/// Reads the regular file at `path` inside the container into a new buffer, as
/// `scpool_container_read_file()`, refusing a file larger than `max` bytes (0: the
/// container's default, the larger size cap of /w and /tmp).
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `path` a string; `data` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_read_file_max(
    c: *mut container,
    path: *const c_char,
    max: u64,
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
        let bytes = match max {
            0 => c.read_file(path)?,
            max => c.read_file_max(path, max)?,
        };
        let copy = malloc_copy(&bytes)?;
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            data.write(copy);
            len.write(bytes.len());
        }
        Ok(())
    })
}

/// Writes `len` bytes to `path` inside the container, created (owned by the
/// program's user) or truncated, with exactly permission bits `mode` (0..07777).
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `path` a string; `data` holds `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_write_file_mode(
    c: *mut container,
    path: *const c_char,
    data: *const u8,
    len: usize,
    mode: u32,
) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let path = unsafe { args::path(path, "path") }?;
        // SAFETY: forwarded contract.
        let data = unsafe { args::slice(data, len, "data") }?;
        Ok(c.write_file_mode(path, data, mode)?)
    })
}

/// Makes the directory `path` inside the container with exactly `mode`, owned by
/// the program's user; its parent must exist and be writable by the program.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `path` a string.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_mkdir(
    c: *mut container,
    path: *const c_char,
    mode: u32,
) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let path = unsafe { args::path(path, "path") }?;
        Ok(c.mkdir(path, mode)?)
    })
}

/// Makes the symbolic link `link` inside the container, pointing at `target`, owned
/// by the program's user. `target` is stored as given, never resolved here (the
/// program's kernel resolves it inside the container). The link's parent must exist
/// and be writable by the program, no component of `link` may be a symlink, and an
/// entry already at `link` is not replaced (SCPOOL_ERROR_OPEN, EEXIST).
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `target` and `link` strings.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_symlink(
    c: *mut container,
    target: *const c_char,
    link: *const c_char,
) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let target = unsafe { args::path(target, "target") }?;
        // SAFETY: forwarded contract.
        let link = unsafe { args::path(link, "link") }?;
        Ok(c.symlink(target, link)?)
    })
}

/// Lists the directory `path` inside the container, sorted by name, without "."
/// and "..": `*entries` (NULL when empty; free with `scpool_dir_entries_free()`)
/// and `*count`. More than 10000 entries is SCPOOL_ERROR_INVALID_ARGUMENT.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; `path` a string; `entries`, `count` writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_list_dir(
    c: *mut container,
    path: *const c_char,
    entries: *mut *mut dir_entry,
    count: *mut usize,
) -> error {
    guard(|| {
        let entries = args::out(entries, "entries")?;
        let count = args::out(count, "count")?;
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            entries.write(std::ptr::null_mut());
            count.write(0);
        }
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let path = unsafe { args::path(path, "path") }?;
        let listing = c.list_dir(path)?;
        if listing.is_empty() {
            return Ok(());
        }
        let bytes = listing.len() * std::mem::size_of::<dir_entry>();
        // SAFETY: malloc with a non-zero size; the result is checked for NULL.
        let array = unsafe { libc::malloc(bytes) }.cast::<dir_entry>();
        if array.is_null() {
            return Err(FfiError::from(std::io::Error::from_raw_os_error(
                libc::ENOMEM,
            )));
        }
        for (i, entry) in listing.iter().enumerate() {
            let mut name = entry.name.as_bytes().to_vec();
            name.push(0);
            let name = match malloc_copy(&name) {
                Ok(p) => p.cast::<c_char>(),
                Err(e) => {
                    // SAFETY: the first i entries were written by this loop.
                    unsafe { free_entries(array, i) };
                    return Err(e);
                }
            };
            let value = dir_entry {
                name,
                kind: file_kind::from(entry.kind) as u32,
                mode: entry.mode,
                size: entry.size,
            };
            // SAFETY: i < listing.len(), the array's length.
            unsafe { array.add(i).write(value) };
        }
        // SAFETY: both out-pointers are non-NULL and writable.
        unsafe {
            entries.write(array);
            count.write(listing.len());
        }
        Ok(())
    })
}

/// Frees what `scpool_container_list_dir()` returned. NULL is ignored.
///
/// Thread safety: safe from any thread.
///
/// # Safety
/// `entries` is NULL or an array of `count` entries from scpool, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn scpool_dir_entries_free(entries: *mut dir_entry, count: usize) {
    // SAFETY: forwarded contract.
    guard_void(|| unsafe { free_entries(entries, count) })
}

/// # Safety
/// `entries` is NULL or a malloc'd array whose first `count` entries are written.
unsafe fn free_entries(entries: *mut dir_entry, count: usize) {
    if entries.is_null() {
        return;
    }
    for i in 0..count {
        // SAFETY: i < count, written entries by the contract; names from malloc.
        unsafe { libc::free((*entries.add(i)).name.cast()) };
    }
    // SAFETY: the array came from malloc.
    unsafe { libc::free(entries.cast()) };
}

/// The caps of a tree copy: 0 takes the container's default for either.
fn tree_limits(c: &scpool_core::Container, max_bytes: u64, max_entries: u64) -> TreeLimits {
    let default = c.default_tree_limits();
    TreeLimits::new(
        if max_bytes == 0 {
            default.max_bytes
        } else {
            max_bytes
        },
        if max_entries == 0 {
            default.max_entries
        } else {
            max_entries
        },
    )
}

/// # Safety
/// Each pointer is NULL or writable.
unsafe fn report(copied: TreeCopied, entries: *mut u64, bytes: *mut u64) {
    // SAFETY: NULL or writable, by the contract.
    if let Some(p) = unsafe { entries.as_mut() } {
        *p = copied.entries;
    }
    // SAFETY: as above.
    if let Some(p) = unsafe { bytes.as_mut() } {
        *p = copied.bytes;
    }
}

/// Copies the host directory `host_dir` into `container_dir` (made if missing).
/// Caps: `max_bytes` of all files, `max_entries` entries (0: the defaults, the
/// container's read maximum and 10000). Symlinks are copied as links and must stay
/// inside the tree; special files are refused; nothing is overwritten; nothing is
/// written unless the whole tree fits. Entries belong to the program's user.
/// `copied_entries` and `copied_bytes` may be NULL.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; the paths strings; the counters NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_copy_in(
    c: *mut container,
    host_dir: *const c_char,
    container_dir: *const c_char,
    max_bytes: u64,
    max_entries: u64,
    copied_entries: *mut u64,
    copied_bytes: *mut u64,
) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let host_dir = unsafe { args::path(host_dir, "host_dir") }?;
        // SAFETY: forwarded contract.
        let container_dir = unsafe { args::path(container_dir, "container_dir") }?;
        let limits = tree_limits(c, max_bytes, max_entries);
        let copied = c.copy_in(host_dir, container_dir, &limits)?;
        // SAFETY: forwarded contract.
        unsafe { report(copied, copied_entries, copied_bytes) };
        Ok(())
    })
}

/// Copies the container directory `container_dir` to `host_dir` on the host (made
/// if missing), under the same caps and rules as `scpool_container_copy_in()`;
/// files keep their permission bits without set-id bits.
///
/// Thread safety: one thread per handle.
///
/// # Safety
/// `c` is NULL or a live container; the paths strings; the counters NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn scpool_container_copy_out(
    c: *mut container,
    container_dir: *const c_char,
    host_dir: *const c_char,
    max_bytes: u64,
    max_entries: u64,
    copied_entries: *mut u64,
    copied_bytes: *mut u64,
) -> error {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { live(c) }?;
        // SAFETY: forwarded contract.
        let container_dir = unsafe { args::path(container_dir, "container_dir") }?;
        // SAFETY: forwarded contract.
        let host_dir = unsafe { args::path(host_dir, "host_dir") }?;
        let limits = tree_limits(c, max_bytes, max_entries);
        let copied = c.copy_out(container_dir, host_dir, &limits)?;
        // SAFETY: forwarded contract.
        unsafe { report(copied, copied_entries, copied_bytes) };
        Ok(())
    })
}
