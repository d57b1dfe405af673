//! `scpool.Pool`: a pool of ready containers.

use crate::config::PoolKeywords;
use crate::container::PyContainer;
use crate::convert;
use crate::errors::{self, IntoPyResult};
use crate::options::{Call, RunOptions};
use crate::owner::Owner;
use crate::result::PyRunResult;
use crate::stats::PyPoolStats;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use scpool_core::{Error, Pool};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

/// A pool of pre-created sandbox containers. A context manager that closes it.
#[pyclass(frozen, weakref, module = "scpool._scpool", name = "Pool")]
pub struct PyPool {
    /// `None` once closed. An `Arc` so a call in progress keeps using it while
    /// another thread closes it (that call then gets `PoolClosed`).
    pool: Mutex<Option<Arc<Pool>>>,
    owner: Owner,
}

impl PyPool {
    fn slot(&self) -> MutexGuard<'_, Option<Arc<Pool>>> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, py: Python<'_>) -> PyResult<Arc<Pool>> {
        self.owner.check(py, "pool")?;
        self.slot()
            .clone()
            .ok_or_else(|| errors::to_py(py, Error::PoolClosed))
    }

    fn acquire_container(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyContainer> {
        let pool = self.get(py)?;
        let timeout = convert::seconds(timeout, "timeout")?;
        let container = py
            .detach(|| match timeout {
                Some(t) => pool.acquire_timeout(t),
                None => pool.acquire(),
            })
            .or_raise(py)?;
        Ok(PyContainer::new(container, self.owner))
    }
}

#[pymethods]
impl PyPool {
    #[new]
    #[pyo3(signature = (
        *,
        size = None,
        min_idle = None,
        max_idle = None,
        max_size = None,
        acquire_timeout = None,
        health_check_interval = None,
        idle_timeout = None,
        ping_on_acquire = None,
        mounts = None,
        extra_mounts = None,
        rootfs = None,
        image_layers = None,
        root_size = None,
        image = None,
        hostname = None,
        work_size = None,
        tmp_size = None,
        uid = None,
        gid = None,
        id_range = None,
        user_namespace = None,
        setup_timeout = None,
        cgroup = None,
        cgroup_parent = None,
        process_peak = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new<'py>(
        py: Python<'py>,
        size: Option<Bound<'py, PyAny>>,
        min_idle: Option<Bound<'py, PyAny>>,
        max_idle: Option<Bound<'py, PyAny>>,
        max_size: Option<Bound<'py, PyAny>>,
        acquire_timeout: Option<Bound<'py, PyAny>>,
        health_check_interval: Option<Bound<'py, PyAny>>,
        idle_timeout: Option<Bound<'py, PyAny>>,
        ping_on_acquire: Option<Bound<'py, PyAny>>,
        mounts: Option<Bound<'py, PyAny>>,
        extra_mounts: Option<Bound<'py, PyAny>>,
        rootfs: Option<Bound<'py, PyAny>>,
        image_layers: Option<Bound<'py, PyAny>>,
        root_size: Option<Bound<'py, PyAny>>,
        image: Option<Bound<'py, PyAny>>,
        hostname: Option<Bound<'py, PyAny>>,
        work_size: Option<Bound<'py, PyAny>>,
        tmp_size: Option<Bound<'py, PyAny>>,
        uid: Option<Bound<'py, PyAny>>,
        gid: Option<Bound<'py, PyAny>>,
        id_range: Option<Bound<'py, PyAny>>,
        user_namespace: Option<Bound<'py, PyAny>>,
        setup_timeout: Option<Bound<'py, PyAny>>,
        cgroup: Option<Bound<'py, PyAny>>,
        cgroup_parent: Option<Bound<'py, PyAny>>,
        process_peak: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Py<Self>> {
        let keywords = PoolKeywords {
            size,
            min_idle,
            max_idle,
            max_size,
            acquire_timeout,
            health_check_interval,
            idle_timeout,
            ping_on_acquire,
            mounts,
            extra_mounts,
            rootfs,
            image_layers,
            root_size,
            image,
            hostname,
            work_size,
            tmp_size,
            uid,
            gid,
            id_range,
            user_namespace,
            setup_timeout,
            cgroup,
            cgroup_parent,
            process_peak,
        };
        let config = keywords.to_config()?;
        let pool = py.detach(|| Pool::new(config)).or_raise(py)?;
        let pool = Py::new(
            py,
            PyPool {
                pool: Mutex::new(Some(Arc::new(pool))),
                owner: Owner::current(),
            },
        )?;
        // Closed at interpreter exit if still open (scpool._exit).
        static REGISTER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        REGISTER
            .import(py, "scpool._exit", "register")?
            .call1((pool.clone_ref(py),))?;
        Ok(pool)
    }

    /// Hands out a container, waiting up to `timeout` seconds (default: the pool's
    /// `acquire_timeout`) for one to become free.
    #[pyo3(signature = (timeout = None))]
    fn acquire(&self, py: Python<'_>, timeout: Option<Bound<'_, PyAny>>) -> PyResult<PyContainer> {
        self.acquire_container(py, timeout.as_ref())
    }

    /// Acquires a container, runs one program in it (as `Container.run`) and
    /// releases it.
    #[pyo3(signature = (args, **kwargs))]
    fn run(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyAny>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyRunResult> {
        let options = RunOptions::parse(Call::Run, args, kwargs)?;
        let pool = self.get(py)?;
        let result = py
            .detach(|| {
                let mut container = pool.acquire()?;
                let param = options.run_param();
                match panic::catch_unwind(AssertUnwindSafe(|| container.run(&param))) {
                    Ok(result) => result,
                    Err(_) => {
                        // Never give back a container left half-way through a call.
                        let _ = panic::catch_unwind(AssertUnwindSafe(|| container.discard()));
                        Err(Error::ContainerBroken(
                            "a call failed inside scpool; the container was discarded".into(),
                        ))
                    }
                }
            })
            .or_raise(py)?;
        Ok(PyRunResult::new(py, result))
    }

    /// A snapshot of the pool's counters.
    fn stats(&self, py: Python<'_>) -> PyResult<PyPoolStats> {
        Ok(self.get(py)?.stats().into())
    }

    /// Closes the pool: waiters get `PoolClosed`, idle containers are destroyed now
    /// and containers in use when they are released. Idempotent.
    fn close(&self, py: Python<'_>) {
        if !self.owner.is_current() {
            return;
        }
        let pool = self.slot().take();
        if let Some(pool) = pool {
            py.detach(|| pool.close());
        }
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.slot().is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        if !self.owner.is_current() {
            // In a forked child the locks may be held by threads that do not exist
            // here: touch nothing.
            return format!("<scpool.Pool of process {}>", self.owner.pid());
        }
        match self.slot().as_ref() {
            None => "<scpool.Pool closed>".into(),
            Some(pool) => {
                let s = pool.stats();
                let c = pool.config();
                format!(
                    "<scpool.Pool idle={} in_use={} pending={} min_idle={} max_idle={} max_size={}>",
                    s.idle, s.in_use, s.pending, c.min_idle, c.max_idle, c.max_size
                )
            }
        }
    }
}

impl Drop for PyPool {
    fn drop(&mut self) {
        if !self.owner.is_current() {
            // In a forked child: closing would kill the parent's containers.
            if let Some(pool) = self.slot().take() {
                std::mem::forget(pool);
            }
        }
        // In the owner, dropping the last reference closes the pool.
    }
}
