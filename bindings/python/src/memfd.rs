//! `scpool.memfd_copy`: a host program copied into a sealed memfd, to run with
//! `execve(exec_file=...)`.

use crate::convert;
use crate::errors::IntoPyResult;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::path::PathBuf;

/// Copies the program at `path` into a sealed, executable memfd and returns it as
/// a read-only binary file object (pass it as `exec_file`; close it when done).
#[pyfunction]
pub fn memfd_copy<'py>(py: Python<'py>, path: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let path = PathBuf::from(convert::os_string(path, "path")?);
    let fd = py
        .detach(|| scpool_core::memfd_copy_of(&path))
        .or_raise(py)?;
    static FILE_IO: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
    let file_io = FILE_IO.import(py, "io", "FileIO")?;
    let object = file_io.call1((fd.as_raw_fd(), "rb", true))?;
    let _ = fd.into_raw_fd();
    Ok(object)
}

/// Copies `data` into a sealed memfd positioned at its start and returns it as a
/// read-only binary file object: the safe way to give a program input through
/// `execve(files=...)`. Any descriptor passed there exposes its open file: the
/// program can read it, write it if it is open for writing, seek it (sharing the
/// offset with the host), fstat it, read its /proc/self/fd link (the host path of a
/// host file) and reopen it through that link. A sealed memfd shows only its bytes:
/// nobody can write, truncate or grow it, and its link names no host path.
#[pyfunction]
pub fn sealed_memfd<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let data = convert::bytes(data, "data")?;
    let fd = py
        .detach(|| scpool_core::sealed_memfd(&data))
        .or_raise(py)?;
    static FILE_IO: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
    let file_io = FILE_IO.import(py, "io", "FileIO")?;
    let object = file_io.call1((fd.as_raw_fd(), "rb", true))?;
    let _ = fd.into_raw_fd();
    Ok(object)
}
