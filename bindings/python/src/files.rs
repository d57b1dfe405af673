//! Descriptors returned by the container as Python file objects.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::fs::File;
use std::os::fd::{AsRawFd, IntoRawFd};

/// The `io.FileIO` mode matching open(2) flags.
fn mode_of(flags: i32) -> &'static str {
    let append = flags & libc::O_APPEND != 0;
    match (flags & libc::O_ACCMODE, append) {
        (libc::O_WRONLY, false) => "wb",
        (libc::O_WRONLY, true) => "ab",
        (libc::O_RDWR, false) => "r+b",
        (libc::O_RDWR, true) => "a+b",
        _ => "rb",
    }
}

/// An unbuffered binary file object that owns the descriptor (writes reach the
/// file at once, so a program run next sees them). A directory, which `FileIO`
/// cannot hold, comes back as an int descriptor the caller must close.
pub fn to_python(py: Python<'_>, file: File, flags: i32) -> PyResult<Bound<'_, PyAny>> {
    let is_dir = file.metadata().map(|m| m.is_dir()).unwrap_or(false);
    if is_dir {
        return Ok(file.into_raw_fd().into_pyobject(py)?.into_any());
    }
    static FILE_IO: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
    let file_io = FILE_IO.import(py, "io", "FileIO")?;
    // On failure `file` is still ours and closes when dropped.
    let object = file_io.call1((file.as_raw_fd(), mode_of(flags), true))?;
    // The file object owns the descriptor now.
    let _ = file.into_raw_fd();
    Ok(object)
}
