//! `scpool.Result`: the verdict and figures of one run, in seconds and bytes.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;
use scpool_core::{Accounting, RunResult, Status};

/// The member of the Python enum `scpool.Status` for a core status.
pub fn status_member(py: Python<'_>, status: Status) -> PyResult<Bound<'_, PyAny>> {
    static STATUS: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
    STATUS
        .import(py, "scpool._status", "Status")?
        .getattr(status.name())
}

/// What one run did. Times are seconds (float), memory is bytes (int).
#[pyclass(frozen, module = "scpool._scpool", name = "Result")]
pub struct PyRunResult {
    status: Status,
    /// Exit code of the main process, or None when a signal killed it.
    #[pyo3(get)]
    exit_code: Option<i32>,
    /// The signal that killed the main process, or None.
    #[pyo3(get)]
    signal: Option<i32>,
    /// User + system CPU time of every process and thread of the run.
    #[pyo3(get)]
    cpu_time: f64,
    /// The user-mode and kernel-mode parts of `cpu_time`.
    #[pyo3(get)]
    user_time: f64,
    #[pyo3(get)]
    system_time: f64,
    /// From the program's exec to the end of its main process.
    #[pyo3(get)]
    wall_time: f64,
    /// From the call to the program's exec: the sandbox's own cost.
    #[pyo3(get)]
    setup_time: f64,
    /// Peak memory of all the run's processes together.
    #[pyo3(get)]
    memory: u64,
    /// The most processes and threads the run had at once, or None where no
    /// counter of this run alone exists (see `Pool(process_peak=True)`).
    #[pyo3(get)]
    peak_processes: Option<u64>,
    /// Made once: every access returns the same object (no copy of a large output).
    stdout: Py<PyBytes>,
    stderr: Py<PyBytes>,
    /// Why, for RUNNER_ERROR and limit statuses; empty otherwise.
    #[pyo3(get)]
    message: String,
    accounting: Accounting,
}

impl PyRunResult {
    pub fn new(py: Python<'_>, r: RunResult) -> Self {
        Self {
            status: r.status,
            exit_code: r.exit_code,
            signal: r.signal,
            cpu_time: r.cpu_time.as_secs_f64(),
            user_time: r.user_time.as_secs_f64(),
            system_time: r.system_time.as_secs_f64(),
            accounting: r.accounting,
            wall_time: r.wall_time.as_secs_f64(),
            setup_time: r.setup_time.as_secs_f64(),
            memory: r.memory,
            peak_processes: r.peak_processes,
            stdout: PyBytes::new(py, &r.stdout).unbind(),
            stderr: PyBytes::new(py, &r.stderr).unbind(),
            message: r.message,
        }
    }
}

#[pymethods]
impl PyRunResult {
    /// How the run ended: a member of `scpool.Status`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        status_member(py, self.status)
    }

    /// Captured standard output (`run` only; empty after `execve`).
    #[getter]
    fn stdout<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.stdout.bind(py).clone()
    }

    /// Captured standard error (`run` only; empty after `execve`).
    #[getter]
    fn stderr<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.stderr.bind(py).clone()
    }

    /// What measured the figures: "cgroup-v1", "cgroup-v2" or "none".
    #[getter]
    fn accounting(&self) -> &'static str {
        self.accounting.name()
    }

    /// True when the program exited with code 0.
    #[getter]
    fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let mut text = format!(
            "Result(status={}, exit_code={}, signal={}, cpu_time={:.6}, wall_time={:.6}, \
             memory={}, setup_time={:.6}, stdout={} bytes, stderr={} bytes",
            self.status.name(),
            optional(self.exit_code),
            optional(self.signal),
            self.cpu_time,
            self.wall_time,
            self.memory,
            self.setup_time,
            self.stdout.bind(py).as_bytes().len(),
            self.stderr.bind(py).as_bytes().len(),
        );
        if let Some(peak) = self.peak_processes {
            text.push_str(&format!(", peak_processes={peak}"));
        }
        if !self.message.is_empty() {
            text.push_str(&format!(", message={:?}", self.message));
        }
        text.push(')');
        text
    }
}

fn optional(value: Option<i32>) -> String {
    value.map_or_else(|| "None".into(), |v| v.to_string())
}
