//! `scpool.PoolStats`: a snapshot of a pool's state and history.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use scpool_core::PoolStats;

/// A snapshot of a pool. Latencies are seconds.
#[pyclass(frozen, get_all, module = "scpool._scpool", name = "PoolStats")]
pub struct PyPoolStats {
    /// Ready to hand out.
    idle: usize,
    /// Handed out and not yet released.
    in_use: usize,
    /// Being created, or being reset after a release.
    pending: usize,
    /// Containers created since the pool started.
    created: u64,
    /// Containers destroyed (broken, evicted, or at close).
    destroyed: u64,
    /// Acquires served by a container that had been used before.
    reused: u64,
    /// Successful acquires.
    acquires: u64,
    /// Acquires that had to wait for a container.
    acquire_waits: u64,
    /// Acquires that gave up at their timeout.
    acquire_timeouts: u64,
    /// Mean and worst time an acquire took, seconds.
    acquire_latency_mean: f64,
    acquire_latency_max: f64,
}

impl From<PoolStats> for PyPoolStats {
    fn from(s: PoolStats) -> Self {
        Self {
            idle: s.idle,
            in_use: s.in_use,
            pending: s.pending,
            created: s.created,
            destroyed: s.destroyed,
            reused: s.reused,
            acquires: s.acquires,
            acquire_waits: s.acquire_waits,
            acquire_timeouts: s.acquire_timeouts,
            acquire_latency_mean: s.acquire_latency_mean.as_secs_f64(),
            acquire_latency_max: s.acquire_latency_max.as_secs_f64(),
        }
    }
}

impl PyPoolStats {
    fn fields(&self) -> [(&'static str, Figure); 11] {
        use Figure::{Count, Seconds};
        [
            ("idle", Count(self.idle as u64)),
            ("in_use", Count(self.in_use as u64)),
            ("pending", Count(self.pending as u64)),
            ("created", Count(self.created)),
            ("destroyed", Count(self.destroyed)),
            ("reused", Count(self.reused)),
            ("acquires", Count(self.acquires)),
            ("acquire_waits", Count(self.acquire_waits)),
            ("acquire_timeouts", Count(self.acquire_timeouts)),
            ("acquire_latency_mean", Seconds(self.acquire_latency_mean)),
            ("acquire_latency_max", Seconds(self.acquire_latency_max)),
        ]
    }
}

/// One field's value: a count or a duration in seconds.
enum Figure {
    Count(u64),
    Seconds(f64),
}

#[pymethods]
impl PyPoolStats {
    /// The fields as a dict.
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.fields() {
            match value {
                Figure::Count(n) => dict.set_item(name, n)?,
                Figure::Seconds(x) => dict.set_item(name, x)?,
            }
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .fields()
            .iter()
            .map(|(name, value)| match value {
                Figure::Count(n) => format!("{name}={n}"),
                Figure::Seconds(x) => format!("{name}={x}"),
            })
            .collect();
        format!("PoolStats({})", fields.join(", "))
    }
}
