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
    m.add(
        "DEFAULT_MOUNTS",
        PyTuple::new(m.py(), scpool_core::DEFAULT_MOUNTS)?,
    )?;
    Ok(())
}
