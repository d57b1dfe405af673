//! The native part of the Python module `scpool` (`scpool._scpool`). The package
//! around it (`python/scpool`) adds the `Status` enum, the exceptions, the default
//! pool and the benchmark.
//!
//! Every call that can block (creating, acquiring, running, opening, closing)
//! releases the GIL, so Python threads run containers in parallel.

mod config;
mod container;
mod convert;
mod errors;
mod files;
mod memfd;
mod options;
mod owner;
mod pool;
mod result;
mod stats;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

#[pymodule]
fn _scpool(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<pool::PyPool>()?;
    m.add_class::<container::PyContainer>()?;
    m.add_class::<result::PyRunResult>()?;
    m.add_class::<stats::PyPoolStats>()?;
    m.add_function(wrap_pyfunction!(memfd::memfd_copy, m)?)?;
    m.add_function(wrap_pyfunction!(memfd::sealed_memfd, m)?)?;
    m.add_function(wrap_pyfunction!(host_error_for_test, m)?)?;
    let defaults = pyo3::types::PyDict::new(m.py());
    defaults.set_item("process_limit", scpool_core::defaults::PROCESSES)?;
    defaults.set_item("open_files", scpool_core::defaults::OPEN_FILES)?;
    defaults.set_item("stack", scpool_core::defaults::STACK)?;
    // Read-only: a mapping proxy over the core's values.
    let proxy = m
        .py()
        .import("types")?
        .getattr("MappingProxyType")?
        .call1((defaults,))?;
    m.add("DEFAULT_LIMITS", proxy)?;
    m.add("MIN_MEMORY", scpool_core::MIN_MEMORY)?;
    m.add("DEFAULT_CWD", scpool_core::DEFAULT_CWD)?;
    let ids = scpool_core::IdRange::DEFAULT;
    m.add("DEFAULT_ID_RANGE", (ids.first, ids.count))?;
    m.add(
        "DEFAULT_MOUNTS",
        PyTuple::new(m.py(), scpool_core::DEFAULT_MOUNTS)?,
    )?;
    Ok(())
}

/// Testing aid: the exception for a core host error with this errno (or none).
#[pyfunction]
#[pyo3(name = "_host_error_for_test")]
fn host_error_for_test(py: Python<'_>, errno: Option<i32>) -> PyErr {
    let source = match errno {
        Some(errno) => std::io::Error::from_raw_os_error(errno),
        None => std::io::Error::other("made by the core"),
    };
    errors::to_py(
        py,
        scpool_core::Error::Io {
            context: "test".into(),
            source,
        },
    )
}
